// Reliability: every bad input of the error table raises its class with a message naming the op
// and the shapes or values; an error inside a training step changes nothing; anomaly detection;
// flat memory over thousands of steps; two models trained at once on one device.
import { beforeAll, describe, expect, test } from 'vitest';
import { AnomalyError, checkAnomaly, data, detectAnomaly, manualSeed, memory, nn, optim, realize, type Tensor, tensor, WebgradError } from '../src/index.js';
import { errorTable } from './error_table.js';
import { SeedNet as Net } from './helpers.js';

let digits: data.TrainTest;
beforeAll(async () => {
  digits = await data.loadDigits('assets/generated/digits.bin.gz');
});

describe('the error table', () => {
  test.each(errorTable().map((c) => [c.label, c] as const))('%s', async (_label, c) => {
    let thrown: unknown = null;
    try {
      await c.run();
    } catch (err) {
      thrown = err;
    }
    expect(thrown, 'no error was raised').toBeInstanceOf(c.error);
    expect(thrown).toBeInstanceOf(WebgradError);
    expect((thrown as Error).message).toMatch(typeof c.message === 'function' ? c.message() : c.message);
  });
});

function batch(offset: number, n = 32): [Tensor, Tensor] {
  const ds = data.subset(
    digits.train,
    Array.from({ length: n }, (_, i) => offset + i),
  );
  return [tensor(ds.images, { shape: [n, 784] }), tensor(ds.labels, { shape: [n], dtype: 'int32' })];
}

async function bits(ts: (Tensor | null)[]): Promise<number[][]> {
  return Promise.all(ts.map(async (t) => (t ? Array.from(new Uint32Array((await t.data()).buffer.slice(0))) : [])));
}

function goodStep(model: Net, opt: optim.SGD, offset: number): void {
  const [x, y] = batch(offset);
  opt.zeroGrad();
  nn.functional.crossEntropy(model.forward(x), y).backward();
  opt.step();
}

// Faults inside a training step, at every stage: forward, loss, backward, update.
const stepFaults: [string, (model: Net, opt: optim.SGD) => void][] = [
  ['input with the wrong number of features', (m) => void m.forward(tensor(new Float32Array(32 * 783), { shape: [32, 783] }))],
  ['float labels', (m) => void nn.functional.crossEntropy(m.forward(batch(0)[0]), tensor(new Float32Array(32)))],
  ['a label out of range', (m) => void nn.functional.crossEntropy(m.forward(batch(0)[0]), tensor(new Int32Array(32).fill(10)))],
  ['labels of another batch size', (m) => void nn.functional.crossEntropy(m.forward(batch(0)[0]), tensor(new Int32Array(31)))],
  ['backward from the logits (not a scalar)', (m) => m.forward(batch(0)[0]).backward()],
  [
    'backward after a saved activation was disposed',
    (m) => {
      const [x, y] = batch(0);
      const hidden = m.fc1.forward(x);
      const loss = nn.functional.crossEntropy(m.fc2.forward(hidden.relu()), y);
      hidden.dispose();
      loss.backward();
    },
  ],
  [
    'step with a disposed parameter',
    (m, opt) => {
      const trap = tensor([1], { requiresGrad: true });
      const bad = new optim.SGD([...m.parameters(), trap], { lr: 0.1 });
      trap.dispose();
      void opt;
      bad.step();
    },
  ],
];

describe('an error inside a training step loses nothing', () => {
  test.each(stepFaults)('%s', async (_label, fault) => {
    manualSeed(21);
    const a = new Net();
    manualSeed(21);
    const b = new Net();
    const optA = new optim.SGD(a.parameters(), { lr: 0.1, momentum: 0.9 });
    const optB = new optim.SGD(b.parameters(), { lr: 0.1, momentum: 0.9 });
    for (const [m, o] of [
      [a, optA],
      [b, optB],
    ] as const) {
      goodStep(m, o, 0);
      goodStep(m, o, 32);
    }
    // The second step's gradients are still on the parameters: the fault must not touch them either.
    const state = (m: Net, o: optim.SGD) => [...m.parameters(), ...m.parameters().map((p) => p.grad), ...m.parameters().map((p) => o.momentumBuffer(p))];
    const before = await bits(state(a, optA));
    expect(() => fault(a, optA)).toThrow(WebgradError);
    realize();
    expect(await bits(state(a, optA))).toEqual(before);
    // And the runtime is unharmed: the next step gives exactly what a model that never failed gets.
    goodStep(a, optA, 64);
    goodStep(b, optB, 64);
    expect(await bits(state(a, optA))).toEqual(await bits(state(b, optB)));
  });
});

