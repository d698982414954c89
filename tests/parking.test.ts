// Hostile use of parked work (src/runtime/parking.ts): a map whose result (too large for a pack)
// only a tensor holds and that fusion computed in registers for a later member is not run; it runs
// when something needs its value. Every parked result must still read back its own values after anything that changes
// what it reads (host writes, gradient accumulation, optimizer steps eager and captured), its map
// must go when its tensor goes (dispose or the garbage collector), and memory must come back.
// Values are checked against float64 host references (float32-exact chains), never against webgrad.
import { describe, expect, test } from 'vitest';
import { captureStep, counters, fromGPUBuffer, memory, noGrad, optim, realize, type Tensor, tensor } from '../src/index.js';
import { runtime } from '../src/runtime/runtime.js';
import { chainReference, check, f32, heldChain, inputValues, mismatch, randomEagerProgram } from './chains.js';
import { collect, gc } from './gc.js';

const parked = (): number => runtime().scheduler.parking.size;
/** Reads t and compares it with its float64 reference element for element. */
const expectValues = async (t: Tensor, want: ArrayLike<number>, what: string): Promise<void> => expect(mismatch(await t.data(), want, what)).toBe('');
/** Elements of a float32 result just too large for a pack part (64 KiB): such results are parked. */
const LARGE = 16400;

/** A captured SGD step on the loss Σ w ⊙ input. */
const sgdStep = (w: Tensor, opt: optim.SGD) =>
  captureStep((input: Tensor) => {
    opt.zeroGrad();
    const loss = w.mul(input).sum();
    loss.backward();
    opt.step();
    return loss;
  });

describe('a chain of 200 eager ops with every intermediate held', () => {
  test.each([16385, 100_000])('%i elements: one kernel writes only the last result; each intermediate reads back right later; memory back', async (n) => {
    const base = await collect();
    const values = inputValues(n, n);
    const x = tensor(values);
    realize();
    const before = { dispatches: counters().dispatches, bytes: memory().bytesInUse, parked: parked() };
    const ys = heldChain(x, 200);
    realize();
    expect(counters().dispatches - before.dispatches).toBe(1);
    expect(parked() - before.parked).toBe(199);
    // Only the last result has memory: a buffer of its own size class at most.
    expect(memory().bytesInUse - before.bytes).toBeLessThanOrEqual(Math.max(64 * 1024, 2 * n * 4));
    const refs = chainReference(values, 200);
    // Read out of order: each read makes its value from x again (and parks the rest again).
    for (const k of [57, 199, 0, 198, 120]) await expectValues(ys[k]!, refs[k]!, `intermediate ${k}`);
    expect(await check(ys, refs, 'intermediate')).toBe('');
    for (const t of [x, ...ys]) t.dispose();
    expect(parked()).toBe(before.parked);
    const after = await collect();
    expect({ liveBuffers: after.liveBuffers, bytesInUse: after.bytesInUse }).toEqual({ liveBuffers: base.liveBuffers, bytesInUse: base.bytesInUse });
  });

  test('results a pack can hold are packed, not parked (their maps would outlive the flush)', async () => {
    const x = tensor(inputValues(257, 4));
    realize();
    const before = parked();
    const ys = heldChain(x, 50);
    realize();
    expect(parked()).toBe(before);
    expect(await check(ys, chainReference(inputValues(257, 4), 50), 'packed')).toBe('');
    for (const t of [x, ...ys]) t.dispose();
  });

  test('disposing parked results in any order drops their maps once nothing parked reads them', async () => {
    const x = tensor(inputValues(LARGE, 3));
    const ys = heldChain(x, 10);
    realize();
    const start = parked();
    expect(start).toBeGreaterThanOrEqual(9);
    // ys[4]'s map stays while ys[5]'s (parked) reads it.
    ys[4]!.dispose();
    expect(parked()).toBe(start);
    for (const k of [5, 6, 7]) ys[k]!.dispose();
    expect(parked()).toBe(start);
    // ys[8] is the last parked one: with it gone, 4–8 go together.
    ys[8]!.dispose();
    expect(parked()).toBe(start - 5);
    expect(await check([ys[3]!, ys[9]!], [chainReference(inputValues(LARGE, 3), 10)[3]!, chainReference(inputValues(LARGE, 3), 10)[9]!], 'kept')).toBe('');
    for (const t of [x, ys[0]!, ys[1]!, ys[2]!, ys[3]!, ys[9]!]) t.dispose();
    expect(parked()).toBe(start - 9);
  });
});

