// Hostile inputs that used to end in a raw TypeError or RangeError, a hang, or silent misbehaviour:
// each is now a WebgradError subclass whose message names the argument and the value at fault, and
// a failed call changes nothing. Where PyTorch has an answer (DataLoader's defaults, dropLast), the
// tests check that answer instead.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  AnomalyError,
  AutogradError,
  checkAnomaly,
  compareGradientMethods,
  DeviceLimitError,
  DTypeError,
  data,
  detectAnomaly,
  full,
  grad,
  gradcheck,
  init,
  memory,
  nn,
  ones,
  optim,
  runtimeInfo,
  type Tensor,
  tensor,
  ValueError,
  valueAndGrad,
  WebgradError,
  zeros,
} from '../../src/index.js';

interface HostileCase {
  label: string;
  /** May throw, or return a promise that rejects. */
  run: () => unknown;
  error: new (...args: never[]) => Error;
  message: RegExp;
}

// Inputs a typed caller cannot write: the tests pass them the way plain JavaScript would.
const loose = <T>(value: unknown): T => value as T;
const f = (shape: number[]): Tensor => zeros(shape);
const leaf = (): Tensor => tensor([1, 2], { requiresGrad: true });
const digitsLike = (count: number): data.Dataset =>
  data.fromBytes(
    Uint8Array.from({ length: count * 4 }, (_, i) => i % 256),
    Int32Array.from({ length: count }, (_, i) => i % 10),
    4,
  );
const sgd = (): optim.SGD => new optim.SGD([leaf()], { lr: 0.1 });

