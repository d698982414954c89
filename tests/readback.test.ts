// Reading values back: the copy joins the flush that makes the value (one submit), staging buffers
// are reused between reads, and neither may mix up one read's bytes with another's.
import { expect, test } from 'vitest';
import { counters, fromGPUBuffer, getDevice, tensor, ValueError } from '../src/index.js';

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

test('a read of recorded work is one submit: the copy joins the flush', async () => {
  const x = values(300, 1);
  const t = tensor(x);
  const y = t.add(1).mul(0.5).neg();
  const before = counters();
  const got = await y.data();
  const after = counters();
  expect(after.submits - before.submits).toBe(1);
  expect(after.readbacks - before.readbacks).toBe(1);
  got.forEach((v, i) => expect(v).toBe(Math.fround(-Math.fround(Math.fround(x[i]! + 1) * 0.5))));
  // Nothing recorded: the copy is submitted alone, still one submit.
  const again = counters();
  expect(Array.from(await y.data())).toEqual(Array.from(got));
  expect(counters().submits - again.submits).toBe(1);
});

test('reads of equal-sized values, one after another and at once, each get their own bytes', async () => {
  // Sizes that share a staging class (37 and 40 floats), and one alone.
  const sources = [37, 40, 37, 5, 40, 37].map((n, k) => values(n, 10 + k));
  const tensors = sources.map((v) => tensor(v).mul(2));
  for (let round = 0; round < 3; round++) {
    for (const [k, t] of tensors.entries()) expect(Array.from(await t.data())).toEqual(Array.from(sources[k]!, (v) => v * 2));
  }
  // At once: each read in flight holds a staging buffer of its own.
  const all = await Promise.all(tensors.map((t) => t.add(0).data()));
  all.forEach((got, k) => expect(Array.from(got)).toEqual(Array.from(sources[k]!, (v) => v * 2)));
  // A large read (beyond the kept sizes) between small ones.
  const big = values(70000, 99);
  expect(Array.from(await tensor(big).data())).toEqual(Array.from(big));
  expect(Array.from(await tensors[0]!.data())).toEqual(Array.from(sources[0]!, (v) => v * 2));
});

test('a destroyed application buffer fails its own read only: recorded work on other tensors still runs', async () => {
  const device = getDevice();
  const buffer = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, new Float32Array([1, 2, 3, 4]));
  const a = fromGPUBuffer(buffer, [4]);
  const other = tensor([1, 2, 3]).mul(3);
  buffer.destroy();
  await expect(a.data()).rejects.toThrow(ValueError);
  expect(Array.from(await other.data())).toEqual([3, 6, 9]);
  a.dispose();
});

test('work WebGPU rejects leaves no values behind: reads of what it was to write, and of what is computed from it, fail', async () => {
  const device = getDevice();
  const buffer = device.createBuffer({ size: 12, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
  new Float32Array(buffer.getMappedRange()).set([1, 2, 3]);
  buffer.unmap();
  const e = fromGPUBuffer(buffer, [3]);
  const earlier = tensor([4, 5]).mul(2);
  expect(Array.from(await earlier.data())).toEqual([8, 10]);
  // The last read leaves other values in the staging buffer the next read of this size takes.
  expect(Array.from(await tensor([0, 0]).add(1).data())).toEqual([1, 1]);
  const o = tensor([1, 2]).mul(3); // recorded in the same flush as the rejected work
  const bad = e.mul(2);
  buffer.destroy();
  // A value made before is still read right: its copy does not join the flush WebGPU rejects.
  expect(Array.from(await earlier.data())).toEqual([8, 10]);
  // Every read fails with the reason, each time, instead of returning the zeros in memory.
  for (let r = 0; r < 2; r++) {
    await expect(o.data()).rejects.toThrow(/WebGPU rejected the work that computes it/);
    await expect(bad.data()).rejects.toThrow(/WebGPU rejected the work that computes it/);
  }
  await expect(bad.add(1).data()).rejects.toThrow(/WebGPU rejected/);
  // A host write gives a tensor a value again; work after the rejection runs as usual.
  o.write(new Float32Array([5, 7]));
  expect(Array.from(await o.mul(2).data())).toEqual([10, 14]);
  expect(Array.from(await tensor([1, 2, 3]).mul(3).data())).toEqual([3, 6, 9]);
  e.dispose();
});
