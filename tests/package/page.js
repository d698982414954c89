// A page that imports the packed webgrad through Vite and trains one step in the browser.
import { init, nn, optim, tensor } from 'webgrad';

async function run() {
  await init();
  const model = new nn.Sequential(new nn.Linear(784, 16, { seed: 1 }), new nn.ReLU(), new nn.Linear(16, 10, { seed: 2 }));
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
  const x = tensor(new Float32Array(4 * 784).fill(0.25), { shape: [4, 784] });
  const y = tensor(new Int32Array([1, 2, 3, 4]));
  optimizer.zeroGrad();
  const loss = nn.functional.crossEntropy(model.forward(x), y);
  loss.backward();
  optimizer.step();
  const after = nn.functional.crossEntropy(model.forward(x), y);
  window.result = { before: await loss.item(), after: await after.item() };
}
run().catch((err) => {
  window.result = { error: String(err?.message ?? err) };
});
