// Reverse-mode autograd: accumulation across fan-out and calls, freed graphs, noGrad, detach,
// and the errors of misuse.
import { expect, test } from 'vitest';
import { AutogradError, noGrad, randn, tensor } from '../src/index.js';
import { expectClose } from './helpers.js';

test('fan-out accumulates: d/dx of x·x + x is 2x + 1', async () => {
  const x = tensor([1, -2, 3], { requiresGrad: true });
  x.mul(x).add(x).sum().backward();
  expect(Array.from(await x.grad!.data())).toEqual([3, -3, 7]);
});

test('gradients accumulate across backward calls until zeroed', async () => {
  const x = tensor([1, 2], { requiresGrad: true });
  x.mul(3).sum().backward();
  x.mul(3).sum().backward();
  expect(Array.from(await x.grad!.data())).toEqual([6, 6]);
  x.grad!.dispose();
  x.grad = null;
  x.mul(5).sum().backward();
  expect(Array.from(await x.grad!.data())).toEqual([5, 5]);
});

test('a second backward through the same graph is a clear error', () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const y = x.mul(2).sum();
  y.backward();
  expect(() => y.backward()).toThrow(AutogradError);
  expect(() => y.backward()).toThrow(/already freed/);
});

test('backward from a non-scalar needs an explicit gradient', async () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  expect(() => x.mul(2).backward()).toThrow(/only a scalar/);
  x.mul(2).backward(tensor([1, 0, -1]));
  expect(Array.from(await x.grad!.data())).toEqual([2, 0, -2]);
});

test('noGrad records nothing and returns the result; detach cuts the graph', async () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const y = noGrad(() => x.mul(2));
  expect(y.requiresGrad).toBe(false);
  expect(() => y.sum().backward()).toThrow(AutogradError);
  const d = x.mul(2).detach();
  expect(d.requiresGrad).toBe(false);
  const z = x.mul(d).sum();
  z.backward();
  expect(Array.from(await x.grad!.data())).toEqual([2, 4]);
});

test('a zero upstream gradient gives exactly zero gradients; backward twice on fresh graphs agrees', async () => {
  const w = randn([5, 3], { seed: 1, requiresGrad: true });
  const x = randn([4, 5], { seed: 2 });
  x.matmul(w)
    .relu()
    .backward(tensor(new Float32Array(12), { shape: [4, 3] }));
  expect(Array.from(await w.grad!.data()).every((v) => v === 0)).toBe(true);
  w.grad = null;
  x.matmul(w).relu().sum().backward();
  const first = await w.grad!.data();
  w.grad = null;
  x.matmul(w).relu().sum().backward();
  expect(Array.from(await w.grad!.data())).toEqual(Array.from(first));
});

test('the MLP loss gradient through matmul(Wᵀ), bias add, relu and cross-entropy matches float64 finite differences', async () => {
  const { crossEntropy } = (await import('../src/index.js')).nn.functional;
  const xs = randn([3, 4], { seed: 3 });
  const w1 = randn([5, 4], { seed: 4, requiresGrad: true });
  const b1 = randn([5], { seed: 5, requiresGrad: true });
  const w2 = randn([2, 5], { seed: 6, requiresGrad: true });
  const labels = tensor(new Int32Array([0, 1, 1]));
  crossEntropy(xs.matmul(w1.T).add(b1).relu().matmul(w2.T), labels).backward();
  const [X, W1, B1, W2] = (await Promise.all([xs.data(), w1.data(), b1.data(), w2.data()].map(async (p) => Float64Array.from(await p)))) as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  const loss = (): number => {
    let total = 0;
    for (let n = 0; n < 3; n++) {
      const h = Array.from({ length: 5 }, (_, j) => Math.max(0, B1[j]! + [0, 1, 2, 3].reduce((s, k) => s + X[n * 4 + k]! * W1[j * 4 + k]!, 0)));
      const z = [0, 1].map((c) => h.reduce((s, hv, j) => s + hv * W2[c * 5 + j]!, 0));
      const m = Math.max(...z);
      total += m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0)) - z[[0, 1, 1][n]!]!;
    }
    return total / 3;
  };
  for (const [param, values] of [
    [w1, W1],
    [b1, B1],
    [w2, W2],
  ] as const) {
    const numeric = values.map((v, i) => {
      values[i] = v + 1e-6;
      const plus = loss();
      values[i] = v - 1e-6;
      const minus = loss();
      values[i] = v;
      return (plus - minus) / 2e-6;
    });
    expectClose(await param.grad!.data(), numeric, 1e-4, 'MLP gradient');
  }
});
