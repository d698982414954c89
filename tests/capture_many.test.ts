// captureStep's many(): K steps in one submit over K batches already on the GPU must train exactly
// as K separate calls of the captured step do (losses, weights, optimizer state, dropout masks,
// batch-norm running statistics), and must refuse bad arguments before changing anything.
import { describe, expect, test } from 'vitest';
import {
  CaptureError,
  captureStep,
  counters,
  DeviceLimitError,
  DisposedError,
  manualSeed,
  memory,
  nn,
  optim,
  runtimeInfo,
  ShapeError,
  type Tensor,
  tensor,
  ValueError,
  zeros,
} from '../src/index.js';
import { Generator } from '../src/random.js';

const FEATURES = 20;
const CLASSES = 5;

type MakeModel = () => nn.Sequential;
type MakeOpt = (params: Tensor[]) => optim.SGD | optim.Adam;

const mlp: MakeModel = () => new nn.Sequential(new nn.Linear(FEATURES, 16, { seed: 11 }), new nn.ReLU(), new nn.Linear(16, CLASSES, { seed: 12 }));
const withDropout: MakeModel = () =>
  new nn.Sequential(new nn.Linear(FEATURES, 16, { seed: 11 }), new nn.ReLU(), new nn.Dropout(0.3), new nn.Linear(16, CLASSES, { seed: 12 }));
const withBatchNorm: MakeModel = () =>
  new nn.Sequential(
    new nn.Linear(FEATURES, 16, { seed: 11 }),
    new nn.BatchNorm1d(16, { momentum: 0.2 }),
    new nn.ReLU(),
    new nn.Linear(16, CLASSES, { seed: 12 }),
  );

const sgd: MakeOpt = (p) => new optim.SGD(p, { lr: 0.1 });
const momentum: MakeOpt = (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 });
const adam: MakeOpt = (p) => new optim.Adam(p, { lr: 0.01 });
const adamW: MakeOpt = (p) => new optim.AdamW(p, { lr: 0.01 });

/** K batches of `batch` rows: host values per step, from one seed. */
function data(seed: number, steps: number, batch: number): { x: Float32Array; y: Int32Array } {
  const g = new Generator(seed);
  return {
    x: new Float32Array(steps * batch * FEATURES).map(() => g.uniform() * 2 - 1),
    y: new Int32Array(steps * batch).map(() => g.int(CLASSES)),
  };
}

function trainStep(model: nn.Sequential, opt: optim.SGD | optim.Adam) {
  const lossFn = new nn.CrossEntropyLoss();
  return captureStep((x: Tensor, y: Tensor) => {
    opt.zeroGrad();
    const loss = lossFn.forward(model.forward(x), y);
    loss.backward();
    opt.step();
    return loss;
  });
}

async function stateValues(model: nn.Sequential): Promise<[string, number[]][]> {
  return Promise.all(model.stateDict().map(async ([name, t]) => [name, [...(await t.data())]] as [string, number[]]));
}

