// Hostile use of the "pack" that fusion writes held results into (src/runtime/fusion.ts): when a
// fused group has several results that only tensors hold (eager intermediates not yet collected),
// they share one binding, each result a part of one pack buffer. Every part must read back its own
// values, survive any order of disposal and any later use (views, matmul, reductions, in-place
// optimizer updates, host writes, gpuBuffer, captured steps) without touching its neighbours, and
// all memory must come back. Values are checked against float64 references computed on the host
// (every step rounded to float32, so the chains below are exact), never against webgrad itself.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, test } from 'vitest';
import {
  captureStep,
  counters,
  detectAnomaly,
  type MemoryInfo,
  memory,
  optim,
  realize,
  setFusion,
  sync,
  type Tensor,
  tensor,
  tidy,
} from '../src/index.js';
import { Generator } from '../src/random.js';
import { runtime } from '../src/runtime/runtime.js';

afterEach(() => {
  setFusion(true);
  detectAnomaly(false);
});

// The garbage collector, as tests/eager_dispatch.test.ts reaches it: a context made after the flag has `gc`.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Collects until memory() stops changing: FinalizationRegistry callbacks run in later tasks. */
async function collect(): Promise<MemoryInfo> {
  let last = memory();
  for (let round = 0; round < 20; round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
    realize();
    await sync();
    const now = memory();
    if (round >= 3 && now.liveTensors === last.liveTensors && now.liveBuffers === last.liveBuffers && now.bytesInUse === last.bytesInUse) return now;
    last = now;
  }
  return last;
}

const f32 = Math.fround;

/** One step of the test chains on the GPU and on the host (float32 rounding each step: exact). */
const STEPS: { gpu: (t: Tensor) => Tensor; host: (v: number) => number }[] = [
  { gpu: (t) => t.add(1), host: (v) => f32(v + 1) },
  { gpu: (t) => t.mul(0.5), host: (v) => f32(v * 0.5) },
  { gpu: (t) => t.sub(0.75), host: (v) => f32(v - 0.75) },
  { gpu: (t) => t.abs(), host: (v) => Math.abs(v) },
  { gpu: (t) => t.mul(-1.25), host: (v) => f32(v * -1.25) },
];

/** `length` chained steps on x, every intermediate returned (and so held). */
function heldChain(x: Tensor, length: number, first = 0): Tensor[] {
  const out: Tensor[] = [];
  let y = x;
  for (let i = 0; i < length; i++) {
    y = STEPS[(first + i) % STEPS.length]!.gpu(y);
    out.push(y);
  }
  return out;
}

/** The same chain on the host: the values after each step. */
function chainReference(values: ArrayLike<number>, length: number, first = 0): Float64Array[] {
  const out: Float64Array[] = [];
  let v = Float64Array.from(values);
  for (let i = 0; i < length; i++) {
    const step = STEPS[(first + i) % STEPS.length]!.host;
    v = v.map(step);
    out.push(v);
  }
  return out;
}

/** Distinct, float32-exact inputs of any size. */
const inputValues = (n: number, seed = 1): Float32Array => {
  const g = new Generator(seed);
  return Float32Array.from({ length: n }, () => f32((g.uniform() * 2 - 1) * 8));
};

/** '' when equal element for element, else where they first differ. */
function mismatch(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tolerance = 0): string {
  if (got.length !== want.length) return `${what}: ${got.length} elements, expected ${want.length}`;
  for (let i = 0; i < got.length; i++) {
    const ok = tolerance === 0 ? got[i] === want[i] : Math.abs(got[i]! - want[i]!) <= tolerance * Math.max(1, Math.abs(want[i]!));
    if (!ok) return `${what}[${i}] = ${got[i]}, expected ${want[i]}`;
  }
  return '';
}

/** Reads every tensor and compares it with its reference; returns the first mismatch or ''. */
async function check(ts: readonly Tensor[], refs: readonly ArrayLike<number>[], label: string): Promise<string> {
  for (let k = 0; k < ts.length; k++) {
    const m = mismatch(await ts[k]!.data(), refs[k]!, `${label} ${k}`);
    if (m) return m;
  }
  return '';
}

/** Dispatches run by the work recorded in fn (flushed before and after). */
function dispatchesOf<T>(fn: () => T): { result: T; dispatches: number } {
  realize();
  const before = counters().dispatches;
  const result = fn();
  realize();
  return { result, dispatches: counters().dispatches - before };
}

const CHAIN = 200;
/** Kernels a chain of held results took before packs: one input and (storage bindings - 1) outputs each. */
const unpackedKernels = (length: number): number => Math.ceil(length / (runtime().ctx.limits.maxStorageBuffersPerShaderStage - 1));

describe('a chain of 200 eager ops with every intermediate held', () => {
  // 16384 elements are 64 KiB per result; 16385 are just over.
  const SIZES = [1, 3, 257, 1000, 4096, 16384, 16385];
  test.each(SIZES)('%i elements: every intermediate reads back its own values, in few dispatches, and memory comes back', async (n) => {
    const base = await collect();
    const values = inputValues(n, n);
    const x = tensor(values);
    const { result: ys, dispatches } = dispatchesOf(() => heldChain(x, CHAIN));
    if (n <= 257) expect(dispatches).toBe(1);
    // Sharing a binding must never take more kernels than a binding per result did.
    expect(dispatches).toBeLessThanOrEqual(unpackedKernels(CHAIN));
    expect(await check(ys, chainReference(values, CHAIN), 'intermediate')).toBe('');
    for (const t of [x, ...ys]) t.dispose();
    const after = memory();
    expect({ liveBuffers: after.liveBuffers, bytesInUse: after.bytesInUse }).toEqual({ liveBuffers: base.liveBuffers, bytesInUse: base.bytesInUse });
  });
});
