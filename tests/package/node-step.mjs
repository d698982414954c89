// One training step in Node, with the packed webgrad (and the webgpu binding) as a consumer installs them.
import { init, nn, optim, runtimeInfo, tensor } from 'webgrad';

await init();
const model = new nn.Sequential(new nn.Linear(784, 128, { seed: 1 }), new nn.ReLU(), new nn.Linear(128, 10, { seed: 2 }));
const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
const x = tensor(new Float32Array(8 * 784).fill(0.5), { shape: [8, 784] });
const y = tensor(new Int32Array([0, 1, 2, 3, 4, 5, 6, 7]));
optimizer.zeroGrad();
const loss = nn.functional.crossEntropy(model.forward(x), y);
loss.backward();
optimizer.step();
const after = nn.functional.crossEntropy(model.forward(x), y);
console.log(JSON.stringify({ adapter: runtimeInfo().adapter.architecture, before: await loss.item(), after: await after.item() }));
