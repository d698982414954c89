// matmul as PyTorch's beyond 2-D, from the user's side: bad shapes (matmul, bmm, linear) raise a
// ShapeError naming the shapes; gradients of broadcast batch dimensions are summed back to each
// operand's shape (against a float64 reference); a transposed operand costs no copy; batches past
// the device's grid limit in z fold into y, with every matmul variant.
import { describe, expect, test } from 'vitest';
import { bmm, counters, matmul, nn, ShapeError, type Tensor, tensor, tidy, zeros } from '../src/index.js';
import { describeVariant, MATMUL_CANDIDATES } from '../src/ops/matmul_tuning.js';
import { runtime } from '../src/runtime/runtime.js';
import { expectClose, randHost, rng } from './helpers.js';

const z = (shape: number[]): Tensor => zeros(shape);

describe('bad shapes raise a ShapeError naming the shapes', () => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      'matmul batch dims that do not broadcast',
      () => z([2, 3, 4]).matmul(z([3, 4, 5])),
      /matmul: batch dimensions \[2\] and \[3\] of \[2, 3, 4\] · \[3, 4, 5\] do not broadcast/,
    ],
    ['matmul 1-D inner mismatch', () => matmul(z([3]), z([4])), /matmul: inner dimensions differ: \[3\] · \[4\] \(3 ≠ 4\)/],
    ['matmul batched inner mismatch', () => z([2, 3, 4]).matmul(z([5, 6])), /matmul: inner dimensions differ: \[2, 3, 4\] · \[5, 6\] \(4 ≠ 5\)/],
    ['bmm of 2-D operands', () => bmm(z([3, 4]), z([4, 5])), /bmm: both operands must be 3-D, got \[3, 4\] and \[4, 5\]/],
    ['bmm does not broadcast the batch', () => z([1, 3, 4]).bmm(z([2, 4, 5])), /bmm: batch sizes differ: \[1, 3, 4\] · \[2, 4, 5\] \(1 ≠ 2\)/],
    ['bmm inner mismatch', () => bmm(z([2, 3, 4]), z([2, 5, 6])), /bmm: inner dimensions differ: \[2, 3, 4\] · \[2, 5, 6\] \(4 ≠ 5\)/],
    [
      'linear features of a 3-D input',
      () => nn.functional.linear(z([2, 3, 4]), z([5, 6])),
      /linear: input \[2, 3, 4\] has 4 features but the weight \[5, 6\] expects 6/,
    ],
  ];
  test.each(cases)('%s', (_label, run, message) => {
    expect(() => tidy(run)).toThrow(ShapeError);
    expect(() => tidy(run)).toThrow(message);
  });
});

test('bmm equals matmul on [B, M, K]·[B, K, N]', async () => {
  const g = rng(3);
  const [a, b] = [randHost(g, [3, 5, 7]), randHost(g, [3, 7, 2])];
  const [ta, tb] = [tensor(Float32Array.from(a.data), { shape: a.shape }), tensor(Float32Array.from(b.data), { shape: b.shape })];
  const viaBmm = bmm(ta, tb);
  expect(viaBmm.shape).toEqual([3, 5, 2]);
  expectClose(await viaBmm.data(), await ta.matmul(tb).data(), 1e-7, 'bmm');
});

test('gradients of broadcast batch dimensions are summed back to each operand', async () => {
  // a [2, 1, M, K] · b [3, K, N] → [2, 3, M, N]; loss = Σ (a·b) ⊙ w with a random w.
  const [M, K, N] = [4, 5, 3];
  const g = rng(11);
  const [a, b, w] = [randHost(g, [2, 1, M, K]), randHost(g, [3, K, N]), randHost(g, [2, 3, M, N])];
  const ta = tensor(Float32Array.from(a.data), { shape: a.shape, requiresGrad: true });
  const tb = tensor(Float32Array.from(b.data), { shape: b.shape, requiresGrad: true });
  const tw = tensor(Float32Array.from(w.data), { shape: w.shape });
  ta.matmul(tb).mul(tw).sum().backward();
  // float64: dA[i, 0, m, k] = Σ_j Σ_n W[i, j, m, n] B[j, k, n];  dB[j, k, n] = Σ_i Σ_m A[i, 0, m, k] W[i, j, m, n].
  const dA = new Float64Array(2 * M * K);
  const dB = new Float64Array(3 * K * N);
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 3; j++)
      for (let m = 0; m < M; m++)
        for (let k = 0; k < K; k++)
          for (let n = 0; n < N; n++) {
            const wv = w.data[((i * 3 + j) * M + m) * N + n]!;
            dA[(i * M + m) * K + k]! += wv * b.data[(j * K + k) * N + n]!;
            dB[(j * K + k) * N + n]! += wv * a.data[(i * M + m) * K + k]!;
          }
  expect(ta.grad!.shape).toEqual([2, 1, M, K]);
  expect(tb.grad!.shape).toEqual([3, K, N]);
  expectClose(await ta.grad!.data(), dA, 1e-5, 'dA');
  expectClose(await tb.grad!.data(), dB, 1e-5, 'dB');
});

