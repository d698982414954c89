// Hostile use of the "pack" that fusion writes held results into (src/runtime/fusion.ts): when a
// fused group has several results that only tensors hold (eager intermediates not yet collected),
// they share one binding, each result a part of one pack buffer. Every part must read back its own
// values, survive any order of disposal and any later use (views, matmul, reductions, in-place
// optimizer updates, host writes, gpuBuffer, captured steps) without touching its neighbours, and
// all memory must come back. Values are checked against float64 references computed on the host
// (every step rounded to float32, so the chains below are exact), never against webgrad itself.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { captureStep, counters, DeviceLimitError, detectAnomaly, memory, optim, realize, setFusion, sync, type Tensor, tensor, tidy } from '../src/index.js';
import { Generator } from '../src/random.js';
import { runtime } from '../src/runtime/runtime.js';
import { chainReference, check, f32, heldChain, inputValues, mismatch, randomEagerProgram, readBuffer, STEPS } from './chains.js';
import { collect, gc } from './gc.js';

// Packs hold results that cannot be parked (runtime/parking.ts); here every flush packs instead of parking.
beforeAll(() => {
  runtime().scheduler.parkingEnabled = false;
});
afterAll(() => {
  runtime().scheduler.parkingEnabled = true;
});

afterEach(() => {
  setFusion(true);
  detectAnomaly(false);
});

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

