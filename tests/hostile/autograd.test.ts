// Autograd and optimizer correctness under hostile use: modules reachable twice or in a cycle,
// tensors modified in place between forward and backward, gradients assigned by hand, and
// optimizer steps that must fail whole.
import { describe, expect, test } from 'vitest';
import {
  AutogradError,
  DisposedError,
  DTypeError,
  init,
  load,
  nn,
  optim,
  randn,
  ShapeError,
  save,
  type Tensor,
  tensor,
  ValueError,
  WebgradError,
  zeros,
} from '../../src/index.js';
import { runtime } from '../../src/runtime/runtime.js';

const values = async (t: Tensor): Promise<number[]> => Array.from(await t.data());

/** A module with explicit fields, for building shared and cyclic structures. */
class Holder extends nn.Module {
  [field: string]: unknown;
  forward(x: Tensor): Tensor {
    return x;
  }
}

describe('modules reachable more than once', () => {
  test('Sequential(l, l): each parameter listed once, first name wins, updated once per step', async () => {
    const l = new nn.Linear(3, 3, { seed: 1 });
    const model = new nn.Sequential(l, l);
    expect(model.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias']);
    expect(model.parameters()).toEqual([l.weight, l.bias]);
    expect(model.namedModules().map(([n]) => n)).toEqual(['', '0']);

    const lr = 0.1;
    const opt = new optim.SGD(model.parameters(), { lr });
    const x = randn([2, 3], { seed: 2 });
    model.forward(x).sum().backward();
    const w0 = await values(l.weight);
    const g = await values(l.weight.grad!);
    opt.step();
    // One update p − lr·g in float64 (rounded to float32 once, as the kernel computes it).
    const expected = w0.map((w, i) => Math.fround(w - Math.fround(lr * g[i]!)));
    const got = await values(l.weight);
    got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
  });

  test('a module in two fields and parameters shared by two modules appear once', () => {
    const shared = new nn.Linear(2, 2);
    const m = new Holder();
    m.a = shared;
    m.b = shared;
    expect(m.namedParameters().map(([n]) => n)).toEqual(['a.weight', 'a.bias']);
    expect(m.namedModules().map(([n]) => n)).toEqual(['', 'a']);

    const w = nn.parameter(zeros([2]));
    const p = new Holder();
    const q = new Holder();
    p.w = w;
    q.w = w;
    const root = new Holder();
    root.p = p;
    root.q = q;
    expect(root.namedParameters().map(([n]) => n)).toEqual(['p.w']);
    expect(root.namedModules().map(([n]) => n)).toEqual(['', 'p', 'q']);
  });

  test('a module that references itself, or a cycle of modules, does not overflow the stack', () => {
    const self = new Holder();
    self.w = nn.parameter(zeros([2]));
    self.me = self;
    expect(self.namedParameters().map(([n]) => n)).toEqual(['w']);
    expect(self.namedModules()).toEqual([['', self]]);
    expect(self.eval().training).toBe(false);
    self.zeroGrad();

    const a = new Holder();
    const b = new Holder();
    a.child = b;
    b.parent = a;
    b.w = nn.parameter(zeros([3]));
    expect(a.namedParameters().map(([n]) => n)).toEqual(['child.w']);
    expect(a.namedModules().map(([n]) => n)).toEqual(['', 'child']);
    expect(a.train().training && b.training).toBe(true);
  });
});

describe('version counters: in-place writes between forward and backward', () => {
  test('write() bumps the version, shared by views', () => {
    const x = tensor([1, 2, 3, 4], { shape: [2, 2] });
    const view = x.transpose();
    const before = x._version;
    x.write([5, 6, 7, 8]);
    expect(x._version).toBe(before + 1);
    expect(view._version).toBe(x._version);
  });

  test('x.write() between forward and backward: an AutogradError naming the op, input and shape; no .grad changes', async () => {
    const w = tensor(
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      { requiresGrad: true },
    );
    const x = tensor([[1, -1, 2]], { requiresGrad: true });
    // A gradient from before, which the failed backward must leave alone.
    x.matmul(w).sum().backward();
    const wGrad = await values(w.grad!);
    const xGrad = await values(x.grad!);
    const loss = x.matmul(w).relu().sum();
    w.write([0, 0, 0, 0, 0, 0]);
    expect(() => loss.backward()).toThrow(AutogradError);
    expect(() => loss.backward()).toThrow(/matmul.*input 1.*\[3, 2\].*modified by an in-place operation/);
    expect(await values(w.grad!)).toEqual(wGrad);
    expect(await values(x.grad!)).toEqual(xGrad);
    // A write to a tensor the graph does not hold is no reason to refuse.
    const unrelated = tensor([0, 0]);
    const other = x.mul(3).sum();
    unrelated.write([1, 1]);
    other.backward();
    expect(await values(x.grad!)).toEqual(xGrad.map((g) => g + 3));
  });

  test('writing the output a rule reads (relu) is caught too', () => {
    const x = tensor([1, -2, 3], { requiresGrad: true });
    const y = x.mul(2);
    const r = y.relu();
    const loss = r.sum();
    y.write([0, 0, 0]);
    expect(() => loss.backward()).toThrow(/relu.*input 0.*\[3\]/);
    expect(x.grad).toBeNull();
  });

  test('optimizer.step() between forward and backward: the saved parameter was updated', async () => {
    const model = new nn.Sequential(new nn.Linear(4, 3, { seed: 3 }), new nn.ReLU(), new nn.Linear(3, 2, { seed: 4 }));
    const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
    const x = randn([5, 4], { seed: 5 });
    const first = model.forward(x).sum();
    const second = model.forward(x).sum();
    first.backward();
    opt.step();
    const grads = await Promise.all(model.parameters().map((p) => values(p.grad!)));
    expect(() => second.backward()).toThrow(AutogradError);
    expect(() => second.backward()).toThrow(/linear.*input [12].*modified by an in-place operation.*optimizer step/);
    expect(await Promise.all(model.parameters().map((p) => values(p.grad!)))).toEqual(grads);
  });

  test('load() between forward and backward is caught; after backward it is fine', async () => {
    const model = new nn.Linear(2, 2, { seed: 6 });
    const bytes = await save(model);
    const loss = model.forward(tensor([[1, 2]])).sum();
    load(model, bytes);
    expect(() => loss.backward()).toThrow(/linear.*\[2, 2\]/);
    const ok = model.forward(tensor([[1, 2]])).sum();
    ok.backward();
    load(model, bytes);
    expect(await values(model.weight.grad!)).toEqual([1, 2, 1, 2]);
  });
});

describe('assigning .grad', () => {
  const p = (): Tensor =>
    tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { requiresGrad: true },
    );
  const cases: { label: string; grad: () => unknown; error: new (...args: never[]) => Error; message: RegExp }[] = [
    { label: 'an int32 tensor', grad: () => tensor(new Int32Array(6), { shape: [2, 3] }), error: DTypeError, message: /grad.*float32.*int32/ },
    { label: 'a tensor of another shape', grad: () => zeros([3, 2]), error: ShapeError, message: /grad.*\[3, 2\].*\[2, 3\]/ },
    {
      label: 'a disposed tensor',
      grad: () => {
        const g = zeros([2, 3]);
        g.dispose();
        return g;
      },
      error: DisposedError,
      message: /grad.*\[2, 3\].*released/,
    },
    { label: 'an array of numbers', grad: () => [1, 2, 3, 4, 5, 6], error: ValueError, message: /grad.*must be a Tensor or null.*array/ },
  ];
  test.each(cases)('$label is refused and .grad stays as it was', ({ grad, error, message }) => {
    const param = p();
    const before = zeros([2, 3]);
    param.grad = before;
    expect(() => {
      param.grad = grad() as Tensor;
    }).toThrow(error);
    expect(() => {
      param.grad = grad() as Tensor;
    }).toThrow(message);
    expect(param.grad).toBe(before);
  });

  test('a tensor as its own gradient is refused; null clears', () => {
    const param = p();
    expect(() => {
      param.grad = param;
    }).toThrow(ValueError);
    param.grad = zeros([2, 3]);
    param.grad = null;
    expect(param.grad).toBeNull();
  });

  /** SGD on two parameters with the same values: one given a view as its gradient, one contiguous. */
  async function stepWithViewGradient(makeView: (values: number[][]) => Tensor, gradValues: number[][]): Promise<void> {
    const start = [
      [1, 2, 3],
      [4, 5, 6],
    ];
    const viaView = tensor(start, { requiresGrad: true });
    const viaCopy = tensor(start, { requiresGrad: true });
    const view = makeView(gradValues);
    expect(view.isContiguous && view.offset === 0).toBe(false);
    viaView.grad = view;
    viaCopy.grad = tensor(gradValues);
    const lr = 0.5;
    new optim.SGD([viaView], { lr }).step();
    new optim.SGD([viaCopy], { lr }).step();
    const expected = start.flat().map((v, i) => Math.fround(v - Math.fround(lr * gradValues.flat()[i]!)));
    expect(await values(viaView)).toEqual(await values(viaCopy));
    (await values(viaView)).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    // The assigned view is still the gradient, unchanged.
    expect(viaView.grad).toBe(view);
    expect(await values(view)).toEqual(gradValues.flat());
  }

  test('SGD with a transposed view as .grad updates exactly as with the same values contiguous', async () => {
    await stepWithViewGradient(
      (g) =>
        tensor([
          [g[0]![0]!, g[1]![0]!],
          [g[0]![1]!, g[1]![1]!],
          [g[0]![2]!, g[1]![2]!],
        ]).transpose(),
      [
        [0.5, -1, 2],
        [3, -4, 0.25],
      ],
    );
  });

  test('SGD with an expanded (stride-0) view as .grad updates exactly as with the same values contiguous', async () => {
    await stepWithViewGradient(
      (g) => tensor([g[0]!]).expand([2, 3]),
      [
        [0.5, -1, 2],
        [0.5, -1, 2],
      ],
    );
  });

  test('Adam reads a transposed .grad through its strides too', async () => {
    const a = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { requiresGrad: true },
    );
    const b = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { requiresGrad: true },
    );
    // Mixed signs: Adam's first step moves each element by about lr·sign(g), so the signs must
    // differ between the layout in memory and the logical one for the test to see a misread.
    a.grad = tensor([
      [1, -3],
      [2, 4],
    ]).transpose();
    b.grad = tensor([
      [1, 2],
      [-3, 4],
    ]);
    new optim.Adam([a], { lr: 0.1 }).step();
    new optim.Adam([b], { lr: 0.1 }).step();
    expect(await values(a)).toEqual(await values(b));
  });
});

