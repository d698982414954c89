// Tensors of rank 0 to 6 (and up to the limit of 8): broadcasting in the elementwise kernels against
// a float64 reference, views of any rank, dtype conversions, comparisons and where.
import { describe, expect, test } from 'vitest';
import { DTypeError, gradcheck, ShapeError, type Tensor, tensor, tidy, ValueError, where, zeros } from '../src/index.js';
import { hostBinary } from '../src/ops/host.js';
import { expectClose, randHost, rng } from './helpers.js';

// Pairs of broadcastable shapes whose output rank runs from 0 to 6, with size-1, empty and prime dims.
const BROADCAST_PAIRS: [number[], number[]][] = [
  [[], []],
  [[5], []],
  [[3, 1], [4]],
  [
    [2, 1, 5],
    [3, 1],
  ],
  [
    [2, 3, 1, 7],
    [1, 3, 5, 1],
  ],
  [
    [2, 1, 4, 1, 5],
    [3, 4, 1, 5],
  ],
  [
    [2, 3, 1, 2, 1, 3],
    [1, 1, 4, 1, 5, 1],
  ],
  [
    [1, 2, 1, 3, 1, 2],
    [2, 1, 3, 1, 2, 1],
  ],
  [
    [3, 1, 2, 0, 1, 2],
    [1, 2, 1],
  ],
  [
    [7, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 13],
  ],
  [
    [2, 2, 2, 2, 2, 2, 2, 2],
    [2, 1, 2, 1, 2, 1, 2, 1],
  ],
];

describe('elementwise broadcasting over ranks 0–6 (and 8)', () => {
  test.each(BROADCAST_PAIRS.map((p, i) => [i, JSON.stringify(p)] as const))('case %i: %s', async (i) => {
    const [sa, sb] = BROADCAST_PAIRS[i]!;
    const g = rng(100 + i);
    const a = randHost(g, sa);
    const b = randHost(g, sb);
    const ref = hostBinary(a, b, (x, y) => x * y + x);
    const out = await tidy(() => {
      const ta = tensor(Float32Array.from(a.data), { shape: sa });
      const tb = tensor(Float32Array.from(b.data), { shape: sb });
      return ta.mul(tb).add(ta);
    }).data();
    expect(out.length).toBe(ref.data.length);
    expectClose(out, ref.data, 1e-6, `broadcast ${JSON.stringify([sa, sb])}`);
  });

  test('a 6-D transposed (strided) operand is read in place', async () => {
    const shape = [2, 3, 1, 2, 3, 2];
    const g = rng(7);
    const a = randHost(g, shape);
    const t = tensor(Float32Array.from(a.data), { shape });
    // Swapping dims 1 and 4 (both of size 3) and back again through the copy kernel.
    const out = await t.transpose(1, 4).add(0).transpose(1, 4).data();
    expect(Array.from(out)).toEqual(Array.from(a.data));
  });

  test("a caller's shape array is copied, results share their input's frozen shape and strides, and a size-1 axis with any stride reads in place", async () => {
    const shape = [2, 3];
    const t = tensor(Float32Array.from([1, 2, 3, 4, 5, 6]), { shape });
    shape[0] = 5;
    expect(t.shape).toEqual([2, 3]);
    expect(Object.isFrozen(t.shape) && Object.isFrozen(t.strides)).toBe(true);
    const u = t.mul(2);
    expect(u.shape).toEqual([2, 3]);
    expect(u.strides).toEqual([3, 1]);
    expect(() => (u.shape as number[]).push(1)).toThrow(TypeError);
    // [3, 1] viewed as [3, 1] with a stride of 7 on its size-1 axis is still read as one contiguous run.
    const col = tensor(Float32Array.from([1, 2, 3]), { shape: [3, 1] });
    const expanded = col.expand([3, 4]).narrow(1, 0, 1);
    expect(Array.from(await expanded.add(1).data())).toEqual([2, 3, 4]);
    expect(Array.from(await u.data())).toEqual([2, 4, 6, 8, 10, 12]);
  });

  test('more than 8 dimensions is refused with a ShapeError naming the shape', () => {
    const t = tensor(new Float32Array(1), { shape: [1, 1, 1, 1, 1, 1, 1, 1, 1] });
    expect(() => t.add(t)).toThrow(ShapeError);
    expect(() => t.add(t)).toThrow(/up to 8 dimensions.*\[1, 1, 1, 1, 1, 1, 1, 1, 1\]/);
  });
});

