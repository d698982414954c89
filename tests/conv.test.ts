// Convolution and pooling from the user's side: PyTorch's output-size rules (ceilMode's last-window
// rule, 'same' padding, unbatched inputs), small results worked out by hand, ties and padding in
// max pooling, the layers (names, initialisation, 3-D inputs), bad input (a table: the error
// class and the words of its message; nothing changes), and a small conv net whose captured
// training step equals the eager one bit for bit with flat memory.

import { describe, expect, test } from 'vitest';
import { captureStep, DTypeError, memory, nn, optim, ShapeError, type Tensor, tensor, ValueError, type WebgradError, zeros } from '../src/index.js';
import { Generator } from '../src/random.js';
import { gc } from './gc.js';
import { relErr } from './helpers.js';

const F = nn.functional;
const z = (shape: number[]): Tensor => zeros(shape);
const arange1 = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe('output sizes follow PyTorch', () => {
  // Expected shapes worked out by hand from ⌊(H + 2p − d·(k − 1) − 1) / s⌋ + 1 (and the ceilMode rule).
  const rows: [string, () => Tensor, number[]][] = [
    ['conv2d, LeNet conv1', () => F.conv2d(z([2, 3, 28, 28]), z([6, 3, 5, 5])), [2, 6, 24, 24]],
    ['conv2d, padding 2', () => F.conv2d(z([2, 3, 28, 28]), z([6, 3, 5, 5]), null, { padding: 2 }), [2, 6, 28, 28]],
    ['conv2d, stride 2 padding 1', () => F.conv2d(z([1, 1, 7, 7]), z([1, 1, 3, 3]), null, { stride: 2, padding: 1 }), [1, 1, 4, 4]],
    ['conv2d, dilation 2', () => F.conv2d(z([1, 1, 7, 7]), z([1, 1, 3, 3]), null, { dilation: 2 }), [1, 1, 3, 3]],
    ['conv2d, [h, w] settings', () => F.conv2d(z([1, 2, 9, 10]), z([4, 2, 3, 2]), null, { stride: [2, 3], padding: [1, 0] }), [1, 4, 5, 3]],
    ["conv2d, 'same' with an even kernel", () => F.conv2d(z([1, 2, 6, 7]), z([3, 2, 4, 2]), null, { padding: 'same' }), [1, 3, 6, 7]],
    ["conv2d, 'same' with dilation", () => F.conv2d(z([1, 1, 5, 5]), z([1, 1, 3, 3]), null, { padding: 'same', dilation: 2 }), [1, 1, 5, 5]],
    ["conv2d, 'valid'", () => F.conv2d(z([1, 1, 5, 5]), z([1, 1, 3, 3]), null, { padding: 'valid' }), [1, 1, 3, 3]],
    ['conv2d, groups', () => F.conv2d(z([1, 4, 5, 5]), z([6, 2, 3, 3]), null, { groups: 2 }), [1, 6, 3, 3]],
    ['conv2d, unbatched input', () => F.conv2d(z([3, 28, 28]), z([6, 3, 5, 5])), [6, 24, 24]],
    ['conv2d, empty batch', () => F.conv2d(z([0, 3, 8, 8]), z([6, 3, 5, 5])), [0, 6, 4, 4]],
    ['maxPool2d 2', () => F.maxPool2d(z([1, 1, 7, 7]), 2), [1, 1, 3, 3]],
    ['maxPool2d 2, ceilMode: a partial last window', () => F.maxPool2d(z([1, 1, 7, 7]), 2, { ceilMode: true }), [1, 1, 4, 4]],
    // Rounded up this would be 4, but the 4th window would start in the right padding: PyTorch drops it.
    ['maxPool2d, ceilMode drops a window that starts in the padding', () => F.maxPool2d(z([1, 1, 5, 5]), 2, { padding: 1, ceilMode: true }), [1, 1, 3, 3]],
    ['maxPool2d, stride and dilation', () => F.maxPool2d(z([1, 1, 9, 9]), 3, { stride: 1, dilation: 2 }), [1, 1, 5, 5]],
    ['maxPool2d, unbatched', () => F.maxPool2d(z([3, 8, 8]), [2, 4]), [3, 4, 2]],
    ['avgPool2d, ceilMode', () => F.avgPool2d(z([1, 1, 5, 5]), 3, { stride: 2, padding: 1, ceilMode: true }), [1, 1, 3, 3]],
    ['avgPool2d, stride 1', () => F.avgPool2d(z([2, 3, 6, 6]), 3, { stride: 1 }), [2, 3, 4, 4]],
    ['adaptiveAvgPool2d, an int', () => F.adaptiveAvgPool2d(z([2, 3, 7, 9]), 3), [2, 3, 3, 3]],
    ['adaptiveAvgPool2d, null keeps an axis', () => F.adaptiveAvgPool2d(z([1, 2, 7, 9]), [3, null]), [1, 2, 3, 9]],
  ];
  test.each(rows)('%s', (_label, run, shape) => {
    expect([...run().shape]).toEqual(shape);
  });
});

