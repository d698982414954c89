// Parity with PyTorch: the seed program's 20 steps with each optimizer (plain SGD, SGD with
// momentum, Adam, AdamW), from the same initial weights on the same batches, recorded by
// tests/fixtures/make_parity.py. Every step's loss and the final weights must be within 1e-4
// relative of PyTorch's.

import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { data, nn, optim, type Tensor, tensor } from '../src/index.js';
import { parseSafetensors } from '../src/io/safetensors.js';
import { SeedNet as Net, relErr } from './helpers.js';

const fixture = parseSafetensors(new Uint8Array(readFileSync('tests/fixtures/parity.safetensors')));
const get = (name: string) => {
  const t = fixture.get(name);
  if (!t) throw new Error(`fixture lacks ${name}`);
  return t;
};

test.each([
  ['plain', (p: Tensor[]) => new optim.SGD(p, { lr: 0.01 })],
  ['momentum', (p: Tensor[]) => new optim.SGD(p, { lr: 0.01, momentum: 0.9 })],
  ['adam', (p: Tensor[]) => new optim.Adam(p, { lr: 1e-3 })],
  ['adamw', (p: Tensor[]) => new optim.AdamW(p, { lr: 1e-3, weightDecay: 0.05 })],
])('%s: per-step losses and final weights match PyTorch within 1e-4', async (name, makeOptimizer) => {
  const { train } = await data.loadDigits('assets/generated/digits.bin.gz');
  const model = new Net();
  for (const [pname, p] of model.namedParameters()) p.write(get(`init.${pname}`).data);
  const optimizer = makeOptimizer(model.parameters());
  const batches = get('batches');
  const [steps, batch] = batches.shape as [number, number];
  const expectedLosses = get(`${name}.losses`).data;
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const batchData = data.subset(train, batches.data.subarray(s * batch, (s + 1) * batch));
    const X = tensor(batchData.images, { shape: [batch, 784] });
    const Y = tensor(batchData.labels, { shape: [batch], dtype: 'int32' });
    optimizer.zeroGrad();
    const outputs = model.forward(X);
    const loss = nn.functional.crossEntropy(outputs, Y);
    loss.backward();
    optimizer.step();
    losses.push(await loss.item());
  }
  const lossErr = Math.max(...losses.map((l, s) => Math.abs(l - expectedLosses[s]!) / Math.abs(expectedLosses[s]!)));
  let weightErr = 0;
  for (const [pname, p] of model.namedParameters()) weightErr = Math.max(weightErr, relErr(await p.data(), get(`${name}.final.${pname}`).data));
  console.log(
    `[webgrad] parity ${name}: largest per-step loss error ${lossErr.toExponential(2)}, largest final-weight error ${weightErr.toExponential(2)} (relative)`,
  );
  losses.forEach((l, s) => expect(Math.abs(l - expectedLosses[s]!) / Math.abs(expectedLosses[s]!), `step ${s} loss`).toBeLessThan(1e-4));
  for (const [pname, p] of model.namedParameters()) {
    const expected = get(`${name}.final.${pname}`);
    expect(p.shape).toEqual(expected.shape);
    expect(relErr(await p.data(), expected.data), pname).toBeLessThan(1e-4);
    // The weights really moved: the comparison is not of two copies of the initial values.
    expect(relErr(expected.data, get(`init.${pname}`).data)).toBeGreaterThan(1e-4);
  }
});