// Every binary op of the table, not only mul and add, over the same pairs: values against float64,
// and a gradcheck at rank 6 (the gradient summed back over the broadcast dims).
type Binary = [string, (a: Tensor, b: Tensor) => Tensor, (x: number, y: number) => number, ((v: number) => number)?, ((v: number) => number)?];
const awayFromZero = (v: number): number => Math.fround(Math.sign(v || 1) * (Math.abs(v) + 0.5));
const positive = (v: number): number => Math.fround(Math.abs(v) + 0.5);
const BINARY_OPS: Binary[] = [
  ['sub', (a, b) => a.sub(b), (x, y) => x - y],
  ['div', (a, b) => a.div(b), (x, y) => x / y, undefined, awayFromZero],
  ['pow', (a, b) => a.pow(b), (x, y) => x ** y, positive],
  ['maximum', (a, b) => a.maximum(b), (x, y) => Math.max(x, y)],
  ['minimum', (a, b) => a.minimum(b), (x, y) => Math.min(x, y)],
  ['where(a > b, 2a, b)', (a, b) => where(a.gt(b), a.mul(2), b), (x, y) => (x > y ? 2 * x : y)],
  ['lt (bool)', (a, b) => a.lt(b), (x, y) => Number(x < y)],
  ['ge (bool)', (a, b) => a.ge(b), (x, y) => Number(x >= y)],
];

describe.each(BINARY_OPS.map((op) => [op[0], op] as const))('%s broadcasts over ranks 0–6 (and 8)', (name, [, fn, ref, domainA, domainB]) => {
  const operands = (i: number, [sa, sb]: [number[], number[]]) => {
    const g = rng(300 + i);
    const a = randHost(g, sa);
    const b = randHost(g, sb);
    if (domainA) a.data = a.data.map(domainA);
    if (domainB) b.data = b.data.map(domainB);
    return [a, b] as const;
  };
  test.each(BROADCAST_PAIRS.map((p, i) => [i, JSON.stringify(p)] as const))('case %i: %s', async (i) => {
    const [a, b] = operands(i, BROADCAST_PAIRS[i]!);
    const want = hostBinary(a, b, ref);
    const out = await tidy(() => fn(tensor(Float32Array.from(a.data), { shape: a.shape }), tensor(Float32Array.from(b.data), { shape: b.shape }))).data();
    expect(out.length).toBe(want.data.length);
    expectClose(out, want.data, 1e-6, `${name} ${JSON.stringify([a.shape, b.shape])}`);
  });

  // Comparisons have no gradient: only the differentiable ops get this test (none is skipped).
  const differentiable = !name.endsWith('(bool)');
  if (differentiable)
    test('gradcheck at rank 6, both operands broadcast', async () => {
      const [a, b] = operands(99, [
        [2, 1, 3, 1, 2, 3],
        [1, 2, 1, 4, 1, 3],
      ]);
      const inputs = [tensor(Float32Array.from(a.data), { shape: a.shape }), tensor(Float32Array.from(b.data), { shape: b.shape })];
      const result = await gradcheck(fn, inputs, { method: 'central' });
      expect(result.passed, JSON.stringify(result.inputs)).toBe(true);
    });
});

