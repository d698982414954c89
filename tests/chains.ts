// Chains of eager ops and random eager programs with float64 host references, shared by the tests
// of packs (fusion_pack.test.ts) and of parked work (parking.test.ts). Every step is rounded to
// float32 on the host, so the chains are exact; values are never compared with webgrad itself.
import { expect } from 'vitest';
import { optim, realize, type Tensor, tensor } from '../src/index.js';
import { Generator } from '../src/random.js';
import { runtime } from '../src/runtime/runtime.js';
import { collect } from './gc.js';

export const f32 = Math.fround;

/** One step of the test chains on the GPU and on the host (float32 rounding each step: exact). */
export const STEPS: { gpu: (t: Tensor) => Tensor; host: (v: number) => number }[] = [
  { gpu: (t) => t.add(1), host: (v) => f32(v + 1) },
  { gpu: (t) => t.mul(0.5), host: (v) => f32(v * 0.5) },
  { gpu: (t) => t.sub(0.75), host: (v) => f32(v - 0.75) },
  { gpu: (t) => t.abs(), host: (v) => Math.abs(v) },
  { gpu: (t) => t.mul(-1.25), host: (v) => f32(v * -1.25) },
];

/** `length` chained steps on x, every intermediate returned (and so held). */
export function heldChain(x: Tensor, length: number, first = 0): Tensor[] {
  const out: Tensor[] = [];
  let y = x;
  for (let i = 0; i < length; i++) {
    y = STEPS[(first + i) % STEPS.length]!.gpu(y);
    out.push(y);
  }
  return out;
}

/** The same chain on the host: the values after each step. */
export function chainReference(values: ArrayLike<number>, length: number, first = 0): Float64Array[] {
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
export const inputValues = (n: number, seed = 1): Float32Array => {
  const g = new Generator(seed);
  return Float32Array.from({ length: n }, () => f32((g.uniform() * 2 - 1) * 8));
};

/** '' when equal element for element, else where they first differ. */
export function mismatch(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tolerance = 0): string {
  if (got.length !== want.length) return `${what}: ${got.length} elements, expected ${want.length}`;
  for (let i = 0; i < got.length; i++) {
    const ok = tolerance === 0 ? got[i] === want[i] : Math.abs(got[i]! - want[i]!) <= tolerance * Math.max(1, Math.abs(want[i]!));
    if (!ok) return `${what}[${i}] = ${got[i]}, expected ${want[i]}`;
  }
  return '';
}

/** Reads every tensor and compares it with its reference; returns the first mismatch or ''. */
export async function check(ts: readonly Tensor[], refs: readonly ArrayLike<number>[], label: string): Promise<string> {
  for (let k = 0; k < ts.length; k++) {
    const m = mismatch(await ts[k]!.data(), refs[k]!, `${label} ${k}`);
    if (m) return m;
  }
  return '';
}

/** Reads a GPU buffer's first `count` float32 values from byte 0 (a copy mapped for reading). */
export async function readBuffer(buffer: GPUBuffer, count: number): Promise<Float32Array> {
  const device = runtime().device;
  const staging = device.createBuffer({ size: count * 4, usage: 0x0001 | 0x0008 }); // MAP_READ | COPY_DST
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, count * 4);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(1);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  return out;
}

/** A tensor the fuzzer made and its float64 reference. */
interface Live {
  t: Tensor;
  ref: number[];
  /** A parameter optimizer steps update in place; never disposed by the program. */
  param?: boolean;
}
const UNARY: { gpu: (t: Tensor) => Tensor; host: (v: number) => number }[] = [
  ...STEPS,
  { gpu: (t) => t.neg(), host: (v) => -v },
  { gpu: (t) => t.relu(), host: (v) => Math.max(v, 0) },
];
const BINARY: { gpu: (a: Tensor, b: Tensor) => Tensor; host: (a: number, b: number) => number }[] = [
  { gpu: (a, b) => a.add(b), host: (a, b) => f32(a + b) },
  { gpu: (a, b) => a.sub(b), host: (a, b) => f32(a - b) },
  { gpu: (a, b) => a.mul(b).mul(0.125), host: (a, b) => f32(f32(a * b) * 0.125) },
  { gpu: (a, b) => a.maximum(b), host: (a, b) => Math.max(a, b) },
];

