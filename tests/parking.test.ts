// Hostile use of parked work (src/runtime/parking.ts): a map whose result only a tensor holds and
// that fusion computed in registers for a later member is not run; it runs when something needs
// its value. Every parked result must still read back its own values after anything that changes
// what it reads (host writes, gradient accumulation, optimizer steps eager and captured), its map
// must go when its tensor goes (dispose or the garbage collector), and memory must come back.
// Values are checked against float64 host references (float32-exact chains), never against webgrad.
import { describe, expect, test } from 'vitest';
import { captureStep, counters, memory, noGrad, optim, realize, type Tensor, tensor } from '../src/index.js';
import { runtime } from '../src/runtime/runtime.js';
import { chainReference, check, f32, heldChain, inputValues, mismatch, randomEagerProgram } from './chains.js';
import { collect, gc } from './gc.js';

const parked = (): number => runtime().scheduler.parking.size;

describe('a chain of 200 eager ops with every intermediate held', () => {
  test.each([1, 3, 257, 16385, 100_000])(
    '%i elements: one kernel writes only the last result; each intermediate reads back right later; memory back',
    async (n) => {
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
      for (const k of [57, 199, 0, 198, 120]) expect(mismatch(await ys[k]!.data(), refs[k]!, `intermediate ${k}`)).toBe('');
      expect(await check(ys, refs, 'intermediate')).toBe('');
      for (const t of [x, ...ys]) t.dispose();
      expect(parked()).toBe(before.parked);
      const after = await collect();
      expect({ liveBuffers: after.liveBuffers, bytesInUse: after.bytesInUse }).toEqual({ liveBuffers: base.liveBuffers, bytesInUse: base.bytesInUse });
    },
  );

  test('disposing parked results in any order drops their maps once nothing parked reads them', async () => {
    const x = tensor(inputValues(64, 3));
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
    expect(await check([ys[3]!, ys[9]!], [chainReference(inputValues(64, 3), 10)[3]!, chainReference(inputValues(64, 3), 10)[9]!], 'kept')).toBe('');
    for (const t of [x, ys[0]!, ys[1]!, ys[2]!, ys[3]!, ys[9]!]) t.dispose();
    expect(parked()).toBe(start - 9);
  });
});

describe('what a parked map reads changes afterwards', () => {
  test('a host write to its input: the parked result keeps the values from before the write', async () => {
    const values = inputValues(300, 5);
    const x = tensor(values);
    const [a, b] = heldChain(x, 2);
    await b!.data();
    expect(parked()).toBeGreaterThan(0);
    x.write(new Float32Array(300).fill(7));
    const refs = chainReference(values, 2);
    expect(mismatch(await a!.data(), refs[0]!, 'a')).toBe('');
    expect(mismatch(await x.data(), new Float32Array(300).fill(7), 'x')).toBe('');
    for (const t of [x, a!, b!]) t.dispose();
  });

  test('an optimizer step on the parameter it reads (eager, then captured and replayed)', async () => {
    const w = tensor(inputValues(128, 8), { requiresGrad: true });
    const opt = new optim.SGD([w], { lr: 0.25 });
    const x = tensor(new Float32Array(128).fill(2));
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
    let current = Array.from(inputValues(128, 8));
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
    for (const [k, { t, ref }] of refs.entries()) expect(mismatch(await t.data(), ref, `step ${k}`)).toBe('');
    expect(mismatch(await w.data(), current, 'w')).toBe('');
    step.dispose();
    for (const { t } of refs) t.dispose();
    for (const t of [w, x, w.grad!]) t.dispose();
  });

  test('a parked result as a captured step input, and as the input of a second chain', async () => {
    const values = inputValues(64, 11);
    const x = tensor(values);
    const w = tensor(new Float32Array(64).fill(1), { requiresGrad: true });
    const opt = new optim.SGD([w], { lr: 1 });
    const step = captureStep((input: Tensor) => {
      opt.zeroGrad();
      const loss = w.mul(input).sum();
      loss.backward();
      opt.step();
      return loss;
    });
    const wRef = new Array<number>(64).fill(1);
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
      expect(
        mismatch(
          await c.data(),
          ref.map((v) => f32(v + 1)),
          `step ${s} chain`,
        ),
      ).toBe('');
      for (const t of [a!, b!, c, loss]) t.dispose();
    }
    expect(step.replays).toBe(2);
    expect(mismatch(await w.data(), wRef, 'w')).toBe('');
    step.dispose();
    for (const t of [x, w, w.grad!]) t.dispose();
  });
});

describe('memory', () => {
  test('flat over 2,000 chains whose intermediates are dropped without dispose: the garbage collector takes their parked maps', async () => {
    const base = await collect();
    const basePark = parked();
    const x = tensor(inputValues(256, 2));
    for (let c = 0; c < 2000; c++) {
      let y = x;
      for (let i = 0; i < 20; i++) y = i % 2 === 0 ? y.add(1) : y.mul(0.5);
      if (c % 100 === 0) await y.data();
      if (c % 500 === 0) gc();
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
    (seed) => randomEagerProgram(seed, true),
  );
});
