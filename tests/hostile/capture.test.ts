// captureStep under state changes between calls: after each change, the captured step must train
// exactly as the eager step does (bit for bit: losses and weights), by replaying or by recording
// again, or refuse with a CaptureError that names the cause — never silently diverge.
import { describe, expect, test } from 'vitest';
import { AutogradError, CaptureError, captureStep, loadOptimizer, nn, optim, saveOptimizer, type Tensor, tensor } from '../../src/index.js';
import { Generator } from '../../src/random.js';

const makeModel = (): nn.Sequential => new nn.Sequential(new nn.Linear(12, 10, { seed: 21 }), new nn.ReLU(), new nn.Linear(10, 4, { seed: 22 }));

function batch(seed: number, n = 7): [Tensor, Tensor] {
  const g = new Generator(seed);
  const x = new Float32Array(n * 12).map(() => g.uniform() * 2 - 1);
  const y = new Int32Array(n).map(() => g.int(4));
  return [tensor(x, { shape: [n, 12] }), tensor(y, { shape: [n], dtype: 'int32' })];
}

type Opt = optim.SGD | optim.Adam;

/** One side of the comparison: a model, its optimizer and a step function (eager or captured). */
interface Side {
  model: nn.Sequential;
  opt: Opt;
  /** Extra state the step reads from its closure (tests replace it). */
  closure: { weight: Tensor };
  step: (x: Tensor, y: Tensor) => Tensor;
}

function side(makeOpt: (p: Tensor[]) => Opt, captured: boolean): Side & { captures: () => number } {
  const model = makeModel();
  const opt = makeOpt(model.parameters());
  const closure = { weight: tensor([1.5]) };
  const body = (x: Tensor, y: Tensor): Tensor => {
    opt.zeroGrad();
    const loss = nn.functional.crossEntropy(model.forward(x), y).mul(closure.weight);
    loss.backward();
    opt.step();
    return loss;
  };
  if (!captured) return { model, opt, closure, step: (x, y) => body(x, y).keep(), captures: () => 0 };
  const step = captureStep(body);
  return { model, opt, closure, step, captures: () => step.captures };
}

async function weights(m: nn.Module): Promise<number[][]> {
  return Promise.all(m.parameters().map(async (p) => [...(await p.data())]));
}

/** Runs both sides for `steps` steps, applying `change` to each before step `at`; compares bit for bit. */
async function compare(makeOpt: (p: Tensor[]) => Opt, change: (s: Side) => void | Promise<void>, at = 4, steps = 14): Promise<number> {
  const eager = side(makeOpt, false);
  const captured = side(makeOpt, true);
  for (let s = 0; s < steps; s++) {
    if (s === at) {
      await change(eager);
      await change(captured);
    }
    const [x, y] = batch(500 + s);
    const le = await eager.step(x, y).item();
    const lc = await captured.step(x, y).item();
    expect(lc, `loss at step ${s}`).toBe(le);
  }
  expect(await weights(captured.model)).toEqual(await weights(eager.model));
  return captured.captures();
}

/** Optimizer state from another run of the same model, to load mid-training. */
async function donorState(makeOpt: (p: Tensor[]) => Opt): Promise<Uint8Array> {
  const model = makeModel();
  const opt = makeOpt(model.parameters());
  for (let s = 0; s < 3; s++) {
    opt.zeroGrad();
    const [x, y] = batch(900 + s);
    nn.functional.crossEntropy(model.forward(x), y).backward();
    opt.step();
  }
  return saveOptimizer(opt);
}

const sgdMomentum = (p: Tensor[]): Opt => new optim.SGD(p, { lr: 0.1, momentum: 0.9 });
const adam = (p: Tensor[]): Opt => new optim.Adam(p, { lr: 0.01 });

describe('captureStep after a state change equals the eager step', () => {
  test.each([
    ['SGD with momentum', sgdMomentum],
    ['Adam', adam],
  ] as const)('loadOptimizer between replays (%s)', async (_name, makeOpt) => {
    const bytes = await donorState(makeOpt);
    await compare(makeOpt, (s) => loadOptimizer(s.opt, bytes));
  });

  test('a parameter frozen (requiresGrad = false) between replays is no longer updated', async () => {
    let frozenBefore: number[] = [];
    let frozen: Tensor | null = null;
    const captures = await compare(sgdMomentum, async (s) => {
      const w = (s.model.layers[0] as nn.Linear).weight;
      w.requiresGrad = false;
      frozen = w;
      frozenBefore = [...(await w.data())];
    });
    expect([...(await frozen!.data())]).toEqual(frozenBefore);
    expect(captures).toBe(2);
  });

  test('a frozen parameter unfrozen between replays is updated again', async () => {
    const captures = await compare(
      (p) => {
        const opt = new optim.SGD(p, { lr: 0.1 });
        p[2]!.requiresGrad = false;
        return opt;
      },
      (s) => {
        (s.model.layers[2] as nn.Linear).weight.requiresGrad = true;
      },
    );
    expect(captures).toBe(2);
  });

  test('a tensor of the closure replaced (and the old one disposed) between replays', async () => {
    const captures = await compare(sgdMomentum, (s) => {
      s.closure.weight.dispose();
      s.closure.weight = tensor([0.25]);
    });
    expect(captures).toBe(2);
  });

  test('settings changed between replays (lr, momentum, nesterov, weight decay) are followed', async () => {
    await compare(sgdMomentum, (s) => {
      const o = (s.opt as optim.SGD).options;
      o.lr = 0.03;
      o.momentum = 0.5;
      o.nesterov = true;
      o.weightDecay = 0.01;
    });
    await compare(adam, (s) => {
      const o = (s.opt as optim.Adam).options;
      o.lr = 0.002;
      o.betas = [0.8, 0.99];
      o.eps = 1e-6;
      o.weightDecay = 0.1;
    });
  });
});

describe('captureStep refuses what it cannot replay, and changes nothing', () => {
  test('an argument that requires gradients is refused on the first call with the reason', async () => {
    const model = makeModel();
    const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
    const step = captureStep((x: Tensor, y: Tensor) => {
      opt.zeroGrad();
      const loss = nn.functional.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
      return loss;
    });
    const [x, y] = batch(3);
    x.requiresGrad = true;
    const before = await weights(model);
    for (let call = 0; call < 3; call++) {
      expect(() => step(x, y)).toThrow(CaptureError);
      expect(() => step(x, y)).toThrow(/argument 0 \(\[7, 12\]\) requires gradients/);
    }
    expect(await weights(model)).toEqual(before);
    expect(x.grad).toBeNull();
    // The same data without requiresGrad trains.
    step(x.detach(), y).dispose();
    expect(await weights(model)).not.toEqual(before);
    step.dispose();
  });

  test('a replay updates parameters in place: a graph recorded before it cannot backward through the old values', async () => {
    const model = makeModel();
    const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
    const step = captureStep((x: Tensor, y: Tensor) => {
      opt.zeroGrad();
      const loss = nn.functional.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
      return loss;
    });
    for (let s = 0; s < 3; s++) step(...batch(s)).dispose();
    const [x, y] = batch(10);
    const outside = nn.functional.crossEntropy(model.forward(x), y); // saves the weights for backward
    step(...batch(11)).dispose(); // a replay: the weights change in place
    expect(() => outside.backward()).toThrow(AutogradError);
    expect(() => outside.backward()).toThrow(/modified by an in-place/);
    step.dispose();
  });
});