describe('values worked out by hand', () => {
  test('conv2d: a 2×2 kernel of ones with stride 2 sums 2×2 blocks; the bias is added per channel', async () => {
    const x = tensor(arange1(16), { shape: [1, 1, 4, 4] });
    const w = tensor([1, 1, 1, 1, 0, 0, 0, 1], { shape: [2, 1, 2, 2] });
    const y = F.conv2d(x, w, tensor([0, 0.5]), { stride: 2 });
    // Channel 0: 1+2+5+6, 3+4+7+8, 9+10+13+14, 11+12+15+16; channel 1: the block's bottom-right + 0.5.
    expect([...(await y.data())]).toEqual([14, 22, 46, 54, 6.5, 8.5, 14.5, 16.5]);
  });

  test('conv2d: gradients of Σ conv(x, w) count how often each input element and tap is used', async () => {
    const x = tensor(arange1(9), { shape: [1, 1, 3, 3], requiresGrad: true });
    const w = tensor([1, 2, 3, 4], { shape: [1, 1, 2, 2], requiresGrad: true });
    F.conv2d(x, w, null, { padding: 1 }).sum().backward();
    // With padding 1, every input element meets every tap once: dx = Σ w = 10; dw = Σ x = 45.
    expect([...(await x.grad!.data())]).toEqual(new Array(9).fill(10));
    expect([...(await w.grad!.data())]).toEqual([45, 45, 45, 45]);
  });

  test('maxPool2d: ties send the gradient to the first max; padding is −inf; NaN wins', async () => {
    const x = tensor([1, 1, 1, 1], { shape: [1, 1, 2, 2], requiresGrad: true });
    F.maxPool2d(x, 2).sum().backward();
    expect([...(await x.grad!.data())]).toEqual([1, 0, 0, 0]);
    const negative = tensor([-5, -6, -7, -8], { shape: [1, 1, 2, 2] });
    // Padding never wins over a real element, however negative.
    expect([...(await F.maxPool2d(negative, 2, { stride: 1, padding: 1 }).data())]).toEqual([-5, -5, -6, -5, -5, -6, -7, -7, -8]);
    const withNaN = tensor([1, Number.NaN, 3, 2], { shape: [1, 1, 2, 2] });
    expect(Number.isNaN((await F.maxPool2d(withNaN, 2).data())[0]!)).toBe(true);
  });

  test('avgPool2d: countIncludePad and divisorOverride change the divisor', async () => {
    const ones = tensor(new Array(9).fill(1), { shape: [1, 1, 3, 3] });
    const counted = await F.avgPool2d(ones, 3, { stride: 1, padding: 1 }).data();
    expect([...counted].map((v) => Math.round(v * 9))).toEqual([4, 6, 4, 6, 9, 6, 4, 6, 4]);
    expect([...(await F.avgPool2d(ones, 3, { stride: 1, padding: 1, countIncludePad: false }).data())]).toEqual(new Array(9).fill(1));
    expect([...(await F.avgPool2d(ones, 3, { stride: 1, padding: 1, divisorOverride: 2 }).data())]).toEqual([2, 3, 2, 3, 4.5, 3, 2, 3, 2]);
  });

  test("adaptiveAvgPool2d: PyTorch's overlapping windows ⌊o·H/OH⌋ ..< ⌈(o+1)·H/OH⌉", async () => {
    const x = tensor(arange1(7), { shape: [1, 1, 1, 7], requiresGrad: true });
    const y = F.adaptiveAvgPool2d(x, [1, 3]);
    // Windows [0, 3), [2, 5), [4, 7): elements 3 and 5 are in two windows each.
    expect([...(await y.data())]).toEqual([2, 4, 6]);
    y.sum().backward();
    expect([...(await x.grad!.data())].map((v) => Math.round(v * 3))).toEqual([1, 1, 2, 1, 2, 1, 1]);
  });
});