describe('views share storage where PyTorch has them', () => {
  const base = () =>
    tensor(
      Float32Array.from({ length: 24 }, (_, i) => i),
      { shape: [2, 3, 4] },
    );
  // Each view, then a write into the base: a view sees the new values, a copy would not.
  const views: [string, (t: Tensor) => Tensor][] = [
    ['view', (t) => t.view([6, 4])],
    ['reshape (contiguous)', (t) => t.reshape([4, -1])],
    ['permute', (t) => t.permute([2, 0, 1])],
    ['unsqueeze', (t) => t.unsqueeze(-1)],
    ['squeeze', (t) => t.unsqueeze(0).squeeze()],
    ['flatten', (t) => t.flatten(1)],
    ['narrow', (t) => t.narrow(2, 1, 2)],
    ['reshape of a permuted view that keeps strides', (t) => t.permute([2, 0, 1]).reshape([4, 2, 3, 1])],
    ['view of a narrowed view', (t) => t.narrow(0, 1, 1).view([3, 4])],
  ];
  test.each(views.map(([label], i) => [i, label] as const))('%i: %s', async (i) => {
    const t = base();
    const v = views[i]![1](t);
    const before = Array.from(await v.contiguous().data());
    t.write(Float32Array.from({ length: 24 }, (_, k) => 100 + k));
    const after = Array.from(await v.data());
    expect(after).toEqual(before.map((x) => x + 100));
  });

  test('view throws where a copy is needed, and reshape copies', async () => {
    const t = tensor(
      Float32Array.from({ length: 6 }, (_, i) => i),
      { shape: [2, 3] },
    ).T;
    expect(() => t.view([6])).toThrow(ShapeError);
    expect(() => t.view([6])).toThrow(/view: .*\[3, 2\].*without a copy/);
    expect(Array.from(await t.reshape([6]).data())).toEqual([0, 3, 1, 4, 2, 5]);
    expect(Array.from(await t.flatten().data())).toEqual([0, 3, 1, 4, 2, 5]);
  });

  test('int32 tensors copy through every view op', async () => {
    const t = tensor(
      Int32Array.from({ length: 24 }, (_, i) => i - 5),
      { shape: [2, 3, 4] },
    );
    const p = t.permute([2, 0, 1]);
    const ref = Array.from({ length: 24 }, (_, i) => {
      const [a, b, c] = [Math.floor(i / 6), Math.floor(i / 3) % 2, i % 3];
      return b * 12 + c * 4 + a - 5;
    });
    expect(Array.from(await p.contiguous().data())).toEqual(ref);
    expect(Array.from(await p.reshape([24]).data())).toEqual(ref);
    expect(Array.from(await t.transpose(0, 2).narrow(0, 1, 2).flatten().data())).toEqual([1, 13, 5, 17, 9, 21, 2, 14, 6, 18, 10, 22].map((x) => x - 5));
  });

  const bad: [string, () => unknown, RegExp][] = [
    ['permute with a repeated dim', () => zeros([2, 3]).permute([0, 0]), /permute: dims \[0, 0\] are not a permutation/],
    ['permute with too few dims', () => zeros([2, 3, 4]).permute([1, 0]), /permute: dims \[1, 0\].*3 dimensions/],
    ['unsqueeze out of range', () => zeros([2, 3]).unsqueeze(4), /unsqueeze: dimension 4 is out of range.*3 dimensions/],
    ['squeeze out of range', () => zeros([2, 3]).squeeze(-3), /squeeze: dimension -3 is out of range/],
    ['flatten start after end', () => zeros([2, 3, 4]).flatten(2, 1), /flatten: startDim 2 comes after endDim 1/],
    ['narrow past the end', () => zeros([2, 5]).narrow(1, 3, 3), /narrow: start 3 \+ length 3 exceeds dimension 1 of size 5/],
    ['narrow a bad dim', () => zeros([2, 5]).narrow(2, 0, 1), /narrow: axis 2 is out of range/],
    ['view to a wrong size', () => zeros([2, 5]).view([3, 3]), /view: cannot reshape \[2, 5\] \(10 elements\) to \[3, 3\]/],
  ];
  test.each(bad.map(([label], i) => [i, label] as const))('bad input %i: %s', (i) => {
    const [, run, message] = bad[i]!;
    expect(run).toThrow(ShapeError);
    expect(run).toThrow(message);
  });

  test('squeeze and flatten follow PyTorch on shapes', () => {
    const t = zeros([1, 3, 1, 2]);
    expect(t.squeeze().shape).toEqual([3, 2]);
    expect(t.squeeze(0).shape).toEqual([3, 1, 2]);
    expect(t.squeeze(1).shape).toEqual([1, 3, 1, 2]);
    expect(t.flatten(1, 2).shape).toEqual([1, 3, 2]);
    expect(zeros([]).flatten().shape).toEqual([1]);
    expect(zeros([]).unsqueeze(0).shape).toEqual([1]);
    expect(zeros([2, 3]).unsqueeze(-1).shape).toEqual([2, 3, 1]);
  });
});

