// A lost device in Node: pending and later work rejects with a clear DeviceLostError; init() again
// gives a new device, and a model is restored from the weights the program holds.
import { expect, test } from 'vitest';
import { DeviceLostError, getDevice, init, manualSeed, nn, optim, type Tensor, tensor } from '../src/index.js';

class Net extends nn.Module {
  fc1 = new nn.Linear(8, 4);
  fc2 = new nn.Linear(4, 3);
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.fc1.forward(x).relu());
  }
}

test('device loss: clear errors, then a new device and the restored model', async () => {
  manualSeed(3);
  const model = new Net();
  const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
  const x = tensor(
    Float32Array.from({ length: 16 }, (_, i) => Math.sin(i)),
    { shape: [2, 8] },
  );
  const y = tensor(new Int32Array([0, 2]));
  const step = (m: Net, o: optim.SGD, xs: Tensor, ys: Tensor) => {
    o.zeroGrad();
    const loss = nn.functional.crossEntropy(m.forward(xs), ys);
    loss.backward();
    o.step();
    return loss;
  };
  step(model, opt, x, y);
  const held = await Promise.all(model.parameters().map(async (p) => Float32Array.from(await p.data())));
  const expectedNext = await (async () => {
    // What one more step gives on the healthy device, for comparison after the restore.
    const loss = step(model, opt, x, y);
    return loss.item();
  })();

  const pending = model.forward(x).sum().data();
  getDevice().destroy();
  await expect(pending).rejects.toThrow(DeviceLostError);
  await expect(pending).rejects.toThrow(/the GPU device was lost \(destroyed.*call `await init\(\)`/);
  expect(() => model.forward(x)).toThrow(DeviceLostError);
  expect(() => tensor([1, 2])).toThrow(DeviceLostError);

  await init();
  manualSeed(99);
  const restored = new Net();
  restored.parameters().forEach((p, i) => p.write(held[i]!));
  const opt2 = new optim.SGD(restored.parameters(), { lr: 0.1 });
  const x2 = tensor(
    Float32Array.from({ length: 16 }, (_, i) => Math.sin(i)),
    { shape: [2, 8] },
  );
  const y2 = tensor(new Int32Array([0, 2]));
  const loss = await step(restored, opt2, x2, y2).item();
  expect(loss).toBe(expectedNext);
});