describe('layers', () => {
  test("Conv2d: PyTorch's names, shapes and initialisation bound 1/√fanIn (fanIn = in / groups · kH · kW)", async () => {
    const conv = new nn.Conv2d(6, 4, [3, 2], { groups: 2, seed: 3 });
    expect(conv.namedParameters().map(([n, p]) => [n, [...p.shape]])).toEqual([
      ['weight', [4, 3, 3, 2]],
      ['bias', [4]],
    ]);
    const bound = 1 / Math.sqrt(3 * 3 * 2);
    for (const p of [conv.weight, conv.bias!]) {
      const v = [...(await p.data())];
      expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(bound);
    }
    // 72 draws spread over the whole interval, not a narrower one.
    expect(Math.max(...(await conv.weight.data()).map(Math.abs))).toBeGreaterThan(0.8 * bound);
    expect(new nn.Conv2d(1, 2, 3, { bias: false }).bias).toBeNull();
    const net = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Conv2d(2, 3, 1));
    expect(net.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '3.weight', '3.bias']);
  });

  test('Conv2d equals nn.functional.conv2d with its own weights; the pools equal their functions', async () => {
    const g = new Generator(5);
    const x = tensor(
      Array.from({ length: 2 * 3 * 9 * 8 }, () => g.uniform() * 2 - 1),
      { shape: [2, 3, 9, 8] },
    );
    const conv = new nn.Conv2d(3, 4, 3, { stride: 2, padding: 'valid', dilation: [1, 2], seed: 1 });
    expect([...(await conv.forward(x).data())]).toEqual([...(await F.conv2d(x, conv.weight, conv.bias, { stride: 2, dilation: [1, 2] }).data())]);
    const unbatched = x.narrow(0, 0, 1).reshape([3, 9, 8]);
    expect([...(await conv.forward(unbatched).data())]).toEqual([...(await conv.forward(x).narrow(0, 0, 1).data())]);
    expect([...(await new nn.MaxPool2d(3, { stride: 2, ceilMode: true }).forward(x).data())]).toEqual([
      ...(await F.maxPool2d(x, 3, { stride: 2, ceilMode: true }).data()),
    ]);
    expect([...(await new nn.AvgPool2d(2, { padding: 1, countIncludePad: false }).forward(x).data())]).toEqual([
      ...(await F.avgPool2d(x, 2, { padding: 1, countIncludePad: false }).data()),
    ]);
    expect([...(await new nn.AdaptiveAvgPool2d([2, 3]).forward(x).data())]).toEqual([...(await F.adaptiveAvgPool2d(x, [2, 3]).data())]);
  });
});

interface ErrorRow {
  label: string;
  run: () => unknown;
  error: typeof WebgradError;
  message: RegExp;
}