const cases: HostileCase[] = [
  // Non-tensor operands of Tensor methods and nn.functional.
  {
    label: "t.mul('2')",
    run: () => f([2]).mul(loose('2')),
    error: ValueError,
    message: /mul: argument 'other' must be a Tensor or a number, got the string '2'/,
  },
  { label: 't.add(null)', run: () => f([2]).add(loose(null)), error: ValueError, message: /add: argument 'other' must be a Tensor or a number, got null/ },
  {
    label: 't.sub(undefined)',
    run: () => f([2]).sub(loose(undefined)),
    error: ValueError,
    message: /sub: argument 'other' must be a Tensor or a number, got undefined/,
  },
  { label: 't.matmul(3)', run: () => f([2, 2]).matmul(loose(3)), error: ValueError, message: /matmul: argument 'other' must be a Tensor, got the number 3/ },
  {
    label: 'crossEntropy with array labels',
    run: () => nn.functional.crossEntropy(f([2, 3]), loose([0, 1])),
    error: ValueError,
    message: /crossEntropy: argument 'labels' must be a Tensor, got an array/,
  },
  {
    label: 'crossEntropy with no logits',
    run: () => nn.functional.crossEntropy(loose(undefined), f([2])),
    error: ValueError,
    message: /crossEntropy: argument 'logits' must be a Tensor, got undefined/,
  },
  { label: 'functional.relu(3)', run: () => nn.functional.relu(loose(3)), error: ValueError, message: /relu: argument 'x' must be a Tensor, got the number 3/ },
  {
    label: 'functional.linear with a string weight',
    run: () => nn.functional.linear(f([2, 3]), loose('w')),
    error: ValueError,
    message: /linear: argument 'weight' must be a Tensor, got the string 'w'/,
  },
  {
    label: 'functional.linear with a number bias',
    run: () => nn.functional.linear(f([2, 3]), f([4, 3]), loose(5)),
    error: ValueError,
    message: /linear: argument 'bias' must be a Tensor or null, got the number 5/,
  },
  {
    label: 'Linear.forward of a plain array',
    run: () => new nn.Linear(3, 2).forward(loose([[1, 2, 3]])),
    error: ValueError,
    message: /Linear\(3, 2\): argument 'x' must be a Tensor, got an array/,
  },

  // Unknown dtypes at creation.
  {
    label: "tensor() with dtype 'float64'",
    run: () => tensor([1], loose({ dtype: 'float64' })),
    error: DTypeError,
    message: /tensor\(\): unknown dtype 'float64' \(webgrad has 'float32', 'int32' and 'bool'\)/,
  },
  {
    label: "tensor() with dtype 'uint8'",
    run: () => tensor(new Uint8Array([1, 2]), loose({ dtype: 'uint8' })),
    error: DTypeError,
    message: /tensor\(\): unknown dtype 'uint8'/,
  },
  {
    label: "zeros() with dtype 'float64'",
    run: () => zeros([2], loose({ dtype: 'float64' })),
    error: DTypeError,
    message: /zeros\(\): unknown dtype 'float64'/,
  },
  { label: "ones() with dtype 'uint8'", run: () => ones([2], loose({ dtype: 'uint8' })), error: DTypeError, message: /ones\(\): unknown dtype 'uint8'/ },
  {
    label: "full() with dtype 'float16'",
    run: () => full([2], 1, loose({ dtype: 'float16' })),
    error: DTypeError,
    message: /full\(\): unknown dtype 'float16'/,
  },
  {
    label: 'full() of int32 with 0.5',
    run: () => full([2], 0.5, { dtype: 'int32' }),
    error: ValueError,
    message: /full\(\): an int32 tensor cannot be filled with 0.5/,
  },
  {
    label: 'full() with a string value',
    run: () => full([2], loose('1')),
    error: ValueError,
    message: /full\(\): the fill value must be a number, got string/,
  },
  { label: 'float32 write() of a string', run: () => f([2]).write(loose([1, 'x'])), error: ValueError, message: /write\(\): value 1 is string, not a number/ },

  {
    label: 'an optimizer given the same parameter twice',
    run: () => {
      const p = tensor([1], { requiresGrad: true });
      return new optim.SGD([p, p], { lr: 0.1 });
    },
    error: ValueError,
    message: /SGD: parameter 1 \(.*\) is the same tensor as parameter 0/,
  },

  // Layers.
  {
    label: 'nn.Linear(1e5, 1e5)',
    run: () => new nn.Linear(1e5, 1e5),
    error: DeviceLimitError,
    message:
      /Linear\(100000, 100000\): the weight \[100000, 100000\] needs 40000000000 bytes, over the device's max(Buffer|StorageBufferBinding)Size of \d+ bytes/,
  },
  {
    label: 'nn.Sequential(3, 4)',
    run: () => new nn.Sequential(loose(3), loose(4)),
    error: ValueError,
    message: /Sequential: argument 0 is not a Module \(got the number 3\)/,
  },
  {
    label: "nn.Sequential(ReLU, 'relu')",
    run: () => new nn.Sequential(new nn.ReLU(), loose('relu')),
    error: ValueError,
    message: /Sequential: argument 1 is not a Module \(got the string 'relu'\)/,
  },

  // Optimizers' parameter lists.
  {
    label: 'SGD over the result of an op',
    run: () => new optim.SGD([leaf().mul(2)], { lr: 0.1 }),
    error: ValueError,
    message: /SGD: parameter 0 \(Tensor\(shape=\[2\].*\)\) is the result of an op \(scale\), not a leaf: can't optimize a non-leaf tensor/,
  },
  {
    label: 'Adam over [w, 3]',
    run: () => new optim.Adam([leaf(), loose(3)]),
    error: ValueError,
    message: /Adam: parameter 1 is not a Tensor \(got the number 3\)/,
  },
  {
    label: 'SGD over a module instead of its parameters',
    run: () => new optim.SGD(loose(new nn.Linear(2, 2)), { lr: 0.1 }),
    error: ValueError,
    message: /SGD: params must be an iterable of tensors \(pass model\.parameters\(\)\), got a Linear/,
  },
  {
    label: 'AdamW over undefined',
    run: () => new optim.AdamW(loose(undefined)),
    error: ValueError,
    message: /AdamW: params must be an iterable of tensors .*got undefined/,
  },

  // Learning-rate schedules.
  {
    label: 'StepLR stepSize NaN',
    run: () => new optim.StepLR(sgd(), { stepSize: NaN }),
    error: ValueError,
    message: /StepLR: stepSize must be a positive integer, got NaN/,
  },
  {
    label: 'StepLR gamma NaN',
    run: () => new optim.StepLR(sgd(), { stepSize: 2, gamma: NaN }),
    error: ValueError,
    message: /StepLR: gamma must be a finite number ≥ 0, got NaN/,
  },
  {
    label: 'StepLR gamma negative',
    run: () => new optim.StepLR(sgd(), { stepSize: 2, gamma: -0.5 }),
    error: ValueError,
    message: /StepLR: gamma must be a finite number ≥ 0, got -0.5/,
  },
  {
    label: "StepLR gamma '0.5'",
    run: () => new optim.StepLR(sgd(), { stepSize: 2, gamma: loose('0.5') }),
    error: ValueError,
    message: /StepLR: gamma must be a finite number ≥ 0, got the string '0.5'/,
  },
  {
    label: "CosineAnnealingLR tMax '10'",
    run: () => new optim.CosineAnnealingLR(sgd(), { tMax: loose('10') }),
    error: ValueError,
    message: /CosineAnnealingLR: tMax must be a positive finite number, got the string '10'/,
  },
  {
    label: 'CosineAnnealingLR tMax Infinity',
    run: () => new optim.CosineAnnealingLR(sgd(), { tMax: Infinity }),
    error: ValueError,
    message: /CosineAnnealingLR: tMax must be a positive finite number, got Infinity/,
  },
  {
    label: 'CosineAnnealingLR etaMin negative',
    run: () => new optim.CosineAnnealingLR(sgd(), { tMax: 10, etaMin: -1 }),
    error: ValueError,
    message: /CosineAnnealingLR: etaMin must be a finite number ≥ 0, got -1/,
  },
  {
    label: 'CosineAnnealingLR etaMin NaN',
    run: () => new optim.CosineAnnealingLR(sgd(), { tMax: 10, etaMin: NaN }),
    error: ValueError,
    message: /CosineAnnealingLR: etaMin must be a finite number ≥ 0, got NaN/,
  },

  // Optimizer settings.
  {
    label: 'Adam betas [0.9]',
    run: () => new optim.Adam([leaf()], { betas: loose([0.9]) }),
    error: ValueError,
    message: /Adam: betas must be a pair of numbers in \[0, 1\), got \[0.9\]/,
  },
  {
    label: 'Adam betas 0.9',
    run: () => new optim.Adam([leaf()], { betas: loose(0.9) }),
    error: ValueError,
    message: /Adam: betas must be a pair of numbers in \[0, 1\), got the number 0.9/,
  },
  {
    label: 'Adam betas [0.9, NaN]',
    run: () => new optim.Adam([leaf()], { betas: [0.9, NaN] }),
    error: ValueError,
    message: /Adam: invalid beta2 NaN \(must be in \[0, 1\)\)/,
  },
  {
    label: "AdamW betas ['0.9', 0.999]",
    run: () => new optim.AdamW([leaf()], { betas: loose(['0.9', 0.999]) }),
    error: ValueError,
    message: /AdamW: invalid beta1 the string '0.9' \(must be in \[0, 1\)\)/,
  },
  {
    label: 'Adam eps NaN',
    run: () => new optim.Adam([leaf()], { eps: NaN }),
    error: ValueError,
    message: /Adam: invalid eps NaN \(must be a finite number ≥ 0\)/,
  },
  { label: "Adam eps '1e-8'", run: () => new optim.Adam([leaf()], { eps: loose('1e-8') }), error: ValueError, message: /Adam: invalid eps the string '1e-8'/ },
  { label: 'AdamW lr NaN', run: () => new optim.AdamW([leaf()], { lr: NaN }), error: ValueError, message: /AdamW: invalid learning rate NaN/ },
  {
    label: 'AdamW weightDecay Infinity',
    run: () => new optim.AdamW([leaf()], { weightDecay: Infinity }),
    error: ValueError,
    message: /AdamW: invalid weightDecay Infinity/,
  },
  { label: 'Adam weightDecay -1', run: () => new optim.Adam([leaf()], { weightDecay: -1 }), error: ValueError, message: /Adam: invalid weightDecay -1/ },
  {
    label: "SGD momentum '0.9'",
    run: () => new optim.SGD([leaf()], { lr: 0.1, momentum: loose('0.9') }),
    error: ValueError,
    message: /SGD: invalid momentum the string '0.9'/,
  },
  {
    label: 'SGD dampening NaN',
    run: () => new optim.SGD([leaf()], { lr: 0.1, momentum: 0.9, dampening: NaN }),
    error: ValueError,
    message: /SGD: invalid dampening NaN \(must be a finite number ≥ 0\)/,
  },
  {
    label: 'SGD weightDecay NaN',
    run: () => new optim.SGD([leaf()], { lr: 0.1, weightDecay: NaN }),
    error: ValueError,
    message: /SGD: invalid weightDecay NaN/,
  },
  {
    label: 'SGD momentum Infinity',
    run: () => new optim.SGD([leaf()], { lr: 0.1, momentum: Infinity }),
    error: ValueError,
    message: /SGD: invalid momentum Infinity/,
  },

  // DataLoader.
  {
    label: 'DataLoader batchSize 2.5',
    run: () => new data.DataLoader(digitsLike(10), { batchSize: 2.5 }),
    error: ValueError,
    message: /DataLoader: batchSize must be a positive integer or 'full' \| 'sgd' \| 'minibatch', got 2.5/,
  },
  {
    label: 'DataLoader batchSize -4',
    run: () => new data.DataLoader(digitsLike(10), { batchSize: -4 }),
    error: ValueError,
    message: /DataLoader: batchSize must be a positive integer .*, got -4/,
  },
  {
    label: "DataLoader batchSize '4'",
    run: () => new data.DataLoader(digitsLike(10), { batchSize: loose('4') }),
    error: ValueError,
    message: /DataLoader: batchSize must be .*, got the string '4'/,
  },
  {
    label: 'DataLoader of undefined',
    run: () => new data.DataLoader(loose(undefined)),
    error: ValueError,
    message: /DataLoader: dataset must be a Dataset \{ images, labels, count, features \}, got undefined/,
  },

  // gradcheck, grad, valueAndGrad.
  {
    label: "gradcheck method 'backward'",
    run: () => gradcheck((x) => x.sum(), [leaf()], { method: loose('backward') }),
    error: ValueError,
    message: /gradcheck: unknown method 'backward' \(expected 'central' or 'forward'\)/,
  },
  {
    label: "gradcheck evaluate 'tpu'",
    run: () => gradcheck((x) => x.sum(), [leaf()], { evaluate: loose('tpu') }),
    error: ValueError,
    message: /gradcheck: unknown evaluate 'tpu' \(expected 'cpu' or 'gpu'\)/,
  },
  {
    label: 'gradcheck eps 0',
    run: () => gradcheck((x) => x.sum(), [leaf()], { eps: 0 }),
    error: ValueError,
    message: /gradcheck: eps must be a positive finite number, got 0/,
  },
  {
    label: 'gradcheck eps negative',
    run: () => gradcheck((x) => x.sum(), [leaf()], { eps: -1e-3 }),
    error: ValueError,
    message: /gradcheck: eps must be a positive finite number, got -0.001/,
  },
  {
    label: 'gradcheck eps NaN',
    run: () => gradcheck((x) => x.sum(), [leaf()], { eps: NaN }),
    error: ValueError,
    message: /gradcheck: eps must be a positive finite number, got NaN/,
  },
  {
    label: 'gradcheck of a function returning a number',
    run: () => gradcheck(() => loose(3), [leaf()]),
    error: ValueError,
    message: /gradcheck: fn must return a Tensor, got the number 3/,
  },
  {
    label: 'gradcheck with a number input',
    run: () => gradcheck((x) => x.sum(), [leaf(), loose(3)]),
    error: ValueError,
    message: /gradcheck: input 1 is not a Tensor \(got the number 3\)/,
  },
  {
    label: 'grad(fn) with fn returning a number',
    run: () => grad(() => loose(3))(leaf()),
    error: AutogradError,
    message: /grad: fn must return a scalar Tensor, got the number 3/,
  },
  {
    label: 'valueAndGrad(fn) with fn returning a non-scalar',
    run: () => valueAndGrad((x) => x.mul(2))(leaf()),
    error: AutogradError,
    message: /valueAndGrad: fn must return a scalar, got a tensor of shape \[2\]/,
  },
  {
    label: 'grad(fn) of a string input',
    run: () => grad((x) => x.sum())(leaf(), loose('a')),
    error: ValueError,
    message: /grad: input 1 is not a Tensor \(got the string 'a'\)/,
  },

  // init() with something that is not a GPUDevice.
  {
    label: 'init({ device: {} })',
    run: () => init({ device: loose({}) }),
    error: ValueError,
    message: /init\(\): options\.device must be a GPUDevice .*got an object/,
  },

  // compareGradientMethods on a parameter the loss does not use.
  {
    label: 'compareGradientMethods with an unused parameter',
    run: () => compareGradientMethods((w) => w.sum(), [tensor([1, 2]), tensor([3, 4, 5])], { samples: 2 }),
    error: AutogradError,
    message: /compareGradientMethods: parameter 1 \(shape \[3\]\) gets no gradient from the loss/,
  },

  // int32 write().
  {
    label: 'int32 write() of 0.5',
    run: () => tensor(new Int32Array([1, 2])).write([0.5, 1]),
    error: ValueError,
    message: /write\(\): int32 tensor given a non-integer value 0.5 at index 0/,
  },
  {
    label: 'int32 write() of NaN',
    run: () => tensor(new Int32Array([1, 2])).write([1, NaN]),
    error: ValueError,
    message: /write\(\): int32 tensor given a non-integer value NaN at index 1/,
  },
  {
    label: 'int32 write() of Infinity',
    run: () => tensor(new Int32Array([1, 2])).write([Infinity, 1]),
    error: ValueError,
    message: /write\(\): int32 tensor given a non-integer value Infinity at index 0/,
  },
  {
    label: 'labels written out of range',
    run: () => nn.functional.crossEntropy(f([2, 10]), tensor(new Int32Array([0, 1])).write([0, 10])),
    error: ValueError,
    message: /crossEntropy: label 10 is outside \[0, 10\) for logits \[2, 10\]/,
  },
  {
    label: 'labels written negative',
    run: () => nn.functional.crossEntropy(f([2, 10]), tensor(new Int32Array([0, 1])).write([-3, 1])),
    error: ValueError,
    message: /crossEntropy: label -3 is outside \[0, 10\)/,
  },
  {
    label: 'labels written out of range through another view of the same storage',
    run: () => {
      const labels = tensor(new Int32Array([0, 1]));
      labels.detach().write([0, 12]);
      return nn.functional.crossEntropy(f([2, 10]), labels);
    },
    error: ValueError,
    message: /crossEntropy: label 12 is outside \[0, 10\)/,
  },

  // data.subset.
  {
    label: 'subset index out of range',
    run: () => data.subset(digitsLike(10), [0, 12]),
    error: ValueError,
    message: /subset: index 12 at position 1 is outside \[0, 10\)/,
  },
  {
    label: 'subset negative index',
    run: () => data.subset(digitsLike(10), [-1]),
    error: ValueError,
    message: /subset: index -1 at position 0 is outside \[0, 10\)/,
  },
  {
    label: 'subset fractional index',
    run: () => data.subset(digitsLike(10), [3, 1.5]),
    error: ValueError,
    message: /subset: index 1.5 at position 1 is not an integer/,
  },
];

