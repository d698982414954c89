// The elementwise math ops from the user's side: PyTorch's gradient conventions (maximum/minimum
// ties, pow at 0, clamp at its bounds), stability for large |x| (no inf or NaN where the true value
// is finite), GELU's accuracy against float64, true division by a number, and bad arguments.
import { describe, expect, test } from 'vitest';
import * as webgrad from '../src/index.js';
import { gradcheck, nn, type Tensor, tensor, ValueError } from '../src/index.js';
import { erfcReference, sigmoidReference } from '../src/ops/unary_math.js';

const values = async (t: Tensor): Promise<number[]> => Array.from(await t.data());
const gradOf = async (x: Tensor): Promise<number[]> => values(x.grad!);

test('the float64 erfc reference matches tabulated values', () => {
  const table: [number, number][] = [
    [0, 1],
    [0.5, 0.4795001221869535],
    [1, 0.15729920705028513],
    [2, 0.004677734981047266],
    [3, 2.209049699858544e-5],
    [5, 1.5374597944280349e-12],
    [10, 2.088487583762545e-45],
    [-1, 1.8427007929497148],
  ];
  for (const [x, want] of table) expect(Math.abs(erfcReference(x) - want) / want, `erfc(${x})`).toBeLessThan(1e-13);
});

describe('stability for large |x|', () => {
  const xs = [-3.4e38, -1e30, -1e10, -100, -88, -50, -20, -1, -1e-30, 0, 1e-30, 1, 20, 50, 88, 100, 1e10, 1e30, 3.4e38].map(Math.fround);
  const cases: [string, (t: Tensor) => Tensor, (x: number) => number][] = [
    ['sigmoid', (t) => t.sigmoid(), sigmoidReference],
    ['tanh', (t) => t.tanh(), Math.tanh],
    ['softplus', (t) => nn.functional.softplus(t), (x) => (x > 20 ? x : Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))))],
    ['softplus with threshold 1e30', (t) => nn.functional.softplus(t, { threshold: 1e30 }), (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)))],
    ['log1p', (t) => t.abs().log1p(), (x) => Math.log1p(Math.abs(x))],
    ['silu', (t) => nn.functional.silu(t), (x) => x * sigmoidReference(x)],
    ['gelu', (t) => nn.functional.gelu(t), (x) => 0.5 * x * erfcReference(-x / Math.SQRT2)],
  ];
  test.each(cases)('%s is finite where float64 is, and close to it', async (_name, op, reference) => {
    const got = await values(op(tensor(xs)));
    xs.forEach((x, i) => {
      const want = Math.fround(reference(x));
      expect(Number.isFinite(got[i]), `x = ${x}: ${got[i]}`).toBe(Number.isFinite(want));
      // Subnormal results (and intermediates, silu's sigmoid(-88)) may be flushed to 0.
      expect(Math.abs(got[i]! - want), `x = ${x}`).toBeLessThanOrEqual(4e-6 * Math.abs(want) + 2 ** -126 * Math.max(1, Math.abs(x)));
    });
  });

  test('sigmoid and tanh gradients are finite (0, not NaN) for large |x|', async () => {
    for (const op of [(t: Tensor) => t.sigmoid(), (t: Tensor) => t.tanh()]) {
      const x = tensor([-1e30, -100, 100, 1e30], { requiresGrad: true });
      op(x).sum().backward();
      for (const g of await gradOf(x)) expect(Number.isFinite(g) && g >= 0 && g < 1e-30).toBe(true);
    }
  });
});

test('GELU (erf) is within 4e-7·(1 + x²/2) relative of float64 over [-12, 12], and the tanh form within float32 rounding of its argument', async () => {
  const xs = Array.from({ length: 2401 }, (_, i) => Math.fround(-12 + i * 0.01));
  const exact = await values(nn.functional.gelu(tensor(xs)));
  const approx = await values(nn.functional.gelu(tensor(xs), { approximate: 'tanh' }));
  let worst = 0;
  xs.forEach((x, i) => {
    const want = 0.5 * x * erfcReference(-x / Math.SQRT2);
    // Beyond the fit's 1.2e-7, exp(−x²/2) inherits float32's rounding of x²/2: x²/2 · 2^-24 relative.
    if (Math.abs(want) > 2 ** -120) worst = Math.max(worst, Math.abs(exact[i]! - want) / Math.abs(want) / (1 + (x * x) / 2));
    // 0.5·x·(1 + tanh u) written as x / (1 + exp(−2u)), so float64 does not cancel for x ≪ 0.
    const twoU = 2 * Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3);
    const wantTanh = x / (1 + Math.exp(-twoU));
    // Each float32 rounding in computing 2u (about 8 of them) is 2^-24 of it, which exp turns into |2u|·2^-24 relative.
    expect(Math.abs(approx[i]! - wantTanh), `x = ${x}`).toBeLessThanOrEqual((8 * Math.abs(twoU) + 16) * 2 ** -24 * Math.abs(wantTanh) + 1e-30);
  });
  expect(worst).toBeLessThan(4e-7);
});

