// The bind-group cache of split kernels keeps groups with the buffer they bind, by region: a
// shared buffer bound at ever new offsets (packs are cut anywhere in theirs) keeps a bounded number.
import { expect, test } from 'vitest';
import { getDevice } from '../src/index.js';
import { unaryKernels } from '../src/ops/kernels.js';
import { MAX_GROUPS_PER_BUFFER } from '../src/runtime/pipelines.js';
import { runtime } from '../src/runtime/runtime.js';

test('groups kept per buffer stay bounded, and a kept group is reused', () => {
  const device = getDevice();
  const pipelines = runtime().scheduler.pipelines;
  const kernel = unaryKernels.abs;
  expect(pipelines.isSplit(kernel)).toBe(true);
  const pipeline = pipelines.pipeline(kernel, undefined);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  const shared = device.createBuffer({ size: 4 << 20, usage });
  const params = device.createBuffer({ size: 256, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const ids = new Map<GPUBuffer, number>();
  const idOf = (b: GPUBuffer): number => {
    if (!ids.has(b)) ids.set(b, ids.size);
    return ids.get(b)!;
  };
  const region = (offset: number) => ({ buffer: shared, offset, size: 256, arena: null });
  const bind = (offset: number) => pipelines.groupsFor(pipeline, params, [region(offset), region(offset + 256)], [256, 256], idOf);
  const first = bind(0);
  expect(bind(0)[1]).toBe(first[1]);
  const before = pipelines.bindGroupsCreated;
  for (let k = 1; k <= 3 * MAX_GROUPS_PER_BUFFER; k++) bind(512 * k);
  expect(pipelines.bindGroupsCreated - before).toBe(2 * 3 * MAX_GROUPS_PER_BUFFER);
  expect(pipelines.groupsKeptFor(shared)).toBeLessThanOrEqual(MAX_GROUPS_PER_BUFFER);
  expect(pipelines.groupsKeptFor(shared)).toBeGreaterThan(0);
  shared.destroy();
  params.destroy();
});
