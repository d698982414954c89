// Edge numerics, from the user's side: cross-entropy exact for huge and infinite logits, argmax
// with NaN and ±inf along any axis, empty tensors (a dimension of 0) through every op and its
// gradient, and 0-d tensors. Expected values follow PyTorch and come from float64 references
// written here, not from webgrad's own code.
import { describe, expect, test } from 'vitest';
import { jvp, nn, noGrad, ones, ShapeError, type Tensor, tensor, zeros } from '../../src/index.js';
import { randHost, rng } from '../helpers.js';

const labels = (values: number[]): Tensor => tensor(Int32Array.from(values));
const values = async (t: Tensor): Promise<number[]> => Array.from(await t.data());

/** d(mean CE)/d logits and the mean CE itself, in float64, with the log-sum-exp taken relative to the row max. */
function crossEntropy64(x: readonly number[], C: number, y: readonly number[]): { loss: number; grad: number[] } {
  const N = y.length;
  let total = 0;
  const grad: number[] = [];
  for (let i = 0; i < N; i++) {
    const row = x.slice(i * C, (i + 1) * C);
    const m = row.reduce((a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)), -Infinity);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    total += Math.log(s) - (row[y[i]!]! - m);
    e.forEach((v, c) => grad.push((v / s - (c === y[i] ? 1 : 0)) / N));
  }
  return { loss: total / N, grad };
}

