// Products with K = 1 (outer products, e.g. a batch-1 weight gradient Gᵀ·x): every operand form
// torch.matmul allows, against a float64 reference, each element exact (it is one product).
import { expect, test } from 'vitest';
import { matmul, nn, type Tensor, tensor } from '../src/index.js';
import { randHost, rng } from './helpers.js';

/** float64 torch.matmul of a [.., M, 1] (or [M]·…) with K = 1, over broadcast batch dims, as flat data. */
function reference(a: Float32Array, aShape: number[], b: Float32Array, bShape: number[]): { data: number[]; shape: number[] } {
  const a2 = aShape.length === 1 ? [1, aShape[0]!] : aShape;
  const b2 = bShape.length === 1 ? [bShape[0]!, 1] : bShape;
  const [M, N] = [a2.at(-2)!, b2.at(-1)!];
  const [ab, bb] = [a2.slice(0, -2), b2.slice(0, -2)];
  const rank = Math.max(ab.length, bb.length);
  const pad = (s: number[]) => [...Array(rank - s.length).fill(1), ...s];
  const [pa, pb] = [pad(ab), pad(bb)];
  const batch = pa.map((d, i) => Math.max(d, pb[i]!));
  const count = batch.reduce((x, y) => x * y, 1);
  const data: number[] = [];
  for (let p = 0; p < count; p++) {
    let [ia, ib, rest] = [0, 0, p];
    let [sa, sb] = [1, 1];
    for (let d = rank - 1; d >= 0; d--) {
      const idx = rest % batch[d]!;
      rest = Math.floor(rest / batch[d]!);
      if (pa[d] !== 1) ia += idx * sa;
      if (pb[d] !== 1) ib += idx * sb;
      sa *= pa[d]!;
      sb *= pb[d]!;
    }
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) data.push(a[ia * M + i]! * b[ib * N + j]!);
  }
  const shape = [...batch, ...(aShape.length === 1 ? [] : [M]), ...(bShape.length === 1 ? [] : [N])];
  return { data, shape };
}

const cases: [string, number[], number[]][] = [
  ['[M, 1]·[1, N] unaligned', [37, 1], [1, 53]],
  ['the MLP batch-1 weight gradient [128, 1]·[1, 784]', [128, 1], [1, 784]],
  ['size 1 on both sides', [1, 1], [1, 1]],
  ['a 1-D left operand [1]·[1, N]', [1], [1, 9]],
  ['a 1-D right operand [M, 1]·[1]', [7, 1], [1]],
  ['1-D · 1-D of length 1 (a scalar)', [1], [1]],
  ['broadcast batches [2, 1, M, 1]·[3, 1, N]', [2, 1, 5, 1], [3, 1, 6]],
  ['a batch on one side [4, M, 1]·[1, N]', [4, 3, 1], [1, 17]],
  ['six batch dimensions (8-D, the most a tensor has)', [2, 1, 2, 1, 2, 1, 3, 1], [1, 2, 1, 2, 1, 2, 1, 4]],
];

test.each(cases)('%s', async (_label, aShape, bShape) => {
  const g = rng(aShape.length * 31 + bShape.length);
  const [ha, hb] = [randHost(g, aShape), randHost(g, bShape)];
  const [a, b] = [Float32Array.from(ha.data), Float32Array.from(hb.data)];
  const out = matmul(tensor(a, { shape: aShape }), tensor(b, { shape: bShape }));
  const ref = reference(a, aShape, b, bShape);
  expect(out.shape).toEqual(ref.shape);
  // One product per element: exactly the float32 rounding of the float64 product.
  expect(Array.from(await out.data())).toEqual(ref.data.map((v) => Math.fround(v)));
});

test('transposed views and the gradient of a batch-1 linear layer (dW = Gᵀ·x) are exact outer products', async () => {
  const g = rng(5);
  const [hx, hw, hgy] = [randHost(g, [1, 20]), randHost(g, [12, 20]), randHost(g, [1, 12])];
  const layer = new nn.Linear(20, 12);
  layer.weight.write(Float32Array.from(hw.data));
  const x = tensor(Float32Array.from(hx.data), { shape: [1, 20] });
  const y: Tensor = layer.forward(x);
  y.backward(tensor(Float32Array.from(hgy.data), { shape: [1, 12] }));
  const dW = Array.from(await layer.weight.grad!.data());
  const expected: number[] = [];
  for (let i = 0; i < 12; i++) for (let j = 0; j < 20; j++) expected.push(Math.fround(hgy.data[i]! * Math.fround(hx.data[j]!)));
  expect(dW).toEqual(expected);
  // A column and a row given as transposed views of other shapes.
  const col = tensor(Float32Array.from(hgy.data), { shape: [1, 12] }).transpose();
  const row = tensor(Float32Array.from(hx.data), { shape: [20, 1] }).transpose();
  expect(Array.from(await col.matmul(row).data())).toEqual(expected);
});
