// tuneMatmul(): a short autotune of the matmul kernel on this device. Each candidate of
// MATMUL_CANDIDATES that fits the device's limits multiplies a 784-128-10 MLP's training shapes
// and a square product; the best (see SHAPES) becomes this runtime's variant and is cached per
// adapter (localStorage in browsers), so a page tunes once per device.

import { rand } from './creation.js';
import { describeVariant, MATMUL_CANDIDATES, variantFits } from './ops/matmul_tuning.js';
import { MATMUL_MEMORY_KEY, type MatmulVariant } from './runtime/profile.js';
import { runtime, sync } from './runtime/runtime.js';
import type { Tensor } from './tensor.js';

export type { MatmulVariant } from './ops/matmul_tuning.js';

/** What tuneMatmul() measured, and the winner. */
export interface MatmulTuning {
  /** The variant now in use. */
  chosen: MatmulVariant;
  /**
   * Candidate description → milliseconds per shape (median of the repetitions; one timing for the largest products), in the order of
   * `shapes`; empty when a remembered result was reused.
   */
  timings: Record<string, number[]>;
  /** The products timed, as "M×K·K×N". */
  shapes: string[];
  /** True when this adapter had been tuned before and nothing was timed. */
  reused: boolean;
}

/**
 * [M, K, N, transposed A]: an MLP's (784-128-10) forward and weight-gradient products at batch 64,
 * at batch 1 and at batch 512, and 256³. Small and large products favour different workgroup
 * shapes, so each counts the same: a candidate's score is the sum over shapes of its time ÷ the
 * best time there. The large ones decide the largest register block: small products get smaller
 * blocks whatever the variant allows (vec4Block), so they cannot tell 8×8 from 16×16 apart — a
 * tuning without the batch-512 products chose 8×8 blocks on noise and trained the full-batch MLP
 * at 7,020 samples/s against 8,652–8,962 with 16×16 (SwiftShader, bench/RESULTS.md session 9).
 */
const SHAPES: [number, number, number, boolean][] = [
  [64, 784, 128, false],
  [128, 64, 784, true],
  [1, 784, 128, false],
  [128, 1, 784, true],
  [256, 256, 256, false],
  [512, 784, 128, false],
  [128, 512, 784, true],
];

/** Products of this many multiply-adds are timed once after the warming run, not `repetitions` times: they take tens of milliseconds on a software adapter, far above the clock's resolution, and the tuning stays short. */
const LONG_PRODUCT_MACS = 2 ** 25;

/**
 * Times each matmul variant on this device (a second or two on a software adapter, far less on a
 * GPU) and keeps the best for every later matmul and linear layer. Call it once after init();
 * the result is remembered for the adapter (localStorage in a browser), and a later call reuses it
 * unless `force` is set.
 */
export async function tuneMatmul(options: { repetitions?: number; force?: boolean } = {}): Promise<MatmulTuning> {
  const rt = runtime();
  const shapes = SHAPES.map(([M, K, N]) => `${M}×${K}·${K}×${N}`);
  const remembered = options.force ? null : rememberedVariant(rt.profile.memory.recall(MATMUL_MEMORY_KEY));
  if (remembered) {
    rt.profile.matmul = remembered;
    return { chosen: remembered, timings: {}, shapes, reused: true };
  }
  const repetitions = options.repetitions ?? 3;
  const before = rt.profile.matmul;
  const operands = SHAPES.map(([M, K, N, ta]) => ({
    a: (ta ? rand([K, M], { seed: 1 }) : rand([M, K], { seed: 1 })).keep(),
    b: rand([K, N], { seed: 2 }).keep(),
    ta,
  }));
  // Small products take microseconds: each timing repeats one enough times to be measurable.
  const repeats = SHAPES.map(([M, K, N]) => Math.max(1, Math.min(32, Math.round(2e6 / (M * K * N)))));
  const timings: Record<string, number[]> = {};
  const candidates = MATMUL_CANDIDATES.filter((v) => variantFits(rt, v));
  try {
    for (const v of candidates) {
      rt.profile.matmul = v;
      const time = async (i: number): Promise<number> => {
        const { a, b, ta } = operands[i]!;
        const outs: Tensor[] = [];
        const t0 = performance.now();
        for (let r = 0; r < repeats[i]!; r++) outs.push((ta ? a.transpose() : a).matmul(b));
        await sync();
        const ms = (performance.now() - t0) / repeats[i]!;
        outs.forEach((t) => t.dispose());
        return ms;
      };
      const perShape: number[] = [];
      for (let i = 0; i < SHAPES.length; i++) {
        await time(i); // compiles the pipeline, warms the caches
        const times: number[] = [];
        const [M, K, N] = SHAPES[i]!;
        const runs = M * K * N >= LONG_PRODUCT_MACS ? 1 : repetitions;
        for (let r = 0; r < runs; r++) times.push(await time(i));
        times.sort((x, y) => x - y);
        perShape.push(times[Math.floor(times.length / 2)]!);
      }
      timings[describeVariant(v)] = perShape;
    }
  } catch (err) {
    rt.profile.matmul = before;
    throw err;
  } finally {
    operands.forEach(({ a, b }) => {
      a.dispose();
      b.dispose();
    });
  }
  const bestPerShape = SHAPES.map((_, i) => Math.min(...candidates.map((v) => timings[describeVariant(v)]![i]!)));
  const score = (v: MatmulVariant): number => timings[describeVariant(v)]!.reduce((sum, t, i) => sum + t / bestPerShape[i]!, 0);
  const chosen = candidates.reduce((best, v) => (score(v) < score(best) ? v : best));
  rt.profile.matmul = chosen;
  rt.profile.memory.remember(MATMUL_MEMORY_KEY, JSON.stringify(chosen));
  return { chosen, timings, shapes, reused: false };
}

/** The matmul variant in use (the adapter table's, or the one tuneMatmul() chose). */
export function matmulVariant(): MatmulVariant {
  return { ...runtime().profile.matmul };
}

/** A remembered tuning, if it names one of today's candidates. */
function rememberedVariant(text: string | null): MatmulVariant | null {
  if (!text) return null;
  try {
    const wanted = describeVariant(JSON.parse(text) as MatmulVariant);
    return MATMUL_CANDIDATES.find((c) => describeVariant(c) === wanted) ?? null;
  } catch {
    return null;
  }
}
