// The seed program on webgrad: module names, initialisation, the SGD rule, the cost of one step,
// memory over many steps, and the three gradient-descent variants each lowering the loss.
import { beforeAll, expect, test } from 'vitest';
import { counters, data, manualSeed, memory, nn, noGrad, optim, type Tensor, tensor } from '../src/index.js';
import { expectClose, SeedNet as Net } from './helpers.js';

let digits: data.TrainTest;
beforeAll(async () => {
  digits = await data.loadDigits('assets/generated/digits.bin.gz');
});

test('a subclass gets PyTorch dotted parameter names; Sequential names by position', () => {
  const net = new Net();
  expect(net.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
    ['fc1.weight', [128, 784]],
    ['fc1.bias', [128]],
    ['fc2.weight', [10, 128]],
    ['fc2.bias', [10]],
  ]);
  const seq = new nn.Sequential(new nn.Linear(4, 3), new nn.ReLU(), new nn.Linear(3, 2));
  expect(seq.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
  expect(net.eval().training).toBe(false);
  expect(net.fc1.training).toBe(false);
  expect(net.train().fc2.training).toBe(true);
});

test('Linear initialises as PyTorch: U(±1/√fan_in), reproducible from a seed', async () => {
  const a = new nn.Linear(784, 128, { seed: 7 });
  const b = new nn.Linear(784, 128, { seed: 7 });
  const w = await a.weight.data();
  expect(Array.from(w)).toEqual(Array.from(await b.weight.data()));
  const bound = 1 / Math.sqrt(784);
  let sum = 0;
  let sq = 0;
  let largest = 0;
  for (const v of w) {
    largest = Math.max(largest, Math.abs(v));
    sum += v;
    sq += v * v;
  }
  expect(largest).toBeLessThanOrEqual(bound);
  expect(largest).toBeGreaterThan(bound * 0.99);
  const mean = sum / w.length;
  expect(Math.abs(mean)).toBeLessThan(bound * 0.02);
  expect(Math.sqrt(sq / w.length - mean * mean)).toBeCloseTo(bound / Math.sqrt(3), 3);
  for (const v of await a.bias!.data()) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
});

test('SGD follows PyTorch’s rule (momentum, dampening, nesterov, weight decay) against a float64 reference', async () => {
  const configs = [
    { lr: 0.1 },
    { lr: 0.05, momentum: 0.9 },
    { lr: 0.05, momentum: 0.9, dampening: 0.3, weightDecay: 0.01 },
    { lr: 0.02, momentum: 0.8, nesterov: true, weightDecay: 0.1 },
  ];
  for (const cfg of configs) {
    const p0 = [0.5, -1.25, 2, 0.125];
    const p = tensor(p0, { requiresGrad: true });
    const opt = new optim.SGD([p], cfg);
    const ref = Float64Array.from(p0);
    const buf = new Float64Array(4);
    const { lr, momentum = 0, dampening = 0, nesterov = false, weightDecay = 0 } = cfg as optim.SGDOptions;
    for (let step = 0; step < 5; step++) {
      const gradValues = p0.map((_, i) => Math.fround(Math.sin(step * 4 + i)));
      opt.zeroGrad();
      p.mul(tensor(gradValues)).sum().backward();
      opt.step();
      for (let i = 0; i < 4; i++) {
        let d = gradValues[i]! + weightDecay * ref[i]!;
        if (momentum !== 0) {
          buf[i] = step === 0 ? d : momentum * buf[i]! + (1 - dampening) * d;
          d = nesterov ? d + momentum * buf[i]! : buf[i]!;
        }
        ref[i] = ref[i]! - lr * d;
      }
    }
    expectClose(await p.data(), ref, 1e-6, JSON.stringify(cfg));
  }
});

test('one training step at batch 64 makes one queue submit and no readback', () => {
  manualSeed(1);
  const model = new Net();
  const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const loader = new data.DataLoader(digits.train, { batchSize: 64, seed: 1 });
  let step = 0;
  for (const [x, y] of loader) {
    const before = counters();
    opt.zeroGrad();
    const loss = nn.functional.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    const after = counters();
    expect(after.submits - before.submits).toBe(1);
    expect(after.readbacks - before.readbacks).toBe(0);
    if (++step === 3) break;
  }
});

test('memory stays flat over 400 steps of the seed loop with no dispose() calls', async () => {
  manualSeed(2);
  const model = new Net();
  const opt = new optim.SGD(model.parameters(), { lr: 0.01 });
  const loader = new data.DataLoader(digits.train, { batchSize: 64, seed: 2 });
  const snapshots: ReturnType<typeof memory>[] = [];
  let step = 0;
  let lastLoss: Tensor | null = null;
  while (step < 400) {
    for (const [x, y] of loader) {
      opt.zeroGrad();
      const loss = nn.functional.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
      lastLoss = loss;
      step++;
      if (step === 50 || step === 400) snapshots.push(memory());
      if (step === 400) break;
    }
  }
  // The last loss is still readable right after its step.
  expect(Number.isFinite(await lastLoss!.item())).toBe(true);
  const [warm, end] = snapshots as [ReturnType<typeof memory>, ReturnType<typeof memory>];
  expect(end.liveTensors).toBe(warm.liveTensors);
  expect(end.liveBuffers).toBe(warm.liveBuffers);
  expect(end.bytesInUse).toBe(warm.bytesInUse);
});

async function meanLoss(model: nn.Module, ds: data.Dataset): Promise<number> {
  const x = tensor(ds.images, { shape: [ds.count, ds.features] });
  const y = tensor(ds.labels, { shape: [ds.count], dtype: 'int32' });
  const loss = noGrad(() => nn.functional.crossEntropy(model.forward(x), y));
  const v = await loss.item();
  [x, y, loss].forEach((t) => t.dispose());
  return v;
}

test.each([
  ['full batch (one update per epoch)', 'full' as const, 0.5, 8],
  ['stochastic (one sample per update)', 'sgd' as const, 0.01, 1],
  ['mini-batch of 64', 'minibatch' as const, 0.1, 1],
])('%s lowers the loss', async (_label, batchSize, lr, epochs) => {
  manualSeed(3);
  const model = new Net();
  const train = data.subset(
    digits.train,
    Array.from({ length: batchSize === 'sgd' ? 300 : 2000 }, (_, i) => i),
  );
  const before = await meanLoss(model, train);
  const opt = new optim.SGD(model.parameters(), { lr });
  const loader = new data.DataLoader(train, { batchSize, seed: 3 });
  let updates = 0;
  for (let e = 0; e < epochs; e++) {
    for (const [x, y] of loader) {
      opt.zeroGrad();
      nn.functional.crossEntropy(model.forward(x), y).backward();
      opt.step();
      updates++;
    }
  }
  const after = await meanLoss(model, train);
  expect(updates).toBe(epochs * loader.length);
  expect(after).toBeLessThan(before * 0.85);
  loader.dispose();
});