describe('hostile inputs', () => {
  test.each(cases.map((c) => [c.label, c] as const))('%s', async (_label, c) => {
    let thrown: unknown = null;
    try {
      await c.run();
    } catch (err) {
      thrown = err;
    }
    expect(thrown, 'no error was raised').toBeInstanceOf(c.error);
    expect(thrown).toBeInstanceOf(WebgradError);
    expect((thrown as Error).message).toMatch(c.message);
  });
});

describe('a failed call changes nothing', () => {
  test('a refused int32 write() keeps the values; a valid one gives the label check its new range', async () => {
    const labels = tensor(new Int32Array([1, 2]));
    expect(() => labels.write([3, 0.5])).toThrow(ValueError);
    expect(Array.from(await labels.data())).toEqual([1, 2]);
    nn.functional.crossEntropy(f([2, 3]), labels).dispose(); // still [1, 2]: in range for 3 classes
    labels.write([9, 0]);
    expect(Array.from(await labels.data())).toEqual([9, 0]);
    nn.functional.crossEntropy(f([2, 10]), labels).dispose();
    expect(() => nn.functional.crossEntropy(f([2, 5]), labels)).toThrow(/label 9 is outside \[0, 5\)/);
  });

  test('grad(), gradcheck() and compareGradientMethods() leave no tensors behind when they refuse', async () => {
    const x = leaf();
    // fn's own result (here x · 2) is fn's to release, as after any forward pass; the leaves are not.
    expect(() => valueAndGrad((t) => t.mul(2))(x)).toThrow(AutogradError);
    const before = memory().liveTensors;
    expect(() => grad(() => loose(3))(x)).toThrow(AutogradError);
    await expect(gradcheck(() => loose(3), [x])).rejects.toThrow(ValueError);
    const unused = tensor([3, 4, 5]);
    const afterUnused = memory().liveTensors;
    await expect(compareGradientMethods((w) => w.sum(), [x, unused], { samples: 2 })).rejects.toThrow(AutogradError);
    expect(memory().liveTensors).toBe(afterUnused);
    unused.dispose();
    expect(memory().liveTensors).toBe(before);
    expect(x.grad).toBeNull();
    expect(Array.from(await x.data())).toEqual([1, 2]);
  });

  test('init() with a bad device keeps the current device working', async () => {
    const adapter = runtimeInfo().adapter;
    await expect(init({ device: loose({ limits: 3 }) })).rejects.toThrow(/init\(\): options\.device must be a GPUDevice/);
    expect(runtimeInfo().adapter).toBe(adapter);
    expect(await tensor([1, 2]).mul(3).sum().item()).toBe(9);
  });

  test("a refused schedule leaves the optimizer's learning rate as it was", () => {
    const opt = sgd();
    expect(() => new optim.StepLR(opt, { stepSize: 1, gamma: -1 })).toThrow(ValueError);
    expect(opt.lr).toBe(0.1);
  });
});

