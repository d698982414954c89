// LeNet (src/models/lenet.ts): parity with PyTorch over 20 captured steps of SGD with momentum
// (tests/fixtures/make_lenet_parity.py records them from the same initial weights on the same
// batches, in float32 and in float64), checkpoints that cross with PyTorch's state_dict names, the
// accepted input shapes, and memory that stays flat over captured steps.

import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import {
  captureStep,
  data,
  encodeSafetensors,
  load,
  type MemoryInfo,
  memory,
  models,
  nn,
  noGrad,
  optim,
  parseSafetensors,
  ShapeError,
  save,
  type Tensor,
  tensor,
  tidy,
  ValueError,
} from '../src/index.js';
import { relErr } from './helpers.js';

const fixture = parseSafetensors(new Uint8Array(readFileSync('tests/fixtures/lenet_parity.safetensors')));
const get = (name: string) => {
  const t = fixture.get(name);
  if (!t) throw new Error(`fixture lacks ${name}`);
  return t;
};
const prefixed = (prefix: string) => [...fixture.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));

describe('LeNet parity with PyTorch', () => {
  test('parameter names and shapes are PyTorch state_dict keys: a checkpoint of the PyTorch weights loads', async () => {
    const model = new models.LeNet({}, { seed: 1 });
    const saved = parseSafetensors(await save(model));
    expect([...saved.keys()].sort()).toEqual(prefixed('init.').sort());
    for (const [name, p] of model.namedParameters()) expect(p.shape, name).toEqual(get(`init.${name}`).shape);
    const torchInit = new Map(prefixed('init.').map((k) => [k, get(`init.${k}`)]));
    load(model, encodeSafetensors(torchInit));
    for (const [name, p] of model.namedParameters()) expect(Array.from(await p.data()), name).toEqual(Array.from(get(`init.${name}`).data));
  });

  // Tolerances: float32 rounding alone moves PyTorch's final weights by about 1e-7 relative (its
  // float32 run against its float64 run, both in the fixture). webgrad sums in other orders, so it
  // may differ by a few times that; 1e-5 leaves two orders of magnitude for that, and is far below
  // how far the weights moved (above 6e-2 relative for every tensor).
  test('20 captured SGD steps (momentum 0.9, batch 64): per-step losses within 1e-4 relative, final weights within 1e-5 relative (per tensor, L2) of PyTorch float32 and float64', async () => {
    const { train } = await data.loadDigits('assets/generated/digits.bin.gz');
    const model = new models.LeNet({}, { seed: 1 });
    for (const [name, p] of model.namedParameters()) p.write(get(`init.${name}`).data);
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
    const step = captureStep((x: Tensor, y: Tensor) => {
      optimizer.zeroGrad();
      const loss = nn.functional.crossEntropy(model.forward(x), y);
      loss.backward();
      optimizer.step();
      return loss;
    });
    const batches = get('batches');
    const [steps, batch] = batches.shape as [number, number];
    const losses: number[] = [];
    for (let s = 0; s < steps; s++) {
      const rows = data.subset(train, batches.data.subarray(s * batch, (s + 1) * batch));
      const x = tensor(rows.images, { shape: [batch, 784] });
      const y = tensor(rows.labels, { shape: [batch], dtype: 'int32' });
      const loss = step(x, y);
      losses.push(await loss.item());
      for (const t of [x, y, loss]) t.dispose();
    }
    expect(step.replays).toBe(steps - 2);
    const lossErrors = (run: string) => {
      const expected = get(run).data;
      return losses.map((l, s) => Math.abs(l - expected[s]!) / Math.abs(expected[s]!));
    };
    const finals = await Promise.all(model.namedParameters().map(async ([name, p]) => [name, await p.data()] as const));
    const weightErrors = (prefix: string) => finals.map(([name, values]) => relErr(values, get(`${prefix}${name}`).data));
    const expectedLosses = get('losses').data;
    console.log(
      `[webgrad] LeNet parity: loss ${losses[0]!.toFixed(4)} → ${losses.at(-1)!.toFixed(4)} (PyTorch ${expectedLosses[0]!.toFixed(4)} → ${expectedLosses.at(-1)!.toFixed(4)}); ` +
        `largest per-step loss error ${Math.max(...lossErrors('losses')).toExponential(2)} (float64: ${Math.max(...lossErrors('f64.losses')).toExponential(2)}), ` +
        `largest final-weight error ${Math.max(...weightErrors('final.')).toExponential(2)} (float64: ${Math.max(...weightErrors('f64.final.')).toExponential(2)}) (relative)`,
    );
    for (const run of ['losses', 'f64.losses']) lossErrors(run).forEach((e, s) => expect(e, `${run} step ${s}`).toBeLessThan(1e-4));
    for (const prefix of ['final.', 'f64.final.']) weightErrors(prefix).forEach((e, i) => expect(e, `${prefix}${finals[i]![0]}`).toBeLessThan(1e-5));
    // The weights really moved: the comparison is not of two copies of the initial values.
    for (const [name] of finals) expect(relErr(get(`final.${name}`).data, get(`init.${name}`).data), `${name} moved`).toBeGreaterThan(1e-2);
    step.dispose();
  });
});