describe('anomaly detection', () => {
  test('off by default: a NaN flows through silently', async () => {
    const x = tensor([NaN, 1]);
    expect(Number.isNaN(await x.mul(2).sum().item())).toBe(true);
  });

  test('names the first op that produced a NaN (forward)', async () => {
    detectAnomaly(true);
    try {
      manualSeed(1);
      const model = new Net();
      const pixels = new Float32Array(4 * 784);
      pixels[5] = NaN;
      const loss = nn.functional.crossEntropy(model.forward(tensor(pixels, { shape: [4, 784] })), tensor(new Int32Array([1, 2, 3, 4])));
      await expect(loss.item()).rejects.toThrow(AnomalyError);
      await expect(checkAnomaly()).resolves.toBeUndefined(); // reported once, by the read above
      const again = nn.functional.crossEntropy(model.forward(tensor(pixels, { shape: [4, 784] })), tensor(new Int32Array([1, 2, 3, 4])));
      await expect(again.item()).rejects.toThrow(/linear\(\[4, 784\], \[128, 784\], \[128\]\) produced a NaN or infinity/);
    } finally {
      detectAnomaly(false);
    }
  });

  test('names the op when the NaN first appears in the loss, and in backward', async () => {
    detectAnomaly(true);
    try {
      const logits = tensor(
        [
          [1, 2],
          [3, 4],
        ],
        { requiresGrad: true },
      );
      const y = tensor(new Int32Array([0, 5]));
      y.hostRange = null; // a label the host cannot check: the kernel makes the loss NaN
      const loss = nn.functional.crossEntropy(logits, y);
      await expect(loss.item()).rejects.toThrow(/crossEntropy\(\[2, 2\], \[2\]\) produced a NaN/);
      detectAnomaly(true); // a fresh flag
      // Finite forward, infinite gradient: the report names the backward rule.
      const w = tensor([1, 2], { requiresGrad: true });
      const total = w.mul(10).sum();
      expect(await total.item()).toBe(30);
      total.backward(tensor(3e38));
      await expect(checkAnomaly()).rejects.toThrow(/backward of scale: scale\(\[2\]\) produced a NaN or infinity/);
    } finally {
      detectAnomaly(false);
    }
  });
});

test('memory stays flat over 5,000 training steps after warm-up', async () => {
  manualSeed(5);
  const model = new Net();
  const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const loader = new data.DataLoader(
    data.subset(
      digits.train,
      Array.from({ length: 512 }, (_, i) => i),
    ),
    { batchSize: 8, seed: 5 },
  );
  const snapshots: ReturnType<typeof memory>[] = [];
  let step = 0;
  while (step < 5000) {
    for (const [x, y] of loader) {
      opt.zeroGrad();
      nn.functional.crossEntropy(model.forward(x), y).backward();
      opt.step();
      step++;
      if (step === 200 || step === 2500 || step === 5000) snapshots.push(memory());
      if (step === 5000) break;
    }
  }
  const [warm, mid, end] = snapshots as [ReturnType<typeof memory>, ReturnType<typeof memory>, ReturnType<typeof memory>];
  for (const s of [mid, end]) {
    expect(s.liveTensors).toBe(warm.liveTensors);
    expect(s.liveBuffers).toBe(warm.liveBuffers);
    expect(s.bytesInUse).toBe(warm.bytesInUse);
    expect(s.bytesPooled).toBe(warm.bytesPooled);
  }
}, 300_000);

test('two models trained at once on one device give the same results as each trained alone', async () => {
  const train = (models: [Net, optim.SGD][], steps: number) => {
    for (let s = 0; s < steps; s++) {
      for (const [i, [m, o]] of models.entries()) goodStep(m, o, (s * 32 + i * 1000) % 4000);
    }
  };
  const make = (seed: number, lr: number, momentum: number): [Net, optim.SGD] => {
    manualSeed(seed);
    const m = new Net();
    return [m, new optim.SGD(m.parameters(), { lr, momentum })];
  };
  const together = [make(1, 0.1, 0), make(2, 0.05, 0.9)] as [Net, optim.SGD][];
  train(together, 15);
  const aloneA = make(1, 0.1, 0);
  train([aloneA], 15);
  const aloneB = make(2, 0.05, 0.9);
  // B trained alone must see the batches it saw as the second model of the pair.
  for (let s = 0; s < 15; s++) goodStep(aloneB[0], aloneB[1], (s * 32 + 1000) % 4000);
  expect(await bits(together[0]![0].parameters())).toEqual(await bits(aloneA[0].parameters()));
  expect(await bits(together[1]![0].parameters())).toEqual(await bits(aloneB[0].parameters()));
});