describe('dtypes: bool, conversions, comparisons and where', () => {
  test('comparisons give bool tensors (0/1 words) with broadcasting and no gradient', async () => {
    const a = tensor(
      [
        [1, 2, 3],
        [4, 5, Number.NaN],
      ],
      { requiresGrad: true },
    );
    const b = tensor([2, 2, 6]);
    const lt = a.lt(b);
    expect(lt.dtype).toBe('bool');
    expect(lt.requiresGrad).toBe(false);
    expect(Array.from(await lt.data())).toEqual([1, 0, 1, 0, 0, 0]);
    expect(Array.from(await a.ne(b).data())).toEqual([1, 0, 1, 1, 1, 1]);
    expect(Array.from(await a.ge(2).data())).toEqual([0, 1, 1, 1, 1, 0]);
    expect(Array.from(await a.eq(5).data())).toEqual([0, 0, 0, 0, 1, 0]);
    // int32 against float32 (argmax results against labels, say).
    const labels = tensor(Int32Array.from([2, 0]));
    expect(Array.from(await a.argmax(1).eq(labels).data())).toEqual([1, 0]);
  });

  test('to(), float(), int(), bool() follow PyTorch, with NaN → 0 and saturation where it is undefined', async () => {
    const x = tensor([2.7, -2.7, -0.5, 0, Number.NaN, 3e9, -3e9, Number.POSITIVE_INFINITY]);
    const i = x.int();
    expect(i.dtype).toBe('int32');
    expect(Array.from(await i.data())).toEqual([2, -2, 0, 0, 0, 2147483647, -2147483648, 2147483647]);
    expect(Array.from(await x.bool().data())).toEqual([1, 1, 1, 0, 1, 1, 1, 1]);
    expect(Array.from(await x.bool().float().data())).toEqual([1, 1, 1, 0, 1, 1, 1, 1]);
    expect(
      Array.from(
        await tensor(Int32Array.from([-3, 0, 7]))
          .to('float32')
          .data(),
      ),
    ).toEqual([-3, 0, 7]);
    expect(
      Array.from(
        await tensor(Int32Array.from([-3, 0, 7]))
          .bool()
          .int()
          .data(),
      ),
    ).toEqual([1, 0, 1]);
    expect(x.float()).not.toBe(x);
    expect(x.float().dtype).toBe('float32');
  });

  test('where: values and gradients through the mask, numbers as 0-d operands', async () => {
    const a = tensor(
      [
        [1, -2, 3],
        [-4, 5, -6],
      ],
      { requiresGrad: true },
    );
    const b = tensor([10, 20, 30], { requiresGrad: true });
    const y = where(a.gt(0), a, b);
    expect(Array.from(await y.data())).toEqual([1, 20, 3, 10, 5, 30]);
    y.mul(
      tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    )
      .sum()
      .backward();
    expect(Array.from(await a.grad!.data())).toEqual([1, 0, 3, 0, 5, 0]);
    expect(Array.from(await b.grad!.data())).toEqual([4, 2, 6]);
    expect(Array.from(await a.where(a.lt(0), 0).data())).toEqual([0, -2, 0, -4, 0, -6]);
    expect(Array.from(await where(a.lt(0), -1, 1).data())).toEqual([1, -1, 1, -1, 1, -1]);
  });

  test('a float32 → float32 conversion passes the gradient through', async () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    x.to('float32')
      .mul(tensor([4, 5, 6]))
      .sum()
      .backward();
    expect(Array.from(await x.grad!.data())).toEqual([4, 5, 6]);
  });

  test('bool tensors from host values, and bool views copied', async () => {
    const m = tensor(
      [
        [1, 0, 2],
        [0, 0, -1],
      ],
      { dtype: 'bool' },
    );
    expect(Array.from(await m.data())).toEqual([1, 0, 1, 0, 0, 1]);
    expect(Array.from(await m.T.contiguous().data())).toEqual([1, 0, 0, 0, 1, 1]);
    expect(Array.from(await zeros([2], { dtype: 'bool' }).data())).toEqual([0, 0]);
  });

  const bad: [string, () => unknown, new (...args: never[]) => Error, RegExp][] = [
    ['where with a float condition', () => where(zeros([2]), zeros([2]), zeros([2])), DTypeError, /where: the condition must be bool, got float32/],
    [
      'where with shapes that do not broadcast',
      () => where(zeros([2]).gt(0), zeros([3]), zeros([2])),
      ShapeError,
      /where: shapes \[2\] \(condition\), \[3\] and \[2\]/,
    ],
    [
      'where with an int32 input',
      () => where(zeros([2]).gt(0), zeros([2], { dtype: 'int32' }), zeros([2])),
      DTypeError,
      /where: input .* must be float32, got int32/,
    ],
    ['to an unknown dtype', () => zeros([2]).to('float64' as never), DTypeError, /to: unknown dtype 'float64' \(webgrad has 'float32', 'int32', 'bool'\)/],
    ['comparing shapes that do not broadcast', () => zeros([2, 3]).lt(zeros([4])), ShapeError, /lt: shapes \[2, 3\] and \[4\] cannot be broadcast/],
    ['a comparison against a string', () => zeros([2]).eq('1' as never), ValueError, /eq: argument 'other' must be a Tensor or a number/],
    [
      'a bool tensor requiring gradients',
      () => tensor([1, 0], { dtype: 'bool', requiresGrad: true }),
      ValueError,
      /only float32 tensors can require gradients/,
    ],
  ];
  test.each(bad.map(([label], i) => [i, label] as const))('bad input %i: %s', (i) => {
    const [, run, error, message] = bad[i]!;
    expect(run).toThrow(error);
    expect(run).toThrow(message);
  });
});

describe('gradients through views and broadcasting at rank 6', () => {
  test('central gradcheck (float64 replay) of a 6-D chain: permute, narrow, broadcast mul, where, flatten, sum', async () => {
    const g = rng(11);
    const x = tensor(Float32Array.from(randHost(g, [2, 3, 1, 4, 2, 3]).data), { shape: [2, 3, 1, 4, 2, 3], requiresGrad: true });
    const y = tensor(Float32Array.from(randHost(g, [3, 1, 2, 1]).data), { shape: [3, 1, 2, 1], requiresGrad: true });
    const fn = (a: Tensor, b: Tensor): Tensor => {
      const p = a.permute([5, 1, 2, 0, 4, 3]).narrow(5, 1, 2); // [3, 3, 1, 2, 2, 2]
      const m = p.mul(b.unsqueeze(-1)); // b broadcast as [3, 1, 2, 1, 1] → 6-D
      return where(m.gt(0), m, m.mul(0.5)).flatten(1, 4).sum(1).sum();
    };
    const result = await gradcheck(fn, [x, y], { method: 'central' });
    expect(result.passed, JSON.stringify(result.inputs)).toBe(true);
  });
});
