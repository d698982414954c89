// The device: adapter info and limits, and sharing a GPUDevice the application already owns.
import { expect, test } from 'vitest';
import { init, manualSeed, rand, randn, runtimeInfo, tensor } from '../src/index.js';
import { Generator } from '../src/random.js';
import { runtime } from '../src/runtime/runtime.js';

test('reports the adapter and the limits it uses', () => {
  const info = runtimeInfo();
  expect(typeof info.adapter.vendor).toBe('string');
  expect(info.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
  expect(info.limits.maxComputeWorkgroupsPerDimension).toBeGreaterThanOrEqual(65535);
});

test('init({ device }) adopts the application’s own GPUDevice and computes on it', async () => {
  const own = runtime().device; // a device made outside this second init
  const info = await init({ device: own });
  expect(info.sharedDevice).toBe(true);
  expect(runtime().device).toBe(own);
  const y = tensor([
    [1, 2],
    [3, 4],
  ]).matmul(tensor([[1], [1]]));
  expect(Array.from(await y.data())).toEqual([3, 7]);
});

test('rand and randn are reproducible from a seed, and from manualSeed', async () => {
  const a = await rand([1000], { seed: 42 }).data();
  const b = await rand([1000], { seed: 42 }).data();
  expect(Array.from(a)).toEqual(Array.from(b));
  const g = new Generator(42);
  expect(a[0]).toBe(Math.fround(g.uniform()));
  manualSeed(9);
  const c = await randn([4000]).data();
  manualSeed(9);
  expect(Array.from(await randn([4000]).data())).toEqual(Array.from(c));
  let mean = 0;
  for (const v of c) mean += v / c.length;
  let variance = 0;
  for (const v of c) variance += (v - mean) ** 2 / c.length;
  expect(Math.abs(mean)).toBeLessThan(0.06);
  expect(Math.abs(variance - 1)).toBeLessThan(0.08);
});

test('every WGSL family compiles with no error (errors would be reported with their source line)', async () => {
  const { allKernels: opKernels } = await import('../src/ops/kernels.js');
  const { runtimeKernels } = await import('../src/runtime/kernels.js');
  const allKernels = [...opKernels, ...runtimeKernels];
  await expect(runtime().scheduler.pipelines.check(allKernels)).resolves.toBeUndefined();
  // The matmul kernels' overrides have no defaults: the tuning table (matmul_tuning.ts) sets them.
  const matmulConstants: Record<string, Record<string, number> | undefined> = {
    matmul: { WG_X: 8, WG_Y: 8 },
    matmul_tiled: { WG_X: 16, WG_Y: 16, TILE_K: 16 },
    matmul_vec4: { WG_X: 8, WG_Y: 8 },
  };
  for (const k of allKernels) {
    const constants = matmulConstants[k.family.startsWith('matmul_vec4.') ? 'matmul_vec4' : k.family];
    runtime().scheduler.pipelines.pipeline(k, constants && k.entry === 'main_bias' ? { ...constants, RELU: 1 } : constants);
  }
});
