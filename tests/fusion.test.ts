// Automatic fusion of elementwise maps at flush: results must be the unfused ones bit for bit
// (every elementwise op of the op table, forward and backward, eager and captured), a chain of
// small eager ops must become a handful of dispatches, and memory must stay flat.
import { afterEach, describe, expect, test } from 'vitest';
import { apply } from '../src/autograd.js';
import { captureStep, counters, memory, nn, optim, setFusion, type Tensor, tensor, tidy } from '../src/index.js';
import type { OpName } from '../src/ops/table.js';
import { Generator } from '../src/random.js';
import { runtime } from '../src/runtime/runtime.js';
import { rng, toGpu } from './helpers.js';
import { opTable } from './op_table.js';

afterEach(() => setFusion(true));

const ELEMENTWISE: OpName[] = [
  'add',
  'sub',
  'mul',
  'div',
  'pow',
  'maximum',
  'minimum',
  'scale',
  'addScalar',
  'divScalar',
  'powScalar',
  'relu',
  'abs',
  'exp',
  'log',
  'log1p',
  'sqrt',
  'rsqrt',
  'square',
  'sin',
  'cos',
  'tanh',
  'sigmoid',
  'silu',
  'gelu',
  'softplus',
  'clamp',
];

const bits = (a: Float32Array | Int32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** The first place where two lists of bit patterns differ ('' when equal): cheap on a million elements. */
function firstDifference(a: Uint32Array[], b: Uint32Array[]): string {
  if (a.length !== b.length) return `${a.length} vs ${b.length} results`;
  for (let r = 0; r < a.length; r++) {
    if (a[r]!.length !== b[r]!.length) return `result ${r}: ${a[r]!.length} vs ${b[r]!.length} elements`;
    for (let i = 0; i < a[r]!.length; i++) if (a[r]![i] !== b[r]![i]) return `result ${r}[${i}]: ${a[r]![i]} vs ${b[r]![i]}`;
  }
  return '';
}

/**
 * The op inside a chain of maps (so fusion has something to fuse): each input is scaled by 1 first
 * (bit-exact), the result goes through further maps that read it twice. Returns the output's bits
 * and the inputs' gradients' bits under a random upstream gradient.
 */
async function chained(name: OpName, c: { inputs: Parameters<typeof toGpu>[0][]; attrs: unknown }, fused: boolean): Promise<Uint32Array[]> {
  setFusion(fused);
  const leaves = c.inputs.map((x) => toGpu(x, true));
  const result = tidy(() => {
    const pre = leaves.map((t) => t.mul(1));
    const y = apply(name, pre, c.attrs as never);
    const z = y.mul(0.5).add(y).sub(y.square());
    const g = new Generator(7);
    const u = tensor(
      new Float32Array(z.size).map(() => g.uniform() - 0.5),
      { shape: z.shape },
    );
    z.mul(u).sum().backward();
    return [z, ...leaves.map((t) => t.grad!)];
  });
  const out = await Promise.all(result.map(async (t) => new Uint32Array((await t.data()).slice().buffer)));
  for (const t of [...result, ...leaves]) t.dispose();
  return out;
}

describe.each(ELEMENTWISE)('%s fused equals unfused bit for bit', (name) => {
  // The op table's "over a million" cases test memory bandwidth, not the fused code (the same
  // kernel over more elements); leaving them out keeps this file's run time in CI small.
  const cases = opTable[name].cases(rng(4000 + ELEMENTWISE.indexOf(name))).filter((c) => !c.label.includes('over a million'));
  test.each(cases.map((c, i) => [i, c.label] as const))('case %i: %s', async (i) => {
    const c = cases[i]!;
    // Forward and backward (intermediates saved for backward are kept and written).
    const unfused = await chained(name, c, false);
    const fused = await chained(name, c, true);
    expect(firstDifference(fused, unfused)).toBe('');
  });
});

const CHAIN = 200;
const chainReference = (x0: number): number => {
  let v = x0;
  for (let i = 0; i < CHAIN; i++) v = i % 2 === 0 ? Math.fround(v + 1) : Math.fround(v * 0.5);
  return v;
};
const chain = (x: Tensor): Tensor => {
  let y = x;
  for (let i = 0; i < CHAIN; i++) y = i % 2 === 0 ? y.add(1) : y.mul(0.5);
  return y;
};

describe('a chain of 200 eager ops', () => {
  test('is one dispatch when its intermediates are released (tidy), and correct', async () => {
    const x = tensor(Float32Array.from({ length: 300 }, (_, i) => i - 150));
    runtime().scheduler.flush();
    const before = counters().dispatches;
    const y = tidy(() => chain(x));
    const out = await y.data();
    expect(counters().dispatches - before).toBe(1);
    expect(Array.from(out)).toEqual(Array.from({ length: 300 }, (_, i) => chainReference(i - 150)));
    x.dispose();
    y.dispose();
  });

  test('is one dispatch when every intermediate is still held, and writes every one of them', async () => {
    const x = tensor(Float32Array.from({ length: 256 }, (_, i) => i / 8 - 7));
    runtime().scheduler.flush();
    const before = counters().dispatches;
    const ys: Tensor[] = [];
    let y = x;
    for (let i = 0; i < CHAIN; i++) {
      y = i % 2 === 0 ? y.add(1) : y.mul(0.5);
      ys.push(y);
    }
    await y.data();
    // The held results share one pack binding, so the binding limit does not split the chain.
    expect(counters().dispatches - before).toBe(1);
    // Every intermediate has its own values, step by step in float32 from the input.
    const expected = Array.from({ length: 256 }, (_, j) => Math.fround(j / 8 - 7));
    for (let i = 0; i < CHAIN; i++) {
      for (let j = 0; j < 256; j++) expected[j] = i % 2 === 0 ? Math.fround(expected[j]! + 1) : Math.fround(expected[j]! * 0.5);
      expect(Array.from(await ys[i]!.data()), `intermediate ${i}`).toEqual(expected);
    }
    for (const t of ys) t.dispose();
    x.dispose();
  });

  test('memory stays flat over 1,000 chains', async () => {
    const x = tensor(Float32Array.from({ length: 256 }, (_, i) => i));
    const run = async (): Promise<void> => {
      const y = tidy(() => chain(x));
      await y.data();
      y.dispose();
    };
    for (let i = 0; i < 20; i++) await run();
    const before = memory();
    for (let i = 0; i < 1000; i++) await run();
    const after = memory();
    // Tensors left by earlier tests may be collected meanwhile: nothing may grow.
    expect(after.liveTensors).toBeLessThanOrEqual(before.liveTensors);
    expect(after.liveBuffers).toBeLessThanOrEqual(before.liveBuffers);
    expect(after.bytesInUse).toBeLessThanOrEqual(before.bytesInUse);
    x.dispose();
  });
});

describe('intermediates', () => {
  test('a kept intermediate is written and correct; one read elsewhere stays readable', async () => {
    const x = tensor([-2, -0.5, 0, 0.25, 3]);
    const kept = x.mul(3).add(1);
    const z = tidy(() => kept.exp().mul(kept).sigmoid());
    const [k, zz] = [await kept.data(), await z.data()];
    const k64 = [-2, -0.5, 0, 0.25, 3].map((v) => Math.fround(Math.fround(v * 3) + 1));
    expect(Array.from(k)).toEqual(k64);
    const ref = k64.map((v) => 1 / (1 + Math.exp(-Math.fround(Math.fround(Math.exp(v)) * v))));
    Array.from(zz).forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 6));
    for (const t of [x, kept, z]) t.dispose();
  });

  test('a transposed reader of an intermediate ends the group and still sees the right values', async () => {
    const results: number[][] = [];
    for (const fused of [false, true]) {
      setFusion(fused);
      const m = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], { shape: [3, 3] });
      const out = tidy(() => {
        // c is read transposed (same element count, another element): it must be in memory first.
        const c = m.mul(0.25).exp();
        return c.transpose(0, 1).add(c).mul(c);
      });
      results.push(bits(await out.data()));
      for (const t of [m, out]) t.dispose();
    }
    expect(results[1]).toEqual(results[0]);
  });
});

