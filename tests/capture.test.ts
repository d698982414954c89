// captureStep: a recorded-and-replayed training step must train exactly as the eager step does,
// with one submit per step and no new allocations or bind groups, and must refuse what it cannot
// replay without changing any state.
import { describe, expect, test } from 'vitest';
import { CaptureError, captureStep, counters, memory, nn, optim, type Tensor, tensor, ValueError } from '../src/index.js';
import { Generator } from '../src/random.js';
import { runtime } from '../src/runtime/runtime.js';

const model = (): nn.Sequential => new nn.Sequential(new nn.Linear(20, 16, { seed: 11 }), new nn.ReLU(), new nn.Linear(16, 5, { seed: 12 }));

function batch(seed: number, n: number, classes = 5): [Tensor, Tensor] {
  const g = new Generator(seed);
  const x = new Float32Array(n * 20).map(() => g.uniform() * 2 - 1);
  const y = new Int32Array(n).map(() => g.int(classes));
  return [tensor(x, { shape: [n, 20] }), tensor(y, { shape: [n], dtype: 'int32' })];
}

type MakeOpt = (params: Tensor[]) => optim.SGD | optim.Adam;
const settings: [string, MakeOpt][] = [
  ['plain SGD', (p) => new optim.SGD(p, { lr: 0.1 })],
  ['SGD with momentum, Nesterov and weight decay', (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
  ['Adam', (p) => new optim.Adam(p, { lr: 0.01 })],
  ['AdamW', (p) => new optim.AdamW(p, { lr: 0.01 })],
];

async function values(ts: Tensor[]): Promise<number[][]> {
  return Promise.all(ts.map(async (t) => [...(await t.data())]));
}

describe('captureStep', () => {
  test.each(settings)('%s: replayed steps equal eager steps bit for bit (losses, weights, gradients, a changed lr)', async (_name, makeOpt) => {
    const eagerModel = model();
    const capturedModel = model();
    const eagerOpt = makeOpt(eagerModel.parameters());
    const capturedOpt = makeOpt(capturedModel.parameters());
    const lossFn = new nn.CrossEntropyLoss();
    const eagerStep = (x: Tensor, y: Tensor): Tensor => {
      eagerOpt.zeroGrad();
      const loss = lossFn.forward(eagerModel.forward(x), y);
      loss.backward();
      eagerOpt.step();
      return loss.keep();
    };
    const step = captureStep((x: Tensor, y: Tensor) => {
      capturedOpt.zeroGrad();
      const loss = lossFn.forward(capturedModel.forward(x), y);
      loss.backward();
      capturedOpt.step();
      return loss;
    });
    const eagerLosses: number[] = [];
    const capturedLosses: number[] = [];
    for (let s = 0; s < 8; s++) {
      if (s === 5) {
        // A schedule changing the learning rate between steps must reach the replayed update.
        eagerOpt.lr = eagerOpt.lr * 0.5;
        capturedOpt.lr = capturedOpt.lr * 0.5;
      }
      const [x, y] = batch(100 + s, 12);
      eagerLosses.push(await eagerStep(x, y).item());
      capturedLosses.push(await step(x, y).item());
    }
    expect(step.captures).toBe(1);
    expect(step.replays).toBe(6);
    expect(capturedLosses).toEqual(eagerLosses);
    expect(eagerLosses[7]).toBeLessThan(eagerLosses[0]!);
    expect(await values(capturedModel.parameters())).toEqual(await values(eagerModel.parameters()));
    expect(await values(capturedModel.parameters().map((p) => p.grad!))).toEqual(await values(eagerModel.parameters().map((p) => p.grad!)));
    step.dispose();
  });

  test('switching momentum on and off between steps records again and still equals the eager steps', async () => {
    const eagerModel = model();
    const capturedModel = model();
    const eagerOpt = new optim.SGD(eagerModel.parameters(), { lr: 0.1 });
    const capturedOpt = new optim.SGD(capturedModel.parameters(), { lr: 0.1 });
    const eagerStep = (x: Tensor, y: Tensor): Tensor => {
      eagerOpt.zeroGrad();
      const loss = nn.functional.crossEntropy(eagerModel.forward(x), y);
      loss.backward();
      eagerOpt.step();
      return loss.keep();
    };
    const step = captureStep((x: Tensor, y: Tensor) => {
      capturedOpt.zeroGrad();
      const loss = nn.functional.crossEntropy(capturedModel.forward(x), y);
      loss.backward();
      capturedOpt.step();
      return loss;
    });
    const momentumAt = [0, 0, 0, 0.9, 0.9, 0.9, 0.9, 0.5, 0, 0, 0];
    for (let s = 0; s < momentumAt.length; s++) {
      eagerOpt.options.momentum = momentumAt[s]!;
      capturedOpt.options.momentum = momentumAt[s]!;
      const [x, y] = batch(300 + s, 9);
      expect(await step(x, y).item(), `step ${s}`).toBe(await eagerStep(x, y).item());
    }
    expect(await values(capturedModel.parameters())).toEqual(await values(eagerModel.parameters()));
    // Recorded at steps 1 (momentum off), 4 (on: 3 was eager) and 9 (off again); 0.9 → 0.5 is a refresh.
    expect(step.captures).toBe(3);
    step.dispose();
  });

  test('a replayed step is one submit, no readback, no new buffer and no new bind group', async () => {
    const net = model();
    const opt = new optim.SGD(net.parameters(), { lr: 0.1, momentum: 0.9 });
    const step = captureStep((x: Tensor, y: Tensor) => {
      opt.zeroGrad();
      const loss = nn.functional.crossEntropy(net.forward(x), y);
      loss.backward();
      opt.step();
      return loss;
    });
    const batches = [batch(1, 8), batch(2, 8), batch(3, 8), batch(4, 8)];
    for (let s = 0; s < 3; s++) step(...batches[s % 4]!).dispose();
    await step(...batches[3]!).item();
    step(...batches[0]!).dispose();
    const pipelines = runtime().scheduler.pipelines;
    const before = { ...counters(), bindGroups: pipelines.bindGroupsCreated, pipelines: pipelines.pipelinesCreated, mem: memory() };
    for (let s = 0; s < 20; s++) step(...batches[s % 4]!).dispose();
    const after = counters();
    expect(after.submits - before.submits).toBe(20);
    expect(after.readbacks - before.readbacks).toBe(0);
    expect(after.uploads - before.uploads).toBe(0);
    expect(pipelines.bindGroupsCreated).toBe(before.bindGroups);
    expect(pipelines.pipelinesCreated).toBe(before.pipelines);
    expect(memory()).toEqual(before.mem);
    // The dispatch count is the eager step's (same kernels), now in one replayed pass.
    expect((after.dispatches - before.dispatches) / 20).toBeGreaterThan(5);
    step.dispose();
  });

  test('a new batch size records a new program; the old one still replays', async () => {
    const net = model();
    const opt = new optim.SGD(net.parameters(), { lr: 0.1 });
    const step = captureStep((x: Tensor, y: Tensor) => {
      opt.zeroGrad();
      const loss = nn.functional.crossEntropy(net.forward(x), y);
      loss.backward();
      opt.step();
      return [loss, net.forward(x).argmax(1)];
    });
    for (const n of [16, 16, 16, 3, 3, 3, 16, 1, 1, 1]) {
      const [x, y] = batch(n, n);
      const [loss, pred] = step(x, y);
      expect(loss!.shape).toEqual([]);
      expect(pred!.shape).toEqual([n]);
      expect(pred!.dtype).toBe('int32');
      expect(Number.isFinite(await loss!.item())).toBe(true);
    }
    expect(step.captures).toBe(3);
    expect(step.replays).toBe(4);
    step.dispose();
  });

  test('the returned tensors are copies: a later replay does not change an earlier loss', async () => {
    const net = model();
    const opt = new optim.SGD(net.parameters(), { lr: 0.5 });
    const step = captureStep((x: Tensor, y: Tensor) => {
      opt.zeroGrad();
      const loss = nn.functional.crossEntropy(net.forward(x), y);
      loss.backward();
      opt.step();
      return loss;
    });
    const [x, y] = batch(7, 10);
    const losses = Array.from({ length: 6 }, () => step(x, y));
    const read = await Promise.all(losses.map((l) => l.item()));
    expect(new Set(read).size).toBe(6);
    expect(read[5]).toBeLessThan(read[0]!);
    step.dispose();
  });

  test('a label out of range on a replay is refused before anything runs', async () => {
    const net = model();
    const opt = new optim.SGD(net.parameters(), { lr: 0.1, momentum: 0.9 });
    const step = captureStep((x: Tensor, y: Tensor) => {
      opt.zeroGrad();
      const loss = nn.functional.crossEntropy(net.forward(x), y);
      loss.backward();
      opt.step();
      return loss;
    });
    for (let s = 0; s < 3; s++) step(...batch(s, 6)).dispose();
    const before = await values([...net.parameters(), ...net.parameters().map((p) => opt.momentumBuffer(p)!)]);
    const [x] = batch(9, 6);
    const bad = tensor(Int32Array.of(0, 1, 2, 7, 1, 0), { shape: [6], dtype: 'int32' });
    expect(() => step(x, bad)).toThrow(ValueError);
    expect(() => step(x, bad)).toThrow(/label 7 is outside \[0, 5\)/);
    expect(await values([...net.parameters(), ...net.parameters().map((p) => opt.momentumBuffer(p)!)])).toEqual(before);
    expect(step.replays).toBe(1);
    step.dispose();
  });

  test('a step that reads a value back, or accumulates gradients, is refused with the reason and changes nothing', async () => {
    const net = model();
    const opt = new optim.SGD(net.parameters(), { lr: 0.1 });
    const reads = captureStep((x: Tensor, y: Tensor) => {
      opt.zeroGrad();
      const loss = nn.functional.crossEntropy(net.forward(x), y);
      loss.item().catch(() => undefined);
      return loss;
    });
    const [x, y] = batch(3, 4);
    reads(x, y);
    expect(() => reads(x, y)).toThrow(CaptureError);
    expect(runtime().scheduler.capturing).toBe(false);

    const accumulates = captureStep((x: Tensor, y: Tensor) => {
      const loss = nn.functional.crossEntropy(net.forward(x), y);
      loss.backward();
      opt.step();
      return loss;
    });
    accumulates(x, y);
    const before = await values(net.parameters());
    expect(() => accumulates(x, y)).toThrow(/zeroGrad/);
    expect(await values(net.parameters())).toEqual(before);
    // Eager training still works afterwards.
    opt.zeroGrad();
    nn.functional.crossEntropy(net.forward(x), y).backward();
    opt.step();
    expect(await values(net.parameters())).not.toEqual(before);
  });

  test('arguments must be tensors; views are copied in', async () => {
    const net = model();
    const step = captureStep((x: Tensor) => net.forward(x).sum());
    expect(() => (step as unknown as (v: number) => Tensor)(3)).toThrow(/argument 0 is not a Tensor/);
    const g = new Generator(5);
    const stored = tensor(
      new Float32Array(20 * 4).map(() => g.uniform()),
      { shape: [20, 4] },
    );
    const view = stored.transpose();
    const eager = await net.forward(view).sum().item();
    for (let i = 0; i < 3; i++) expect(await step(view).item()).toBeCloseTo(eager, 5);
    expect(step.replays).toBe(1);
    step.dispose();
  });
});