test('valueAndGrad of a function returning its scalar input: the value and a gradient of 1', async () => {
  const [value, [g]] = valueAndGrad((x) => x)(tensor([3], { requiresGrad: true }));
  expect(Array.from(await value.data())).toEqual([3]);
  expect(Array.from(await g!.data())).toEqual([1]);
});

describe('DataLoader does what PyTorch does', () => {
  test('without options: batches of one sample', () => {
    const loader = new data.DataLoader(digitsLike(5));
    expect(loader.batchSize).toBe(1);
    expect(loader.length).toBe(5);
    let batches = 0;
    for (const [x, y] of loader) {
      expect([x.shape, y.shape]).toEqual([[1, 4], [1]]);
      batches++;
    }
    expect(batches).toBe(5);
  });

  test('batchSize larger than the data set: one smaller batch, or none with dropLast', async () => {
    const ds = digitsLike(10);
    const keep = new data.DataLoader(ds, { batchSize: 100, shuffle: false });
    expect(keep.length).toBe(1);
    const shapes: number[][] = [];
    for (const [x, y] of keep) {
      shapes.push([...x.shape]);
      expect(Array.from(await y.data())).toEqual(Array.from(ds.labels));
    }
    expect(shapes).toEqual([[10, 4]]);
    keep.dispose();

    const drop = new data.DataLoader(ds, { batchSize: 100, dropLast: true });
    expect(drop.length).toBe(0);
    expect([...drop]).toEqual([]);
    // A batch exactly the data set's size is a full batch: dropLast keeps it.
    const exact = new data.DataLoader(ds, { batchSize: 10, dropLast: true });
    expect(exact.length).toBe(1);
    expect([...exact].map(([x]) => x.shape)).toEqual([[10, 4]]);
    exact.dispose();
  });
});