describe('gradient conventions (PyTorch)', () => {
  test('maximum and minimum split the gradient in half at ties, with broadcasting', async () => {
    const a = tensor(
      [
        [1, 2, 3],
        [4, 0, 3],
      ],
      { requiresGrad: true },
    );
    const b = tensor([1, 5, 3], { requiresGrad: true });
    a.maximum(b).sum().backward();
    expect(await gradOf(a)).toEqual([0.5, 0, 0.5, 1, 0, 0.5]);
    expect(await gradOf(b)).toEqual([0.5, 2, 1]);
    const c = tensor([2, 2, 7], { requiresGrad: true });
    const d = tensor([2, 3, 1], { requiresGrad: true });
    c.minimum(d).sum().backward();
    expect(await gradOf(c)).toEqual([0.5, 1, 0]);
    expect(await gradOf(d)).toEqual([0.5, 0, 1]);
  });

  test('maximum and minimum propagate NaN from either side', async () => {
    const a = tensor([NaN, 1, NaN]);
    const b = tensor([1, NaN, NaN]);
    for (const r of [await values(a.maximum(b)), await values(a.minimum(b)), await values(b.maximum(a))]) expect(r.every(Number.isNaN)).toBe(true);
  });

  test('pow: x^0 is 1 with gradient 0 (also at 0 and NaN); x^2 at 0 has gradient 0; a negative base needs an integer exponent', async () => {
    const x = tensor([0, -0, 2, -2, NaN], { requiresGrad: true });
    const y = x.pow(0);
    expect(await values(y)).toEqual([1, 1, 1, 1, 1]);
    y.sum().backward();
    expect(await gradOf(x)).toEqual([0, 0, 0, 0, 0]);
    const z = tensor([0, -3], { requiresGrad: true });
    z.pow(2).sum().backward();
    expect(await gradOf(z)).toEqual([0, -6]);
    const r = await values(tensor([-8, -2, -2, 0, -0]).pow(tensor([1 / 3, 3, -2, -1, -1])));
    expect(Number.isNaN(r[0])).toBe(true);
    expect(r.slice(1)).toEqual([-8, 0.25, Infinity, -Infinity]);
  });

  test('pow with a tensor exponent: the exponent gradient is 0 where the base is 0 and the exponent >= 0, ln(base)·x^e elsewhere', async () => {
    const base = tensor([0, 0, 2, 3], { requiresGrad: true });
    const exponent = tensor([0, 2, 3, 0.5], { requiresGrad: true });
    base.pow(exponent).sum().backward();
    const ge = await gradOf(exponent);
    expect(ge.slice(0, 2)).toEqual([0, 0]);
    expect(ge[2]).toBeCloseTo(8 * Math.log(2), 4);
    expect(ge[3]).toBeCloseTo(Math.sqrt(3) * Math.log(3), 5);
    const gb = await gradOf(base);
    expect(gb.slice(0, 3)).toEqual([0, 0, 12]);
    expect(gb[3]).toBeCloseTo(0.5 / Math.sqrt(3), 6);
  });

  test('clamp: the gradient passes inside the closed range, NaN stays NaN and gets none, either bound may be omitted', async () => {
    const x = tensor([-2, -1, 0, 1, 2, NaN], { requiresGrad: true });
    const y = x.clamp(-1, 1);
    const v = await values(y);
    expect(v.slice(0, 5)).toEqual([-1, -1, 0, 1, 1]);
    expect(Number.isNaN(v[5])).toBe(true);
    y.sum().backward();
    expect(await gradOf(x)).toEqual([0, 1, 1, 1, 0, 0]);
    expect((await values(tensor([-2, 0, 2]).clamp(null, 1))).slice(0, 3)).toEqual([-2, 0, 1]);
    expect(await values(tensor([-2, 0, 2]).clamp(-1))).toEqual([-1, 0, 2]);
    // A NaN bound makes every result NaN, as in PyTorch.
    expect((await values(tensor([-2, 0, 2]).clamp(Number.NaN, 1))).every(Number.isNaN)).toBe(true);
    expect((await values(tensor([-2, 0, 2]).clamp(null, Number.NaN))).every(Number.isNaN)).toBe(true);
    // min > max: everything becomes max, as in PyTorch.
    expect(await values(tensor([-2, 0, 2]).clamp(1, -1))).toEqual([-1, -1, -1]);
  });
});