describe('captureStep many()', () => {
  const cases: [string, MakeModel, MakeOpt, number][] = [
    ['plain SGD, batch 1', mlp, sgd, 1],
    ['SGD with momentum, Nesterov and weight decay', mlp, momentum, 3],
    ['Adam (its step count advances per step)', mlp, adam, 3],
    ['AdamW, batch 1', mlp, adamW, 1],
    ['dropout with Adam (a new mask each step)', withDropout, adam, 3],
    ['batchNorm1d with SGD (running statistics and the batch count)', withBatchNorm, momentum, 4],
  ];

  test.each(cases)('%s: equals the same steps called one by one, bit for bit', async (_name, makeModel, makeOpt, batch) => {
    const steps = 12;
    const { x, y } = data(5, steps, batch);
    const xAt = (k: number): Tensor => tensor(x.subarray(k * batch * FEATURES, (k + 1) * batch * FEATURES), { shape: [batch, FEATURES] });
    const yAt = (k: number): Tensor => tensor(y.subarray(k * batch, (k + 1) * batch), { shape: [batch], dtype: 'int32' });

    // Twelve separate calls; the learning rate halves before step 5.
    manualSeed(9);
    const oneByOne = makeModel();
    const oneOpt = makeOpt(oneByOne.parameters());
    const one = trainStep(oneByOne, oneOpt);
    const want: number[] = [];
    for (let k = 0; k < steps; k++) {
      if (k === 5) oneOpt.lr = oneOpt.lr * 0.5;
      want.push(await one(xAt(k), yAt(k)).item());
    }

    // The same twelve steps as many() over views of one tensor holding every batch: steps 0–4 on a
    // fresh step (a warm-up, a recording, then three replays), 5–10 all replayed, 11 a single call.
    manualSeed(9);
    const together = makeModel();
    const manyOpt = makeOpt(together.parameters());
    const many = trainStep(together, manyOpt);
    const xs = tensor(x, { shape: [steps, batch, FEATURES] });
    const ys = tensor(y, { shape: [steps, batch], dtype: 'int32' });
    const first = many.many(xs.narrow(0, 0, 5), ys.narrow(0, 0, 5));
    manyOpt.lr = manyOpt.lr * 0.5;
    const second = many.many(xs.narrow(0, 5, 6), ys.narrow(0, 5, 6));
    const last = many(xAt(11), yAt(11));
    expect(first.shape).toEqual([5]);
    expect(second.shape).toEqual([6]);
    const got = [...(await first.data()), ...(await second.data()), await last.item()];

    expect(got).toEqual(want);
    expect(want[steps - 1]).not.toBe(want[0]);
    expect(await stateValues(together)).toEqual(await stateValues(oneByOne));
    expect(many.captures).toBe(1);
    expect(many.replays).toBe(3 + 6 + 1);
    one.dispose();
    many.dispose();
  });

  test('steps returning a list or nothing: each tensor stacked with a leading K, nothing stays nothing', async () => {
    const { x, y } = data(8, 6, 2);
    const xs = tensor(x, { shape: [6, 2, FEATURES] });
    const ys = tensor(y, { shape: [6, 2], dtype: 'int32' });
    const model = mlp();
    const opt = sgd(model.parameters());
    const listStep = captureStep((xb: Tensor, yb: Tensor) => {
      opt.zeroGrad();
      const logits = model.forward(xb);
      const loss = nn.functional.crossEntropy(logits, yb);
      loss.backward();
      opt.step();
      return [loss, logits.argmax(1)];
    });
    for (const k of [1, 2, 6]) {
      const [losses, predictions] = listStep.many(xs.narrow(0, 0, k), ys.narrow(0, 0, k));
      expect(losses!.shape).toEqual([k]);
      expect(predictions!.shape).toEqual([k, 2]);
      expect(predictions!.dtype).toBe('int32');
      expect((await losses!.data()).every(Number.isFinite)).toBe(true);
    }
    const silent = captureStep((xb: Tensor, yb: Tensor) => {
      opt.zeroGrad();
      nn.functional.crossEntropy(model.forward(xb), yb).backward();
      opt.step();
    });
    for (let r = 0; r < 3; r++) expect(silent.many(xs, ys)).toBeUndefined();
    expect(silent.replays).toBe(6 + 6 + 4);
    listStep.dispose();
    silent.dispose();
  });

  test('once recorded, K steps are one submit with K times the dispatches, and memory stays flat', async () => {
    const steps = 16;
    const { x, y } = data(3, steps, 1);
    const xs = tensor(x, { shape: [steps, 1, FEATURES] });
    const ys = tensor(y, { shape: [steps, 1], dtype: 'int32' });
    const model = mlp();
    const step = trainStep(model, adam(model.parameters()));
    await step.many(xs, ys).data();
    const single = counters();
    step(xs.narrow(0, 0, 1).reshape([1, FEATURES]), ys.narrow(0, 0, 1).reshape([1])).dispose();
    const perStep = counters().dispatches - single.dispatches;
    await step.many(xs, ys).data();
    const before = { ...counters(), mem: memory() };
    for (let r = 0; r < 5; r++) step.many(xs, ys).dispose();
    const after = counters();
    expect(after.submits - before.submits).toBe(5);
    expect(after.dispatches - before.dispatches).toBe(5 * steps * perStep);
    expect(after.readbacks - before.readbacks).toBe(0);
    expect(memory()).toEqual(before.mem);
    step.dispose();
  });

  test('a label out of range in any step stops the call before any step runs', async () => {
    const steps = 5;
    const { x, y } = data(4, steps, 2);
    y[7] = CLASSES + 2; // step 3
    const xs = tensor(x, { shape: [steps, 2, FEATURES] });
    const bad = tensor(y, { shape: [steps, 2], dtype: 'int32' });
    const good = tensor(
      y.map((v) => v % CLASSES),
      { shape: [steps, 2], dtype: 'int32' },
    );
    const model = mlp();
    const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const step = trainStep(model, opt);
    const initial = await stateValues(model);
    // Before anything is recorded (step 0 would be the warm-up) and after.
    expect(() => step.many(xs, bad)).toThrow(/crossEntropy: label 7 is outside \[0, 5\)/);
    expect(await stateValues(model)).toEqual(initial);
    step.many(xs, good).dispose();
    const trained = await stateValues(model);
    const momenta = await Promise.all(model.parameters().map(async (p) => [...(await opt.momentumBuffer(p)!.data())]));
    expect(() => step.many(xs, bad)).toThrow(ValueError);
    expect(await stateValues(model)).toEqual(trained);
    expect(await Promise.all(model.parameters().map(async (p) => [...(await opt.momentumBuffer(p)!.data())]))).toEqual(momenta);
    expect(step.replays).toBe(steps - 2);
    step.dispose();
  });

  test('a first call refused by a label check is no warm-up: the steps after it still equal eager steps', async () => {
    const { x, y } = data(6, 4, 2);
    const xs = tensor(x, { shape: [4, 2, FEATURES] });
    const ys = tensor(y, { shape: [4, 2], dtype: 'int32' });
    const bad = tensor(Int32Array.of(0, CLASSES), { shape: [2], dtype: 'int32' });
    const eagerModel = mlp();
    const eagerOpt = momentum(eagerModel.parameters());
    const want: number[] = [];
    for (let k = 0; k < 4; k++) {
      eagerOpt.zeroGrad();
      const xk = tensor(x.subarray(k * 2 * FEATURES, (k + 1) * 2 * FEATURES), { shape: [2, FEATURES] });
      const yk = tensor(y.subarray(k * 2, (k + 1) * 2), { shape: [2], dtype: 'int32' });
      const loss = nn.functional.crossEntropy(eagerModel.forward(xk), yk);
      loss.backward();
      eagerOpt.step();
      want.push(await loss.item());
    }
    for (const call of ['plain', 'many'] as const) {
      const model = mlp();
      const step = trainStep(model, momentum(model.parameters()));
      // Refused inside the first (eager) call, before the optimizer made its momentum buffers.
      expect(() => step(xs.narrow(0, 0, 1).reshape([2, FEATURES]), bad)).toThrow(/label 5 is outside \[0, 5\)/);
      const got =
        call === 'many'
          ? [...(await step.many(xs, ys).data())]
          : await Promise.all([0, 1, 2, 3].map((k) => step(xs.narrow(0, k, 1).reshape([2, FEATURES]), ys.narrow(0, k, 1).reshape([2])).item()));
      expect(got, call).toEqual(want);
      expect(await stateValues(model), call).toEqual(await stateValues(eagerModel));
      step.dispose();
    }
  });

  test('a stacked result over the device limit is refused before the steps run', async () => {
    const limit = runtimeInfo().limits.maxStorageBufferBindingSize;
    const w = zeros([1 << 20]);
    // Returns a 4 MiB tensor per step: enough steps would stack past the binding limit.
    const step = captureStep((x: Tensor) => w.add(x));
    const steps = Math.floor(limit / (4 << 20)) + 1;
    const xs = zeros([steps, 1]);
    step(xs.narrow(0, 0, 1).reshape([1])).dispose();
    step(xs.narrow(0, 1, 1).reshape([1])).dispose();
    expect(() => step.many(xs)).toThrow(DeviceLimitError);
    expect(() => step.many(xs)).toThrow(/captureStep\.many: a stacked result of shape \[\d+, 1048576\] needs \d+ bytes/);
    expect(step.replays).toBe(0);
    step.dispose();
  });

  const xs = (shape: number[]): Tensor => zeros(shape);
  const ys = (shape: number[]): Tensor => tensor(new Int32Array(shape.reduce((a, b) => a * b, 1)), { shape, dtype: 'int32' });
  const errors: [string, () => unknown, new (...args: never[]) => Error, RegExp][] = [
    [
      'leading dimensions that differ',
      () => lossStep().many(xs([4, 1, FEATURES]), ys([5, 1])),
      ShapeError,
      /captureStep\.many: the arguments' leading dimensions \(one entry per step\) differ: argument 0 \[4, 1, 20\], argument 1 \[5, 1\]/,
    ],
    ['K = 0', () => lossStep().many(xs([0, 1, FEATURES]), ys([0, 1])), ValueError, /captureStep\.many: no steps to run \(argument 0 has shape \[0, 1, 20\]\)/],
    ['a 0-d argument', () => lossStep().many(xs([3, 1, FEATURES]), zeros([])), ShapeError, /captureStep\.many: argument 1 is 0-d/],
    [
      'a disposed argument',
      () => {
        const x = xs([2, 1, FEATURES]);
        x.dispose();
        return lossStep().many(x, ys([2, 1]));
      },
      DisposedError,
      /captureStep\.many \(argument 0\): a tensor of shape \[2, 1, 20\] was used after it was released/,
    ],
    [
      'an argument that requires gradients',
      () => {
        const x = xs([2, 1, FEATURES]);
        x.requiresGrad = true;
        return lossStep().many(x, ys([2, 1]));
      },
      CaptureError,
      /captureStep\.many: argument 0 \(\[2, 1, 20\]\) requires gradients/,
    ],
    ['a step without arguments', () => captureStep(() => zeros([1]).add(1)).many(), ValueError, /captureStep\.many: the step takes no arguments/],
  ];

  function lossStep() {
    const model = mlp();
    return trainStep(model, sgd(model.parameters()));
  }

  test.each(errors)('%s is refused with the shapes at fault', (_label, run, error, message) => {
    expect(run).toThrow(error);
    expect(run).toThrow(message);
  });
});
