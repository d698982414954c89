// The indexing ops from the user's side: arange's length and dtype rule against float64, cat /
// stack gradients through backward(), tril/triu and maskedFill gradients as masks, oneHot's class
// inference, and every bad argument rejected with a clear error that changes nothing.
import { describe, expect, test } from 'vitest';
import { arange, captureStep, cat, DTypeError, maskedFill, nn, ShapeError, stack, type Tensor, tensor, tril, triu, ValueError, zeros } from '../src/index.js';

const values = async (t: Tensor): Promise<number[]> => Array.from(await t.data());

describe('arange', () => {
  // [args, dtype]: the float64 reference is start + i·step rounded to the dtype.
  const rows: [number[], 'int32' | 'float32'][] = [
    [[5], 'int32'],
    [[0], 'int32'],
    [[2, 9], 'int32'],
    [[9, 2, -3], 'int32'],
    [[0, 1, 0.1], 'float32'],
    [[1.5], 'float32'],
    [[-1, 1, 0.25], 'float32'],
    [[0, 10, 3], 'int32'],
    [[1e6, 1e6 + 5], 'int32'],
  ];
  test.each(rows)('arange(%j) is %s and matches start + i·step', async (args, dtype) => {
    const [start, end, step = 1] = args.length === 1 ? [0, args[0]!] : (args as [number, number, number?]);
    const n = Math.max(0, Math.ceil((end! - start!) / step));
    const want = Array.from({ length: n }, (_, i) => (dtype === 'float32' ? Math.fround(start! + i * step) : start! + i * step));
    const t = arange(...(args as [number, number?, number?]));
    expect(t.dtype).toBe(dtype);
    expect(t.shape).toEqual([n]);
    expect(await values(t)).toEqual(want);
  });

  test('options.dtype overrides the rule', async () => {
    const t = arange(0, 3, 1, { dtype: 'float32' });
    expect(t.dtype).toBe('float32');
    expect(await values(t)).toEqual([0, 1, 2]);
  });
});

test('cat: each input gets its slice of the upstream gradient', async () => {
  const a = tensor([[1, 2]], { requiresGrad: true });
  const b = tensor(
    [
      [3, 4],
      [5, 6],
    ],
    { requiresGrad: true },
  );
  const y = cat([a, b], 0);
  expect(await values(y)).toEqual([1, 2, 3, 4, 5, 6]);
  y.mul(
    tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]),
  )
    .sum()
    .backward();
  expect(await values(a.grad!)).toEqual([1, 2]);
  expect(await values(b.grad!)).toEqual([3, 4, 5, 6]);
});

test('stack along the last dimension: gradients are the matching slices', async () => {
  const a = tensor([1, 2, 3], { requiresGrad: true });
  const b = tensor([4, 5, 6], { requiresGrad: true });
  const y = stack([a, b], -1);
  expect(y.shape).toEqual([3, 2]);
  expect(await values(y)).toEqual([1, 4, 2, 5, 3, 6]);
  y.mul(
    tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]),
  )
    .sum()
    .backward();
  expect(await values(a.grad!)).toEqual([1, 3, 5]);
  expect(await values(b.grad!)).toEqual([2, 4, 6]);
});

test('tril / triu keep the triangle and pass the gradient through the same mask', async () => {
  const x = tensor(
    Float32Array.from({ length: 12 }, (_, i) => i + 1),
    { shape: [3, 4], requiresGrad: true },
  );
  const lower = [1, 0, 0, 0, 5, 6, 0, 0, 9, 10, 11, 0];
  expect(await values(tril(x))).toEqual(lower);
  expect(await values(triu(x, 1))).toEqual([0, 2, 3, 4, 0, 0, 7, 8, 0, 0, 0, 12]);
  tril(x).sum().backward();
  expect(await values(x.grad!)).toEqual(lower.map((v) => (v ? 1 : 0)));
});

test('maskedFill: value where the mask holds, no gradient there', async () => {
  const x = tensor(
    [
      [1, 2, 3],
      [4, 5, 6],
    ],
    { requiresGrad: true },
  );
  const mask = tensor([1, 0, 1], { dtype: 'bool' });
  const y = maskedFill(x, mask, -Infinity);
  expect(await values(y)).toEqual([-Infinity, 2, -Infinity, -Infinity, 5, -Infinity]);
  x.maskedFill(mask, 0).sum().backward();
  expect(await values(x.grad!)).toEqual([0, 1, 0, 0, 1, 0]);
});

test('oneHot: int32 rows, numClasses inferred from labels made on the host', async () => {
  const labels = tensor(new Int32Array([2, 0, 1]));
  const y = nn.functional.oneHot(labels);
  expect(y.dtype).toBe('int32');
  expect(y.shape).toEqual([3, 3]);
  expect(await values(y)).toEqual([0, 0, 1, 1, 0, 0, 0, 1, 0]);
  expect(nn.functional.oneHot(labels, 5).shape).toEqual([3, 5]);
});

