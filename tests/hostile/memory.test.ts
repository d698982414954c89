// Memory outside the training loop: graphs nobody holds any more are collectable (inference
// without noGrad, a model dropped after one forward), and a tidy() whose fn throws leaks nothing.

import { expect, test } from 'vitest';
import { memory, nn, randn, realize, sync, type Tensor, tidy, zeros } from '../../src/index.js';
import { collect } from '../gc.js';

const mlp = (): nn.Module => new nn.Sequential(new nn.Linear(16, 32, { seed: 1 }), new nn.ReLU(), new nn.Linear(32, 4, { seed: 2 }));

test('1,000 inference forwards without noGrad: once the outputs are dropped, GC returns every tensor and buffer', async () => {
  const model = mlp();
  const x = randn([8, 16], { seed: 3 });
  realize();
  const start = await collect();
  for (let i = 0; i < 1000; i++) model.forward(x);
  // Before any await (finalizers run in later tasks) the outputs are all counted: the test measures something.
  expect(memory().liveTensors).toBeGreaterThanOrEqual(start.liveTensors + 1000);
  const end = await collect();
  // Exactly: every tensor made by the forwards was unreachable, so each one is finalized.
  expect(end.liveTensors).toBe(start.liveTensors);
  expect(end.liveBuffers).toBe(start.liveBuffers);
});

test('a model dropped after one forward (with its output) is collected whole', async () => {
  const x = randn([8, 16], { seed: 4 });
  realize();
  const start = await collect();
  (() => {
    const model = mlp();
    model.forward(x).sum();
  })();
  realize();
  const end = await collect();
  expect(end.liveTensors).toBe(start.liveTensors);
  expect(end.liveBuffers).toBe(start.liveBuffers);
});

test('a tidy() whose fn throws disposes what it made, keeps what was kept, and rethrows', async () => {
  const w = randn([4, 4], { seed: 5, requiresGrad: true });
  realize();
  await sync();
  const start = memory();
  let kept: Tensor | null = null;
  const boom = new Error('boom');
  expect(() =>
    tidy(() => {
      const a = zeros([4, 4]).add(1);
      a.matmul(w).relu().sum();
      kept = a.mul(2).keep();
      throw boom;
    }),
  ).toThrow(boom);
  expect(kept!.isDisposed).toBe(false);
  expect(Array.from(await kept!.data())).toEqual(new Array(16).fill(2));
  kept!.dispose();
  realize();
  await sync();
  // No GC here: the release is deterministic.
  expect(memory().liveTensors).toBe(start.liveTensors);
  expect(memory().liveBuffers).toBe(start.liveBuffers);
});

test('a throwing tidy inside another: the inner one cleans up, the outer one still works', () => {
  const start = memory().liveTensors;
  const result = tidy(() => {
    try {
      tidy(() => {
        zeros([3]).add(1);
        throw new Error('inner');
      });
    } catch {
      // expected
    }
    return zeros([2]).add(2);
  });
  expect(memory().liveTensors).toBe(start + 1);
  result.dispose();
  expect(memory().liveTensors).toBe(start);
});
