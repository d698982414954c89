// Every matmul variant tuneMatmul() may choose must be right on every shape class: the matmul,
// linear and product-sized conv2d cases of the op table (size 1, primes, just over a tile, transposed operands, the MLP's
// shapes, over a million outputs, a long K) against the float64 references, outputs pre-filled with
// NaN — run with each variant forced in turn. Then the tuner itself.
import { describe, expect, test } from 'vitest';
import { apply } from '../src/autograd.js';
import { matmulVariant, tidy, tuneMatmul } from '../src/index.js';
import { describeVariant, MATMUL_CANDIDATES, variantFits } from '../src/ops/matmul_tuning.js';
import { ops } from '../src/ops/table.js';
import { adapterKind, defaultMatmulVariant } from '../src/runtime/profile.js';
import { runtime } from '../src/runtime/runtime.js';
import { expectClose, rng, toGpu } from './helpers.js';
import { opTable } from './op_table.js';

// Candidates with blocks of 16 are SwiftShader's alone (profile.ts, largestRegisterBlock: lavapipe
// compiles each such pipeline for ~6 s); tests/browser/matmul.spec.ts runs them there.
const candidatesHere = MATMUL_CANDIDATES.filter((v) => Math.max(v.BLOCK_M ?? 4, v.BLOCK_N ?? 4) <= 8);

// conv2d's cases of 64 taps or more run as products (src/ops/conv_gemm.ts), the bias added per row
// in the product's epilogue (BIAS_PER_ROW) where there is one group.
const productCases = {
  matmul: () => true,
  linear: () => true,
  conv2d: (inputs: readonly { value: { shape: readonly number[] } }[]) => {
    const [, c, kh, kw] = inputs[1]!.value.shape;
    return c! * kh! * kw! >= 64;
  },
} as const;

describe.each(candidatesHere.map((v) => [describeVariant(v), v] as const))('matmul variant %s', (_label, variant) => {
  for (const name of ['matmul', 'linear', 'conv2d'] as const) {
    test(`${name}: every op-table case ${name === 'conv2d' ? 'that runs as a product ' : ''}matches the float64 reference`, async () => {
      const rt = runtime();
      const before = rt.profile.matmul;
      rt.profile.matmul = variant;
      try {
        const cases = opTable[name].cases(rng(77)).filter((c) => productCases[name](c.inputs));
        expect(cases.length).toBeGreaterThan(0);
        for (const c of cases) {
          const ref = ops[name].reference(
            c.inputs.map((x) => x.value),
            c.attrs as never,
          );
          const out = await tidy(() =>
            apply(
              name,
              c.inputs.map((x) => toGpu(x)),
              c.attrs as never,
            ),
          ).data();
          expectClose(out, ref.data, 1e-4, `${name} ${c.label}`);
        }
      } finally {
        rt.profile.matmul = before;
      }
    });
  }
});

test('tuneMatmul times every candidate, keeps the fastest, and matmuls stay right afterwards', async () => {
  const rt = runtime();
  const before = rt.profile.matmul;
  try {
    const result = await tuneMatmul({ repetitions: 1, force: true });
    expect(result.reused).toBe(false);
    const times = Object.entries(result.timings);
    expect(times.length).toBe(MATMUL_CANDIDATES.filter((v) => variantFits(rt, v)).length);
    expect(times.length).toBeGreaterThanOrEqual(candidatesHere.length);
    // The choice minimises the sum over shapes of time ÷ the best time for that shape.
    const best = result.shapes.map((_, i) => Math.min(...times.map(([, t]) => t[i]!)));
    const score = (t: number[]) => t.reduce((s, v, i) => s + v / best[i]!, 0);
    const winner = times.reduce((a, b) => (score(b[1]) < score(a[1]) ? b : a));
    expect(describeVariant(result.chosen)).toBe(winner[0]);
    expect(times.every(([, t]) => t.length === result.shapes.length && t.every((v) => v > 0))).toBe(true);
    expect(matmulVariant()).toEqual(result.chosen);
    const again = await tuneMatmul();
    expect(again.reused).toBe(true);
    expect(again.chosen).toEqual(result.chosen);
    const c = opTable.matmul.cases(rng(5))[6]!;
    const out = await tidy(() =>
      apply(
        'matmul',
        c.inputs.map((x) => toGpu(x)),
        {},
      ),
    ).data();
    expectClose(
      out,
      ops.matmul.reference(
        c.inputs.map((x) => x.value),
        {},
      ).data,
      1e-4,
      c.label,
    );
  } finally {
    rt.profile.matmul = before;
  }
});

test('the device profile gives software adapters the barrier-free kernel and GPUs the tiled one', () => {
  const names = (description: string) => ({ vendor: 'v', architecture: 'a', device: 'd', description });
  expect(adapterKind(names('llvmpipe (LLVM 15.0.6, 256 bits)'))).toBe('lavapipe');
  expect(adapterKind({ ...names(''), architecture: 'swiftshader' })).toBe('swiftshader');
  expect(adapterKind(names('NVIDIA H200'))).toBe('gpu');
  expect(adapterKind(names('NVIDIA H200'), true)).toBe('software');
  expect(defaultMatmulVariant('lavapipe').kernel).toBe('register');
  expect(defaultMatmulVariant('swiftshader').kernel).toBe('register');
  expect(defaultMatmulVariant('gpu').kernel).toBe('tiled');
  // Blocks of 16 only where they compile fast (SwiftShader); 4×8 on other software adapters.
  expect(defaultMatmulVariant('swiftshader')).toMatchObject({ BLOCK_M: 16, BLOCK_N: 16 });
  expect(defaultMatmulVariant('lavapipe')).toMatchObject({ BLOCK_M: 4, BLOCK_N: 8 });
  // The adapter in use here is a software one, and its profile says so.
  expect(runtime().profile.kind).not.toBe('gpu');
  expect(runtime().profile.adapter.isFallback).toBe(true);
});