const errorRows: ErrorRow[] = [
  {
    label: 'conv2d of a 2-D input',
    run: () => F.conv2d(z([2, 3]), z([6, 3, 5, 5])),
    error: ShapeError,
    message: /conv2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input, but got input of size \[2, 3\]/,
  },
  {
    label: 'conv2d with the wrong number of input channels',
    run: () => F.conv2d(z([1, 4, 28, 28]), z([6, 3, 5, 5])),
    error: ShapeError,
    message: /conv2d: given groups=1, weight of size \[6, 3, 5, 5\], expected input \[1, 4, 28, 28\] to have 3 channels, but got 4 channels/,
  },
  {
    label: 'conv2d with out channels not divisible by groups',
    run: () => F.conv2d(z([1, 2, 5, 5]), z([3, 1, 3, 3]), null, { groups: 2 }),
    error: ShapeError,
    message: /conv2d: given groups=2, expected weight to be divisible by 2 at dimension 0, but got weight of size \[3, 1, 3, 3\]/,
  },
  {
    label: 'conv2d with a kernel larger than the padded input',
    run: () => F.conv2d(z([1, 1, 4, 4]), z([1, 1, 5, 5])),
    error: ShapeError,
    message: /conv2d: input \[1, 1, 4, 4\] padded to 4 x 4 per channel is smaller than the \(dilated\) kernel 5 x 5/,
  },
  {
    label: 'conv2d with a dilated kernel larger than the input',
    run: () => F.conv2d(z([1, 1, 4, 4]), z([1, 1, 3, 3]), null, { dilation: 2 }),
    error: ShapeError,
    message: /padded to 4 x 4 per channel is smaller than the \(dilated\) kernel 5 x 5/,
  },
  {
    label: 'conv2d with a 3-D weight',
    run: () => F.conv2d(z([1, 1, 4, 4]), z([1, 3, 3])),
    error: ShapeError,
    message: /conv2d: weight must be a non-empty 4-D \[out_channels, in_channels \/ groups, kH, kW\], got \[1, 3, 3\]/,
  },
  {
    label: 'conv2d with a bias of the wrong size',
    run: () => F.conv2d(z([1, 3, 8, 8]), z([6, 3, 5, 5]), z([5])),
    error: ShapeError,
    message: /conv2d: given weight of size \[6, 3, 5, 5\], expected bias to be 1-D with 6 elements, but got bias of size \[5\]/,
  },
  {
    label: 'conv2d with stride 0',
    run: () => F.conv2d(z([1, 1, 4, 4]), z([1, 1, 3, 3]), null, { stride: 0 }),
    error: ValueError,
    message: /conv2d: stride must be positive integers, got \[0, 0\]/,
  },
  {
    label: 'conv2d with negative padding',
    run: () => F.conv2d(z([1, 1, 4, 4]), z([1, 1, 3, 3]), null, { padding: -1 }),
    error: ValueError,
    message: /conv2d: padding must be non-negative integers, got \[-1, -1, -1, -1\]/,
  },
  {
    label: 'conv2d with a fractional stride',
    run: () => F.conv2d(z([1, 1, 4, 4]), z([1, 1, 3, 3]), null, { stride: 1.5 }),
    error: ValueError,
    message: /conv2d: stride must be an integer or \[height, width\] of integers, got the number 1.5/,
  },
  {
    label: 'conv2d with groups 0',
    run: () => F.conv2d(z([1, 1, 4, 4]), z([1, 1, 3, 3]), null, { groups: 0 }),
    error: ValueError,
    message: /conv2d: groups must be a positive integer, got the number 0/,
  },
  {
    label: "conv2d with padding 'same' and stride 2",
    run: () => F.conv2d(z([1, 1, 8, 8]), z([1, 1, 3, 3]), null, { padding: 'same', stride: 2 }),
    error: ValueError,
    message: /conv2d: padding='same' is not supported for strided convolutions \(stride \[2, 2\]\)/,
  },
  {
    label: 'conv2d with an unknown padding string',
    run: () => F.conv2d(z([1, 1, 8, 8]), z([1, 1, 3, 3]), null, { padding: 'full' as 'same' }),
    error: ValueError,
    message: /conv2d: invalid padding string 'full', should be one of 'valid', 'same'/,
  },
  {
    label: 'conv2d with a misspelt option',
    run: () => F.conv2d(z([1, 1, 8, 8]), z([1, 1, 3, 3]), null, { strides: 2 } as never),
    error: ValueError,
    message: /conv2d: unknown option 'strides'/,
  },
  {
    label: 'conv2d of an int32 input',
    run: () => F.conv2d(zeros([1, 1, 4, 4], { dtype: 'int32' }), z([1, 1, 3, 3])),
    error: DTypeError,
    message: /conv2d: the input must be float32, got int32 \(shape \[1, 1, 4, 4\]\)/,
  },
  {
    label: 'maxPool2d with padding over half the kernel',
    run: () => F.maxPool2d(z([1, 1, 8, 8]), 3, { padding: 2 }),
    error: ValueError,
    message: /maxPool2d: padding should be at most half of the kernel size, but got padding \[2, 2\] for kernelSize \[3, 3\]/,
  },
  {
    label: 'maxPool2d with a window larger than the input',
    run: () => F.maxPool2d(z([1, 1, 2, 2]), 3),
    error: ShapeError,
    message: /maxPool2d: given input size \(1x2x2\), the calculated output size \(1x0x0\) is too small/,
  },
  {
    label: 'maxPool2d of a 2-D input',
    run: () => F.maxPool2d(z([8, 8]), 2),
    error: ShapeError,
    message: /maxPool2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input, but got input of size \[8, 8\]/,
  },
  {
    label: 'maxPool2d of an input with no channels',
    run: () => F.maxPool2d(z([1, 0, 8, 8]), 2),
    error: ShapeError,
    message: /maxPool2d: expected a 3-D or 4-D input with non-empty channel and spatial dimensions, got input of size \[1, 0, 8, 8\]/,
  },
  {
    label: 'maxPool2d with kernel size 0',
    run: () => F.maxPool2d(z([1, 1, 8, 8]), 0),
    error: ValueError,
    message: /maxPool2d: kernelSize must be positive integers, got \[0, 0\]/,
  },
  {
    label: 'avgPool2d with divisorOverride 0',
    run: () => F.avgPool2d(z([1, 1, 8, 8]), 2, { divisorOverride: 0 }),
    error: ValueError,
    message: /avgPool2d: divisorOverride must be a positive integer, got the number 0/,
  },
  {
    label: 'avgPool2d with a non-boolean ceilMode',
    run: () => F.avgPool2d(z([1, 1, 8, 8]), 2, { ceilMode: 1 as never }),
    error: ValueError,
    message: /avgPool2d: ceilMode must be a boolean, got the number 1/,
  },
  {
    label: 'adaptiveAvgPool2d to size 0',
    run: () => F.adaptiveAvgPool2d(z([1, 1, 8, 8]), 0),
    error: ValueError,
    message: /adaptiveAvgPool2d: outputSize must be positive integers, got \[0, 0\]/,
  },
  {
    label: 'Conv2d with in channels not divisible by groups',
    run: () => new nn.Conv2d(3, 6, 5, { groups: 2 }),
    error: ValueError,
    message: /Conv2d\(3, 6\): inChannels must be divisible by groups \(2\)/,
  },
  {
    label: "Conv2d with padding 'same' and stride 2",
    run: () => new nn.Conv2d(1, 1, 3, { padding: 'same', stride: 2 }),
    error: ValueError,
    message: /Conv2d\(1, 1\): padding='same' is not supported for strided convolutions/,
  },
  {
    label: 'Conv2d given the wrong number of channels',
    run: () => new nn.Conv2d(3, 6, 5).forward(z([2, 1, 28, 28])),
    error: ShapeError,
    message: /expected input \[2, 1, 28, 28\] to have 3 channels, but got 1 channels/,
  },
  {
    label: 'Conv2d with a kernel size that is not an int',
    run: () => new nn.Conv2d(3, 6, 'five' as never),
    error: ValueError,
    message: /Conv2d\(3, 6\): kernelSize must be an integer or \[height, width\] of integers, got the string 'five'/,
  },
];