describe('LeNet', () => {
  test('images as [N, 784] rows and as [N, 1, 28, 28] give the same logits [N, 10]', async () => {
    const model = new models.LeNet({}, { seed: 2 });
    const values = Float32Array.from({ length: 3 * 784 }, (_, i) => ((i * 37) % 255) / 255);
    const [rows, images] = noGrad(() => [model.forward(tensor(values, { shape: [3, 784] })), model.forward(tensor(values, { shape: [3, 1, 28, 28] }))]);
    expect(rows.shape).toEqual([3, 10]);
    expect(Array.from(await images.data())).toEqual(Array.from(await rows.data()));
  });

  test('the same seed gives the same weights; another seed others; the widths follow the config', async () => {
    const weights = async (m: nn.Module) => (await Promise.all(m.parameters().map((p) => p.data()))).flatMap((d) => Array.from(d));
    const a = await weights(new models.LeNet({}, { seed: 4 }));
    expect(await weights(new models.LeNet({}, { seed: 4 }))).toEqual(a);
    expect(await weights(new models.LeNet({}, { seed: 5 }))).not.toEqual(a);
    const small = new models.LeNet({ channels1: 2, channels2: 3, hidden: 7, classes: 4 }, { seed: 4 });
    expect(small.namedParameters().map(([n, p]) => `${n} ${p.shape.join('×')}`)).toEqual([
      'conv1.weight 2×1×5×5',
      'conv1.bias 2',
      'conv2.weight 3×2×5×5',
      'conv2.bias 3',
      'fc1.weight 7×75',
      'fc1.bias 7',
      'fc2.weight 4×7',
      'fc2.bias 4',
    ]);
    expect(noGrad(() => small.forward(tensor(new Float32Array(784), { shape: [1, 784] }))).shape).toEqual([1, 4]);
  });

  test.each([
    [
      'a batch of 28×28 without the channel dim',
      () => new models.LeNet({}, { seed: 0 }).forward(tensor(new Float32Array(2 * 784), { shape: [2, 28, 28] })),
      ShapeError,
      /LeNet: expected images \[N, 784\] or \[N, 1, 28, 28\], got \[2, 28, 28\]/,
    ],
    ['rows of 783 values', () => new models.LeNet({}, { seed: 0 }).forward(tensor(new Float32Array(783), { shape: [1, 783] })), ShapeError, /got \[1, 783\]/],
    [
      '3 channels',
      () => new models.LeNet({}, { seed: 0 }).forward(tensor(new Float32Array(3 * 784), { shape: [1, 3, 28, 28] })),
      ShapeError,
      /got \[1, 3, 28, 28\]/,
    ],
    [
      '32×32 images',
      () => new models.LeNet({}, { seed: 0 }).forward(tensor(new Float32Array(1024), { shape: [1, 1, 32, 32] })),
      ShapeError,
      /got \[1, 1, 32, 32\]/,
    ],
    ['a zero width', () => new models.LeNet({ hidden: 0 }), ValueError, /LeNet: config.hidden must be a positive integer, got 0/],
    ['a fractional width', () => new models.LeNet({ channels1: 2.5 }), ValueError, /config.channels1 must be a positive integer, got 2.5/],
    ['a fractional seed', () => new models.LeNet({}, { seed: 0.5 }), ValueError, /LeNet: seed must be an integer, got 0.5/],
  ])('%s: a clear error', (_, call, type, message) => {
    expect(call).toThrow(type);
    expect(call).toThrow(message);
  });

  test('50 captured training steps: memory() flat from step 10 on, and the loss falls', async () => {
    const { train } = await data.loadDigits('assets/generated/digits.bin.gz');
    const model = new models.LeNet({}, { seed: 6 });
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
    const step = captureStep((x: Tensor, y: Tensor) => {
      optimizer.zeroGrad();
      const loss = nn.functional.crossEntropy(model.forward(x), y);
      loss.backward();
      optimizer.step();
      return loss;
    });
    const loader = new data.DataLoader(train, { batchSize: 32, shuffle: true, seed: 6 });
    const snapshots: [number, MemoryInfo][] = [];
    const losses: number[] = [];
    let s = 0;
    for (const [x, y] of loader) {
      const loss = step(x, y);
      losses.push(await loss.item());
      loss.dispose();
      x.dispose();
      y.dispose();
      if (++s >= 10) snapshots.push([s, memory()]);
      if (s === 50) break;
    }
    // Nothing grows from step 10 on. (The count may fall: tensors of the eager warm-up steps that
    // nobody disposed are freed whenever the garbage collector runs, so equality would be flaky.)
    const warm = snapshots[0]![1];
    for (const [at, m] of snapshots) {
      expect(m.liveTensors, `live tensors at step ${at}`).toBeLessThanOrEqual(warm.liveTensors);
      expect(m.liveBuffers, `live buffers at step ${at}`).toBeLessThanOrEqual(warm.liveBuffers);
    }
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    expect(mean(losses.slice(-10))).toBeLessThan(mean(losses.slice(0, 10)) - 0.2);
    // Evaluation afterwards leaves nothing behind either.
    const before = memory().liveTensors;
    tidy(() => noGrad(() => model.forward(tensor(new Float32Array(784), { shape: [1, 784] })))).dispose();
    expect(memory().liveTensors).toBe(before);
    step.dispose();
  });
});
