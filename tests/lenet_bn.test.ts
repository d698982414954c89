// LeNetBN (src/models/lenet_bn.ts): parity with PyTorch over 20 captured SGD-momentum steps in
// train mode, then eval-mode logits with the running statistics
// (tests/fixtures/make_lenet_bn_parity.py records both from the same initial weights on the same
// batches, in float32 and float64), and state_dict names that cross with PyTorch's.

import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { captureStep, data, models, nn, noGrad, optim, parseSafetensors, ShapeError, save, type Tensor, tensor, ValueError } from '../src/index.js';
import { relErr } from './helpers.js';

const fixture = parseSafetensors(new Uint8Array(readFileSync('tests/fixtures/lenet_bn_parity.safetensors')));
const get = (name: string) => {
  const t = fixture.get(name);
  if (!t) throw new Error(`fixture lacks ${name}`);
  return t;
};
const prefixed = (prefix: string) => [...fixture.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));

describe('LeNetBN parity with PyTorch', () => {
  test("state_dict names are PyTorch's: parameters, then each BatchNorm's running_mean, running_var and num_batches_tracked", async () => {
    const model = new models.LeNetBN({}, { seed: 1 });
    const saved = parseSafetensors(await save(model));
    const floatNames = [...saved.keys()].filter((k) => saved.get(k)!.dtype === 'F32');
    expect(floatNames.sort()).toEqual(prefixed('init.').sort());
    for (const bn of ['bn1', 'bn2', 'bn3']) expect(saved.has(`${bn}.num_batches_tracked`), bn).toBe(true);
    for (const [name, p] of model.namedParameters()) expect(p.shape, name).toEqual(get(`init.${name}`).shape);
  });

  // Tolerances as LeNet's (tests/lenet.test.ts): PyTorch's float32 run is within ~3e-7 of its
  // float64 run on every loss; webgrad sums in other orders. The eval logits go through the running
  // statistics of all 20 steps, so they are compared per tensor (L2) at 1e-4.
  test('20 captured SGD steps in train mode (momentum 0.9, batch 64): per-step losses within 1e-4 relative; then eval-mode logits and running statistics match PyTorch', async () => {
    const { train, test: testSplit } = await data.loadDigits('assets/generated/digits.bin.gz');
    const model = new models.LeNetBN({}, { seed: 1 });
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
    step.dispose();

    const lossErrors = (run: string) => losses.map((l, s) => Math.abs(l - get(run).data[s]!) / Math.abs(get(run).data[s]!));
    for (const run of ['losses', 'f64.losses']) lossErrors(run).forEach((e, s) => expect(e, `${run} step ${s}`).toBeLessThan(1e-4));

    // Running statistics and weights after 20 updates (each BatchNorm counted 20 batches).
    const state = new Map(model.stateDict());
    for (const name of prefixed('final.')) {
      const values = await state.get(name)!.data();
      expect(relErr(values, get(`final.${name}`).data), name).toBeLessThan(1e-4);
    }
    for (const bn of ['bn1', 'bn2', 'bn3']) expect(Array.from(await state.get(`${bn}.num_batches_tracked`)!.data()), bn).toEqual([steps]);

    model.eval();
    const expected = get('eval_logits');
    const count = expected.shape[0]!;
    const images = tensor(testSplit.images.subarray(0, count * 784), { shape: [count, 784] });
    const logits = noGrad(() => model.forward(images));
    const values = await logits.data();
    const err = relErr(values, expected.data);
    console.log(
      `[webgrad] LeNetBN parity: loss ${losses[0]!.toFixed(4)} → ${losses.at(-1)!.toFixed(4)} (PyTorch ${get('losses').data[0]!.toFixed(4)} → ${get('losses').data[steps - 1]!.toFixed(4)}); ` +
        `largest per-step loss error ${Math.max(...lossErrors('losses')).toExponential(2)}; eval logits ${err.toExponential(2)} (float64: ${relErr(values, get('f64.eval_logits').data).toExponential(2)}) (relative)`,
    );
    expect(err).toBeLessThan(1e-4);
    expect(relErr(values, get('f64.eval_logits').data)).toBeLessThan(1e-4);
    // Eval mode used the running statistics: the same images in train mode give other logits.
    model.train();
    const trainMode = await noGrad(() => model.forward(images)).data();
    expect(relErr(trainMode, values)).toBeGreaterThan(1e-3);
    for (const t of [images, logits]) t.dispose();
  });
});

describe('LeNetBN', () => {
  test.each([
    [
      '32×32 images',
      () => new models.LeNetBN({}, { seed: 0 }).forward(tensor(new Float32Array(1024), { shape: [1, 1, 32, 32] })),
      ShapeError,
      /LeNetBN: expected images \[N, 784\] or \[N, 1, 28, 28\], got \[1, 1, 32, 32\]/,
    ],
    ['a zero width', () => new models.LeNetBN({ channels2: 0 }), ValueError, /LeNetBN: config.channels2 must be a positive integer, got 0/],
    ['a fractional seed', () => new models.LeNetBN({}, { seed: 1.5 }), ValueError, /LeNetBN: seed must be an integer, got 1.5/],
  ])('%s: a clear error', (_, call, type, message) => {
    expect(call).toThrow(type);
    expect(call).toThrow(message);
  });
});