describe('optimizer.step() is atomic', () => {
  async function threeParameters(): Promise<Tensor[]> {
    const ps = [randn([3, 2], { seed: 11 }), randn([4], { seed: 12 }), randn([2, 2], { seed: 13 })].map((t) => nn.parameter(t));
    return ps;
  }
  const giveGrads = (ps: Tensor[]): void => {
    ps.forEach((p, i) => {
      p.grad = randn([...p.shape], { seed: 20 + i });
    });
  };

  test.each([
    ['SGD with momentum', (ps: Tensor[]) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9 })],
    ['Adam', (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.1 })],
  ] as const)('%s: the 2nd of 3 gradients disposed: a DisposedError naming it; parameters and state unchanged', async (_, make) => {
    const ps = await threeParameters();
    const opt = make(ps);
    giveGrads(ps);
    opt.step();
    giveGrads(ps);
    const params = await Promise.all(ps.map(values));
    const state = async (): Promise<unknown> => {
      if (opt instanceof optim.SGD) return Promise.all(ps.map((p) => values(opt.momentumBuffer(p)!)));
      const adam = opt as optim.Adam;
      return Promise.all(
        ps.map(async (p) => {
          const m = adam.moments(p)!;
          return [m.step, await values(m.expAvg), await values(m.expAvgSq)];
        }),
      );
    };
    const stateBefore = await state();
    ps[1]!.grad!.dispose();
    expect(() => opt.step()).toThrow(DisposedError);
    expect(() => opt.step()).toThrow(/step: the gradient of parameter 1 \(shape \[4\]\) was released/);
    expect(await Promise.all(ps.map(values))).toEqual(params);
    expect(await state()).toEqual(stateBefore);
  });

  test('a disposed parameter: a DisposedError naming its index and shape, nothing updated', async () => {
    const ps = await threeParameters();
    const opt = new optim.SGD(ps, { lr: 0.1 });
    giveGrads(ps);
    const first = await values(ps[0]!);
    ps[2]!.dispose();
    expect(() => opt.step()).toThrow(DisposedError);
    expect(() => opt.step()).toThrow(/SGD\.step: parameter 2 \(shape \[2, 2\]\) was released/);
    expect(await values(ps[0]!)).toEqual(first);
  });

  test('a gradient that became invalid is never an internal error', () => {
    const ps = [nn.parameter(zeros([2]))];
    const opt = new optim.SGD(ps, { lr: 1 });
    ps[0]!.grad = zeros([2]);
    ps[0]!.grad.dispose();
    let error: unknown;
    try {
      opt.step();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WebgradError);
    expect(String(error)).not.toMatch(/internal/);
  });
});

// Last: it switches the runtime to a second device.
test('a gradient from another device is refused', async () => {
  const param = tensor([1, 2], { requiresGrad: true });
  await init();
  runtime().scheduler.debugFillNaN = true;
  const other = zeros([2]);
  expect(() => {
    param.grad = other;
  }).toThrow(ValueError);
  expect(() => {
    param.grad = other;
  }).toThrow(/grad.*different device/);
  expect(param.grad).toBeNull();
});
