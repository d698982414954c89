// Out of memory: a refused allocation empties the pool and is retried once; if it fails again,
// a clear error names the bytes asked for and in use, and a training step loses nothing.
import { expect, test } from 'vitest';
import { DeviceLimitError, manualSeed, memory, nn, optim, realize, type Tensor, tensor } from '../src/index.js';
import { runtime } from '../src/runtime/runtime.js';

/** Makes the next `failures` device allocations fail as a device out of memory would. */
function refuseAllocations(failures: number): () => void {
  const pool = runtime().scheduler.pool;
  const real = pool.allocate;
  let left = failures;
  pool.allocate = (size) => {
    if (left > 0) {
      left--;
      throw new RangeError(`simulated: out of memory allocating ${size} bytes`);
    }
    return real(size);
  };
  return () => {
    pool.allocate = real;
  };
}

test('one refused allocation: the pool is emptied, the retry succeeds', async () => {
  // Every tensor disposed explicitly: one left to the garbage collector could return its buffer to
  // the pool after the refusal emptied it, whenever the collector runs (it did in a full run).
  const input = tensor(new Float32Array(1 << 16));
  const warm = input.mul(2);
  await warm.data();
  warm.dispose();
  input.dispose();
  expect(memory().bytesPooled).toBeGreaterThan(0);
  const restore = refuseAllocations(1);
  try {
    const a = tensor([[1, 2, 3]]);
    const b = tensor([[1], [1], [1]]);
    const y = a.matmul(b); // needs fresh buffers
    expect(Array.from(await y.data())).toEqual([6]);
    expect(memory().bytesPooled).toBeLessThan(1 << 18);
    for (const t of [a, b, y]) t.dispose();
  } finally {
    restore();
  }
});

class Net extends nn.Module {
  fc1 = new nn.Linear(16, 8);
  fc2 = new nn.Linear(8, 3);
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.fc1.forward(x).relu());
  }
}

test('allocations refused twice: a clear error with the bytes, and the training step loses nothing', async () => {
  const make = () => {
    manualSeed(4);
    const m = new Net();
    return [m, new optim.SGD(m.parameters(), { lr: 0.1, momentum: 0.9 })] as const;
  };
  const [a, optA] = make();
  const [b, optB] = make();
  const x = tensor(
    Float32Array.from({ length: 64 }, (_, i) => Math.cos(i)),
    { shape: [4, 16] },
  );
  const y = tensor(new Int32Array([0, 1, 2, 1]));
  const forwardBackward = (m: Net, o: optim.SGD) => {
    o.zeroGrad();
    nn.functional.crossEntropy(m.forward(x), y).backward();
  };
  const state = async (m: Net, o: optim.SGD) =>
    Promise.all(
      [...m.parameters(), ...m.parameters().map((p) => p.grad), ...m.parameters().map((p) => o.momentumBuffer(p))].map(async (t) =>
        t ? Array.from(await t.data()) : null,
      ),
    );

  forwardBackward(a, optA);
  realize();
  const before = await state(a, optA);
  // The step's intermediates need fresh buffers: refuse every allocation until restored.
  runtime().scheduler.pool.trim();
  const restore = refuseAllocations(1_000_000);
  let error: unknown = null;
  try {
    forwardBackward(a, optA);
    optA.step();
  } catch (err) {
    error = err;
  } finally {
    restore();
  }
  expect(error).toBeInstanceOf(DeviceLimitError);
  expect((error as Error).message).toMatch(
    /out of GPU memory: could not allocate \d+ bytes, with \d+ bytes in use by \d+ buffers \(the pool's \d+ cached bytes were released and the allocation retried once\)/,
  );
  // The parameters and momentum buffers are as before the step (its gradients were recomputed, the same).
  expect(await state(a, optA)).toEqual(before);
  // Stepping again now gives exactly what a model that never failed gets.
  optA.step();
  forwardBackward(b, optB);
  optB.step();
  expect(await state(a, optA)).toEqual(await state(b, optB));
});