const f = (shape: number[]): Tensor => zeros(shape);
const ints = (v: number[]): Tensor => tensor(new Int32Array(v));

const errors: [string, () => unknown, new (...args: never[]) => Error, RegExp][] = [
  ['arange zero step', () => arange(0, 5, 0), ValueError, /arange\(\): step must be nonzero/],
  ['arange negative end', () => arange(-3), ValueError, /arange\(\): the range \[0, -3\) and step 1/],
  ['arange wrong direction', () => arange(5, 0, 1), ValueError, /arange\(\): the range \[5, 0\) and step 1/],
  ['arange non-finite end', () => arange(0, Infinity), ValueError, /arange\(\): end must be a finite number/],
  ['arange int32 with a fraction', () => arange(0, 2.5, 1, { dtype: 'int32' }), DTypeError, /arange\(\): a int32 range needs integer/],
  ['cat nothing', () => cat([], 0), ValueError, /cat: expected a non-empty array/],
  ['cat not a tensor', () => cat([f([2]), 3 as never]), ValueError, /cat: argument 'tensors\[1\]' must be a Tensor/],
  ['cat size mismatch', () => cat([f([2, 3]), f([2, 4])], 0), ShapeError, /cat: input 1 has shape \[2, 4\], input 0 has \[2, 3\]/],
  ['cat rank mismatch', () => cat([f([2, 3]), f([3])], 0), ShapeError, /cat: input 1 has shape \[3\]/],
  ['cat bad dim', () => cat([f([2]), f([2])], 1), ShapeError, /cat/],
  ['cat 0-d', () => cat([f([]), f([])], 0), ShapeError, /cat: zero-dimensional/],
  ['stack shape mismatch', () => stack([f([2, 3]), f([3, 2])], 0), ShapeError, /stack: input 1 has shape \[3, 2\], input 0 has \[2, 3\]/],
  ['stack bad dim', () => stack([f([2]), f([2])], 3), ShapeError, /stack/],
  ['tril 1-D', () => tril(f([4])), ShapeError, /tril: input must have at least 2 dimensions, got shape \[4\]/],
  ['triu fractional diagonal', () => triu(f([2, 2]), 0.5), DTypeError, /triu: diagonal must be an integer, got 0.5/],
  ['maskedFill float mask', () => f([2]).maskedFill(f([2]), 1), DTypeError, /maskedFill: mask must be bool, got float32/],
  [
    'maskedFill mask shape',
    () => f([2, 3]).maskedFill(zeros([4], { dtype: 'bool' }), 1),
    ShapeError,
    /maskedFill: mask of shape \[4\] cannot be broadcast with input of shape \[2, 3\]/,
  ],
  ['oneHot float labels', () => nn.functional.oneHot(f([3])), DTypeError, /oneHot: labels must be int32/],
  ['oneHot label too large', () => nn.functional.oneHot(ints([0, 3]), 3), ValueError, /oneHot: class values must be smaller than numClasses 3, got 3/],
  ['oneHot negative label', () => nn.functional.oneHot(ints([-1, 0]), 3), ValueError, /oneHot: class values must be non-negative, got -1/],
  ['oneHot inferred from GPU labels', () => nn.functional.oneHot(tensor([1, 2]).to('int32')), ValueError, /oneHot: numClasses = -1 needs the largest label/],
  ['oneHot empty inferred', () => nn.functional.oneHot(ints([])), ValueError, /oneHot: cannot infer numClasses from empty labels/],
];

test.each(errors)('%s is refused clearly', (_label, run, error, message) => {
  expect(run).toThrow(error);
  expect(run).toThrow(message);
});

test('a refused cat leaves its inputs and their gradients as they were', async () => {
  const a = tensor([1, 2], { requiresGrad: true });
  expect(() => cat([a, f([2, 2])], 0)).toThrow(ShapeError);
  expect(a.isDisposed).toBe(false);
  expect(a.grad).toBeNull();
  expect(await values(a)).toEqual([1, 2]);
});

test('a captured step replays tril, maskedFill, cat and oneHot on new inputs as the eager calls compute them', async () => {
  const fn = (x: Tensor, labels: Tensor): Tensor[] => [cat([x.tril(), x.triu(1), x.maskedFill(x.gt(2), 0)], 0), nn.functional.oneHot(labels, 4)];
  const step = captureStep(fn);
  const inputs: [number[][], number[]][] = [
    [
      [
        [1, 2],
        [3, 4],
      ],
      [0, 2],
    ],
    [
      [
        [1, 2],
        [3, 5],
      ],
      [1, 1],
    ],
    [
      [
        [7, -2],
        [3, 5],
      ],
      [3, 0],
    ],
    [
      [
        [0, 9],
        [8, 1],
      ],
      [2, 3],
    ],
  ];
  for (const [x, labels] of inputs) {
    const want = fn(tensor(x), ints(labels));
    const got = step(tensor(x), ints(labels));
    for (let k = 0; k < 2; k++) expect(await values(got[k]!), JSON.stringify([x, labels])).toEqual(await values(want[k]!));
  }
});
