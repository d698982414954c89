// Checkpoints PyTorch can read (and write), optimizer state, and learning-rate schedules.

import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { data, load, loadOptimizer, manualSeed, nn, optim, parseSafetensors, save, saveOptimizer, type Tensor, tensor, ValueError } from '../src/index.js';
import { SeedNet as Net, relErr } from './helpers.js';

const bytesOf = (path: string) => new Uint8Array(readFileSync(path));
const bits = async (ts: Tensor[]) => Promise.all(ts.map(async (t) => Array.from(new Uint32Array((await t.data()).slice().buffer))));

test('a PyTorch checkpoint loads into webgrad and gives PyTorch’s logits (within 1e-5)', async () => {
  const model = new Net();
  load(model, bytesOf('tests/fixtures/torch_net.safetensors'));
  const expected = parseSafetensors(bytesOf('tests/fixtures/torch_net_expected.safetensors'));
  const { test: held } = await data.loadDigits('assets/generated/digits.bin.gz');
  const indices = expected.get('indices')!.data;
  const picked = data.subset(held, indices);
  const logits = await model.forward(tensor(picked.images, { shape: [indices.length, 784] })).data();
  const want = expected.get('logits')!.data;
  console.log(`[webgrad] logits of digit 0: webgrad ${Array.from(logits.slice(0, 3))} PyTorch ${Array.from(want.slice(0, 3))}`);
  const err = relErr(logits, want);
  console.log(`[webgrad] PyTorch checkpoint: logits relative error ${err.toExponential(2)}`);
  expect(err).toBeLessThan(1e-5);
});

test('save writes state_dict names and shapes; load round-trips bit for bit', async () => {
  manualSeed(8);
  const a = new Net();
  const bytes = await save(a);
  const file = parseSafetensors(bytes);
  expect([...file.entries()].map(([n, t]) => [n, t.shape])).toEqual([
    ['fc1.weight', [128, 784]],
    ['fc1.bias', [128]],
    ['fc2.weight', [10, 128]],
    ['fc2.bias', [10]],
  ]);
  manualSeed(9);
  const b = new Net();
  load(b, bytes);
  expect(await bits(b.parameters())).toEqual(await bits(a.parameters()));
  const seq = new nn.Sequential(new nn.Linear(3, 2), new nn.ReLU(), new nn.Linear(2, 1));
  expect([...parseSafetensors(await save(seq)).keys()]).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
});

test('a mismatched checkpoint is one error listing every difference, and loads nothing', async () => {
  manualSeed(10);
  const model = new Net();
  const before = await bits(model.parameters());
  const other = new nn.Sequential(new nn.Linear(784, 64), new nn.ReLU(), new nn.Linear(64, 10));
  const wrong = await save(other);
  let error: Error | null = null;
  try {
    load(model, wrong);
  } catch (err) {
    error = err as Error;
  }
  expect(error).toBeInstanceOf(ValueError);
  expect(error!.message).toMatch(/the checkpoint does not match \(nothing was loaded\)/);
  for (const part of ['missing fc1.weight [128, 784]', 'missing fc2.bias [10]', 'unexpected 0.weight', 'unexpected 2.bias'])
    expect(error!.message).toContain(part);
  // A wrong shape under the right name.
  const small = new Net();
  small.fc2 = new nn.Linear(128, 9);
  const smallBytes = await save(small);
  expect(() => load(model, smallBytes)).toThrow(/fc2.weight has shape \[9, 128\], expected \[10, 128\]; fc2.bias has shape \[9\], expected \[10\]/);
  expect(await bits(model.parameters())).toEqual(before);
});

test.each([
  ['SGD with momentum', (p: Tensor[]) => new optim.SGD(p, { lr: 0.05, momentum: 0.9 })],
  ['Adam', (p: Tensor[]) => new optim.Adam(p, { lr: 1e-3 })],
  ['AdamW', (p: Tensor[]) => new optim.AdamW(p, { lr: 1e-3 })],
])('%s: saved and restored optimizer state continues exactly where it left off', async (_name, make) => {
  const { train } = await data.loadDigits('assets/generated/digits.bin.gz');
  const batches = Array.from({ length: 5 }, (_, s) => {
    const ds = data.subset(
      train,
      Array.from({ length: 16 }, (_, i) => s * 16 + i),
    );
    return [tensor(ds.images, { shape: [16, 784] }).keep(), tensor(ds.labels, { shape: [16], dtype: 'int32' }).keep()] as const;
  });
  const step = (m: Net, o: optim.Optimizer, s: number) => {
    o.zeroGrad();
    nn.functional.crossEntropy(m.forward(batches[s]![0]), batches[s]![1]).backward();
    o.step();
  };
  manualSeed(11);
  const a = new Net();
  const optA = make(a.parameters());
  for (let s = 0; s < 3; s++) step(a, optA, s);
  const weights = await save(a);
  const state = await saveOptimizer(optA);
  for (let s = 3; s < 5; s++) step(a, optA, s);

  manualSeed(12);
  const b = new Net();
  const optB = make(b.parameters());
  load(b, weights);
  loadOptimizer(optB, state);
  for (let s = 3; s < 5; s++) step(b, optB, s);
  expect(await bits(b.parameters())).toEqual(await bits(a.parameters()));
  expect(() => loadOptimizer(new optim.SGD(b.parameters(), { lr: 0.1 }), optA instanceof optim.SGD ? new Uint8Array(16) : state)).toThrow(ValueError);
});

test('learning-rate schedules follow PyTorch: StepLR and CosineAnnealingLR', () => {
  const p = tensor([1], { requiresGrad: true });
  const sgd = new optim.SGD([p], { lr: 1 });
  const stepLR = new optim.StepLR(sgd, { stepSize: 2, gamma: 0.5 });
  const seen = [sgd.lr];
  for (let e = 0; e < 5; e++) {
    stepLR.step();
    seen.push(sgd.lr);
  }
  expect(seen).toEqual([1, 1, 0.5, 0.5, 0.25, 0.25]);
  const adam = new optim.Adam([p], { lr: 1 });
  const cosine = new optim.CosineAnnealingLR(adam, { tMax: 4, etaMin: 0 });
  const lrs = [adam.lr];
  for (let e = 0; e < 4; e++) {
    cosine.step();
    lrs.push(adam.lr);
  }
  // PyTorch 1.13 prints 1.0, 0.8536, 0.5, 0.1464, 0.0 for this schedule.
  [1, 0.853553, 0.5, 0.146447, 0].forEach((v, i) => expect(lrs[i]).toBeCloseTo(v, 5));
});