describe('inside captureStep', () => {
  test('a recorded step with fusion trains as the unfused eager step, bit for bit', async () => {
    const runs: number[][] = [];
    for (const [fused, captured] of [
      [false, false],
      [true, true],
    ] as const) {
      setFusion(fused);
      const model = new nn.Sequential(new nn.Linear(6, 8, { seed: 3 }), new nn.GELU(), new nn.Linear(8, 3, { seed: 4 }));
      const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
      const body = (x: Tensor, t: Tensor): Tensor => {
        opt.zeroGrad();
        // An elementwise tail worth fusing: (out·0.5 + 1)², a smooth loss.
        const out = model.forward(x);
        const loss = out.mul(0.5).add(1).sub(t).square().mean();
        loss.backward();
        opt.step();
        return loss;
      };
      const step = captured ? captureStep(body) : (x: Tensor, t: Tensor) => body(x, t).keep();
      const losses: number[] = [];
      for (let s = 0; s < 4; s++) {
        const g = new Generator(50 + s);
        const x = tensor(
          new Float32Array(5 * 6).map(() => g.uniform() * 2 - 1),
          { shape: [5, 6] },
        );
        const t = tensor(
          new Float32Array(5 * 3).map(() => g.uniform()),
          { shape: [5, 3] },
        );
        const loss = step(x, t);
        losses.push(...bits(await loss.data()));
        loss.dispose();
        x.dispose();
        t.dispose();
      }
      const weights = await Promise.all(model.parameters().map(async (p) => bits(await p.data())));
      runs.push([...losses, ...weights.flat()]);
      if ('dispose' in step) (step as { dispose(): void }).dispose();
    }
    expect(runs[1]).toEqual(runs[0]);
  });
});

describe('index arithmetic', () => {
  // Inputs contiguous in the output's order are read at offset + i without index arithmetic; the
  // others through their strides. Views at an offset, broadcasts and transposes mixed in one map.
  test.each([false, true])('views at offsets, broadcasts and transposes read the right elements (fusion %s)', async (fused) => {
    setFusion(fused);
    const base = Array.from({ length: 5 * 7 }, (_, i) => Math.sin(i) * 3);
    const x = tensor(base, { shape: [5, 7] });
    const row = tensor([0.5, -1, 2, 0.25, 4, -3, 1.5]);
    const out = tidy(() => {
      const tail = x.narrow(0, 2, 3); // rows 2–4: contiguous, offset 14
      const t = x.transpose(0, 1).narrow(1, 1, 3).transpose(0, 1); // rows 1–3 read through strides
      return tail.add(row).mul(t).sub(tail.exp());
    });
    const got = await out.data();
    const want: number[] = [];
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 7; c++) {
        const tail = Math.fround(base[(r + 2) * 7 + c]!);
        want.push((tail + [0.5, -1, 2, 0.25, 4, -3, 1.5][c]!) * Math.fround(base[(r + 1) * 7 + c]!) - Math.exp(tail));
      }
    }
    Array.from(got).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
    for (const t of [x, row, out]) t.dispose();
  });
});
