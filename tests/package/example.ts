// Type-checked against the packed webgrad's .d.ts by tests/package.test.ts (a consumer's view).
import { data, init, nn, noGrad, optim, type RuntimeInfo, type Tensor, tensor } from 'webgrad';

class Net extends nn.Module {
  fc1 = new nn.Linear(784, 128);
  relu = new nn.ReLU();
  fc2 = new nn.Linear(128, 10);
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.relu.forward(this.fc1.forward(x)));
  }
}

export async function oneStep(): Promise<number> {
  const info: RuntimeInfo = await init();
  void info.adapter.vendor;
  const model = new Net();
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const x = tensor(new Float32Array(8 * 784).fill(0.5), { shape: [8, 784] });
  const y = tensor(new Int32Array([0, 1, 2, 3, 4, 5, 6, 7]));
  optimizer.zeroGrad();
  const loss = nn.functional.crossEntropy(model.forward(x), y);
  loss.backward();
  optimizer.step();
  const predicted = noGrad(() => model.forward(x).argmax(-1));
  const ds: data.Dataset = data.fromBytes(new Uint8Array(784), new Int32Array([3]), 784);
  void ds;
  void predicted;
  return loss.item();
}