/** A shuffled copy (Fisher–Yates with the test generator). */
function shuffled<T>(items: readonly T[], g: Generator): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(g.uniform() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('parts disposed in any order', () => {
  test.each([1, 2, 3, 4, 5, 6])(
    'order %i: some before the flush, some after, the rest read after their neighbours went; memory back to its baseline',
    async (seed) => {
      const base = await collect();
      const g = new Generator(100 + seed);
      const n = [1, 3, 257][seed % 3]!;
      const values = inputValues(n, seed);
      const x = tensor(values);
      const length = 40;
      const ys = heldChain(x, length, seed);
      const refs = chainReference(values, length, seed);
      const order = shuffled(
        ys.map((_, k) => k),
        g,
      );
      const beforeFlush = order.slice(0, 12);
      const afterFlush = order.slice(12, 26);
      const rest = order.slice(26);
      for (const k of beforeFlush) ys[k]!.dispose();
      realize();
      for (const k of afterFlush) ys[k]!.dispose();
      for (const k of rest) expect(mismatch(await ys[k]!.data(), refs[k]!, `part ${k}`)).toBe('');
      // The rest go one by one; the survivors still read right after each.
      for (let r = 0; r < rest.length; r++) {
        ys[rest[r]!]!.dispose();
        const survivor = rest[rest.length - 1]!;
        if (r < rest.length - 1) expect(mismatch(await ys[survivor]!.data(), refs[survivor]!, `part ${survivor}`)).toBe('');
      }
      x.dispose();
      await sync();
      const after = memory();
      expect({ liveBuffers: after.liveBuffers, bytesInUse: after.bytesInUse }).toEqual({ liveBuffers: base.liveBuffers, bytesInUse: base.bytesInUse });
    },
  );

  test('one part kept while 60 later packs are cut and released around it keeps its values', async () => {
    const base = await collect();
    const values = inputValues(257, 9);
    const x = tensor(values);
    const ys = heldChain(x, 30);
    const refs = chainReference(values, 30);
    realize();
    const kept = 17;
    ys.forEach((t, k) => {
      if (k !== kept) t.dispose();
    });
    // Enough held chains to go round the pack buffers many times (each pack is ~40 KiB).
    for (let round = 0; round < 60; round++) {
      const zs = heldChain(x, 30, round);
      realize();
      for (const z of shuffled(zs, new Generator(round))) z.dispose();
    }
    expect(mismatch(await ys[kept]!.data(), refs[kept]!, `part ${kept}`)).toBe('');
    ys[kept]!.dispose();
    x.dispose();
    await sync();
    const after = memory();
    expect({ liveBuffers: after.liveBuffers, bytesInUse: after.bytesInUse }).toEqual({ liveBuffers: base.liveBuffers, bytesInUse: base.bytesInUse });
  });
});

/** Row-major [r, c] reference helpers. */
const R = 7;
const C = 9;
const at = (v: ArrayLike<number>, i: number, j: number, cols = C): number => v[i * cols + j]!;
const transposeRef = (v: ArrayLike<number>, rows = R, cols = C): number[] =>
  Array.from({ length: rows * cols }, (_, k) => at(v, k % rows, Math.floor(k / rows), cols));

interface UseCase {
  name: string;
  /**
   * Uses part `p` (its neighbour `q` too, where it needs two) after the pack was written; returns
   * what to compare (tensors and their references) and may change p's expected values in `refs`.
   */
  use(p: Tensor, q: Tensor, pRef: number[], qRef: number[]): Promise<{ got: Tensor[]; want: ArrayLike<number>[]; tolerance?: number; newP?: number[] }>;
}

const USES: UseCase[] = [
  {
    name: 'input to more eager ops',
    use: async (p, _q, v) => ({ got: [p.mul(3).add(p)], want: [v.map((a) => f32(f32(a * 3) + a))] }),
  },
  {
    name: 'a transposed view',
    use: async (p, _q, v) => ({ got: [p.transpose(0, 1).mul(2)], want: [transposeRef(v).map((a) => f32(a * 2))] }),
  },
  {
    name: 'a broadcast row (narrowed, then expanded)',
    use: async (p, _q, v) => ({
      got: [p.narrow(0, 2, 1).expand([R, C]).add(p)],
      want: [v.map((a, k) => f32(at(v, 2, k % C) + a))],
    }),
  },
  {
    name: 'matmul with a neighbour, and with its own transpose (one storage bound twice)',
    use: async (p, q, v, w) => {
      const mm = (a: ArrayLike<number>, b: ArrayLike<number>): number[] =>
        Array.from({ length: R * R }, (_, k) => {
          let sum = 0;
          for (let j = 0; j < C; j++) sum += at(a, Math.floor(k / R), j) * at(b, k % R, j);
          return sum;
        });
      return { got: [p.matmul(q.transpose(0, 1)), p.matmul(p.transpose(0, 1))], want: [mm(v, w), mm(v, v)], tolerance: 1e-5 };
    },
  },
  {
    name: 'sum and mean',
    use: async (p, _q, v) => {
      const rowMeans = Array.from({ length: R }, (_, i) => v.slice(i * C, (i + 1) * C).reduce((s, a) => s + a, 0) / C);
      return { got: [p.sum(), p.mean(1)], want: [[v.reduce((s, a) => s + a, 0)], rowMeans], tolerance: 1e-5 };
    },
  },
  {
    name: 'a parameter trained by SGD with momentum (in-place updates)',
    use: async (p, _q, v) => {
      p.requiresGrad = true;
      const opt = new optim.SGD([p], { lr: 0.125, momentum: 0.5 });
      let w = [...v];
      let buf = v.map(() => 0);
      for (let s = 0; s < 3; s++) {
        opt.zeroGrad();
        p.square().sum().backward();
        opt.step();
        // d/dp Σ p² = 2p; buf = 0.5·buf + g (first step: g); p -= 0.125·buf.
        const g = w.map((a) => 2 * a);
        buf = s === 0 ? g : buf.map((b, k) => 0.5 * b + g[k]!);
        w = w.map((a, k) => a - 0.125 * buf[k]!);
      }
      await p.data();
      opt.zeroGrad();
      return { got: [p], want: [w], tolerance: 1e-5, newP: w };
    },
  },
  {
    name: 'a parameter whose gradient is its neighbour (assigned .grad), stepped by Adam with weight decay',
    use: async (p, q, v, g) => {
      p.requiresGrad = true;
      p.grad = q;
      q.keep(); // the parameter would release it with its gradient
      const [lr, b1, b2, eps, wd] = [0.01, 0.9, 0.999, 1e-8, 0.1];
      const opt = new optim.Adam([p], { lr, betas: [b1, b2], eps, weightDecay: wd });
      let w = [...v];
      let m = v.map(() => 0);
      let s = v.map(() => 0);
      for (let t = 1; t <= 3; t++) {
        opt.step();
        // PyTorch's Adam (L2 weight decay added to the gradient), in float64.
        const grad = w.map((a, k) => g[k]! + wd * a);
        m = m.map((a, k) => b1 * a + (1 - b1) * grad[k]!);
        s = s.map((a, k) => b2 * a + (1 - b2) * grad[k]! ** 2);
        w = w.map((a, k) => a - (lr * (m[k]! / (1 - b1 ** t))) / (Math.sqrt(s[k]! / (1 - b2 ** t)) + eps));
      }
      await p.data();
      p.grad = null;
      return { got: [p], want: [w], tolerance: 1e-5, newP: w };
    },
  },
  {
    name: 'the start of another held chain (a pack read while the next is written)',
    use: async (p, _q, v) => {
      const zs = heldChain(p, 25, 2);
      realize();
      return { got: zs, want: chainReference(v, 25, 2) };
    },
  },
  {
    name: 'overwritten from the host',
    use: async (p) => {
      const fresh = Array.from({ length: R * C }, (_, k) => k * 0.25 - 3);
      p.write(fresh);
      return { got: [p, p.add(1)], want: [fresh, fresh.map((a) => a + 1)], newP: fresh };
    },
  },
  {
    name: 'read through gpuBuffer (from byte 0)',
    use: async (p, _q, v) => {
      const own = await readBuffer(p.gpuBuffer, R * C);
      // The part now has a buffer of its own; it still computes as before.
      return { got: [tensor(own, { shape: [R, C] }), p.mul(2)], want: [v, v.map((a) => f32(a * 2))] };
    },
  },
];

describe('a part used later', () => {
  test.each(USES.map((u) => [u.name, u] as const))('as %s: right values, neighbours intact, memory back', async (_name, u) => {
    const base = await collect();
    const values = inputValues(R * C, 77);
    const x = tensor(values, { shape: [R, C] });
    const length = 30;
    const { result: ys, dispatches } = dispatchesOf(() => heldChain(x, length));
    expect(dispatches).toBe(1); // one kernel: the results share a pack
    const refs = chainReference(values, length).map((r) => Array.from(r));
    const [k, l] = [12, 13];
    const { got, want, tolerance, newP } = await u.use(ys[k]!, ys[l]!, refs[k]!, refs[l]!);
    for (let i = 0; i < got.length; i++) expect(mismatch(await got[i]!.data(), want[i]!, `result ${i}`, tolerance ?? 0)).toBe('');
    if (newP) refs[k] = newP;
    // Every neighbour in the pack is untouched (p itself as the use left it).
    for (let j = 0; j < length; j++) expect(mismatch(await ys[j]!.data(), refs[j]!, `part ${j}`, j === k ? (tolerance ?? 0) : 0)).toBe('');
    for (const t of [x, ...ys, ...got]) t.dispose();
    ys[k]!.grad?.dispose();
    const after = await collect();
    expect({ liveBuffers: after.liveBuffers, bytesInUse: after.bytesInUse }).toEqual({ liveBuffers: base.liveBuffers, bytesInUse: base.bytesInUse });
  });
});

const bitsOf = (a: Float32Array | Int32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/**
 * Trains a part of a pack (the weight) on batches that are parts of another pack, through
 * `captureStep` (with `captureStep.many` for the last steps) or eagerly. Returns the losses' bits,
 * the weight's bits after each step, and the bits of every other part of the weight's pack.
 */
async function trainOnParts(captured: boolean, moveWeightOut = false): Promise<number[][]> {
  const K = 3;
  const xs = tensor(inputValues(K * R * C, 5), { shape: [K, R, C] });
  const batches = heldChain(xs, 12); // parts of [K, R, C]
  const x = tensor(inputValues(R * C, 6), { shape: [R, C] });
  const params = heldChain(x, 20); // parts of [R, C]
  realize();
  const w = params[10]!;
  const bias = params[11]!;
  w.requiresGrad = true;
  const opt = new optim.SGD([w], { lr: 0.05 });
  const body = (xb: Tensor, target: Tensor): Tensor => {
    opt.zeroGrad();
    const loss = xb.mul(w).add(bias).sub(target).square().mean();
    loss.backward();
    opt.step();
    return loss;
  };
  const step = captured ? captureStep(body) : (xb: Tensor, t: Tensor) => body(xb, t).keep();
  const out: number[][] = [];
  const target = batches[3]!.narrow(0, 0, 1).reshape([R, C]);
  for (let s = 0; s < 5; s++) {
    // Batch inputs: a whole part (contiguous) and a slice of one (copied in).
    const xb = s % 2 === 0 ? params[4 + s]! : batches[7]!.narrow(0, s % K, 1).reshape([R, C]);
    const loss = step(xb, target);
    out.push(bitsOf(await loss.data()), bitsOf(await w.data()));
    loss.dispose();
    if (xb !== params[4 + s]) xb.dispose();
    // gpuBuffer moves the weight out of its pack (a captured program that binds it records again).
    if (moveWeightOut && s === 2) expect(Array.from(await readBuffer(w.gpuBuffer, R * C))).toEqual(Array.from(await w.data()));
    // The in-place updates left the weight's neighbours alone.
    for (const p of params) if (p !== w) out.push(bitsOf(await p.data()));
  }
  const targets = batches[2]!;
  if (captured) {
    const capturedStep = step as ReturnType<typeof captureStep<[Tensor, Tensor], Tensor>>;
    const losses = capturedStep.many(batches[9]!, targets);
    out.push(bitsOf(await losses.data()));
    losses.dispose();
    // A warm-up, a recording, then replays only: three single ones and K in many(); after the
    // weight moved, another warm-up and recording, then one replay and K.
    expect([capturedStep.captures, capturedStep.replays]).toEqual(moveWeightOut ? [2, 1 + K] : [1, 3 + K]);
    capturedStep.dispose();
  } else {
    const losses: number[] = [];
    for (let k = 0; k < K; k++) {
      const [xb, tb] = [batches[9]!.narrow(0, k, 1).reshape([R, C]), targets.narrow(0, k, 1).reshape([R, C])];
      const loss = step(xb, tb);
      losses.push(...bitsOf(await loss.data()));
      for (const t of [xb, tb, loss]) t.dispose();
    }
    out.push(losses);
  }
  out.push(bitsOf(await w.data()));
  for (const p of [...params, ...batches]) out.push(bitsOf(await p.data()));
  w.grad?.dispose();
  for (const t of [xs, x, target, ...batches, ...params]) t.dispose();
  return out;
}

describe('parts inside captureStep', () => {
  test('a part as the trained parameter and parts as batch inputs: replays and many() equal the eager step bit for bit; memory back', async () => {
    const base = await collect();
    const eager = await trainOnParts(false);
    const captured = await trainOnParts(true);
    expect(captured.length).toBe(eager.length);
    captured.forEach((c, i) => expect(c, `entry ${i}`).toEqual(eager[i]));
    const after = await collect();
    expect({ liveBuffers: after.liveBuffers, bytesInUse: after.bytesInUse }).toEqual({ liveBuffers: base.liveBuffers, bytesInUse: base.bytesInUse });
  });

  test('the trained part moved out of its pack by gpuBuffer between steps: the step records again and still equals the eager step', async () => {
    const base = await collect();
    const eager = await trainOnParts(false, true);
    const captured = await trainOnParts(true, true);
    expect(captured.length).toBe(eager.length);
    captured.forEach((c, i) => expect(c, `entry ${i}`).toEqual(eager[i]));
    const after = await collect();
    expect({ liveBuffers: after.liveBuffers, bytesInUse: after.bytesInUse }).toEqual({ liveBuffers: base.liveBuffers, bytesInUse: base.bytesInUse });
  });
});

describe('groups mixing packed and unpacked results', () => {
  test('two chains of different sizes recorded in turn (two packs in one flush) keep their own values', async () => {
    const [a, b] = [inputValues(33, 71), inputValues(600, 72)];
    const [xa, xb] = [tensor(a), tensor(b)];
    const ya: Tensor[] = [];
    const yb: Tensor[] = [];
    let [ta, tb] = [xa, xb];
    for (let i = 0; i < 40; i++) {
      ta = STEPS[i % STEPS.length]!.gpu(ta);
      tb = STEPS[(i + 1) % STEPS.length]!.gpu(tb);
      ya.push(ta);
      yb.push(tb);
    }
    realize();
    expect(await check(ya, chainReference(a, 40), 'a')).toBe('');
    expect(await check(yb, chainReference(b, 40, 1), 'b')).toBe('');
    for (const t of [xa, xb, ...ya, ...yb]) t.dispose();
  });

  test('bool and int32 results, a result a matmul reads in the same flush, and sums that absorb the group: all right', async () => {
    const base = await collect();
    const values = inputValues(R * C, 31);
    const x = tensor(values, { shape: [R, C] });
    const xt = x.transpose(0, 1);
    const host: Record<string, number[]> = {};
    const v = Array.from(values);
    host.a = v.map((q) => f32(q + 1));
    host.b = host.a.map((q) => f32(q * 0.5));
    host.m = host.b.map((q) => (q > 0 ? 1 : 0));
    host.c = host.b.map((q) => Math.abs(q));
    host.i = host.c.map((q) => Math.trunc(q));
    host.d = host.c.map((q, k) => (host.m![k] ? q : -2));
    host.e = host.d.map((q) => f32(q - 0.75));
    host.mm = Array.from({ length: R * R }, (_, k) => {
      let sum = 0;
      for (let j = 0; j < C; j++) sum += at(host.e!, Math.floor(k / R), j) * at(v, k % R, j);
      return sum;
    });
    host.f = host.e.map((q) => f32(q * -1.25));
    host.g = host.f.map((q) => f32(q + 1));
    host.h = host.g.map((q) => f32(q * 0.5));
    host.s = [host.h.reduce((sum, q) => sum + q, 0)];
    host.k = host.h.map((q) => f32(q - 0.75));
    host.l = host.k.map((q) => Math.abs(q));
    host.mean = [host.l.reduce((sum, q) => sum + q, 0) / (R * C)];
    const t: Record<string, Tensor> = {};
    t.a = x.add(1);
    t.b = t.a.mul(0.5);
    t.m = t.b.gt(0);
    t.c = t.b.abs();
    t.i = t.c.int();
    t.d = t.c.where(t.m, -2);
    t.e = t.d.sub(0.75);
    t.mm = t.e.matmul(xt);
    t.f = t.e.mul(-1.25);
    t.g = t.f.add(1);
    t.h = t.g.mul(0.5);
    t.s = t.h.sum();
    t.k = t.h.sub(0.75);
    t.l = t.k.abs();
    t.mean = t.l.mean();
    realize();
    for (const name of Object.keys(host)) {
      const exactly = !['mm', 's', 'mean'].includes(name);
      expect(mismatch(await t[name]!.data(), host[name]!, name, exactly ? 0 : 1e-5)).toBe('');
    }
    for (const tt of [x, xt, ...Object.values(t)]) tt.dispose();
    const after = await collect();
    expect({ liveBuffers: after.liveBuffers, bytesInUse: after.bytesInUse }).toEqual({ liveBuffers: base.liveBuffers, bytesInUse: base.bytesInUse });
  });
});

describe('a part used later, after all but one neighbour were released (the pack let go)', () => {
  test.each(USES.map((u) => [u.name, u] as const))('as %s: right values, memory back', async (_name, u) => {
    const base = await collect();
    const values = inputValues(R * C, 78);
    const x = tensor(values, { shape: [R, C] });
    const length = 80; // 20 KiB of parts
    const ys = heldChain(x, length);
    const refs = chainReference(values, length).map((r) => Array.from(r));
    realize();
    const [k, l] = [12, 13];
    ys.forEach((t, j) => j !== k && j !== l && t.dispose());
    // A flush with work moves the two parts out; the pack goes back.
    const probe = x.add(0);
    realize();
    expect(memory().bytesInUse - base.bytesInUse).toBeLessThanOrEqual(4 * 1024);
    const { got, want, tolerance, newP } = await u.use(ys[k]!, ys[l]!, refs[k]!, refs[l]!);
    for (let i = 0; i < got.length; i++) expect(mismatch(await got[i]!.data(), want[i]!, `result ${i}`, tolerance ?? 0)).toBe('');
    expect(mismatch(await ys[k]!.data(), newP ?? refs[k]!, 'p', tolerance ?? 0)).toBe('');
    expect(mismatch(await ys[l]!.data(), refs[l]!, 'q')).toBe('');
    for (const t of [x, probe, ys[k]!, ys[l]!, ...got]) t.dispose();
    ys[k]!.grad?.dispose();
    const after = await collect();
    expect({ liveBuffers: after.liveBuffers, bytesInUse: after.bytesInUse }).toEqual({ liveBuffers: base.liveBuffers, bytesInUse: base.bytesInUse });
  });

  test('an in-place update recorded before the neighbours went (gradient accumulation into a part) is not lost when the part moves', async () => {
    const base = await collect();
    const values = inputValues(R * C, 80);
    const x = tensor(values, { shape: [R, C] });
    const ys = heldChain(x, 80);
    const refs = chainReference(values, 80);
    realize();
    const [p, g] = [ys[20]!, ys[21]!];
    p.requiresGrad = true;
    p.grad = g;
    // Recorded, not run: backward accumulates 2p into the gradient g, in place.
    p.square().sum().backward();
    ys.forEach((t) => t !== p && t !== g && t.dispose());
    realize();
    x.add(0).dispose();
    realize();
    expect(
      mismatch(
        await p.grad!.data(),
        Array.from(refs[21]!, (a, i) => f32(a + 2 * refs[20]![i]!)),
        'grad',
      ),
    ).toBe('');
    expect(mismatch(await p.data(), refs[20]!, 'p')).toBe('');
    p.dispose(); // and its gradient with it
    x.dispose();
    const after = await collect();
    expect({ liveBuffers: after.liveBuffers, bytesInUse: after.bytesInUse }).toEqual({ liveBuffers: base.liveBuffers, bytesInUse: base.bytesInUse });
  });

  test('a part with recorded work or held by a captured step stays where it is until it can move, and stays right', async () => {
    const base = await collect();
    const values = inputValues(R * C, 79);
    const x = tensor(values, { shape: [R, C] });
    const ys = heldChain(x, 80);
    const refs = chainReference(values, 80).map((r) => Array.from(r));
    realize();
    const [w, b] = [ys[20]!, ys[40]!];
    w.requiresGrad = true;
    const opt = new optim.SGD([w], { lr: 0.125 });
    const step = captureStep((xb: Tensor) => {
      opt.zeroGrad();
      const loss = xb.mul(w).add(b).square().mean();
      loss.backward();
      opt.step();
      return loss;
    });
    // Host twin of the step: loss = mean((x·w + b)²), dL/dw = 2·x·(x·w + b)/n.
    let wRef = refs[20]!.slice();
    const hostStep = (xv: number[]): number => {
      const out = xv.map((v, i) => v * wRef[i]! + refs[40]![i]!);
      wRef = wRef.map((a, i) => a - 0.125 * ((2 * xv[i]! * out[i]!) / (R * C)));
      return out.reduce((sum, o) => sum + o * o, 0) / (R * C);
    };
    const xb = ys[60]!;
    for (let s = 0; s < 6; s++) {
      if (s === 3) {
        // Every other part goes: the pack is mostly free, but the step's program binds w and b.
        ys.forEach((t) => t !== w && t !== b && t !== xb && t.dispose());
        x.add(0).dispose(); // a flush with work to do
        realize();
      }
      const loss = step(xb);
      const want = hostStep(refs[60]!);
      expect(mismatch(await loss.data(), [want], `loss ${s}`, 1e-5)).toBe('');
      loss.dispose();
    }
    // One recording, replayed to the end: nothing the program binds moved.
    expect([step.captures, step.replays]).toEqual([1, 4]);
    expect(mismatch(await w.data(), wRef, 'w', 1e-5)).toBe('');
    step.dispose();
    // Recorded work on a part (an in-place update, a read) delays its move to a later flush.
    opt.zeroGrad();
    xb.mul(w).add(b).square().mean().backward();
    opt.step();
    hostStep(refs[60]!);
    const read = b.mul(2);
    realize();
    x.add(0).dispose();
    realize();
    expect(
      mismatch(
        await read.data(),
        refs[40]!.map((v) => f32(v * 2)),
        'b·2',
      ),
    ).toBe('');
    expect(mismatch(await b.data(), refs[40]!, 'b')).toBe('');
    w.grad?.dispose();
    for (const t of [x, w, b, xb, read]) t.dispose();
    const after = await collect();
    expect({ liveBuffers: after.liveBuffers, bytesInUse: after.bytesInUse }).toEqual({ liveBuffers: base.liveBuffers, bytesInUse: base.bytesInUse });
  });
});

/** Transcendental steps (rounded by the GPU's own functions): fused and unfused must still agree bit for bit. */
function smoothChain(x: Tensor, length: number): Tensor[] {
  const out: Tensor[] = [];
  let y = x;
  for (let i = 0; i < length; i++) {
    y = [(t: Tensor) => t.tanh(), (t: Tensor) => t.mul(1.7).exp(), (t: Tensor) => t.sigmoid().sub(0.25), (t: Tensor) => t.add(0.5).log()][i % 4]!(y);
    out.push(y);
  }
  return out;
}

describe('switches and scopes', () => {
  test('setFusion(false) gives every held intermediate the same bits as the packed run', async () => {
    const runs: number[][][] = [];
    for (const fused of [true, false]) {
      setFusion(fused);
      const x = tensor(inputValues(257, 41));
      const ys = smoothChain(x, 60);
      realize();
      runs.push(await Promise.all(ys.map(async (y) => bitsOf(await y.data()))));
      for (const t of [x, ...ys]) t.dispose();
    }
    expect(runs[0]).toEqual(runs[1]);
  });

  test('anomaly detection on: held intermediates keep their values, and an infinity in one is reported', async () => {
    detectAnomaly(true);
    const values = inputValues(3 * 5, 43);
    const x = tensor(values, { shape: [3, 5] });
    const ys = heldChain(x, 30);
    realize();
    expect(await check(ys, chainReference(values, 30), 'intermediate')).toBe('');
    // 1/0 in the middle of a held chain: the read that follows reports it.
    const zero = ys[29]!.mul(0);
    const bad = heldChain(zero.pow(-1), 10);
    await expect(bad[9]!.data()).rejects.toThrow(/NaN or infinity|inf/i);
    for (const t of [x, ...ys, zero, ...bad]) t.dispose();
  });

  test('tidy: kept intermediates are right, dropped ones give their memory back (disposed before and after the flush)', async () => {
    const base = await collect();
    const values = inputValues(100, 47);
    const x = tensor(values);
    const refs = chainReference(values, 40);
    const keep = [3, 17, 18, 39];
    const early = tidy(() => heldChain(x, 40).filter((_, k) => keep.includes(k)));
    const late = tidy(() => {
      const ys = heldChain(x, 40);
      realize(); // the dropped ones are parts of the pack too, released when tidy ends
      return ys.filter((_, k) => keep.includes(k));
    });
    for (const kept of [early, late])
      expect(
        await check(
          kept,
          keep.map((k) => refs[k]!),
          'kept',
        ),
      ).toBe('');
    for (const t of [x, ...early, ...late]) t.dispose();
    const after = await collect();
    expect({ liveBuffers: after.liveBuffers, bytesInUse: after.bytesInUse }).toEqual({ liveBuffers: base.liveBuffers, bytesInUse: base.bytesInUse });
  });
});

describe('memory', () => {
  test('keeping only the result of each of 100 chains (intermediates collected) holds what the results need, not their packs', async () => {
    const x = tensor([1.5]);
    const want = chainReference([1.5], CHAIN)[CHAIN - 1]![0]!;
    const base = await collect();
    const kept: Tensor[] = [];
    for (let i = 0; i < 100; i++) {
      kept.push(heldChain(x, CHAIN).at(-1)!);
      realize();
      if (i % 10 === 9) await collect();
    }
    const after = await collect();
    for (const y of kept) expect(Array.from(await y.data())).toEqual([want]);
    // One float each: 1 KiB is four times the pool's smallest slot (a pack of the chain is ~50 KiB).
    expect(after.bytesInUse - base.bytesInUse).toBeLessThanOrEqual(100 * 1024);
    for (const t of [x, ...kept]) t.dispose();
  });

  test('keeping one intermediate of each of 100 chains (the rest collected) holds what the kept ones need once work is flushed, not their packs', async () => {
    const x = tensor([1.5]);
    const want = f32(1.5 * 2);
    const base = await collect();
    const kept: Tensor[] = [];
    for (let i = 0; i < 100; i++) {
      const h = x.mul(2); // read by the chain that follows: a part of its pack
      heldChain(h, CHAIN);
      kept.push(h);
      realize();
      if (i % 10 === 9) await collect();
    }
    await collect();
    // The next flush with work to do lets go of the packs that only kept parts hold.
    const probe = x.add(1);
    realize();
    const after = memory();
    for (const h of kept) expect(Array.from(await h.data())).toEqual([want]);
    expect(Array.from(await probe.data())).toEqual([2.5]);
    // One float each (plus the probe): 1 KiB is four times the pool's smallest slot (a pack of a chain is ~50 KiB).
    expect(after.bytesInUse - base.bytesInUse).toBeLessThanOrEqual(101 * 1024);
    for (const t of [x, probe, ...kept]) t.dispose();
  });

  test('flat over 2,000 chains whose intermediates are dropped without dispose (collected by the garbage collector)', async () => {
    const inputs = [1, 3, 257].map((n) => tensor(inputValues(n, n)));
    const refs = inputs.map((x, s) => chainReference(inputValues(x.size, x.size), 20 + s));
    const run = async (i: number): Promise<void> => {
      const s = i % 3;
      const ys = heldChain(inputs[s]!, 20 + s);
      // Read one intermediate now and then (the others are left to the garbage collector).
      if (i % 50 === 0) expect(mismatch(await ys[7 + s]!.data(), refs[s]![7 + s]!, `chain ${i}`)).toBe('');
      else realize();
      if (i % 100 === 99) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    };
    for (let i = 0; i < 30; i++) await run(i);
    const before = await collect();
    const created = counters().buffers;
    for (let i = 0; i < 2000; i++) await run(i);
    const after = await collect();
    expect(after.liveTensors).toBeLessThanOrEqual(before.liveTensors);
    expect(after.liveBuffers).toBeLessThanOrEqual(before.liveBuffers);
    expect(after.bytesInUse).toBeLessThanOrEqual(before.bytesInUse);
    // Pack buffers are reused once their packs are all released: the loop needs only a few new ones.
    expect(counters().buffers - created).toBeLessThanOrEqual(16);
    for (const x of inputs) x.dispose();
  });
});

describe('out of memory', () => {
  test('a flush refused for its pack loses nothing: parts written, disposed or read afterwards are right, and memory comes back', async () => {
    const base = await collect();
    const values = inputValues(50, 61);
    const x = tensor(values);
    await x.data();
    const refs = chainReference(values, 30).map((r) => Array.from(r));
    const ys = heldChain(x, 30);
    const pool = runtime().scheduler.pool;
    // No cached memory left, and every allocation refused: the flush cannot get its pack.
    pool.trim();
    const real = pool.allocate;
    pool.allocate = (size) => {
      throw new RangeError(`simulated: out of memory allocating ${size} bytes`);
    };
    try {
      expect(() => realize()).toThrow(DeviceLimitError);
    } finally {
      pool.allocate = real;
    }
    // After the refusal: one part overwritten from the host, some disposed, then everything read.
    const fresh = Array.from({ length: 50 }, (_, k) => k - 25);
    ys[10]!.write(fresh);
    refs[10] = fresh;
    for (const k of [3, 11, 20]) ys[k]!.dispose();
    for (let k = 0; k < ys.length; k++) if (![3, 11, 20].includes(k)) expect(mismatch(await ys[k]!.data(), refs[k]!, `part ${k}`)).toBe('');
    for (const [k, t] of ys.entries()) if (![3, 11, 20].includes(k)) t.dispose();
    x.dispose();
    const after = await collect();
    expect({ liveBuffers: after.liveBuffers, bytesInUse: after.bytesInUse }).toEqual({ liveBuffers: base.liveBuffers, bytesInUse: base.bytesInUse });
  });
});

describe('random eager programs', () => {
  test.each([1, 2, 3, 4])('program %i: every live tensor right after random ops, reads, disposals, host writes and gpuBuffer moves; memory back', (seed) =>
    randomEagerProgram(seed),
  );
});