describe('what parked maps share', () => {
  test('a result nothing holds any more that a parked map reads from memory keeps its buffer until the map runs', async () => {
    const values = inputValues(LARGE, 6);
    const x = tensor(values);
    const t0 = x.mul(2);
    // The sum reads t0 outside the maps' group, so t0 is written; then no tensor holds it.
    const s = t0.sum();
    const m1 = t0.add(1);
    const m2 = m1.mul(3);
    t0.dispose();
    await m2.data();
    expect(parked()).toBeGreaterThan(0);
    // Other work reuses freed buffers in between.
    const other = heldChain(tensor(inputValues(LARGE, 7)), 3);
    await other[2]!.data();
    const twice = Array.from(values, (v) => f32(v * 2));
    await expectValues(
      m1,
      twice.map((v) => f32(v + 1)),
      'm1',
    );
    expect(Math.abs((await s.data())[0]! - twice.reduce((a, v) => a + v, 0))).toBeLessThanOrEqual(1e-3 * LARGE);
    for (const t of [x, s, m1, m2, ...other]) t.dispose();
  });

  test('two parked branches from one result nothing holds: running one branch keeps what the other needs', async () => {
    const values = inputValues(LARGE, 9);
    const x = tensor(values);
    const t = x.mul(2);
    const a = t.add(1);
    const b = t.add(2);
    const a2 = a.mul(3);
    const b2 = b.mul(3);
    t.dispose();
    await a2.data();
    const twice = Array.from(values, (v) => f32(v * 2));
    await expectValues(
      a,
      twice.map((v) => f32(v + 1)),
      'a',
    );
    const other = heldChain(tensor(inputValues(LARGE, 10)), 3);
    await other[2]!.data();
    await expectValues(
      b,
      twice.map((v) => f32(v + 2)),
      'b',
    );
    await expectValues(
      b2,
      twice.map((v) => f32(f32(v + 2) * 3)),
      'b2',
    );
    for (const u of [x, a, b, a2, b2, ...other]) u.dispose();
  });
});

describe('what a parked map reads changes afterwards', () => {
  test('a host write to its input: the parked result keeps the values from before the write', async () => {
    const values = inputValues(LARGE, 5);
    const x = tensor(values);
    const [a, b] = heldChain(x, 2);
    await b!.data();
    expect(parked()).toBeGreaterThan(0);
    x.write(new Float32Array(LARGE).fill(7));
    const refs = chainReference(values, 2);
    await expectValues(a!, refs[0]!, 'a');
    await expectValues(x, new Float32Array(LARGE).fill(7), 'x');
    for (const t of [x, a!, b!]) t.dispose();
  });

  test('an optimizer step on the parameter it reads (eager, then captured and replayed)', async () => {
    const w = tensor(inputValues(LARGE, 8), { requiresGrad: true });
    const opt = new optim.SGD([w], { lr: 0.25 });
    const x = tensor(new Float32Array(LARGE).fill(2));
    // d(sum(w · x))/dw = x = 2: each step subtracts 0.5 from every weight.
    const body = (): Tensor => {
      opt.zeroGrad();
      const loss = w.mul(x).sum();
      loss.backward();
      opt.step();
      return loss;
    };
    const step = captureStep(body);
    const refs: { t: Tensor; ref: number[] }[] = [];
    let current = Array.from(inputValues(LARGE, 8));
    for (let s = 0; s < 5; s++) {
      // A held intermediate of w (parked), and the result that made it parked.
      const a = noGrad(() => w.mul(3));
      const b = noGrad(() => a.add(1));
      await b.data();
      refs.push({ t: a, ref: current.map((v) => f32(v * 3)) });
      (s < 2 ? body() : step()).dispose();
      current = current.map((v) => f32(v - 0.5));
      b.dispose();
    }
    expect(step.replays).toBeGreaterThan(0);
    for (const [k, { t, ref }] of refs.entries()) await expectValues(t, ref, `step ${k}`);
    await expectValues(w, current, 'w');
    step.dispose();
    for (const { t } of refs) t.dispose();
    for (const t of [w, x, w.grad!]) t.dispose();
  });

  test('a parked result as a captured step input, and as the input of a second chain', async () => {
    const values = inputValues(LARGE, 11);
    const x = tensor(values);
    const w = tensor(new Float32Array(LARGE).fill(1), { requiresGrad: true });
    const opt = new optim.SGD([w], { lr: 1 });
    const step = sgdStep(w, opt);
    const wRef = new Array<number>(LARGE).fill(1);
    // A warm-up, a recording, then replays: each call's input is a parked result.
    for (let s = 0; s < 4; s++) {
      const [a, b] = heldChain(x, 2, s);
      await b!.data();
      const ref = chainReference(values, 2, s)[0]!;
      const expected = ref.reduce((sum, v, i) => sum + wRef[i]! * v, 0);
      const loss = step(a!);
      expect(Math.abs((await loss.data())[0]! - expected)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(expected)));
      ref.forEach((v, i) => {
        wRef[i] = f32(wRef[i]! - v);
      });
      // A second chain from the parked result, after the step.
      const c = a!.add(1);
      await expectValues(
        c,
        ref.map((v) => f32(v + 1)),
        `step ${s} chain`,
      );
      for (const t of [a!, b!, c, loss]) t.dispose();
    }
    expect(step.replays).toBe(2);
    await expectValues(w, wRef, 'w');
    step.dispose();
    for (const t of [x, w, w.grad!]) t.dispose();
  });
});

