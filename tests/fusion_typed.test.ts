// Automatic fusion beyond float32 maps: comparisons, casts, where and maskedFill (bool and int32
// values in registers), groups that stay open across independent dispatches, and reductions
// that compute their elementwise producers inline. Fused results must be the unfused ones bit for
// bit (the op table's cases, forward and backward), match float64 references where values are
// asserted, and leave memory flat.
import { afterEach, describe, expect, test } from 'vitest';
import { apply } from '../src/autograd.js';
import { counters, memory, noGrad, realize, setFusion, type Tensor, tensor, tidy } from '../src/index.js';
import { castValue } from '../src/ops/cast.js';
import type { OpName } from '../src/ops/table.js';
import { Generator } from '../src/random.js';
import { rng, toGpu } from './helpers.js';
import { opTable } from './op_table.js';

afterEach(() => setFusion(true));

const TYPED: OpName[] = ['to', 'compare', 'compareScalar', 'where', 'maskedFill'];

/** The 32-bit words of any tensor's values. */
const words = (a: Float32Array | Int32Array): Uint32Array => new Uint32Array(a.slice().buffer);

function firstDifference(a: Uint32Array[], b: Uint32Array[]): string {
  if (a.length !== b.length) return `${a.length} vs ${b.length} results`;
  for (let r = 0; r < a.length; r++) {
    if (a[r]!.length !== b[r]!.length) return `result ${r}: ${a[r]!.length} vs ${b[r]!.length} elements`;
    for (let i = 0; i < a[r]!.length; i++) if (a[r]![i] !== b[r]![i]) return `result ${r}[${i}]: ${a[r]![i]} vs ${b[r]![i]}`;
  }
  return '';
}

/** An exact map of a value into the same dtype, so the op's inputs come from a map fusion can join. */
const passThrough = (t: Tensor): Tensor => (t.dtype === 'float32' ? t.mul(1) : t.dtype === 'int32' ? t.to('float32').to('int32') : t.to('int32').to('bool'));

/**
 * The op between maps of its input and output types: its float inputs carry gradients, a float
 * result goes through further float maps and backward, a bool or int32 result through casts and a
 * comparison. Returns the bits of the op's result, the tail's and every gradient.
 */
async function chained(name: OpName, c: { inputs: Parameters<typeof toGpu>[0][]; attrs: unknown }, fused: boolean): Promise<Uint32Array[]> {
  setFusion(fused);
  const leaves = c.inputs.map((x) => toGpu(x, (x.value.dtype ?? 'float32') === 'float32' && opTable[name].differentiable));
  const result = tidy(() => {
    const y = apply(name, leaves.map(passThrough), c.attrs as never);
    if (y.dtype !== 'float32') {
      const f = y.to('float32');
      return [y, f.mul(3).add(f.gt(0.5).to('float32'))];
    }
    const z = y.mul(0.5).add(y).sub(y.square());
    const grads = leaves.filter((t) => t.requiresGrad);
    if (grads.length > 0) {
      const g = new Generator(11);
      const u = tensor(
        new Float32Array(z.size).map(() => g.uniform() - 0.5),
        { shape: z.shape },
      );
      z.mul(u).sum().backward();
    }
    return [y, z, ...grads.map((t) => t.grad!)];
  });
  const out = await Promise.all(result.map(async (t) => words(await t.data())));
  for (const t of [...result, ...leaves]) t.dispose();
  return out;
}

describe.each(TYPED)('%s fused equals unfused bit for bit', (name) => {
  const cases = opTable[name].cases(rng(5000 + TYPED.indexOf(name))).filter((c) => !c.label.includes('over a million'));
  test.each(cases.map((c, i) => [i, c.label] as const))('case %i: %s', async (i) => {
    const c = cases[i]!;
    const unfused = await chained(name, c, false);
    const fused = await chained(name, c, true);
    expect(firstDifference(fused, unfused)).toBe('');
  });
});

describe('comparisons, casts, where and maskedFill inside one kernel', () => {
  const X = [Number.NaN, Infinity, -Infinity, -0, 0.5, -2.75, 3e9, 1.5e9, 2.5, 7, -1, -1];
  const MASK = [0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1];
  /** The float64 reference of the chain below, with float32 rounding where a float32 value is stored. */
  const reference = X.map((x0, k) => {
    const x = Math.fround(x0);
    const a = x > 0 ? Math.fround(2 * x) : -1;
    const b = MASK[k] ? 7 : Math.fround(castValue(a, 'int32'));
    return Math.fround((b === x ? 1 : 0) + b);
  });
  const chain = (x: Tensor, mask: Tensor): Tensor =>
    tidy(() => {
      const a = x.mul(2).where(x.gt(0), -1);
      const b = a.to('int32').to('float32').maskedFill(mask, 7);
      return b.eq(x).to('float32').add(b);
    });

  test('NaN compares false, casts saturate, and the chain is one kernel besides its two scalar fills', async () => {
    const x = tensor(X);
    const mask = tensor(MASK, { dtype: 'bool' });
    realize();
    const before = counters().dispatches;
    const y = chain(x, mask);
    const out = await y.data();
    // Unfused: gt, mul, fill, where, two casts, fill, where, eq, cast, add (11).
    expect(counters().dispatches - before).toBe(3);
    expect(Array.from(out)).toEqual(reference);
    for (const t of [x, mask, y]) t.dispose();
  });

  test('a kept bool intermediate is written, and equals its unfused value', async () => {
    const results: Uint32Array[][] = [];
    for (const fused of [false, true]) {
      setFusion(fused);
      const x = tensor(X);
      const positive = tidy(() => x.mul(3).gt(1));
      const y = tidy(() => x.where(positive, 0).add(positive.to('float32')));
      results.push([words(await positive.data()), words(await y.data())]);
      for (const t of [x, positive, y]) t.dispose();
    }
    expect(firstDifference(results[1]!, results[0]!)).toBe('');
    expect(Array.from(results[1]![0]!)).toEqual(X.map((v) => (Math.fround(3 * v) > 1 ? 1 : 0)));
  });
});

