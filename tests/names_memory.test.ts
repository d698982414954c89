// The names GPT's training loop over 2,000 captured steps (a small configuration, so that it runs
// in seconds on a software adapter): memory stays flat and each replayed step is one submit.

import { expect, test } from 'vitest';
import { captureStep, counters, data, Generator, type MemoryInfo, memory, models, nn, optim, type Tensor, tidy } from '../src/index.js';

test('2,000 captured steps (AdamW + clipGradNorm): memory() flat from step 100 on, one submit per replayed step, no readback', async () => {
  const { train } = await data.loadNames('assets/generated/names.txt.gz');
  const model = new models.NamesGPT({ dModel: 16, heads: 2, layers: 1, context: 16 }, { seed: 3 });
  const optimizer = new optim.AdamW(model.parameters(), { lr: 3e-3, weightDecay: 0.01 });
  const step = captureStep((x: Tensor, y: Tensor) => {
    optimizer.zeroGrad();
    const loss = models.NamesGPT.loss(model.forward(x), y);
    loss.backward();
    nn.utils.clipGradNorm(model.parameters(), 1.0);
    optimizer.step();
    return loss;
  });
  const batches = new data.NameBatches(train, 8, 16, new Generator(3));
  const snapshots = new Map<number, MemoryInfo>();
  let batch: Tensor[] = [];
  let pending: Tensor[] = [];
  const means: number[] = [];
  let submitsPerStep = Number.NaN;
  for (let s = 1; s <= 2000; s++) {
    batch.forEach((t) => t.dispose());
    batch = batches.next();
    const before = counters();
    pending.push(step(batch[0]!, batch[1]!));
    const after = counters();
    if (s === 500) {
      submitsPerStep = after.submits - before.submits;
      expect(after.readbacks - before.readbacks).toBe(0);
    }
    // As npm run train:names does: losses summed on the GPU and read every 100 steps.
    if (s % 100 === 0) {
      const total = tidy(() => pending.reduce((a, b) => a.add(b)));
      means.push((await total.item()) / pending.length);
      total.dispose();
      pending.forEach((t) => t.dispose());
      pending = [];
      snapshots.set(s, memory());
    }
  }
  batch.forEach((t) => t.dispose());
  expect(submitsPerStep).toBe(1);
  expect(step.captures).toBe(1);
  expect(step.replays).toBe(1998);
  const warm = snapshots.get(100)!;
  for (const [s, m] of snapshots) {
    expect(m.liveTensors, `live tensors at step ${s}`).toBe(warm.liveTensors);
    expect(m.liveBuffers, `live buffers at step ${s}`).toBe(warm.liveBuffers);
    expect(m.bytesInUse, `bytes in use at step ${s}`).toBe(warm.bytesInUse);
  }
  // It trained: the last 100 steps' mean loss is well below the first 100's.
  expect(means.at(-1)!).toBeLessThan(means[0]! - 0.3);
  step.dispose();
}, 900_000);