/**
 * A random eager program over tensors of four sizes: maps, broadcasts, disposals and drops (left to
 * the garbage collector), realize(), reads, host writes and gpuBuffer moves (and, with `inPlace`,
 * optimizer steps that update in place a tensor other work reads); every live tensor is
 * checked at the end and memory must come back. Size 1 must be among `sizes` (broadcasts use it).
 */
export async function randomEagerProgram(seed: number, inPlace = false, sizes = [1, 5, 64, 300]): Promise<void> {
  const base = await collect();
  const g = new Generator(900 + seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(g.uniform() * items.length)]!;
  const live = new Map<number, Live[]>(
    sizes.map((n) => [n, [0, 1].map((k) => ({ t: tensor(inputValues(n, seed * 10 + k)), ref: Array.from(inputValues(n, seed * 10 + k)), param: k === 0 }))]),
  );
  const dropped: Tensor[] = []; // no longer used, not disposed: as the garbage collector would leave them
  const expectRight = async (l: Live, what: string): Promise<void> => expect(mismatch(await l.t.data(), l.ref, what, 1e-6)).toBe('');
  for (let step = 0; step < 150; step++) {
    const n = pick(sizes);
    const pool = live.get(n)!;
    const action = g.uniform();
    if (action < 0.35) {
      const a = pick(pool);
      const op = pick(UNARY);
      pool.push({ t: op.gpu(a.t), ref: a.ref.map(op.host) });
    } else if (action < 0.6) {
      const [a, b] = [pick(pool), pick(pool)];
      const op = pick(BINARY);
      pool.push({ t: op.gpu(a.t, b.t), ref: a.ref.map((v, i) => op.host(v, b.ref[i]!)) });
    } else if (action < 0.65) {
      // A broadcast of a one-element tensor (read at element 0 by every element).
      const s = pick(live.get(1)!);
      const a = pick(pool);
      pool.push({ t: a.t.add(s.t), ref: a.ref.map((v) => f32(v + s.ref[0]!)) });
    } else if (action < 0.75 && pool.length > 2) {
      const k = Math.floor(g.uniform() * pool.length);
      if (pool[k]!.param) continue;
      const [l] = pool.splice(k, 1);
      if (g.uniform() < 0.5) l!.t.dispose();
      else dropped.push(l!.t);
    } else if (action < 0.82) {
      realize();
    } else if (inPlace && action < 0.86) {
      // An optimizer step updates a parameter in place: work recorded before it (parked or not) must see the old values.
      const entry = pool.find((l) => l.param)!;
      const c = pick([1, 2, 0.5]);
      entry.t.requiresGrad = true;
      entry.t.mul(c).sum().backward();
      new optim.SGD([entry.t], { lr: 0.5 }).step();
      entry.t.grad!.dispose();
      entry.t.grad = null;
      entry.t.requiresGrad = false;
      entry.ref = entry.ref.map((v) => f32(v - f32(0.5 * c)));
    } else if (action < 0.9) {
      await expectRight(pick(pool), `step ${step} read`);
    } else if (action < 0.95) {
      const l = pick(pool);
      l.ref = l.ref.map((_, i) => f32(Math.sin(step + i) * 4));
      l.t.write(l.ref);
    } else {
      const l = pick(pool);
      expect(mismatch(await readBuffer(l.t.gpuBuffer, n), l.ref, `step ${step} gpuBuffer`, 1e-6)).toBe('');
    }
  }
  for (const [n, pool] of live) for (const [k, l] of pool.entries()) await expectRight(l, `size ${n} tensor ${k}`);
  for (const pool of live.values()) for (const l of pool) l.t.dispose();
  for (const t of dropped) t.dispose();
  const after = await collect();
  expect({ liveBuffers: after.liveBuffers, bytesInUse: after.bytesInUse }).toEqual({ liveBuffers: base.liveBuffers, bytesInUse: base.bytesInUse });
}