describe('memory written outside the queue (found by a hostile review)', () => {
  test("a captured step's replays rewrite the .grad a map reads: the map sees the gradient from before the replay", async () => {
    const w = tensor(inputValues(LARGE, 12), { requiresGrad: true });
    const opt = new optim.SGD([w], { lr: 0.125 });
    const step = sgdStep(w, opt);
    const fill = (v: number): Tensor => tensor(new Float32Array(LARGE).fill(v));
    const inputs = [fill(2), fill(2), fill(5), fill(7)];
    step(inputs[0]!).dispose(); // warm-up
    step(inputs[1]!).dispose(); // recording: .grad is now the program's, 2 everywhere
    const g = w.grad!;
    const a = g.mul(3);
    const b = a.add(1);
    await b.data();
    step(inputs[2]!).dispose(); // a replay writes 5 into the same .grad
    const stacked = tensor(new Float32Array(2 * LARGE).fill(7), { shape: [2, LARGE] });
    const c = g.mul(2);
    const d = c.add(1);
    await d.data();
    step.many(stacked).dispose(); // two replays: 7
    expect(step.replays).toBe(3);
    await expectValues(a, new Float32Array(LARGE).fill(6), 'a');
    await expectValues(c, new Float32Array(LARGE).fill(10), 'c');
    await expectValues(g, new Float32Array(LARGE).fill(7), 'grad');
    step.dispose();
    for (const t of [a, b, c, d, w, g, stacked, ...inputs]) t.dispose();
  });

  test('gpuBuffer hands out memory a map reads: the application then writes it, directly or through fromGPUBuffer', async () => {
    for (const how of ['queue', 'wrapper']) {
      const values = inputValues(LARGE, 13);
      const x = tensor(values);
      const a = x.mul(3);
      const b = a.add(1);
      await b.data();
      const buffer = x.gpuBuffer;
      // Maps recorded after the hand-out are not parked either.
      const c = x.mul(5);
      const e = c.add(1);
      await e.data();
      const hundreds = new Float32Array(LARGE).fill(100);
      const wrapped = fromGPUBuffer(buffer, [LARGE]);
      if (how === 'queue') runtime().device.queue.writeBuffer(buffer, 0, hundreds);
      else wrapped.write(hundreds);
      await expectValues(
        a,
        Array.from(values, (v) => f32(v * 3)),
        `a (${how})`,
      );
      await expectValues(
        c,
        Array.from(values, (v) => f32(v * 5)),
        `c (${how})`,
      );
      await expectValues(x, hundreds, `x (${how})`);
      for (const t of [wrapped, x, a, b, c, e]) t.dispose();
    }
  });
});

describe('memory', () => {
  test('flat over 500 chains whose intermediates are dropped without dispose: the garbage collector takes their parked maps', async () => {
    const base = await collect();
    const basePark = parked();
    const x = tensor(inputValues(LARGE, 2));
    // No variable of this async function may hold a chain's result across an await (it would stay reachable).
    const chain = (read: boolean): Promise<unknown> | null => {
      let y = x;
      for (let i = 0; i < 20; i++) y = i % 2 === 0 ? y.add(1) : y.mul(0.5);
      return read ? y.data() : null;
    };
    for (let c = 0; c < 500; c++) {
      await chain(c % 50 === 0);
      if (c % 100 === 0) gc();
    }
    x.dispose();
    const after = await collect();
    expect(parked()).toBe(basePark);
    expect({ liveBuffers: after.liveBuffers, bytesInUse: after.bytesInUse }).toEqual({ liveBuffers: base.liveBuffers, bytesInUse: base.bytesInUse });
  });
});

describe('random eager programs', () => {
  test.each([1, 2, 3, 4, 5, 6])(
    'program %i: every live tensor right after random ops, reads, disposals, host writes, gpuBuffer moves and optimizer steps; memory back',
    (seed) => randomEagerProgram(seed, true, [1, 5, LARGE, 20000]),
  );
});