describe('bad input', () => {
  test.each(errorRows.map((r) => [r.label, r] as const))('%s', (_label, row) => {
    let thrown: unknown = null;
    try {
      row.run();
    } catch (err) {
      thrown = err;
    }
    expect(thrown, 'no error was raised').toBeInstanceOf(row.error);
    expect((thrown as Error).message).toMatch(row.message);
  });

  test('a refused call inside a training step leaves the model, its gradients and the optimizer as they were', async () => {
    const model = new nn.Sequential(new nn.Conv2d(1, 2, 3, { seed: 1 }), new nn.ReLU(), new nn.Flatten(), new nn.Linear(2 * 4 * 4, 3, { seed: 2 }));
    const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const x = tensor(
      Array.from({ length: 2 * 36 }, (_, i) => Math.sin(i)),
      { shape: [2, 1, 6, 6] },
    );
    const y = tensor(new Int32Array([0, 2]), { dtype: 'int32' });
    F.crossEntropy(model.forward(x), y).backward();
    opt.step();
    const snapshot = async () => Promise.all(model.parameters().flatMap((p) => [p.data(), p.grad!.data()]));
    const before = await snapshot();
    expect(() => F.crossEntropy(model.forward(z([2, 3, 6, 6])), y).backward()).toThrow(ShapeError);
    expect(() => model.forward(z([2, 1, 2, 2]))).toThrow(ShapeError);
    expect(await snapshot()).toEqual(before);
  });
});

/** A small conv net: conv → relu → max pool → conv (groups) → relu → avg pool → adaptive pool → linear. */
class SmallCnn extends nn.Module {
  conv1 = new nn.Conv2d(1, 4, 3, { padding: 1, seed: 21 });
  pool1 = new nn.MaxPool2d(2);
  conv2 = new nn.Conv2d(4, 6, 3, { groups: 2, stride: [1, 2], seed: 22 });
  pool2 = new nn.AvgPool2d(2, { ceilMode: true, padding: 1, countIncludePad: false });
  head = new nn.AdaptiveAvgPool2d(2);
  fc = new nn.Linear(6 * 2 * 2, 5, { seed: 23 });
  forward(x: Tensor): Tensor {
    const h = this.pool1.forward(this.conv1.forward(x).relu());
    const k = this.head.forward(this.pool2.forward(this.conv2.forward(h).relu()));
    return this.fc.forward(k.reshape([x.shape[0]!, -1]));
  }
}

