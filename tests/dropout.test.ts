// Dropout from the user's side: the share of kept elements and their scale, reproducibility from
// manualSeed, a new mask per call, the gradient through the same mask, eval() and p = 0 as the
// identity, p = 1 as zeros, bad arguments, captured steps that replay bit for bit what the same
// eager calls compute (a new mask each replay), and memory that stays flat.
import { describe, expect, test } from 'vitest';
import { captureStep, counters, DTypeError, manualSeed, memory, nn, ones, optim, type Tensor, tensor, ValueError } from '../src/index.js';

const { dropout } = nn.functional;
const values = async (t: Tensor): Promise<Float32Array> => Float32Array.from(await t.data());
const N = 1 << 20;

/** Share of nonzero entries. */
const keptShare = (v: Float32Array): number => v.reduce((n, x) => n + (x !== 0 ? 1 : 0), 0) / v.length;

describe.each([0.1, 0.5, 0.9])('dropout with p = %f on 2^20 ones', (p) => {
  test('keeps a share 1 − p (within 6 binomial standard deviations), each kept one scaled to 1/(1 − p)', async () => {
    manualSeed(123);
    const y = await values(dropout(ones([1024, 1024]), p));
    const sigma = Math.sqrt((p * (1 - p)) / N);
    expect(Math.abs(keptShare(y) - (1 - p))).toBeLessThan(6 * sigma);
    const scale = Math.fround(1 / (1 - p));
    expect(y.every((x) => x === 0 || x === scale)).toBe(true);
    // Both halves on their own too: a mask that is not uniform over the indices shows here.
    for (const half of [y.subarray(0, N / 2), y.subarray(N / 2)]) expect(Math.abs(keptShare(half) - (1 - p))).toBeLessThan(6 * Math.SQRT2 * sigma);
  });

  test('two calls draw independent masks: they agree on a share p² + (1 − p)²', async () => {
    manualSeed(5);
    const a = await values(dropout(ones([N]), p));
    const b = await values(dropout(ones([N]), p));
    let same = 0;
    for (let i = 0; i < N; i++) same += (a[i] === 0) === (b[i] === 0) ? 1 : 0;
    const q = p * p + (1 - p) * (1 - p);
    expect(Math.abs(same / N - q)).toBeLessThan(6 * Math.sqrt((q * (1 - q)) / N));
  });
});

test('the same seed gives the same masks in the same order; another seed, other masks', async () => {
  const x = ones([4099]);
  const draw = async (seed: number): Promise<Float32Array[]> => {
    manualSeed(seed);
    return [await values(dropout(x, 0.3)), await values(dropout(x, 0.3)), await values(dropout(ones([7, 13]), 0.3))];
  };
  const [a, b] = [await draw(42), await draw(42)];
  expect(a).toEqual(b);
  expect(a[0]).not.toEqual(a[1]);
  const other = await draw(43);
  expect(other[0]).not.toEqual(a[0]);
});

test('the gradient is the upstream gradient times the same mask, scaled by 1/(1 − p)', async () => {
  manualSeed(9);
  const p = 0.4;
  const xs = Float32Array.from({ length: 3001 }, (_, i) => 1 + (i % 17));
  const x = tensor(xs, { requiresGrad: true });
  const y = dropout(x, p);
  const u = Float32Array.from({ length: xs.length }, (_, i) => Math.fround(Math.sin(i) * 3));
  y.backward(tensor(u));
  const [ys, gs] = [await values(y), await values(x.grad!)];
  const scale = Math.fround(1 / (1 - p));
  expect(Array.from(gs)).toEqual(Array.from(ys, (v, i) => Math.fround(u[i]! * (v === 0 ? 0 : scale))));
  // The output itself: x times the same mask.
  expect(Array.from(ys)).toEqual(Array.from(ys, (v, i) => (v === 0 ? 0 : Math.fround(xs[i]! * scale))));
  expect(keptShare(ys)).toBeGreaterThan(0.4);
});

test('eval(), training = false and p = 0 are the identity with no dispatch; train() draws masks again', async () => {
  const x = ones([64, 8]);
  const model = new nn.Sequential(new nn.Linear(8, 8), new nn.Dropout(0.5));
  const drop = new nn.Dropout(0.5);
  model.eval();
  drop.eval();
  const before = counters().dispatches;
  expect(drop.forward(x)).toBe(x);
  expect(dropout(x, 0.5, false)).toBe(x);
  expect(dropout(x, 0)).toBe(x);
  expect(counters().dispatches).toBe(before);
  const evalOut = await values(model.forward(x));
  expect(evalOut.every((v) => v !== 0)).toBe(true);
  model.train();
  expect(model.training).toBe(true);
  expect(keptShare(await values(model.forward(x)))).toBeLessThan(0.75);
  drop.train();
  expect(keptShare(await values(drop.forward(ones([4096]))))).toBeLessThan(0.75);
});