describe('anomaly detection reports once', () => {
  test('the read after the failing one succeeds; a new NaN is reported again', async () => {
    detectAnomaly(true);
    try {
      const y = tensor([NaN, 1]).mul(2);
      await expect(y.data()).rejects.toThrow(AnomalyError);
      // Reported: the same values read again, and checkAnomaly(), no longer throw.
      const values = await y.data();
      expect(Number.isNaN(values[0])).toBe(true);
      await expect(checkAnomaly()).resolves.toBeUndefined();
      expect(await tensor([1, 2]).add(1).sum().item()).toBe(5);
      // A new infinity is reported, naming its op.
      const z = tensor([1, 2]).add(Infinity);
      await expect(z.data()).rejects.toThrow(/addScalar\(\[2\]\) produced a NaN or infinity/);
      await expect(z.data()).resolves.toBeDefined();
    } finally {
      detectAnomaly(false);
    }
  });
});

describe('train CLI', () => {
  test('--save to an unwritable path: exit code 2 before training, naming the path', () => {
    expect(existsSync('dist/train.js'), 'dist/train.js is missing: run `npm run build`').toBe(true);
    const missingDir = join(mkdtempSync(join(tmpdir(), 'webgrad-save-')), 'no-such-dir');
    const cases = [
      [join(missingDir, 'net.safetensors'), /--save: cannot write '.*no-such-dir\/net\.safetensors': the directory '.*no-such-dir' does not exist/],
      [tmpdir(), /--save: cannot write '.*': it is a directory/],
    ] as const;
    for (const [path, message] of cases) {
      const r = spawnSync(process.execPath, ['dist/train.js', '--epochs', '1', '--save', path], { encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      // Refused before the device was even opened: no adapter line, no epoch.
      expect(r.stderr).not.toMatch(/adapter/);
      expect(r.stdout).toBe('');
    }
  });
});