function images(seed: number, n: number): [Tensor, Tensor] {
  const g = new Generator(seed);
  const x = new Float32Array(n * 13 * 11).map(() => g.uniform() * 2 - 1);
  const y = new Int32Array(n).map(() => g.int(5));
  return [tensor(x, { shape: [n, 1, 13, 11] }), tensor(y, { shape: [n], dtype: 'int32' })];
}

test('a conv net trained by captureStep equals the eager steps bit for bit, with flat memory', async () => {
  const eagerModel = new SmallCnn();
  const capturedModel = new SmallCnn();
  const eagerOpt = new optim.SGD(eagerModel.parameters(), { lr: 0.05, momentum: 0.9 });
  const capturedOpt = new optim.SGD(capturedModel.parameters(), { lr: 0.05, momentum: 0.9 });
  const step = (model: SmallCnn, opt: optim.SGD) => (x: Tensor, y: Tensor) => {
    opt.zeroGrad();
    const loss = F.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    return loss;
  };
  const eagerStep = step(eagerModel, eagerOpt);
  const captured = captureStep(step(capturedModel, capturedOpt));
  const eagerLosses: number[] = [];
  const capturedLosses: number[] = [];
  let after3: ReturnType<typeof memory> | null = null;
  for (let s = 0; s < 8; s++) {
    const [x, y] = images(300 + s, 6);
    const eagerLoss = eagerStep(x, y);
    eagerLosses.push(await eagerLoss.item());
    eagerLoss.dispose();
    // A captured step's result belongs to the caller.
    const loss = captured(x, y);
    capturedLosses.push(await loss.item());
    loss.dispose();
    x.dispose();
    y.dispose();
    if (s === 3) {
      // Tensors earlier tests dropped are collected now, not in the middle of the comparison; the
      // finalizers that release them run in a later task, hence the wait.
      gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
      after3 = memory();
    }
  }
  expect(captured.replays).toBe(6);
  expect(capturedLosses).toEqual(eagerLosses);
  expect(eagerLosses[7]).not.toBe(eagerLosses[0]);
  const bits = async (m: SmallCnn) => Promise.all(m.parameters().map(async (p) => [...new Uint32Array((await p.data()).buffer.slice(0))]));
  expect(await bits(capturedModel)).toEqual(await bits(eagerModel));
  gc();
  await new Promise((resolve) => setTimeout(resolve, 20));
  // Flat: nothing grows over the replays (tensors of earlier steps may have gone since).
  const end = memory();
  expect(end.liveTensors).toBeLessThanOrEqual(after3!.liveTensors);
  expect(end.liveBuffers).toBeLessThanOrEqual(after3!.liveBuffers);
  expect(end.bytesInUse).toBeLessThanOrEqual(after3!.bytesInUse);
  captured.dispose();
});

// conv2d unfolds at most 32 MiB of input at a time (src/ops/conv_gemm.ts): here each image unfolds
// to 400 × 7,056 floats (11 MiB), so 4 images go through in 2 chunks; forward and both gradients
// must still equal a float64 reference computed here.
test('a convolution whose unfolded input is split over chunks of images: forward and gradients match a float64 reference', async () => {
  const [N, C, H, W, OC, K, P] = [4, 16, 84, 84, 4, 5, 2];
  const g = new Generator(77);
  const rand = (n: number) => Float32Array.from({ length: n }, () => g.uniform() * 2 - 1);
  const [xs, ws, bs, gs] = [rand(N * C * H * W), rand(OC * C * K * K), rand(OC), rand(N * OC * H * W)];
  const x = tensor(xs, { shape: [N, C, H, W] });
  const w = tensor(ws, { shape: [OC, C, K, K] });
  x.requiresGrad = true;
  w.requiresGrad = true;
  const y = F.conv2d(x, w, tensor(bs, { shape: [OC] }), { padding: P });
  y.backward(tensor(gs, { shape: [N, OC, H, W] }));
  // Reference: every (image, output channel, position, channel, tap) once, in float64.
  const ref = { y: new Float64Array(N * OC * H * W), dx: new Float64Array(N * C * H * W), dw: new Float64Array(OC * C * K * K) };
  for (let n = 0; n < N; n++)
    for (let o = 0; o < OC; o++)
      for (let oh = 0; oh < H; oh++)
        for (let ow = 0; ow < W; ow++) {
          const out = ((n * OC + o) * H + oh) * W + ow;
          let s = bs[o]!;
          for (let c = 0; c < C; c++)
            for (let kh = 0; kh < K; kh++) {
              const ih = oh - P + kh;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < K; kw++) {
                const iw = ow - P + kw;
                if (iw < 0 || iw >= W) continue;
                const xi = ((n * C + c) * H + ih) * W + iw;
                const wi = ((o * C + c) * K + kh) * K + kw;
                s += xs[xi]! * ws[wi]!;
                ref.dx[xi]! += gs[out]! * ws[wi]!;
                ref.dw[wi]! += gs[out]! * xs[xi]!;
              }
            }
          ref.y[out] = s;
        }
  expect(relErr(await y.data(), ref.y)).toBeLessThan(1e-5);
  expect(relErr(await x.grad!.data(), ref.dx)).toBeLessThan(1e-5);
  expect(relErr(await w.grad!.data(), ref.dw)).toBeLessThan(1e-5);
  for (const t of [x, w, y]) t.dispose();
});