/** The same rule for NaN as for numbers: equal when both are NaN, else within tol. */
function expectNear(got: number, want: number, tol: number, what: string): void {
  if (Number.isNaN(want)) expect(got, what).toBeNaN();
  else if (!Number.isFinite(want)) expect(got, what).toBe(want);
  else expect(Math.abs(got - want), `${what}: got ${got}, want ${want}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want)));
}

describe('crossEntropy: exact for huge, infinite and NaN logits (each kernel path)', () => {
  // [label, logits row-major, C, labels]
  const table: [string, number[], number, number[]][] = [
    ['equal logits of 1e4', [1e4, 1e4], 2, [0]],
    ['equal logits of 1e6', [1e6, 1e6], 2, [1]],
    ['equal logits of 1e8', [1e8, 1e8], 2, [0]],
    ['equal logits of -1e8', [-1e8, -1e8, -1e8], 3, [2]],
    ['a target logit of -inf', [-Infinity, 0, 1], 3, [0]],
    ['a non-target logit of -inf', [-Infinity, 0, 1], 3, [2]],
    ['a logit of +inf', [Infinity, 0], 2, [1]],
    ['a NaN logit (not the target)', [0, NaN, 1], 3, [0]],
    ['a NaN target logit', [NaN, 0], 2, [0]],
    ['a row of -inf only', [-Infinity, -Infinity], 2, [0]],
  ];

  test.each(table)('%s', async (_label, x, C, y) => {
    const N = y.length;
    const ref = crossEntropy64(x, C, y);
    // No gradient recorded: the forward kernel.
    const plain = await nn.functional.crossEntropy(tensor(x, { shape: [N, C] }), labels(y)).item();
    expectNear(plain, ref.loss, 1e-6, 'forward');
    // Gradient recorded: the fused forward-and-gradient kernel.
    const leaf = tensor(x, { shape: [N, C], requiresGrad: true });
    const loss = nn.functional.crossEntropy(leaf, labels(y));
    expectNear(await loss.item(), ref.loss, 1e-6, 'forward_grad loss');
    loss.backward();
    const g = await values(leaf.grad!);
    g.forEach((v, i) => expectNear(v, ref.grad[i]!, 1e-6, `forward_grad d/dx[${i}]`));
    // Forward mode: the standalone gradient kernel, contracted with a one-hot tangent per element.
    for (let i = 0; i < x.length; i++) {
      const t = new Float32Array(x.length);
      t[i] = 1;
      const { tangent } = jvp((z: Tensor) => nn.functional.crossEntropy(z, labels(y)), [tensor(x, { shape: [N, C] })], [tensor(t, { shape: [N, C] })]);
      expectNear(await tangent.item(), ref.grad[i]!, 1e-6, `backward kernel d/dx[${i}]`);
    }
  });

  test('a long batch of logits near 1e6 matches the float64 loss and gradient', async () => {
    const g = rng(21);
    const [N, C] = [4000, 10];
    const x = Array.from(randHost(g, [N, C], 3).data, (v) => Math.fround(1e6 + v));
    const y = Array.from({ length: N }, () => g.int(C));
    const ref = crossEntropy64(x, C, y);
    const leaf = tensor(x, { shape: [N, C], requiresGrad: true });
    const loss = nn.functional.crossEntropy(leaf, labels(y));
    expectNear(await loss.item(), ref.loss, 1e-5, 'loss');
    loss.backward();
    const got = await values(leaf.grad!);
    const err = Math.sqrt(got.reduce((s, v, i) => s + (v - ref.grad[i]!) ** 2, 0) / ref.grad.reduce((s, v) => s + v * v, 0));
    expect(err).toBeLessThan(1e-5);
  });
});

/** argmax in float64 along `axis` of a row-major array: NaN is the largest, the first one wins; ties go to the first. */
function argmax64(x: readonly number[], shape: readonly number[], axis: number): number[] {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const R = shape[axis]!;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let best = 0;
      for (let r = 1; r < R; r++) {
        const v = x[(o * R + r) * inner + j]!;
        const b = x[(o * R + best) * inner + j]!;
        if (!Number.isNaN(b) && (Number.isNaN(v) || v > b)) best = r;
      }
      out.push(best);
    }
  }
  return out;
}

describe('argmax: NaN counts as the largest, any axis, ties to the first index', () => {
  const { NaN: n } = Number;
  const inf = Infinity;
  // Rows chosen so that NaN, ±inf and ties sit first, in the middle and last.
  const rows = [
    [n, 1, 2, 3],
    [1, n, 3, 2],
    [1, 2, 3, n],
    [1, n, n, 2],
    [inf, n, 1, 2],
    [-inf, -inf, -inf, -inf],
    [1, inf, inf, 0],
    [-inf, 5, 5, -inf],
    [2, 2, 2, 2],
    [-0, 0, -1, -2],
  ];
  const flat = rows.flat();
  const shape = [rows.length, 4];

  test.each([
    ['rows (axis -1)', -1, 1],
    ['rows (axis 1)', 1, 1],
    ['columns (axis 0)', 0, 0],
  ] as const)('%s', async (_label, axis, positive) => {
    const out = tensor(flat, { shape }).argmax(axis);
    expect(out.dtype).toBe('int32');
    expect(out.shape).toEqual(positive === 0 ? [4] : [rows.length]);
    expect(await values(out)).toEqual(argmax64(flat, shape, positive));
  });

  test('along axis 0 of the transpose (a strided view): NaN in a column', async () => {
    const t = tensor(flat, { shape }).transpose();
    const transposed = Array.from({ length: 4 * rows.length }, (_, i) => rows[i % rows.length]![Math.floor(i / rows.length)]!);
    expect(await values(t.argmax(0))).toEqual(argmax64(transposed, [4, rows.length], 0));
    expect(await values(t.argmax(1))).toEqual(argmax64(transposed, [4, rows.length], 1));
  });

  test('3-D, each axis, random values with NaNs sprinkled in', async () => {
    const g = rng(22);
    const s = [3, 5, 7];
    const x = Array.from(randHost(g, s).data, (v) => (g.int(9) === 0 ? NaN : Math.round(v * 4) / 4));
    for (const axis of [0, 1, 2, -2]) {
      const a = axis < 0 ? axis + 3 : axis;
      const out = tensor(x, { shape: s }).argmax(axis);
      expect(out.shape).toEqual(s.filter((_, i) => i !== a));
      expect(await values(out), `axis ${axis}`).toEqual(argmax64(x, s, a));
    }
  });
});

describe('empty tensors (a dimension of 0), as in PyTorch', () => {
  test('data() and toArray() of empty tensors and of an empty view', async () => {
    expect(await values(zeros([0]))).toEqual([]);
    expect(await zeros([0, 3]).toArray()).toEqual([]);
    expect(await zeros([2, 0]).toArray()).toEqual([[], []]);
    expect(
      await tensor(new Float32Array(0), { shape: [3, 0] })
        .transpose()
        .toArray(),
    ).toEqual([]);
    expect(await values(labels([]))).toEqual([]);
  });

  test.each([
    ['[0, 3] + [3]', [0, 3], [3], [0, 3]],
    ['[0] + []', [0], [], [0]],
    ['[0, 1] + [1, 4]', [0, 1], [1, 4], [0, 4]],
    ['[2, 0] + [2, 1]', [2, 0], [2, 1], [2, 0]],
    ['[2, 3, 0] + [0]', [2, 3, 0], [0], [2, 3, 0]],
  ])('elementwise and broadcasting: %s', async (_label, a, b, out) => {
    const x = ones(a);
    x.requiresGrad = true;
    const w = ones(b);
    w.requiresGrad = true;
    for (const y of [x.add(w), x.sub(w), x.mul(w), w.add(x)]) {
      expect(y.shape).toEqual(out);
      expect(await values(y)).toEqual([]);
    }
    for (const y of [x.mul(2), x.add(1), x.neg(), x.relu()]) {
      expect(y.shape).toEqual(a);
      expect(await values(y)).toEqual([]);
    }
    x.mul(w).sum().backward();
    expect(x.grad!.shape).toEqual(a);
    expect(w.grad!.shape).toEqual(b);
    // w's gradient sums over no rows: zeros.
    expect(await values(w.grad!)).toEqual(new Array(w.size).fill(0));
  });

  test('matmul: [0, k]·[k, n] is [0, n]; [m, 0]·[0, n] is zeros [m, n]; gradients of the right shapes', async () => {
    const a = ones([0, 4]);
    a.requiresGrad = true;
    const b = ones([4, 3]);
    b.requiresGrad = true;
    const y = a.matmul(b);
    expect(y.shape).toEqual([0, 3]);
    expect(await values(y)).toEqual([]);
    y.sum().backward();
    expect(a.grad!.shape).toEqual([0, 4]);
    expect(await values(b.grad!)).toEqual(new Array(12).fill(0));

    const c = ones([3, 0]);
    c.requiresGrad = true;
    const d = ones([0, 2]);
    d.requiresGrad = true;
    const z = c.matmul(d);
    expect(z.shape).toEqual([3, 2]);
    expect(await values(z)).toEqual([0, 0, 0, 0, 0, 0]);
    z.sum().backward();
    expect(c.grad!.shape).toEqual([3, 0]);
    expect(d.grad!.shape).toEqual([0, 2]);
    // Through a transposed empty view.
    expect(await values(tensor(new Float32Array(0), { shape: [0, 2] }).T.matmul(ones([0, 2])))).toEqual([0, 0, 0, 0]);
  });

  test('linear on an empty batch, and with 0 input features (the bias broadcast)', async () => {
    const w = tensor(
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      { requiresGrad: true },
    );
    const b = tensor([0.5, -1, 2], { requiresGrad: true });
    const x = zeros([0, 2]);
    x.requiresGrad = true;
    const y = nn.functional.linear(x, w, b, { activation: 'relu' });
    expect(y.shape).toEqual([0, 3]);
    y.sum().backward();
    expect(x.grad!.shape).toEqual([0, 2]);
    expect(await values(w.grad!)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(await values(b.grad!)).toEqual([0, 0, 0]);

    const w0 = zeros([3, 0]);
    w0.requiresGrad = true;
    const b0 = tensor([0.5, -1, 2], { requiresGrad: true });
    const x0 = zeros([2, 0]);
    x0.requiresGrad = true;
    const y0 = nn.functional.linear(x0, w0, b0);
    expect(await y0.toArray()).toEqual([
      [0.5, -1, 2],
      [0.5, -1, 2],
    ]);
    expect(await nn.functional.linear(x0, w0, b0, { activation: 'relu' }).toArray()).toEqual([
      [0.5, 0, 2],
      [0.5, 0, 2],
    ]);
    expect(await nn.functional.linear(x0, w0).toArray()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    y0.mul(tensor([1, 2, 3]))
      .sum()
      .backward();
    expect(await values(b0.grad!)).toEqual([2, 4, 6]);
    expect(w0.grad!.shape).toEqual([3, 0]);
    expect(x0.grad!.shape).toEqual([2, 0]);
  });

  test('reductions: the sum of nothing is 0, the mean of nothing is NaN, over all or along an axis', async () => {
    const e = zeros([0, 3]);
    expect(await e.sum().item()).toBe(0);
    expect(await e.mean().item()).toBeNaN();
    expect(await zeros([0]).sum().item()).toBe(0);
    expect(await zeros([0]).mean().item()).toBeNaN();
    expect(await values(e.sum(0))).toEqual([0, 0, 0]);
    expect((await values(e.mean(0))).every(Number.isNaN)).toBe(true);
    expect(e.mean(0).shape).toEqual([3]);
    expect(e.sum(1).shape).toEqual([0]);
    expect(e.mean(-1).shape).toEqual([0]);
    expect(e.sum(0, true).shape).toEqual([1, 3]);
    expect(await e.sum(null, true).toArray()).toEqual([[0]]);
    expect(await zeros([2, 0]).sum(1, true).toArray()).toEqual([[0], [0]]);
    expect(await zeros([2, 0, 3]).sum(1).toArray()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    // Gradients: of the input's (empty) shape.
    for (const reduce of [(t: Tensor) => t.sum(), (t: Tensor) => t.mean(0).sum(), (t: Tensor) => t.sum(1).sum()]) {
      const x = zeros([0, 3]);
      x.requiresGrad = true;
      reduce(x).backward();
      expect(x.grad!.shape).toEqual([0, 3]);
    }
  });

  test('crossEntropy of an empty batch is NaN (the mean of no rows), with an empty gradient', async () => {
    expect(await nn.functional.crossEntropy(zeros([0, 10]), labels([])).item()).toBeNaN();
    const x = zeros([0, 10]);
    x.requiresGrad = true;
    const loss = nn.functional.crossEntropy(x, labels([]));
    expect(await loss.item()).toBeNaN();
    loss.backward();
    expect(x.grad!.shape).toEqual([0, 10]);
    expect(await values(x.grad!)).toEqual([]);
    // No classes: every label is out of range — an error for host labels, NaN for labels made on the GPU.
    expect(() => nn.functional.crossEntropy(zeros([2, 0]), labels([0, 0]))).toThrow(/crossEntropy: label 0 is outside \[0, 0\)/);
    const gpuLabels = labels([0, 0]);
    gpuLabels.hostRange = null;
    expect(await nn.functional.crossEntropy(zeros([2, 0]), gpuLabels).item()).toBeNaN();
  });

  test('argmax of an empty batch is empty; over an empty axis it is an error', async () => {
    const out = zeros([0, 5]).argmax();
    expect(out.shape).toEqual([0]);
    expect(out.dtype).toBe('int32');
    expect(await values(out)).toEqual([]);
    expect(zeros([0, 5]).argmax(1).shape).toEqual([0]);
    expect(() => zeros([3, 0]).argmax()).toThrow(ShapeError);
    expect(() => zeros([0, 5]).argmax(0)).toThrow(/argmax: .*empty/);
  });

  test('reshape, transpose and expand of empty tensors, and their gradients', async () => {
    const x = zeros([0, 3]);
    x.requiresGrad = true;
    const r = x.reshape([3, 0]);
    expect(r.shape).toEqual([3, 0]);
    expect(x.reshape([-1, 3]).shape).toEqual([0, 3]);
    const t = x.transpose();
    expect(t.shape).toEqual([3, 0]);
    expect(await t.toArray()).toEqual([[], [], []]);
    const e = zeros([1, 0]).expand([4, 0]);
    expect(await e.toArray()).toEqual([[], [], [], []]);
    expect(zeros([0, 1]).expand([0, 5]).shape).toEqual([0, 5]);
    r.add(t).mul(3).sum().backward();
    expect(x.grad!.shape).toEqual([0, 3]);
    const y = zeros([1, 0]);
    y.requiresGrad = true;
    y.expand([4, 0]).sum().backward();
    expect(y.grad!.shape).toEqual([1, 0]);
  });
});

describe('0-d tensors, as in PyTorch', () => {
  test('argmax of a 0-d tensor is 0 along axis 0 or -1 (also for NaN)', async () => {
    for (const axis of [undefined, 0, -1]) {
      const out = tensor(5).argmax(axis);
      expect(out.shape).toEqual([]);
      expect(out.dtype).toBe('int32');
      expect(await out.item()).toBe(0);
    }
    expect(await tensor(NaN).argmax().item()).toBe(0);
    expect(() => tensor(5).argmax(1)).toThrow(/argmax: axis 1/);
  });

  test('sum and mean of a 0-d tensor, over all and along axis 0 or -1, with keepdim; gradients', async () => {
    const x = tensor(5, { requiresGrad: true });
    for (const y of [x.sum(), x.mean(), x.sum(0), x.mean(-1), x.sum(-1, true), x.mean(0, true)]) {
      expect(y.shape).toEqual([]);
      expect(await y.item()).toBe(5);
    }
    x.sum(0).add(x.mean(-1).mul(2)).backward();
    expect(await x.grad!.item()).toBe(3);
  });

  test('elementwise with broadcasting: 0-d with 0-d, with a matrix, and back through both', async () => {
    const s = tensor(2, { requiresGrad: true });
    const m = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { requiresGrad: true },
    );
    expect(await s.mul(tensor(3)).item()).toBe(6);
    expect(await s.add(m).toArray()).toEqual([
      [3, 4, 5],
      [6, 7, 8],
    ]);
    expect(await m.sub(s).toArray()).toEqual([
      [-1, 0, 1],
      [2, 3, 4],
    ]);
    s.mul(m).sum().backward();
    expect(await s.grad!.item()).toBe(21);
    expect(await m.grad!.toArray()).toEqual([
      [2, 2, 2],
      [2, 2, 2],
    ]);
    expect(await noGrad(() => tensor(-3).relu()).item()).toBe(0);
  });
});

describe('axes out of range', () => {
  test.each([
    ['sum', (t: Tensor) => t.sum(5)],
    ['mean', (t: Tensor) => t.mean(-4)],
    ['argmax', (t: Tensor) => t.argmax(2)],
    ['transpose', (t: Tensor) => t.transpose(0, 3)],
  ] as const)('%s names the axis and the rank in a ShapeError', (op, run) => {
    const t = zeros([2, 3]);
    expect(() => run(t)).toThrow(ShapeError);
    expect(() => run(t)).toThrow(new RegExp(`${op}: axis -?\\d is out of range for a tensor with 2 dimensions`));
  });
});

describe('NaN through a fused linear + ReLU', () => {
  test('a NaN input row stays NaN after the ReLU, as relu() keeps it (GPU and the float64 reference agree)', async () => {
    const x = tensor([
      [1, Number.NaN],
      [0.5, -2],
    ]);
    const w = tensor([
      [1, 1],
      [-1, 0.5],
      [0.25, 0],
    ]);
    const b = tensor([0.1, 0.2, -0.3]);
    const y = nn.functional.linear(x, w, b, { activation: 'relu' });
    const got = [...(await y.data())];
    const separate = [...(await nn.functional.linear(x, w, b).relu().data())];
    expect(got.slice(0, 3).every(Number.isNaN)).toBe(true);
    expect(got.map(String)).toEqual(separate.map(String));
    const { ops } = await import('../../src/ops/table.js');
    const ref = ops.linear.reference(
      [
        { shape: [2, 2], data: Float64Array.from([1, Number.NaN, 0.5, -2]) },
        { shape: [3, 2], data: Float64Array.from([1, 1, -1, 0.5, 0.25, 0]) },
        { shape: [3], data: Float64Array.from([0.1, 0.2, -0.3]) },
      ],
      { activation: 'relu' },
    );
    expect([...ref.data].slice(0, 3).every(Number.isNaN)).toBe(true);
  });
});
