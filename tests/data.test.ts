// Data: the IDX reader (plain and gzip, and its errors), the embedded digits, and the DataLoader.

import { gzipSync } from 'node:zlib';
import { expect, test } from 'vitest';
import { data } from '../src/index.js';

function idx(dims: number[], values: number[] | Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header.set([0, 0, 8, dims.length]);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + values.length);
  out.set(header);
  out.set(values, header.length);
  return out;
}

test('reads an IDX file, plain and gzip', async () => {
  const file = idx([2, 3], [1, 2, 3, 4, 5, 6]);
  for (const bytes of [file, new Uint8Array(gzipSync(file))]) {
    const arr = await data.readIdx(bytes);
    expect(arr.dims).toEqual([2, 3]);
    expect(Array.from(arr.data)).toEqual([1, 2, 3, 4, 5, 6]);
  }
});

test.each([
  [
    'bad magic number',
    () => {
      const f = idx([2], [1, 2]);
      f[0] = 1;
      return f;
    },
    /bad magic number 0x01000801/,
  ],
  [
    'unsupported type',
    () => {
      const f = idx([2], [1, 2]);
      f[2] = 0x0d;
      return f;
    },
    /element type 0xd/,
  ],
  ['truncated header', () => idx([2, 3], []).subarray(0, 9), /truncated header/],
  ['truncated data', () => idx([2, 3], [1, 2, 3]), /need 6 bytes of data, the file has 3/],
  ['forged huge header', () => idx([4294967295, 4294967295], [1]), /truncated/],
  ['trailing bytes', () => idx([2], [1, 2, 3]), /1 bytes after the data/],
  ['too short', () => new Uint8Array([0, 0]), /too short/],
  ['broken gzip', () => new Uint8Array([0x1f, 0x8b, 1, 2, 3]), /not a valid gzip stream/],
])('IDX error: %s', async (_label, make, message) => {
  await expect(data.readIdx(make(), 'f')).rejects.toThrow(message);
});

test('MNIST-style images and labels: dimension and count mismatches are named', async () => {
  const images = idx([2, 2, 2], [0, 255, 0, 255, 1, 2, 3, 4]);
  const ds = await data.fromIdx(images, idx([2], [3, 9]));
  expect(ds.count).toBe(2);
  expect(ds.features).toBe(4);
  expect(ds.images[1]).toBe(1);
  expect(Array.from(ds.labels)).toEqual([3, 9]);
  await expect(data.fromIdx(idx([8], [1, 2, 3, 4, 5, 6, 7, 8]), idx([2], [0, 1]))).rejects.toThrow(/expected 3 dimensions/);
  await expect(data.fromIdx(images, idx([3], [0, 1, 2]))).rejects.toThrow(/2 images but labels has 3 labels/);
  await expect(data.fromIdx(images, idx([2], [0, 12]))).rejects.toThrow(/label 12 at index 1/);
});

test('the embedded digits: 8,000 train and 2,000 test, every class present, pixels in [0, 1]', async () => {
  const { train, test: held } = await data.loadDigits('assets/generated/digits.bin.gz');
  expect([train.count, held.count, train.features]).toEqual([8000, 2000, 784]);
  for (const ds of [train, held]) {
    const counts = new Array(10).fill(0);
    for (const y of ds.labels) counts[y]++;
    expect(counts.every((c) => c > ds.count / 20)).toBe(true);
  }
  let max = 0;
  for (const v of train.images) max = Math.max(max, v);
  expect(max).toBe(1);
});

test('DataLoader: the three variants as batch sizes, seeded order, every sample once per epoch', async () => {
  const ds = data.fromBytes(
    Uint8Array.from({ length: 10 * 3 }, (_, i) => i),
    Int32Array.from({ length: 10 }, (_, i) => i),
    3,
  );
  expect(new data.DataLoader(ds, { batchSize: 'full' }).length).toBe(1);
  expect(new data.DataLoader(ds, { batchSize: 'sgd' }).length).toBe(10);
  expect(new data.DataLoader(ds, { batchSize: 4 }).length).toBe(3);
  expect(new data.DataLoader(ds, { batchSize: 4, dropLast: true }).length).toBe(2);
  expect(() => new data.DataLoader(ds, { batchSize: 0 })).toThrow(/positive integer/);
  const epochLabels = async (loader: data.DataLoader): Promise<number[]> => {
    const seen: number[] = [];
    for (const [x, y] of loader) {
      expect(x.shape).toEqual([y.shape[0], 3]);
      const [xv, yv] = await Promise.all([x.data(), y.data()]);
      yv.forEach((label, i) => expect(Math.round(xv[i * 3]! * 255)).toBe(label * 3));
      seen.push(...yv);
    }
    return seen;
  };
  const a = await epochLabels(new data.DataLoader(ds, { batchSize: 4, seed: 5 }));
  const b = await epochLabels(new data.DataLoader(ds, { batchSize: 4, seed: 5 }));
  expect(a).toEqual(b);
  expect([...a].sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  expect(await epochLabels(new data.DataLoader(ds, { batchSize: 3, shuffle: false }))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});