// Few weights over many output positions. The weight gradient is a product with the unfolded input
// the forward kept (src/ops/conv_gemm.ts, GemmPlan.keepCols), or, for one output channel per group
// (depthwise), sums the output rows (n, oh) in parts and then adds the parts in order
// (src/ops/conv2d.ts). Both gradients must equal a float64 reference whatever the padding, stride,
// dilation and groups cut from each tap's columns, and two backward passes must give the same bits.
describe('weight gradients summed in parts match a float64 reference and repeat bit for bit', () => {
  interface PartsCase {
    label: string;
    x: [number, number, number, number];
    w: [number, number, number, number];
    stride?: [number, number];
    padding?: [number, number] | 'same';
    dilation?: [number, number];
    groups?: number;
  }
  const cases: PartsCase[] = [
    { label: "LeNet's conv1 at batch 64", x: [64, 1, 28, 28], w: [6, 1, 5, 5], padding: [2, 2] },
    { label: 'stride, dilation and padding', x: [16, 2, 20, 19], w: [3, 2, 3, 3], stride: [2, 1], padding: [1, 2], dilation: [1, 2] },
    { label: "groups 2, 'same' padding of an even kernel", x: [9, 4, 15, 16], w: [4, 2, 2, 4], padding: 'same', groups: 2 },
    { label: 'padding larger than the kernel, stride 2', x: [12, 1, 17, 17], w: [2, 1, 2, 2], stride: [2, 2], padding: [3, 3] },
    { label: 'depthwise (summed in parts), stride and padding', x: [16, 3, 30, 29], w: [3, 1, 3, 3], stride: [2, 1], padding: [1, 1], groups: 3 },
  ];
  test.each(cases)('$label: x $x, w $w', async ({ x: xShape, w: wShape, stride = [1, 1], padding = [0, 0], dilation = [1, 1], groups = 1 }) => {
    const [N, C, H, W] = xShape;
    const [OC, Cg, KH, KW] = wShape;
    const [top, left] = padding === 'same' ? [Math.floor((dilation[0] * (KH - 1)) / 2), Math.floor((dilation[1] * (KW - 1)) / 2)] : padding;
    const [bottom, right] = padding === 'same' ? [dilation[0] * (KH - 1) - top, dilation[1] * (KW - 1) - left] : padding;
    const OH = Math.floor((H + top + bottom - dilation[0] * (KH - 1) - 1) / stride[0]) + 1;
    const OW = Math.floor((W + left + right - dilation[1] * (KW - 1) - 1) / stride[1]) + 1;
    const g = new Generator(5);
    const rand = (n: number) => Float32Array.from({ length: n }, () => g.uniform() * 2 - 1);
    const [xs, ws, gs] = [rand(N * C * H * W), rand(OC * Cg * KH * KW), rand(N * OC * OH * OW)];
    const gradients = async () => {
      const x = tensor(xs, { shape: xShape });
      const w = tensor(ws, { shape: wShape });
      x.requiresGrad = true;
      w.requiresGrad = true;
      const y = F.conv2d(x, w, null, { stride, padding, dilation, groups });
      expect(y.shape).toEqual([N, OC, OH, OW]);
      y.backward(tensor(gs, { shape: [N, OC, OH, OW] }));
      const result = { dx: await x.grad!.data(), dw: await w.grad!.data() };
      for (const t of [x, w, y]) t.dispose();
      return result;
    };
    const ref = { dx: new Float64Array(xs.length), dw: new Float64Array(ws.length) };
    const OCg = OC / groups;
    for (let n = 0; n < N; n++)
      for (let o = 0; o < OC; o++)
        for (let c = 0; c < Cg; c++)
          for (let kh = 0; kh < KH; kh++)
            for (let kw = 0; kw < KW; kw++) {
              const wi = ((o * Cg + c) * KH + kh) * KW + kw;
              for (let oh = 0; oh < OH; oh++) {
                const ih = oh * stride[0] - top + kh * dilation[0];
                if (ih < 0 || ih >= H) continue;
                for (let ow = 0; ow < OW; ow++) {
                  const iw = ow * stride[1] - left + kw * dilation[1];
                  if (iw < 0 || iw >= W) continue;
                  const xi = ((n * C + Math.floor(o / OCg) * Cg + c) * H + ih) * W + iw;
                  const go = gs[((n * OC + o) * OH + oh) * OW + ow]!;
                  ref.dw[wi]! += go * xs[xi]!;
                  ref.dx[xi]! += go * ws[wi]!;
                }
              }
            }
    const first = await gradients();
    expect(relErr(first.dw, ref.dw)).toBeLessThan(1e-5);
    expect(relErr(first.dx, ref.dx)).toBeLessThan(1e-5);
    const second = await gradients();
    expect(Array.from(second.dw)).toEqual(Array.from(first.dw));
  });
});

