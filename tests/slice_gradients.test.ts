// Gradients of slices: backward() collects the gradients of disjoint narrows of one tensor and
// assembles them in one pass (ops/assemble.ts); overlapping slices, slices along other dimensions
// and other uses of the tensor are summed. cat places up to four pieces per pass, more in further
// passes. Every value against a float64 reference; outputs are NaN-prefilled (tests/setup.ts).
import { expect, test } from 'vitest';
import { cat, counters, setFusion, stack, type Tensor, tensor, tidy } from '../src/index.js';
import { runtime } from '../src/runtime/runtime.js';
import { collect } from './gc.js';
import { randHost, rng } from './helpers.js';

/** A slice of a row-major [rows, cols] array: rows r0…r0+nr−1 (dim 0) or columns c0…c0+nc−1 (dim 1). */
interface Slice {
  dim: 0 | 1;
  start: number;
  length: number;
  /** The slice's elements are multiplied by these weights (one per element, row-major) in the loss. */
  weights: number[];
}

/** d/dx of Σ_s Σ (x.narrow(s) ⊙ w_s) + Σ (x ⊙ dense), in float64: each slice's weights added at its place. */
function referenceGradient(rows: number, cols: number, slices: readonly Slice[], dense: readonly number[] | null): number[] {
  const grad = dense ? [...dense] : new Array<number>(rows * cols).fill(0);
  for (const s of slices) {
    const [nr, nc] = s.dim === 0 ? [s.length, cols] : [rows, s.length];
    for (let r = 0; r < nr; r++)
      for (let c = 0; c < nc; c++) {
        const [R, C] = s.dim === 0 ? [r + s.start, c] : [r, c + s.start];
        grad[R * cols + C]! += s.weights[r * nc + c]!;
      }
  }
  return grad;
}

async function sliceGradient(rows: number, cols: number, slices: readonly Slice[], dense: readonly number[] | null, leaf: boolean): Promise<number[]> {
  const g = rng(rows * 100 + cols);
  const x0 = tensor(Float32Array.from(randHost(g, [rows, cols]).data), { shape: [rows, cols], requiresGrad: true });
  // Through a non-leaf (x0 · 1) unless `leaf`: both paths of backward take slices.
  const x = leaf ? x0 : x0.mul(1);
  let loss: Tensor | null = null;
  const plus = (t: Tensor) => {
    loss = loss ? loss.add(t) : t;
  };
  for (const s of slices) {
    const shape = s.dim === 0 ? [s.length, cols] : [rows, s.length];
    plus(
      x
        .narrow(s.dim, s.start, s.length)
        .mul(tensor(Float32Array.from(s.weights), { shape }))
        .sum(),
    );
  }
  if (dense) plus(x.mul(tensor(Float32Array.from(dense), { shape: [rows, cols] })).sum());
  loss!.backward();
  return Array.from(await x0.grad!.data());
}

function weights(n: number, seed: number): number[] {
  const g = rng(seed);
  return Array.from(randHost(g, [n]).data, (v) => Math.fround(v));
}

const cases: [string, number, number, Slice[], boolean][] = [
  ['three disjoint column slices covering all (q, k, v)', 5, 12, [0, 4, 8].map((start, k) => ({ dim: 1, start, length: 4, weights: weights(20, k) })), false],
  ['slices with a gap and out of order', 6, 7, [4, 0].map((start, k) => ({ dim: 0, start, length: 2, weights: weights(14, 10 + k) })), false],
  ['overlapping slices are summed', 4, 6, [0, 2].map((start, k) => ({ dim: 1, start, length: 3, weights: weights(12, 20 + k) })), false],
  [
    'slices along two dimensions',
    4,
    5,
    [
      { dim: 0, start: 1, length: 2, weights: weights(10, 30) },
      { dim: 1, start: 0, length: 2, weights: weights(8, 31) },
      { dim: 1, start: 2, length: 3, weights: weights(12, 32) },
    ],
    false,
  ],
  [
    'six disjoint slices of a leaf (more than one pass)',
    3,
    12,
    [0, 2, 4, 6, 8, 10].map((start, k) => ({ dim: 1, start, length: 2, weights: weights(6, 40 + k) })),
    true,
  ],
  [
    'an empty slice among others',
    3,
    4,
    [0, 2, 2].map((start, k) => ({ dim: 1, start, length: k === 1 ? 0 : 2, weights: weights(k === 1 ? 0 : 6, 50 + k) })),
    false,
  ],
];

test.each(cases)('%s', async (_label, rows, cols, slices, leaf) => {
  const got = await sliceGradient(rows, cols, slices, null, leaf);
  expect(got).toEqual(referenceGradient(rows, cols, slices, null).map((v) => Math.fround(v)));
});

test('slices and a use of the whole tensor are summed', async () => {
  const slices: Slice[] = [0, 3].map((start, k) => ({ dim: 1, start, length: 3, weights: weights(12, 60 + k) }));
  const dense = weights(24, 70);
  const got = await sliceGradient(4, 6, slices, dense, false);
  // Two float32 terms per element at most (a slice's weight and the dense one): within one rounding.
  const ref = referenceGradient(4, 6, slices, dense);
  got.forEach((v, i) => expect(Math.abs(v - ref[i]!)).toBeLessThanOrEqual(2 ** -22 * Math.max(1, Math.abs(ref[i]!))));
});

