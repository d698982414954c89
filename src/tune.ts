// tuneMatmul(): a short autotune of the matmul kernel on this device. Each candidate of
// MATMUL_CANDIDATES that fits the device's limits multiplies the seed network's training shapes
// and a square product; the fastest total wins, becomes this runtime's variant, and is cached per
// adapter (localStorage in browsers), so a page tunes once per device.
import { runtime, sync } from './runtime/runtime.js';
import { rand } from './creation.js';
import type { Tensor } from './tensor.js';
import {
  MATMUL_CANDIDATES, describeVariant, rememberMatmulVariant, rememberedMatmulVariant, variantFits, type MatmulVariant,
} from './ops/matmul_tuning.js';

export type { MatmulVariant } from './ops/matmul_tuning.js';

/** What tuneMatmul() measured: milliseconds per candidate (for all shapes), and the winner. */
export interface MatmulTuning {
  chosen: MatmulVariant;
  /** Candidate description → total milliseconds over the shapes (median of the repetitions); empty when a remembered result was reused. */
  timings: Record<string, number>;
  /** True when this adapter had been tuned before and nothing was timed. */
  reused: boolean;
}

/** [M, K, N, transposed A] — the seed network's forward and weight-gradient products, and 256³. */
const SHAPES: [number, number, number, boolean][] = [
  [64, 784, 128, false],
  [128, 64, 784, true],
  [256, 256, 256, false],
];

/**
 * Times each matmul variant on this device (about a second on a software adapter, far less on a
 * GPU) and keeps the fastest for every later matmul and linear layer. Call it once after init();
 * the result is remembered for the adapter (localStorage in a browser), and a later call reuses it
 * unless `force` is set.
 */
export async function tuneMatmul(options: { repetitions?: number; force?: boolean } = {}): Promise<MatmulTuning> {
  const rt = runtime();
  const remembered = options.force ? null : rememberedMatmulVariant(rt.ctx.adapter);
  if (remembered) {
    rt.matmulVariant = remembered;
    return { chosen: remembered, timings: {}, reused: true };
  }
  const repetitions = options.repetitions ?? 3;
  const before = rt.matmulVariant;
  const operands = SHAPES.map(([M, K, N, ta]) => {
    const a = (ta ? rand([K, M], { seed: 1 }).keep() : rand([M, K], { seed: 1 }).keep());
    const b = rand([K, N], { seed: 2 }).keep();
    return { a, b, ta };
  });
  const timings: Record<string, number> = {};
  let best: { v: MatmulVariant; ms: number } | null = null;
  try {
    for (const v of MATMUL_CANDIDATES) {
      if (!variantFits(rt, v)) continue;
      rt.matmulVariant = v;
      const runOnce = async (): Promise<number> => {
        const outs: Tensor[] = [];
        const t0 = performance.now();
        for (const { a, b, ta } of operands) outs.push((ta ? a.transpose() : a).matmul(b));
        await sync();
        const ms = performance.now() - t0;
        outs.forEach((t) => t.dispose());
        return ms;
      };
      await runOnce(); // compiles the pipeline
      const times: number[] = [];
      for (let r = 0; r < repetitions; r++) times.push(await runOnce());
      times.sort((x, y) => x - y);
      const ms = times[Math.floor(times.length / 2)]!;
      timings[describeVariant(v)] = ms;
      if (!best || ms < best.ms) best = { v, ms };
    }
  } catch (err) {
    rt.matmulVariant = before;
    throw err;
  } finally {
    operands.forEach(({ a, b }) => {
      a.dispose();
      b.dispose();
    });
  }
  rt.matmulVariant = best!.v;
  rememberMatmulVariant(rt.ctx.adapter, best!.v);
  return { chosen: best!.v, timings, reused: false };
}

/** The matmul variant in use (the adapter table's, or the one tuneMatmul() chose). */
export function matmulVariant(): MatmulVariant {
  return { ...runtime().matmulVariant };
}