// Max pooling whose windows tile the input exactly (window = stride, no padding or dilation, sizes
// divisible) computes its gradient one window at a time (src/ops/pool2d.ts); the others gather per
// input element. Either way each window's gradient goes to its first largest element (NaN wins),
// as PyTorch's index choice; inputs with many ties and a few NaNs check it against a reference here.
describe("maxPool2d's gradient goes to each window's first max, windows tiling the input or not", () => {
  const cases: { label: string; x: [number, number, number, number]; k: [number, number]; stride?: [number, number]; ceilMode?: boolean }[] = [
    { label: 'tiling 2×3 windows', x: [3, 2, 6, 9], k: [2, 3] },
    { label: 'tiling 3×3 windows', x: [2, 3, 9, 6], k: [3, 3] },
    { label: 'tiling 1×1 windows', x: [1, 2, 3, 4], k: [1, 1] },
    { label: 'not tiling: stride 1', x: [2, 2, 6, 6], k: [2, 2], stride: [1, 1] },
    { label: 'not tiling: a partial last window (ceilMode)', x: [2, 2, 7, 7], k: [2, 2], ceilMode: true },
  ];
  test.each(cases)('$label: x $x, window $k', async ({ x: shape, k, stride = k, ceilMode = false }) => {
    const [N, C, H, W] = shape;
    const g = new Generator(9);
    // Values from {0, 1, 2} (many ties), one in 40 NaN.
    const xs = Float32Array.from({ length: N * C * H * W }, () => (g.uniform() < 0.025 ? Number.NaN : Math.floor(g.uniform() * 3)));
    const size = (n: number, kk: number, s: number) => (ceilMode ? Math.ceil((n - kk) / s) + 1 : Math.floor((n - kk) / s) + 1);
    const [OH, OW] = [size(H, k[0], stride[0]), size(W, k[1], stride[1])];
    const gs = Float32Array.from({ length: N * C * OH * OW }, () => g.uniform() * 2 - 1);
    const x = tensor(xs, { shape, requiresGrad: true });
    const y = F.maxPool2d(x, k, { stride, ceilMode });
    expect(y.shape).toEqual([N, C, OH, OW]);
    y.backward(tensor(gs, { shape: [N, C, OH, OW] }));
    const ref = new Float64Array(xs.length);
    for (let plane = 0; plane < N * C; plane++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let at = -1;
          for (let kh = 0; kh < k[0]; kh++)
            for (let kw = 0; kw < k[1]; kw++) {
              const [ih, iw] = [oh * stride[0] + kh, ow * stride[1] + kw];
              if (ih >= H || iw >= W) continue;
              const i = (plane * H + ih) * W + iw;
              if (at < 0 || (!Number.isNaN(xs[at]!) && (xs[i]! > xs[at]! || Number.isNaN(xs[i]!)))) at = i;
            }
          ref[at]! += gs[(plane * OH + oh) * OW + ow]!;
        }
    // Overlapping windows add in float32: equal up to rounding; a wrong choice of max is far off.
    expect(relErr(await x.grad!.data(), ref)).toBeLessThan(1e-6);
    for (const t of [x, y]) t.dispose();
  });
});