test('the gradient of three disjoint slices is assembled in one dispatch, not placed and added', () => {
  setFusion(false);
  const fill = runtime().scheduler.debugFillNaN;
  runtime().scheduler.debugFillNaN = false;
  try {
    const x = tensor(new Float32Array(4 * 12).fill(1), { shape: [4, 12], requiresGrad: true });
    const parts = [0, 4, 8].map((start) => x.narrow(1, start, 4));
    const loss = parts[0]!.mul(2).add(parts[1]!.mul(3)).add(parts[2]!.mul(4)).sum();
    runtime().scheduler.flush();
    const before = counters().dispatches;
    loss.backward();
    runtime().scheduler.flush();
    // sum's gradient (a fill), add (none: g is handed on), three mul gradients (scale), one assembly
    // (placing each slice in zeros and adding would be 3 + 2).
    expect(counters().dispatches - before).toBe(5);
  } finally {
    setFusion(true);
    runtime().scheduler.debugFillNaN = fill;
  }
});

test('cat of nine pieces (three passes), with transposed and strided pieces and mixed dtypes', async () => {
  const g = rng(80);
  const host = Array.from({ length: 9 }, (_, k) => randHost(g, [3, k + 1]));
  const pieces = host.map((h, k) => {
    const t = tensor(Float32Array.from(h.data), { shape: [3, k + 1] });
    // Every third piece a transposed view of its transpose, every other one a strided narrow.
    if (k % 3 === 0)
      return tensor(Float32Array.from(h.data), { shape: [3, k + 1] })
        .transpose()
        .contiguous()
        .transpose();
    if (k % 3 === 1) return cat([t, t], 0).narrow(0, 3, 3);
    return t;
  });
  const out = cat(pieces, 1);
  const expected: number[] = [];
  for (let r = 0; r < 3; r++) for (const [k, h] of host.entries()) for (let c = 0; c <= k; c++) expected.push(Math.fround(h.data[r * (k + 1) + c]!));
  expect(out.shape).toEqual([3, 45]);
  expect(Array.from(await out.data())).toEqual(expected);
  // Words keep their bits: −0, a NaN payload, and int32 promoted with bool.
  const bits = new Uint32Array([0x80000000, 0x7fc00123, 0x3f800000]);
  const f = cat([tensor(new Float32Array(bits.buffer)), tensor([5])], 0);
  expect(Array.from(new Uint32Array((await f.data()).buffer))).toEqual([0x80000000, 0x7fc00123, 0x3f800000, 0x40a00000]);
  const mixed = stack([tensor(new Int32Array([1, -2]), { dtype: 'int32' }), tensor([1, 0], { dtype: 'bool' })], 0);
  expect(mixed.dtype).toBe('int32');
  expect(Array.from(await mixed.data())).toEqual([1, -2, 1, 0]);
});

test('memory is flat over repeated backward passes through slices', async () => {
  const run = async () => {
    const x = tensor(new Float32Array(6 * 30).fill(0.5), { shape: [6, 30], requiresGrad: true });
    const [q, k, v] = [0, 10, 20].map((s) => x.narrow(1, s, 10));
    q!.mul(k!).add(v!).sum().backward();
    await x.grad!.data();
    x.dispose();
  };
  for (let i = 0; i < 3; i++) await run();
  const before = await collect();
  for (let i = 0; i < 30; i++) await run();
  const after = await collect();
  expect(after.liveTensors).toBeLessThanOrEqual(before.liveTensors);
  expect(after.liveBuffers).toBeLessThanOrEqual(before.liveBuffers);
  expect(after.bytesInUse).toBeLessThanOrEqual(before.bytesInUse);
});

test('several narrows sum as PyTorch adds their zero-padded gradients (−0 + 0 is +0); one narrow keeps −0', async () => {
  const x = tensor([1, 2, 3, 4], { requiresGrad: true });
  x.narrow(0, 0, 2)
    .mul(tensor([-0, 1]))
    .sum()
    .add(x.narrow(0, 2, 2).sum())
    .backward();
  const two = Array.from(await x.grad!.data());
  expect(Object.is(two[0], 0)).toBe(true);
  expect(two).toEqual([0, 1, 1, 1]);
  const y = tensor([1, 2, 3, 4], { requiresGrad: true });
  y.narrow(0, 0, 2)
    .mul(tensor([-0, 1]))
    .sum()
    .backward();
  const one = Array.from(await y.grad!.data());
  expect(Object.is(one[0], -0)).toBe(true);
  expect(one).toEqual([-0, 1, 0, 0]);
});

test('pieces that share a storage (views of one tensor, one gradient for two slices) reuse memory within a flush', async () => {
  // Binding one storage twice in a dispatch would give its result a buffer of its own each time.
  const a = tensor(new Float32Array(8 * 4096).fill(1), { shape: [8, 4096] });
  const x = tensor(new Float32Array(2 * 4096).fill(1), { shape: [2, 4096], requiresGrad: true });
  await a.data();
  const before = counters().buffers;
  let acc: Tensor = tensor(new Float32Array(8 * 4096));
  for (let i = 0; i < 60; i++) {
    const next = tidy(() => acc.add(cat(a.chunk(8, 0), 1).reshape([8 * 4096])));
    acc.dispose();
    acc = next;
    const [p, q] = x.chunk(2, 0);
    p!.add(q!).sum().backward();
  }
  const sums = await acc.data();
  // 50 here, against 198 when such pieces share a dispatch.
  expect(counters().buffers - before).toBeLessThan(100);
  expect(sums[0]).toBe(60);
  expect((await x.grad!.data())[0]).toBe(60);
});
