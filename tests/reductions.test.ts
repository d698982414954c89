// Reductions, softmax and the losses built on them, from the user's side: edge values (huge,
// infinite and NaN entries, empty and 0-d tensors) with the results PyTorch gives, written out
// here by hand, and the errors bad arguments raise. The op-table tests (ops, gradients) cover the
// random shapes against the float64 references.
import { describe, expect, test } from 'vitest';
import { DTypeError, grad, gradcheck, nn, randn, ShapeError, type Tensor, tensor, ValueError, zeros } from '../src/index.js';
import { runtime } from '../src/runtime/runtime.js';
import { rng } from './helpers.js';

const values = async (t: Tensor): Promise<number[]> => Array.from(await t.data());
const row = (xs: number[]): Tensor => tensor(Float32Array.from(xs));

/** Equal when both are NaN or the same infinity, else within 1e-6 relative. */
function expectValues(got: number[], want: number[], what: string): void {
  expect(got.length, what).toBe(want.length);
  want.forEach((w, i) => {
    const g = got[i]!;
    if (Number.isNaN(w)) expect(g, `${what}[${i}]`).toBeNaN();
    else if (!Number.isFinite(w)) expect(g, `${what}[${i}]`).toBe(w);
    else expect(Math.abs(g - w), `${what}[${i}]: got ${g}, want ${w}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(w)));
  });
}

const inf = Infinity;
const ln2 = Math.log(2);

describe('softmax, logSoftmax and logsumexp on edge values (as PyTorch)', () => {
  // [label, row, softmax, logSoftmax, logsumexp]
  const table: [string, number[], number[], number[], number][] = [
    ['equal logits of 1e8', [1e8, 1e8], [0.5, 0.5], [-ln2, -ln2], 1e8],
    ['huge negative logits', [-1e30, -1e30], [0.5, 0.5], [-ln2, -ln2], -1e30],
    ['a -inf entry is exactly 0', [0, -inf], [1, 0], [0, -inf], 0],
    ['only -inf', [-inf, -inf], [NaN, NaN], [NaN, NaN], -inf],
    ['a +inf entry', [inf, 0], [NaN, NaN], [NaN, NaN], inf],
    ['a NaN entry', [NaN, 0], [NaN, NaN], [NaN, NaN], NaN],
    ['one element', [-3], [1], [0], -3],
    [
      'ordinary',
      [1, 2, 3],
      [0.09003057317038046, 0.24472847105479764, 0.6652409557748219],
      [-2.4076059644443806, -1.4076059644443806, -0.4076059644443806],
      3.4076059644443806,
    ],
  ];
  test.each(table)('%s', async (_label, xs, sm, lsm, lse) => {
    expectValues(await values(row(xs).softmax(0)), sm, 'softmax');
    expectValues(await values(nn.functional.logSoftmax(row(xs), -1)), lsm, 'logSoftmax');
    expectValues(await values(row(xs).logsumexp(0)), [lse], 'logsumexp');
  });

  test('along the first dim of a matrix each column is its own row', async () => {
    const x = tensor([
      [0, 1e8],
      [-inf, 1e8],
    ]);
    expectValues(await values(nn.functional.softmax(x, 0)), [1, 0.5, 0, 0.5], 'softmax dim 0');
    expectValues(await values(x.logsumexp(0, true)), [0, 1e8 + ln2], 'logsumexp dim 0');
    expect(x.logsumexp(0, true).shape).toEqual([1, 2]);
  });

  test('empty and 0-d tensors', async () => {
    expectValues(await values(zeros([2, 0]).logsumexp(1)), [-inf, -inf], 'logsumexp over nothing');
    expect(zeros([0, 3]).softmax(1).shape).toEqual([0, 3]);
    expect(zeros([3, 0]).logSoftmax(1).shape).toEqual([3, 0]);
    expectValues(await values(tensor(5).softmax(0)), [1], 'softmax of a 0-d tensor');
    expectValues(await values(tensor(5).logsumexp(-1)), [5], 'logsumexp of a 0-d tensor');
  });

  test('gradients stay finite next to -inf entries', async () => {
    // d logsumexp / dx = softmax(x); d Σ_i w_i·logSoftmax(x)_i / dx = w − softmax(x)·Σw.
    const [dl] = grad((x: Tensor) => x.logsumexp(0))(row([0, -inf, 0]));
    expectValues(await values(dl!), [0.5, 0, 0.5], 'logsumexp gradient');
    const w = row([1, 2, 3]);
    const [ds] = grad((x: Tensor) => x.logSoftmax(0).mul(w).sum())(row([0, -inf, 0]));
    expectValues(await values(ds!), [1 - 3, 2, 3 - 3], 'logSoftmax gradient');
  });
});

describe('sum and mean over several dims', () => {
  test('a float64 sum over dims 0 and 2, keepdim and not', async () => {
    // x[i, j, k] = 100i + 10j + k over [2, 3, 4]: Σ over i and k of row j is 2·(4·10j) + 4·100 + 2·6.
    const x = tensor(
      Float32Array.from({ length: 24 }, (_, n) => 100 * Math.floor(n / 12) + 10 * (Math.floor(n / 4) % 3) + (n % 4)),
      { shape: [2, 3, 4] },
    );
    const want = [0, 1, 2].map((j) => 2 * 4 * 10 * j + 4 * 100 + 2 * 6);
    expectValues(await values(x.sum([0, 2])), want, 'sum');
    expect(x.sum([2, 0], true).shape).toEqual([1, 3, 1]);
    expectValues(
      await values(x.mean([-1, 0], true)),
      want.map((v) => v / 8),
      'mean',
    );
    expectValues(await values(x.sum([])), [want.reduce((a, b) => a + b, 0)], 'an empty list sums everything');
  });

  test('long runs: a workgroup per output or an invocation per output, both against float64', async () => {
    // Which kernel a long reduction gets depends on the adapter (profile.cheapBarriers): run both
    // ways here, whatever this adapter is, on column sums (the bias gradient), row sums and a
    // whole-tensor sum, with R over the 512 where the choice starts.
    const rt = runtime();
    const profile = rt.profile as { cheapBarriers: boolean };
    const before = profile.cheapBarriers;
    const g = rng(12);
    const [R, C] = [700, 37];
    const data = Float32Array.from({ length: R * C }, () => g.uniform() * 2 - 1);
    const x = tensor(data, { shape: [R, C] });
    // Float64 sums, and the sums of |terms| that bound float32's rounding (cancellation leaves
    // column sums near 0 whose relative error means nothing).
    const sums = (dim: number | null, f: (v: number) => number): number[] => {
      if (dim === null) return [data.reduce((a, v) => a + f(v), 0)];
      const out = new Float64Array(dim === 0 ? C : R);
      data.forEach((v, n) => (out[dim === 0 ? n % C : Math.floor(n / C)]! += f(v)));
      return Array.from(out);
    };
    const check = async (t: Tensor, dim: number | null, what: string) => {
      const got = await values(t);
      const [exact, scale] = [sums(dim, (v) => v), sums(dim, Math.abs)];
      expect(got.length, what).toBe(exact.length);
      got.forEach((v, i) => expect(Math.abs(v - exact[i]!), `${what}[${i}]`).toBeLessThanOrEqual(1e-6 * scale[i]!));
    };
    try {
      for (const cheap of [true, false]) {
        profile.cheapBarriers = cheap;
        await check(x.sum(0), 0, `column sums, cheapBarriers ${cheap}`);
        await check(x.transpose().sum(1), 0, `row sums of the transpose, cheapBarriers ${cheap}`);
        await check(x.sum(), null, `the whole sum, cheapBarriers ${cheap}`);
      }
    } finally {
      profile.cheapBarriers = before;
    }
  });

  test('gradients over non-adjacent dims pass gradcheck', async () => {
    for (const fn of [(x: Tensor) => x.sum([0, 2]).mul(x.mean([1, 3], true).sum()), (x: Tensor) => x.mean([0, -1], true)]) {
      const result = await gradcheck(fn, [randn([2, 3, 4, 5], { seed: 21 })]);
      expect(result.passed, JSON.stringify(result)).toBe(true);
    }
  });
});

describe('max, min, argmin (as PyTorch)', () => {
  // [label, row, max, min, argmax, argmin]
  const table: [string, number[], number, number, number, number][] = [
    ['ties give the first index', [1, 3, 3, -2, -2], 3, -2, 1, 3],
    ['NaN wins, the first one', [1, NaN, 5, NaN], NaN, NaN, 1, 1],
    ['infinities', [-inf, 0, inf], inf, -inf, 2, 0],
    ['one element', [7], 7, 7, 0, 0],
  ];
  test.each(table)('%s', async (_label, xs, mx, mn, amax, amin) => {
    expectValues(await values(row(xs).max()), [mx], 'max');
    expectValues(await values(row(xs).min(0)), [mn], 'min');
    expect(await values(row(xs).argmax())).toEqual([amax]);
    expect(await values(row(xs).argmin(0))).toEqual([amin]);
  });

  test('the gradient goes to the first extremum of each row, along any dim', async () => {
    const x = tensor([
      [2, 5, 5],
      [9, 1, 1],
    ]);
    const [dMax] = grad((t: Tensor) =>
      t
        .max(1)
        .mul(row([10, 20]))
        .sum(),
    )(x);
    expectValues(await values(dMax!), [0, 10, 0, 20, 0, 0], 'max along dim 1');
    const [dMin] = grad((t: Tensor) => t.min(-1, true).sum())(x);
    expectValues(await values(dMin!), [1, 0, 0, 0, 1, 0], 'min along dim -1');
    const [dCol] = grad((t: Tensor) => t.max(0).sum())(x);
    expectValues(await values(dCol!), [0, 1, 1, 1, 0, 0], 'max along dim 0');
    const [dAll] = grad((t: Tensor) => t.max())(x);
    expectValues(await values(dAll!), [0, 0, 0, 1, 0, 0], 'max of all');
    expect(x.max(0, true).shape).toEqual([1, 3]);
  });

  test('an empty batch gives an empty result; a 0-d tensor is its own max', async () => {
    expect(zeros([0, 4]).max(1).shape).toEqual([0]);
    expect(zeros([0, 4]).argmin(1).shape).toEqual([0]);
    expectValues(await values(tensor(-2).min()), [-2], 'min of a 0-d tensor');
  });
});

describe("var and std with PyTorch's correction", () => {
  // [label, row, correction, var]
  const table: [string, number[], number, number][] = [
    ['unbiased (the default)', [1, 2, 3, 4], 1, 5 / 3],
    ['biased', [1, 2, 3, 4], 0, 5 / 4],
    ['far from 0, close together', [1e4 + 1, 1e4 + 2, 1e4 + 3], 1, 1],
    ['one element, unbiased: NaN', [3], 1, NaN],
    ['one element, biased: 0', [3], 0, 0],
    ['a divisor below 0 with spread: +inf', [1, 3], 3, inf],
    ['a NaN entry', [1, NaN, 3], 1, NaN],
  ];
  test.each(table)('%s', async (_label, xs, correction, want) => {
    expectValues(await values(row(xs).var(null, { correction })), [want], 'var');
    expectValues(await values(row(xs).std(0, { correction })), [Math.sqrt(want)], 'std');
  });

  test('along a dim, keepdim, empty rows and their gradients', async () => {
    const x = tensor([
      [1, 2, 3],
      [4, 4, 4],
    ]);
    expectValues(await values(x.var(1)), [1, 0], 'var of rows');
    expect(x.std(0, { keepdim: true }).shape).toEqual([1, 3]);
    expectValues(await values(zeros([2, 0]).var(1)), [NaN, NaN], 'var of empty rows');
    // d var / dx = 2 (x − mean) / (N − 1); d std / dx = (x − mean) / ((N − 1) std).
    const [dv] = grad((t: Tensor) => t.var())(row([1, 2, 6]));
    expectValues(
      await values(dv!),
      [-2, -1, 3].map((d) => d),
      'var gradient',
    );
    const [ds] = grad((t: Tensor) => t.std())(row([1, 2, 6]));
    expectValues(
      await values(ds!),
      [-2, -1, 3].map((d) => d / (2 * Math.sqrt(7))),
      'std gradient',
    );
  });
});

describe('losses and modules', () => {
  test('mseLoss: mean, sum and none, with broadcasting, and its gradient', async () => {
    const input = tensor([
      [1, 2],
      [3, 5],
    ]);
    const target = tensor([
      [0, 2],
      [1, 1],
    ]);
    // Squared errors 1, 0, 4, 16.
    expectValues(await values(nn.functional.mseLoss(input, target)), [21 / 4], 'mean');
    expectValues(await values(new nn.MSELoss({ reduction: 'sum' }).forward(input, target)), [21], 'sum');
    expectValues(await values(nn.functional.mseLoss(input, target, { reduction: 'none' })), [1, 0, 4, 16], 'none');
    expectValues(await values(nn.functional.mseLoss(input, row([1, 2]))), [(0 + 0 + 4 + 9) / 4], 'broadcast target');
    // d mean((x − y)²) / dx = 2 (x − y) / n.
    const [dx] = grad((x: Tensor) => nn.functional.mseLoss(x, target))(input);
    expectValues(
      await values(dx!),
      [1, 0, 2, 4].map((d) => (2 * d) / 4),
      'gradient',
    );
    const result = await gradcheck(
      (x: Tensor, y: Tensor) => nn.functional.mseLoss(x, y, { reduction: 'sum' }),
      [randn([3, 4], { seed: 5 }), randn([4], { seed: 6 })],
    );
    expect(result.passed, JSON.stringify(result)).toBe(true);
  });

  test('nn.Softmax and nn.LogSoftmax in a Sequential', async () => {
    const x = tensor([
      [0, ln2],
      [5, 5],
    ]);
    expectValues(await values(new nn.Sequential(new nn.Softmax(1)).forward(x)), [1 / 3, 2 / 3, 0.5, 0.5], 'Softmax');
    expectValues(
      await values(new nn.LogSoftmax(0).forward(x)),
      [Math.log(1 / (1 + Math.exp(5))), Math.log(2 / (2 + Math.exp(5))), Math.log(Math.exp(5) / (1 + Math.exp(5))), Math.log(Math.exp(5) / (2 + Math.exp(5)))],
      'LogSoftmax',
    );
    expect(new nn.Sequential(new nn.Softmax(1)).parameters()).toEqual([]);
  });
});

/**
 * PyTorch's cross_entropy with class indices, in float64: logits [N, C, inner] row-major, labels
 * [N·inner]; per label (1 − ε)·(lse − x_y) + ε·(lse − mean_c x_c), 0 where ignored; the mean is
 * over the labels kept.
 */
function crossEntropy64(x: number[], shape: number[], y: number[], ignoreIndex: number, eps: number, reduction: string): number[] {
  const [N, C] = shape as [number, number];
  const inner = shape.slice(2).reduce((a, b) => a * b, 1);
  const losses: number[] = [];
  let kept = 0;
  for (let i = 0; i < N * inner; i++) {
    if (y[i] === ignoreIndex) {
      losses.push(0);
      continue;
    }
    kept++;
    const row = Array.from({ length: C }, (_, c) => x[(Math.floor(i / inner) * C + c) * inner + (i % inner)]!);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    const meanLogit = row.reduce((s, v) => s + v, 0) / C;
    losses.push((1 - eps) * (lse - row[y[i]!]!) + eps * (lse - meanLogit));
  }
  const total = losses.reduce((a, b) => a + b, 0);
  return reduction === 'none' ? losses : [reduction === 'sum' ? total : total / kept];
}

describe('crossEntropy with ignoreIndex, labelSmoothing, reduction and [N, C, d…] logits (as PyTorch)', () => {
  // [label, logits shape, labels, options]
  const table: [string, number[], number[], nn.CrossEntropyOptions][] = [
    ['plain [N, C] (the fused kernel)', [3, 4], [0, 3, 1], {}],
    ['a -100 label is ignored by default', [3, 4], [0, -100, 1], {}],
    ['ignoreIndex is a class', [4, 3], [2, 0, 2, 1], { ignoreIndex: 2 }],
    ['label smoothing', [3, 5], [4, 0, 2], { labelSmoothing: 0.1 }],
    ['sum', [3, 4], [1, 1, 2], { reduction: 'sum' }],
    ['none, with an ignored label', [3, 4], [1, -100, 2], { reduction: 'none' }],
    ['[N, C, T] sequence, mean', [2, 3, 4], [0, 1, 2, 0, 2, 2, 1, -100], {}],
    ['[N, C, H, W], smoothing and sum', [2, 3, 2, 2], [0, 1, 2, 0, 1, 1, -1, 2], { labelSmoothing: 0.3, reduction: 'sum', ignoreIndex: -1 }],
    ['[N, C, T], none', [1, 3, 3], [2, 0, 1], { reduction: 'none' }],
  ];
  test.each(table)('%s', async (_label, shape, y, options) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const x = Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * 1.7) * 3));
    const logits = tensor(Float32Array.from(x), { shape });
    const labels = tensor(Int32Array.from(y), { shape: [shape[0]!, ...shape.slice(2)] });
    const want = crossEntropy64(x, shape, y, options.ignoreIndex ?? -100, options.labelSmoothing ?? 0, options.reduction ?? 'mean');
    const loss = new nn.CrossEntropyLoss(options).forward(logits, labels);
    expect(loss.shape).toEqual(options.reduction === 'none' ? labels.shape : []);
    expectValues(await values(loss), want, 'loss');
    const result = await gradcheck((t: Tensor) => nn.functional.crossEntropy(t, labels, options).sum(), [logits]);
    expect(result.passed, JSON.stringify(result)).toBe(true);
  });

  test('every label ignored: the mean is NaN, the sum 0, and no gradient flows', async () => {
    const labels = tensor(new Int32Array([-100, -100]));
    expectValues(await values(nn.functional.crossEntropy(zeros([2, 3]), labels)), [NaN], 'mean');
    const [dx] = grad((t: Tensor) => nn.functional.crossEntropy(t, labels, { reduction: 'sum' }))(zeros([2, 3]));
    expectValues(await values(dx!), [0, 0, 0, 0, 0, 0], 'gradient');
  });

  test('nllLoss on log-probabilities, and NLLLoss', async () => {
    const logp = tensor([
      [-0.5, -1, -2],
      [-3, -0.25, -1],
    ]);
    const labels = tensor(new Int32Array([2, 1]));
    expectValues(await values(nn.functional.nllLoss(logp, labels)), [(2 + 0.25) / 2], 'mean');
    expectValues(await values(new nn.NLLLoss({ reduction: 'none', ignoreIndex: 1 }).forward(logp, labels)), [2, 0], 'none');
  });
});

describe('norm (as torch.linalg.vector_norm)', () => {
  test('values for p = 2, 1 and ∞, along a dim, and of nothing', async () => {
    const x = tensor([
      [3, -4],
      [0, 0],
    ]);
    expectValues(await values(x.norm()), [5], 'p 2');
    expectValues(await values(x.norm(1, 1)), [7, 0], 'p 1 along rows');
    expectValues(await values(x.norm(Infinity, 0, true)), [3, 4], 'p ∞ along columns');
    expectValues(await values(zeros([2, 0]).norm(2, 1)), [0, 0], 'norm of nothing');
  });

  test('gradients at zero and at ties follow PyTorch', async () => {
    const [d2] = grad((t: Tensor) => t.norm())(row([0, 0, 0]));
    expectValues(await values(d2!), [0, 0, 0], 'p 2 at a zero vector');
    const [d1] = grad((t: Tensor) => t.norm(1))(row([-2, 0, 3]));
    expectValues(await values(d1!), [-1, 0, 1], 'p 1: sign, 0 at 0');
    const [dInf] = grad((t: Tensor) => t.norm(Infinity))(row([-3, 1, 3, 2]));
    expectValues(await values(dInf!), [-0.5, 0, 0.5, 0], 'p ∞: split among the ties');
  });
});

describe('errors name the op and the argument at fault', () => {
  const table: [string, () => unknown, new (...args: never[]) => Error, RegExp][] = [
    ['softmax of int32', () => tensor(new Int32Array([1, 2])).softmax(0), DTypeError, /softmax: the input must be float32, got int32/],
    ['logSoftmax dim out of range', () => zeros([2, 3]).logSoftmax(2), ShapeError, /logSoftmax: axis 2 is out of range for a tensor with 2 dimensions/],
    ['logsumexp dim out of range', () => zeros([2, 3]).logsumexp(-3), ShapeError, /logsumexp: axis -3 is out of range/],
    ['sum over a repeated dim', () => zeros([2, 3]).sum([1, -1]), ShapeError, /sum: dim 1 appears more than once in the dims \[1,-1\]/],
    ['mean over a dim out of range', () => zeros([2, 3]).mean([0, 2]), ShapeError, /mean: axis 2 is out of range for a tensor with 2 dimensions/],
    ['max of an empty tensor', () => zeros([0, 3]).max(), ShapeError, /max: cannot reduce an empty tensor \(shape \[0, 3\]\)/],
    ['min over an empty dim', () => zeros([2, 0]).min(1), ShapeError, /min: cannot reduce dim 1, which is empty \(shape \[2, 0\]\)/],
    ['argmin over an empty dim', () => zeros([2, 0]).argmin(1), ShapeError, /argmin: the axis is empty/],
    ['max of int32', () => tensor(new Int32Array([1])).max(), DTypeError, /max: the input must be float32/],
    [
      'var with a negative correction',
      () => zeros([3]).var(null, { correction: -1 }),
      ValueError,
      /var: correction must be a finite number ≥ 0, got the number -1/,
    ],
    ['std over a dim out of range', () => zeros([3]).std(1), ShapeError, /std: axis 1 is out of range/],
    [
      'mseLoss with shapes that do not broadcast',
      () => nn.functional.mseLoss(zeros([2, 3]), zeros([2])),
      ShapeError,
      /mseLoss: input \[2, 3\] and target \[2\] do not broadcast/,
    ],
    [
      'mseLoss with a bad reduction',
      () => nn.functional.mseLoss(zeros([2]), zeros([2]), { reduction: 'avg' as never }),
      ValueError,
      /mseLoss: reduction must be 'mean', 'sum' or 'none', got the string 'avg'/,
    ],
    ['MSELoss with a bad reduction', () => new nn.MSELoss({ reduction: 1 as never }), ValueError, /MSELoss: reduction must be/],
    ['mseLoss of a non-tensor', () => nn.functional.mseLoss(zeros([2]), [1, 2] as never), Error, /mseLoss.*target/],
    [
      'crossEntropy of 1-D logits',
      () => nn.functional.crossEntropy(zeros([3]), tensor(new Int32Array([0]))),
      ShapeError,
      /crossEntropy: logits must be \[N, C\] or \[N, C, d1, …\], got \[3\]/,
    ],
    [
      'crossEntropy label smoothing above 1',
      () => nn.functional.crossEntropy(zeros([1, 3]), tensor(new Int32Array([0])), { labelSmoothing: 1.5 }),
      ValueError,
      /crossEntropy: labelSmoothing must be a number in \[0, 1\], got the number 1.5/,
    ],
    [
      'crossEntropy non-integer ignoreIndex',
      () => nn.functional.crossEntropy(zeros([1, 3]), tensor(new Int32Array([0])), { ignoreIndex: 0.5 }),
      ValueError,
      /crossEntropy: ignoreIndex must be an integer/,
    ],
    [
      'crossEntropy bad reduction',
      () => new nn.CrossEntropyLoss({ reduction: 'max' as never }),
      ValueError,
      /CrossEntropyLoss: reduction must be 'mean', 'sum' or 'none'/,
    ],
    [
      'crossEntropy [N, C, T] labels of the wrong shape',
      () => nn.functional.crossEntropy(zeros([2, 3, 4]), tensor(new Int32Array(8)), {}),
      ShapeError,
      /labels \[N\] or \[N, d1, …\], got labels \[8\]/,
    ],
    ['crossEntropy [N, C, T] with float labels', () => nn.functional.crossEntropy(zeros([2, 3, 4]), zeros([2, 4])), DTypeError, /labels must be int32/],
    [
      'nllLoss label out of range',
      () => nn.functional.nllLoss(zeros([2, 3]), tensor(new Int32Array([0, 5]))),
      ValueError,
      /nllLoss: label 5 is outside \[0, 3\) and is not ignoreIndex -100/,
    ],
    ['norm with p 3', () => zeros([2]).norm(3), ValueError, /norm: p must be 1, 2 or Infinity, got the number 3/],
    ['F.softmax of a non-tensor', () => nn.functional.softmax([1, 2] as never, 0), Error, /softmax/],
  ];
  test.each(table)('%s', (_label, call, kind, message) => {
    expect(call).toThrow(kind);
    expect(call).toThrow(message);
  });
});