/**
 * The reduction with an elementwise prologue that reads its input twice, (x·0.5 + x)·x, under
 * gradients (the product's inputs are kept for backward, so the prologue writes them too).
 */
async function withPrologue(name: OpName, c: { inputs: Parameters<typeof toGpu>[0][]; attrs: unknown }, fused: boolean): Promise<Uint32Array[]> {
  setFusion(fused);
  const x = toGpu(c.inputs[0]!, true);
  const result = tidy(() => {
    const y = apply(name, [x.mul(0.5).add(x).mul(x)], c.attrs as never);
    const g = new Generator(13);
    const u = tensor(
      new Float32Array(y.size).map(() => g.uniform() - 0.5),
      { shape: y.shape },
    );
    y.mul(u).sum().backward();
    return [y, x.grad!];
  });
  const out = await Promise.all(result.map(async (t) => words(await t.data())));
  for (const t of [...result, x]) t.dispose();
  return out;
}

describe.each(['sum', 'mean'] as OpName[])('%s with an elementwise prologue, fused equals unfused bit for bit', (name) => {
  const cases = opTable[name].cases(rng(6000 + name.length)).filter((c) => !c.label.includes('over a million') && !c.label.includes('a million'));
  test.each(cases.map((c, i) => [i, c.label] as const))('case %i: %s', async (i) => {
    const c = cases[i]!;
    const unfused = await withPrologue(name, c, false);
    const fused = await withPrologue(name, c, true);
    expect(firstDifference(fused, unfused)).toBe('');
  });
});

describe('reductions compute their elementwise producers inline', () => {
  const A = Array.from({ length: 1000 }, (_, i) => Math.fround(Math.sin(i) * 3));
  const B = Array.from({ length: 1000 }, (_, i) => Math.fround(Math.cos(i * 0.7)));

  test('(a - b).square().sum() and the mean of a product are one dispatch each, and match float64', async () => {
    const a = tensor(A, { shape: [40, 25] });
    const b = tensor(B, { shape: [40, 25] });
    realize();
    const before = counters().dispatches;
    const [squares, means] = tidy(() => noGrad(() => [a.sub(b).square().sum(), a.mul(b).mean(1)]));
    const [s, m] = [await squares.data(), await means.data()];
    // Unfused: sub, square, sum, mul, mean (5).
    expect(counters().dispatches - before).toBe(2);
    const s64 = A.reduce((acc, v, i) => acc + Math.fround(Math.fround(v - B[i]!) ** 2), 0);
    expect(Math.abs(s[0]! - s64) / s64).toBeLessThan(1e-6);
    for (let r = 0; r < 40; r++) {
      let m64 = 0;
      for (let k = 0; k < 25; k++) m64 += Math.fround(A[r * 25 + k]! * B[r * 25 + k]!);
      expect(m[r]!).toBeCloseTo(m64 / 25, 5);
    }
    for (const t of [a, b, squares, means]) t.dispose();
  });

  test('an intermediate a tensor still holds is written by the reduction, with its own values', async () => {
    const a = tensor(A);
    const b = tensor(B);
    realize();
    const before = counters().dispatches;
    const d = a.sub(b);
    const total = tidy(() => d.square().sum());
    const [dd, t] = [await d.data(), await total.data()];
    expect(counters().dispatches - before).toBe(1);
    expect(Array.from(dd)).toEqual(A.map((v, i) => Math.fround(v - B[i]!)));
    const t64 = A.reduce((acc, v, i) => acc + Math.fround(Math.fround(v - B[i]!) ** 2), 0);
    expect(Math.abs(t[0]! - t64) / t64).toBeLessThan(1e-6);
    for (const x of [a, b, d, total]) x.dispose();
  });
});

describe('memory', () => {
  test('stays flat over 10,000 small eager chains in tidy', async () => {
    const x = tensor(Float32Array.from({ length: 64 }, (_, i) => i - 32));
    const mask = tensor(
      Int32Array.from({ length: 64 }, (_, i) => i % 3),
      { dtype: 'bool' },
    );
    const run = (): Tensor => tidy(() => x.add(1).maskedFill(mask, 0).gt(2).to('float32'));
    for (let i = 0; i < 20; i++) run().dispose();
    await x.data();
    const before = memory();
    let last = Number.NaN;
    for (let i = 0; i < 10_000; i++) {
      const y = run();
      // Each chain is its own flush, as an eager program's would be; a readback now and then.
      if (i % 1000 === 999) last = (await y.data())[42]!;
      else realize();
      y.dispose();
    }
    const after = memory();
    // Element 42: 42 % 3 = 0 is not masked, and 42 - 32 + 1 > 2.
    expect(last).toBe(1);
    expect(after.liveTensors).toBeLessThanOrEqual(before.liveTensors);
    expect(after.liveBuffers).toBeLessThanOrEqual(before.liveBuffers);
    expect(after.bytesInUse).toBeLessThanOrEqual(before.bytesInUse);
    for (const t of [x, mask]) t.dispose();
  });
});