test('t.div(number) is a true division (x / 3 rounded once), not x · (1/3)', async () => {
  const xs = Array.from({ length: 200 }, (_, i) => Math.fround(i * 0.37 + 0.1));
  expect(await values(tensor(xs).div(3))).toEqual(xs.map((x) => Math.fround(x / 3)));
  const d = await values(tensor([1, -1, 0]).div(tensor([0])));
  expect(d.slice(0, 2)).toEqual([Infinity, -Infinity]);
  expect(Number.isNaN(d[2])).toBe(true);
});

test('softplus with beta and threshold passes gradcheck and matches log(1 + exp(beta·x)) / beta', async () => {
  const xs = [-3, -0.5, 0.1, 0.7, 2.5];
  const got = await values(nn.functional.softplus(tensor(xs), { beta: 2, threshold: 3 }));
  xs.forEach((x, i) => {
    const want = 2 * x > 3 ? x : Math.log1p(Math.exp(2 * x)) / 2;
    expect(got[i]).toBeCloseTo(want, 6);
  });
  const result = await gradcheck((t) => nn.functional.softplus(t, { beta: 2, threshold: 3 }), [tensor(xs)]);
  expect(result.passed).toBe(true);
});

test('GELU, Tanh and Sigmoid layers compute their functions and have no parameters', async () => {
  const x = tensor([-2, -0.5, 0, 0.5, 2]);
  expect(await values(new nn.GELU().forward(x))).toEqual(await values(nn.functional.gelu(x)));
  expect(await values(new nn.GELU({ approximate: 'tanh' }).forward(x))).toEqual(await values(nn.functional.gelu(x, { approximate: 'tanh' })));
  expect(await values(new nn.Tanh().forward(x))).toEqual(await values(x.tanh()));
  expect(await values(new nn.Sigmoid().forward(x))).toEqual(await values(x.sigmoid()));
  expect(new nn.Sequential(new nn.GELU(), new nn.Tanh(), new nn.Sigmoid()).parameters()).toEqual([]);
});

test('the functions (torch.exp style) equal the Tensor methods', async () => {
  const x = tensor([0.25, 1.5, 3]);
  const y = tensor([1, 0.5, 3]);
  const pairs: [Tensor, Tensor][] = [
    [webgrad.neg(x), x.neg()],
    [webgrad.abs(x), x.abs()],
    [webgrad.exp(x), x.exp()],
    [webgrad.log(x), x.log()],
    [webgrad.log1p(x), x.log1p()],
    [webgrad.sqrt(x), x.sqrt()],
    [webgrad.rsqrt(x), x.rsqrt()],
    [webgrad.square(x), x.square()],
    [webgrad.sin(x), x.sin()],
    [webgrad.cos(x), x.cos()],
    [webgrad.tanh(x), x.tanh()],
    [webgrad.sigmoid(x), x.sigmoid()],
    [webgrad.clamp(x, 0.5, 2), x.clamp(0.5, 2)],
    [webgrad.div(x, y), x.div(y)],
    [webgrad.div(x, 3), x.div(3)],
    [webgrad.pow(x, y), x.pow(y)],
    [webgrad.pow(x, 2), x.pow(2)],
    [webgrad.maximum(x, y), x.maximum(y)],
    [webgrad.minimum(x, y), x.minimum(y)],
  ];
  for (const [f, m] of pairs) expect(await values(f)).toEqual(await values(m));
  expect(() => webgrad.exp([1] as never)).toThrow(/exp: argument 'input' must be a Tensor, got/);
});

test.each([
  ['clamp without bounds', () => tensor([1]).clamp(), /clamp: at least one of 'min' and 'max' must be given/],
  ['clamp with a string bound', () => tensor([1]).clamp('0' as never), /clamp: argument 'min' must be a number or null, got/],
  ['pow with an array exponent', () => tensor([1]).pow([2] as never), /pow: argument 'exponent' must be a Tensor or a number/],
  ['div by a string', () => tensor([1]).div('2' as never), /div: argument 'other' must be a Tensor or a number/],
  ['maximum with a number', () => tensor([1]).maximum(2 as never), /maximum: argument 'other' must be a Tensor/],
  [
    'gelu with a bad approximate',
    () => nn.functional.gelu(tensor([1]), { approximate: 'erf' as never }),
    /gelu: argument 'approximate' must be 'none' or 'tanh'/,
  ],
  ['GELU with a bad approximate', () => new nn.GELU({ approximate: 'fast' as never }), /GELU: argument 'approximate' must be 'none' or 'tanh'/],
  ['softplus with beta 0', () => nn.functional.softplus(tensor([1]), { beta: 0 }), /softplus: argument beta must not be 0/],
] as const)('%s is a ValueError naming the argument', (_label, run, message) => {
  expect(run).toThrow(ValueError);
  expect(run).toThrow(message);
});