test('attention scores Q·Kᵀ with K a transposed view are one dispatch (no copy)', async () => {
  const q = zeros([2, 4, 16, 8]);
  const k = zeros([2, 4, 16, 8]);
  await q.data();
  await k.data();
  const before = counters().dispatches;
  const scores = q.matmul(k.transpose(-2, -1));
  await scores.data();
  expect(scores.shape).toEqual([2, 4, 16, 16]);
  expect(counters().dispatches - before).toBe(1);
});

describe.each(MATMUL_CANDIDATES.map((v) => [describeVariant(v), v] as const))('variant %s: batches past the z limit fold into y', (_label, variant) => {
  test('7 products with a grid limit of 3 (the last fold partly empty)', async () => {
    const rt = runtime();
    const limits = rt.ctx.limits;
    const before = { variant: rt.profile.matmul, max: limits.maxComputeWorkgroupsPerDimension };
    const g = rng(21);
    const [B, M, K, N] = [7, 5, 9, 6];
    const [a, b] = [randHost(g, [B, M, K]), randHost(g, [1, K, N])];
    const ref = new Float64Array(B * M * N);
    for (let p = 0; p < B; p++)
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) ref[(p * M + i) * N + j]! += a.data[(p * M + i) * K + k]! * b.data[k * N + j]!;
    rt.profile.matmul = variant;
    (limits as { maxComputeWorkgroupsPerDimension: number }).maxComputeWorkgroupsPerDimension = 3;
    try {
      const out = tidy(() => tensor(Float32Array.from(a.data), { shape: a.shape }).matmul(tensor(Float32Array.from(b.data), { shape: b.shape })));
      expectClose(await out.data(), ref, 1e-5, 'folded batches');
    } finally {
      rt.profile.matmul = before.variant;
      (limits as { maxComputeWorkgroupsPerDimension: number }).maxComputeWorkgroupsPerDimension = before.max;
    }
  });
});

test('nn.Linear takes [*, in] as PyTorch: [2, 3, in] → [2, 3, out], weights get gradients over every row', async () => {
  const layer = new nn.Linear(5, 4);
  const g = rng(8);
  const x = randHost(g, [2, 3, 5]);
  const tx = tensor(Float32Array.from(x.data), { shape: x.shape });
  const y = layer.forward(tx);
  expect(y.shape).toEqual([2, 3, 4]);
  const [w, b] = [await layer.weight.data(), await layer.bias!.data()];
  const ref = new Float64Array(6 * 4);
  for (let r = 0; r < 6; r++) for (let o = 0; o < 4; o++) ref[r * 4 + o] = b[o]! + [0, 1, 2, 3, 4].reduce((s, k) => s + x.data[r * 5 + k]! * w[o * 5 + k]!, 0);
  expectClose(await y.data(), ref, 1e-6, 'Linear [2, 3, 5]');
  y.sum().backward();
  // d(Σy)/db = the number of rows; d(Σy)/dW[o, k] = Σ_rows x[row, k].
  expectClose(await layer.bias!.grad!.data(), [6, 6, 6, 6], 1e-7, 'dB');
  const colSums = [0, 1, 2, 3, 4].map((k) => [0, 1, 2, 3, 4, 5].reduce((s, r) => s + x.data[r * 5 + k]!, 0));
  expectClose(await layer.weight.grad!.data(), [...colSums, ...colSums, ...colSums, ...colSums], 1e-6, 'dW');
});
