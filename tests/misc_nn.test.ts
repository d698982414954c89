// Losses, utilities and containers from the user's side: binaryCrossEntropyWithLogits against a
// float64 reference (values and gradients, extreme logits included), clipGradNorm against float64
// norms and PyTorch's scaling rule (also inside a captured step, bit for bit like eager), nn.Flatten,
// nn.ModuleList and nn.ModuleDict with PyTorch's parameter names.
import { describe, expect, test } from 'vitest';
import { captureStep, nn, optim, ShapeError, type Tensor, tensor, ValueError } from '../src/index.js';
import { Generator } from '../src/random.js';

const values = async (t: Tensor): Promise<number[]> => Array.from(await t.data());
const draw = (g: Generator, n: number, scale: number): number[] => Array.from({ length: n }, () => (g.uniform() * 2 - 1) * scale);

function expectClose(got: number[], want: number[], tol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  want.forEach((w, i) => expect(Math.abs(got[i]! - w), `${what}[${i}]: got ${got[i]}, want ${w}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(w))));
}

/** Index into a broadcast operand of `shape` for flat index i of an array of `full` shape. */
function broadcastIndex(i: number, full: number[], shape: number[]): number {
  let index = 0;
  let stride = 1;
  let rest = i;
  for (let d = full.length - 1; d >= 0; d--) {
    const coord = rest % full[d]!;
    rest = Math.floor(rest / full[d]!);
    const k = d - (full.length - shape.length);
    if (k >= 0) {
      if (shape[k]! !== 1) index += coord * stride;
      stride *= shape[k]!;
    }
  }
  return index;
}

const log1pExp = (z: number): number => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
const sigmoid64 = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

describe('binaryCrossEntropyWithLogits against a float64 reference', () => {
  // [label, input shape, weight shape | null, posWeight shape | null, reduction, logit scale]
  const cases: [string, number[], number[] | null, number[] | null, nn.Reduction, number][] = [
    ['one element', [1], null, null, 'mean', 3],
    ['[7] sum', [7], null, null, 'sum', 3],
    ['[5, 3] none', [5, 3], null, null, 'none', 3],
    ['[4, 3] weight [4, 3]', [4, 3], [4, 3], null, 'mean', 3],
    ['[4, 3] weight [3] broadcast', [4, 3], [3], null, 'sum', 3],
    ['[6, 5] posWeight [5]', [6, 5], null, [5], 'mean', 3],
    ['[2, 3, 4] weight and posWeight', [2, 3, 4], [3, 1], [4], 'none', 3],
    ['huge logits (±80)', [9], null, [9], 'sum', 80],
    ['[67] just over a tile', [67], [1], null, 'mean', 5],
  ];
  test.each(cases)('%s', async (_label, shape, wShape, pShape, reduction, scale) => {
    const g = new Generator(shape.reduce((a, b) => a * b, 7) + (wShape ? 3 : 0) + (pShape ? 11 : 0));
    const n = shape.reduce((a, b) => a * b, 1);
    const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
    const xs = draw(g, n, scale);
    xs[0] = 0; // the gradient at exactly 0 is smooth (sigmoid(0) − y), as PyTorch's
    const ys = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? g.uniform() : i % 3 === 1 ? 1 : 0));
    const ws = wShape ? draw(g, size(wShape), 1).map((v) => v + 1.5) : null;
    const ps = pShape ? draw(g, size(pShape), 1).map((v) => v + 2) : null;
    const x = tensor(Float32Array.from(xs), { shape });
    x.requiresGrad = true;
    const options = {
      reduction,
      weight: ws && wShape ? tensor(Float32Array.from(ws), { shape: wShape }) : null,
      posWeight: ps && pShape ? tensor(Float32Array.from(ps), { shape: pShape }) : null,
    };
    const loss = nn.functional.binaryCrossEntropyWithLogits(x, tensor(Float32Array.from(ys), { shape }), options);
    // float64 reference, as PyTorch defines it, and its derivative d loss_i / d x_i.
    const f32 = (v: number): number => Math.fround(v);
    const per: number[] = [];
    const dper: number[] = [];
    for (let i = 0; i < n; i++) {
      const xi = f32(xs[i]!);
      const yi = f32(ys[i]!);
      const w = ws && wShape ? f32(ws[broadcastIndex(i, shape, wShape)]!) : 1;
      const lw = ps && pShape ? 1 + (f32(ps[broadcastIndex(i, shape, pShape)]!) - 1) * yi : 1;
      per.push(w * ((1 - yi) * xi + lw * log1pExp(-xi)));
      dper.push(w * (1 - yi - lw * sigmoid64(-xi)));
    }
    const sum = per.reduce((a, b) => a + b, 0);
    const want = reduction === 'none' ? per : reduction === 'sum' ? [sum] : [sum / n];
    expect(loss.shape).toEqual(reduction === 'none' ? shape : []);
    expectClose(await values(loss), want, 2e-5, 'loss');
    loss.sum().backward();
    const dwant = reduction === 'mean' ? dper.map((d) => d / n) : dper;
    expectClose(await values(x.grad!), dwant, 2e-5, 'gradient');
  });

  test('nn.BCEWithLogitsLoss passes its options on', async () => {
    const x = tensor([0.5, -2, 3]);
    const y = tensor([1, 0, 0.25]);
    const pw = tensor([2, 2, 2]);
    const want = await values(nn.functional.binaryCrossEntropyWithLogits(x, y, { posWeight: pw, reduction: 'sum' }));
    expect(await values(new nn.BCEWithLogitsLoss({ posWeight: pw, reduction: 'sum' }).forward(x, y))).toEqual(want);
  });

  const errors: [string, () => unknown, typeof ValueError, RegExp][] = [
    [
      'target of another shape',
      () => nn.functional.binaryCrossEntropyWithLogits(tensor([1, 2]), tensor([1, 0, 1])),
      ShapeError,
      /target \[3\] must have the input's shape \[2\]/,
    ],
    [
      'weight that does not broadcast',
      () => nn.functional.binaryCrossEntropyWithLogits(tensor([1, 2]), tensor([1, 0]), { weight: tensor([1, 2, 3]) }),
      ShapeError,
      /weight \[3\]/,
    ],
    [
      'posWeight that would grow the output',
      () => nn.functional.binaryCrossEntropyWithLogits(tensor([1, 2]), tensor([1, 0]), { posWeight: tensor([[1], [2]]) }),
      ShapeError,
      /posWeight \[2, 1\]/,
    ],
    [
      'bad reduction',
      () => nn.functional.binaryCrossEntropyWithLogits(tensor([1]), tensor([1]), { reduction: 'avg' as 'mean' }),
      ValueError,
      /reduction must be/,
    ],
    ['bad reduction in the layer', () => new nn.BCEWithLogitsLoss({ reduction: 'avg' as 'mean' }), ValueError, /BCEWithLogitsLoss: reduction/],
    [
      'a non-tensor target',
      () => nn.functional.binaryCrossEntropyWithLogits(tensor([1]), [1] as unknown as Tensor),
      ValueError,
      /argument 'target' must be a Tensor/,
    ],
  ];
  test.each(errors)('%s is refused', (_label, call, type, message) => {
    expect(call).toThrow(type);
    expect(call).toThrow(message);
  });
});

describe('nn.utils.clipGradNorm', () => {
  /** Parameters with gradients set from seeded values; the last one has no gradient. */
  function setup(scale: number): { params: Tensor[]; grads: number[][] } {
    const g = new Generator(41);
    const shapes = [[3, 4], [5], [1], [2, 0], [7]];
    const params: Tensor[] = [];
    const grads: number[][] = [];
    shapes.forEach((shape, i) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const p = nn.parameter(tensor(new Float32Array(n), { shape }));
      params.push(p);
      if (i === shapes.length - 1) return;
      const gv = draw(g, n, scale).map(Math.fround);
      p.grad = tensor(Float32Array.from(gv), { shape }).keep();
      grads.push(gv);
    });
    return { params, grads };
  }
  const norm64 = (grads: number[][], p: number): number => {
    const flat = grads.flat();
    if (p === Infinity) return flat.reduce((a, b) => Math.max(a, Math.abs(b)), 0);
    return flat.reduce((a, b) => a + Math.abs(b) ** p, 0) ** (1 / p);
  };
  // [normType, gradient scale, maxNorm]
  const cases: [number, number, number][] = [
    [2, 1, 0.5],
    [2, 1, 100],
    [1, 2, 1],
    [Infinity, 3, 0.25],
    [3, 1, 0.1],
    [2, 1, 0],
  ];
  test.each(cases)('normType %s, gradients up to %s, maxNorm %s', async (normType, scale, maxNorm) => {
    const { params, grads } = setup(scale);
    const total = nn.utils.clipGradNorm(params, maxNorm, normType);
    const want = norm64(grads, normType);
    expect(total.shape).toEqual([]);
    expectClose(await values(total), [want], 1e-5, 'total norm');
    const coef = Math.min(1, maxNorm / (want + 1e-6));
    for (let i = 0; i < grads.length; i++) {
      expectClose(
        await values(params[i]!.grad!),
        grads[i]!.map((v) => v * coef),
        1e-5,
        `gradient ${i}`,
      );
    }
    expect(params.at(-1)!.grad, 'a parameter without gradient stays without').toBeNull();
  });

  test('no gradients at all: total norm 0', async () => {
    const p = nn.parameter(tensor([1, 2]));
    expect(await values(nn.utils.clipGradNorm([p], 1))).toEqual([0]);
    expect(p.grad).toBeNull();
  });

  const errors: [string, () => unknown, RegExp][] = [
    ['negative maxNorm', () => nn.utils.clipGradNorm([], -1), /maxNorm must be a non-negative number, got the number -1/],
    ['NaN normType', () => nn.utils.clipGradNorm([], 1, Number.NaN), /normType must be a positive number/],
    ['a non-tensor parameter', () => nn.utils.clipGradNorm([tensor([1]), 3 as unknown as Tensor], 1), /parameters\[1\] must be a Tensor, got the number 3/],
    ['not an iterable', () => nn.utils.clipGradNorm(5 as unknown as Tensor[], 1), /parameters must be a Tensor or an iterable/],
  ];
  test.each(errors)('%s is refused (gradients unchanged)', async (_label, call, message) => {
    const { params, grads } = setup(1);
    expect(call).toThrow(ValueError);
    expect(call).toThrow(message);
    expect(await values(params[0]!.grad!)).toEqual(grads[0]);
  });

  test('a captured step with clipping replays bit for bit like the eager step', async () => {
    const make = () => {
      const model = new nn.Sequential(new nn.Linear(6, 8, { seed: 3 }), new nn.ReLU(), new nn.Linear(8, 3, { seed: 4 }));
      const opt = new optim.AdamW(model.parameters(), { lr: 0.05 });
      const norms: Tensor[] = [];
      const body = (x: Tensor, y: Tensor): Tensor => {
        opt.zeroGrad();
        const loss = nn.functional.crossEntropy(model.forward(x), y);
        loss.backward();
        norms.push(nn.utils.clipGradNorm(model.parameters(), 0.3).keep());
        opt.step();
        return loss;
      };
      return { model, body, norms };
    };
    const eager = make();
    const captured = make();
    const step = captureStep(captured.body);
    const g = new Generator(77);
    for (let s = 0; s < 8; s++) {
      const xs = Float32Array.from(draw(g, 5 * 6, 2));
      const ys = Int32Array.from({ length: 5 }, () => g.int(3));
      const le = await eager
        .body(tensor(xs, { shape: [5, 6] }), tensor(ys, { shape: [5], dtype: 'int32' }))
        .keep()
        .item();
      const lc = await step(tensor(xs, { shape: [5, 6] }), tensor(ys, { shape: [5], dtype: 'int32' })).item();
      expect(lc, `loss at step ${s}`).toBe(le);
    }
    const weights = (m: nn.Module) => Promise.all(m.parameters().map(values));
    expect(await weights(captured.model)).toEqual(await weights(eager.model));
    expect(step.captures).toBe(1);
  });
});

describe('nn.Flatten, nn.ModuleList, nn.ModuleDict', () => {
  test.each([
    [[2, 3, 4], 1, -1, [2, 12]],
    [[2, 3, 4, 5], 1, 2, [2, 12, 5]],
    [[2, 3], 0, -1, [6]],
    [[4, 1], 1, -1, [4, 1]],
    [[3, 0, 2], 1, -1, [3, 0]],
  ])('Flatten of %j from %i to %i gives %j', async (shape, start, end, want) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const xs = Float32Array.from({ length: n }, (_, i) => i);
    const y = new nn.Flatten(start, end).forward(tensor(xs, { shape }));
    expect(y.shape).toEqual(want);
    expect(await values(y)).toEqual(Array.from(xs));
  });

  test('Flatten defaults keep the batch dim', () => {
    expect(new nn.Flatten().forward(tensor(new Float32Array(24), { shape: [2, 3, 4] })).shape).toEqual([2, 12]);
  });

  test('ModuleList: PyTorch names, append, length, get, iteration, train/eval', () => {
    const a = new nn.Linear(2, 3, { seed: 1 });
    const b = new nn.Linear(3, 1, { seed: 2, bias: false });
    const list = new nn.ModuleList([a]);
    expect(list.append(b)).toBe(list);
    expect(list.length).toBe(2);
    expect(list.get(1)).toBe(b);
    expect(list.get(-2)).toBe(a);
    expect([...list]).toEqual([a, b]);
    expect(list.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '1.weight']);
    class Net extends nn.Module {
      blocks = new nn.ModuleList([a, b]);
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    const net = new Net().eval();
    expect(net.namedParameters().map(([n]) => n)).toEqual(['blocks.0.weight', 'blocks.0.bias', 'blocks.1.weight']);
    expect(a.training || b.training).toBe(false);
    expect(() => list.get(2)).toThrow(/index 2 is out of range for a list of 2/);
    expect(() => list.append({} as nn.Module)).toThrow(ValueError);
    expect(() => new nn.ModuleList([a, 3 as unknown as nn.Module])).toThrow(/item 1 must be a Module/);
    expect(list.length).toBe(2);
  });

  test('ModuleDict: names by key in insertion order, get, set, iteration', () => {
    const z = new nn.Linear(2, 2, { seed: 1 });
    const a = new nn.Linear(2, 1, { seed: 2 });
    const dict = new nn.ModuleDict({ zeta: z, alpha: a });
    expect(dict.length).toBe(2);
    expect(dict.keys()).toEqual(['zeta', 'alpha']);
    expect(dict.get('alpha')).toBe(a);
    expect([...dict]).toEqual([
      ['zeta', z],
      ['alpha', a],
    ]);
    expect(dict.namedParameters().map(([n]) => n)).toEqual(['zeta.weight', 'zeta.bias', 'alpha.weight', 'alpha.bias']);
    const c = new nn.ReLU();
    dict.set('10', c);
    expect(dict.keys()).toEqual(['zeta', 'alpha', '10']);
    expect(() => dict.get('beta')).toThrow(/no module named 'beta'/);
    expect(() => dict.set('a.b', c)).toThrow(/without '\.'/);
    expect(() => new nn.ModuleDict({ ok: c, bad: 1 as unknown as nn.Module })).toThrow(/the value of 'bad' must be a Module/);
    expect(dict.length).toBe(3);
  });
});