test('p = 1 gives zeros (NaN stays NaN, as x · 0 in PyTorch) and a zero gradient', async () => {
  const x = tensor([1, -2, Number.NaN, 4], { requiresGrad: true });
  const y = dropout(x, 1);
  expect(Array.from(await values(y))).toEqual([0, -0, Number.NaN, 0]);
  y.sum().backward();
  expect(Array.from(await values(x.grad!))).toEqual([0, 0, 0, 0]);
});

describe('bad arguments are refused with a clear error', () => {
  const rows: [string, () => unknown, new (...a: never[]) => Error, RegExp][] = [
    ['p < 0', () => dropout(ones([3]), -0.1), ValueError, /dropout: probability p must be in \[0, 1\], got the number -0.1/],
    ['p > 1', () => dropout(ones([3]), 1.5), ValueError, /dropout: probability p must be in \[0, 1\], got the number 1.5/],
    ['p NaN', () => dropout(ones([3]), Number.NaN), ValueError, /dropout: probability p must be in \[0, 1\], got the number NaN/],
    ['int32 input', () => dropout(tensor([1, 2], { dtype: 'int32' }), 0.5), DTypeError, /dropout: the input must be float32, got int32/],
    ['Dropout(2)', () => new nn.Dropout(2), ValueError, /Dropout: probability p must be in \[0, 1\], got the number 2/],
  ];
  test.each(rows)('%s', (_label, call, type, message) => {
    expect(call).toThrow(type);
    expect(call).toThrow(message);
  });
});

describe('inside captureStep', () => {
  /** A tiny training step whose loss and update depend on the mask; returns the dropped activations and the weight. */
  function setup(): { step: (x: Tensor) => Tensor[]; w: Tensor } {
    const w = nn.parameter(tensor(Float32Array.from({ length: 257 }, (_, i) => 0.5 + (i % 5) / 10)));
    const opt = new optim.SGD([w], { lr: 0.1 });
    const step = (x: Tensor): Tensor[] => {
      opt.zeroGrad();
      const h = dropout(x.mul(w), 0.5);
      h.square().sum().backward();
      opt.step();
      return [h, w.mul(1)];
    };
    return { step, w };
  }
  const input = (k: number): Tensor => tensor(Float32Array.from({ length: 257 }, (_, i) => 1 + ((i * 7 + k) % 11)));

  test('replays equal an eager twin bit for bit over several steps, and differ from step to step', async () => {
    const steps = 6;
    manualSeed(77);
    const eager = setup();
    const want: Float32Array[][] = [];
    for (let s = 0; s < steps; s++) want.push(await Promise.all(eager.step(input(s)).map(values)));

    manualSeed(77);
    const twin = setup();
    const captured = captureStep(twin.step);
    const got: Float32Array[][] = [];
    for (let s = 0; s < steps; s++) got.push(await Promise.all(captured(input(s)).map(values)));
    expect(captured.replays).toBe(steps - 2);
    for (let s = 0; s < steps; s++) expect(got[s], `step ${s}`).toEqual(want[s]);
    // A new mask each step (the same input's zeros move).
    const zeros = (v: Float32Array): string => Array.from(v, (x) => (x === 0 ? '0' : '1')).join('');
    expect(new Set(got.map(([h]) => zeros(h!))).size).toBe(steps);
    captured.dispose();
  });

  test('manualSeed between replays starts the masks over, as it does eagerly', async () => {
    manualSeed(3);
    const captured = captureStep((x: Tensor) => [dropout(x, 0.5)]);
    for (let s = 0; s < 3; s++) captured(input(0));
    manualSeed(11);
    const [a] = captured(input(0));
    manualSeed(11);
    const b = dropout(input(0), 0.5);
    expect(await values(a!)).toEqual(await values(b));
    captured.dispose();
  });

  test('no leak: live tensors and buffers stay flat over replays and over eager steps', async () => {
    manualSeed(1);
    const { step } = setup();
    const captured = captureStep(step);
    const x = input(1);
    for (let s = 0; s < 4; s++) for (const t of captured(x)) t.dispose();
    await captured(x)[0]!.data();
    const before = memory();
    for (let s = 0; s < 10; s++) for (const t of captured(x)) t.dispose();
    expect(memory().liveTensors).toBe(before.liveTensors);
    expect(memory().liveBuffers).toBe(before.liveBuffers);
    captured.dispose();

    const eager = setup();
    for (let s = 0; s < 4; s++) for (const t of eager.step(x)) t.dispose();
    await x.data();
    const warm = memory();
    for (let s = 0; s < 10; s++) for (const t of eager.step(x)) t.dispose();
    await x.data();
    expect(memory().liveTensors).toBe(warm.liveTensors);
    expect(memory().liveBuffers).toBe(warm.liveBuffers);
  });
});
