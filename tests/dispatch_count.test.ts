// The MLP's training step costs 10 dispatches: forward 3 (linear with bias+ReLU in the matmul
// epilogue, linear, cross-entropy writing its gradient too), backward 6 (fc2: input gradient,
// weight gradient, bias sum; the ReLU mask; fc1: weight gradient, bias sum), and one SGD update
// for all four parameters. Eager and captured steps alike; fusion work must only lower this.
import { expect, test } from 'vitest';
import { captureStep, counters, nn, optim, type Tensor, tensor } from '../src/index.js';
import { Generator } from '../src/random.js';
import { runtime } from '../src/runtime/runtime.js';

function batch(seed: number): [Tensor, Tensor] {
  const g = new Generator(seed);
  return [
    tensor(
      new Float32Array(64 * 784).map(() => g.uniform()),
      { shape: [64, 784] },
    ),
    tensor(
      new Int32Array(64).map(() => g.int(10)),
      { dtype: 'int32' },
    ),
  ];
}

test('a 784-128-10 MLP training step is 10 dispatches, eager and replayed', () => {
  // One dispatch updates all four parameters where the device profile says so (lavapipe, GPUs).
  expect(runtime().profile.multiParameterUpdate).toBe(true);
  // Sequential runs Linear → ReLU as one kernel (the ReLU in the matmul's epilogue).
  const model = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
  const opt = new optim.SGD(model.parameters(), { lr: 0.01 });
  const body = (x: Tensor, y: Tensor): Tensor => {
    opt.zeroGrad();
    const loss = nn.functional.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    return loss;
  };
  const [x, y] = batch(1);
  runtime().scheduler.flush();
  const fill = runtime().scheduler.debugFillNaN;
  runtime().scheduler.debugFillNaN = false;
  try {
    for (let s = 0; s < 2; s++) {
      const before = counters().dispatches;
      body(x, y).dispose();
      expect(counters().dispatches - before, `eager step ${s}`).toBe(10);
    }
    const step = captureStep(body);
    for (let s = 0; s < 4; s++) {
      const before = counters().dispatches;
      step(x, y).dispose();
      expect(counters().dispatches - before, `captured call ${s}`).toBe(10);
    }
    step.dispose();
  } finally {
    runtime().scheduler.debugFillNaN = fill;
  }
});
