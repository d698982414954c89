// Zero-copy interop: an application's GPUBuffer as a tensor, and a tensor's GPUBuffer in the
// application's own passes.
import { expect, test } from 'vitest';
import { counters, fromGPUBuffer, getDevice, nn, optim, tensor, ValueError } from '../src/index.js';

const usage = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

async function readOwn(device: GPUDevice, buffer: GPUBuffer, count: number): Promise<number[]> {
  const staging = device.createBuffer({ size: count * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, count * 4);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const values = Array.from(new Float32Array(staging.getMappedRange().slice(0)));
  staging.destroy();
  return values;
}

test('fromGPUBuffer wraps the application’s buffer without copying; the buffer stays the application’s', async () => {
  const device = getDevice();
  const buffer = device.createBuffer({ size: 6 * 4, usage: usage() });
  device.queue.writeBuffer(buffer, 0, new Float32Array([1, 2, 3, 4, 5, 6]));
  const before = counters();
  const a = fromGPUBuffer(buffer, [2, 3]);
  expect(counters().uploads).toBe(before.uploads);
  expect(Array.from(await a.matmul(tensor([[1], [0], [-1]])).data())).toEqual([-2, -2]);
  // The application writes new values: the tensor sees them (it is the same memory).
  device.queue.writeBuffer(buffer, 0, new Float32Array([6, 5, 4, 3, 2, 1]));
  expect(Array.from(await a.data())).toEqual([6, 5, 4, 3, 2, 1]);
  a.dispose();
  expect(await readOwn(device, buffer, 6)).toEqual([6, 5, 4, 3, 2, 1]);
  expect(() => fromGPUBuffer(device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_SRC }), [4])).toThrow(/lacks STORAGE usage/);
  expect(() => fromGPUBuffer(device.createBuffer({ size: 16, usage: usage() }), [5])).toThrow(ValueError);
});

test('t.gpuBuffer holds the values for the application’s own passes; a parameter keeps its buffer across steps', async () => {
  const device = getDevice();
  const y = tensor([
    [1, 2],
    [3, 4],
  ]).matmul(
    tensor([
      [1, 0],
      [0, 2],
    ]),
  );
  expect(await readOwn(device, y.gpuBuffer, 4)).toEqual([1, 4, 3, 8]);
  expect(() => y.T.gpuBuffer).toThrow(/is a view/);

  const layer = new nn.Linear(3, 2, { seed: 1 });
  const opt = new optim.SGD(layer.parameters(), { lr: 0.5 });
  const w0 = Array.from(await layer.weight.data());
  const buffer = layer.weight.gpuBuffer;
  const readbacks = counters().readbacks;
  for (let s = 0; s < 3; s++) {
    opt.zeroGrad();
    layer
      .forward(tensor([[1, 2, 3]]))
      .sum()
      .backward();
    opt.step();
    expect(layer.weight.gpuBuffer).toBe(buffer);
  }
  expect(counters().readbacks).toBe(readbacks);
  // d(sum)/dW = x for every row, so each step subtracted 0.5 · [1, 2, 3]: 1.5 · [1, 2, 3] in all.
  const now = await readOwn(device, buffer, 6);
  now.forEach((v, i) => expect(v).toBeCloseTo(w0[i]! - 1.5 * [1, 2, 3][i % 3]!, 5));
});
