// Faults found by a hostile review after the trust and architecture work: gradients that share
// memory with what the optimizer writes, anomaly detection inside captured steps, and optimizer
// or schedule options that were silently ignored. Each case failed before its fix.
import { describe, expect, test } from 'vitest';
import {
  AnomalyError,
  captureStep,
  checkAnomaly,
  detectAnomaly,
  fromGPUBuffer,
  getDevice,
  noGrad,
  optim,
  type Tensor,
  tensor,
  ValueError,
} from '../../src/index.js';

const values = async (t: Tensor): Promise<number[]> => Array.from(await t.data());

/** The float32 update p − lr·g computed in float64 and rounded once, as the SGD kernel does. */
const sgdReference = (p: readonly number[], g: readonly number[], lr: number): number[] => p.map((v, i) => Math.fround(v - Math.fround(lr * g[i]!)));

describe('a gradient sharing memory with what the optimizer updates is read as its value before the step', () => {
  // Before the fix the update kernel bound one buffer as both read-only and read-write input: WebGPU
  // refused the dispatch and the parameters silently stayed as they were.
  type Case = [name: string, setup: () => { params: Tensor[]; grads: (Tensor | null)[]; opt: optim.Optimizer }];
  const cases: Case[] = [
    [
      'SGD, p.grad = p.detach() (a view of the parameter itself)',
      () => {
        const p = tensor([1, 2, 3], { requiresGrad: true });
        p.grad = p.detach();
        return { params: [p], grads: [p], opt: new optim.SGD([p], { lr: 0.5 }) };
      },
    ],
    [
      'SGD, p.grad = p.reshape(...) under noGrad',
      () => {
        const p = tensor(
          [
            [1, 2],
            [3, 4],
          ],
          { requiresGrad: true },
        );
        p.grad = noGrad(() => p.reshape([2, 2]));
        return { params: [p], grads: [p], opt: new optim.SGD([p], { lr: 0.25 }) };
      },
    ],
    [
      'SGD over two parameters, one’s gradient is the other parameter',
      () => {
        const p = tensor([1, 2, 3], { requiresGrad: true });
        const q = tensor([10, 20, 30], { requiresGrad: true });
        p.grad = q.detach();
        q.grad = tensor([1, 1, 1]);
        return { params: [p, q], grads: [q, q.grad], opt: new optim.SGD([p, q], { lr: 0.5 }) };
      },
    ],
  ];
  test.each(cases)('%s', async (_name, setup) => {
    const { params, grads, opt } = setup();
    const before = await Promise.all(params.map(values));
    const g = await Promise.all(grads.map((t) => values(t!)));
    opt.step();
    for (const [i, p] of params.entries()) expect(await values(p), `parameter ${i}`).toEqual(sgdReference(before[i]!, g[i]!, opt.lr));
  });

  test('SGD with momentum: the momentum buffer assigned as the gradient', async () => {
    const p = tensor([1, 2, 3], { requiresGrad: true });
    const opt = new optim.SGD([p], { lr: 0.5, momentum: 0.9 });
    p.grad = tensor([1, 1, 1]);
    opt.step(); // buf = g = 1, p = p − 0.5
    const buf = opt.momentumBuffer(p)!;
    p.grad = buf;
    const p1 = await values(p);
    opt.step(); // d = 1; buf = 0.9·1 + 1 = 1.9; p = p − 0.5·1.9
    expect(await values(p)).toEqual(p1.map((v) => Math.fround(v - Math.fround(0.5 * Math.fround(0.9 * 1 + 1)))));
    expect(await values(buf)).toEqual([1.9, 1.9, 1.9].map(Math.fround));
  });

  test('Adam, p.grad = p.detach(): the first step moves each weight by lr', async () => {
    const p = tensor([1, 2, 3], { requiresGrad: true });
    const opt = new optim.Adam([p], { lr: 0.1 });
    p.grad = p.detach();
    opt.step();
    // PyTorch's first Adam step in float64: m̂ = g, v̂ = g², so p − lr·g/(|g| + eps) ≈ p − lr for g > 0
    // (float32 rounding of the moments and the square root leaves a few ulps).
    const got = await values(p);
    [1, 2, 3].map((g) => g - (0.1 * g) / (Math.abs(g) + 1e-8)).forEach((v, i) => expect(Math.abs(got[i]! - v)).toBeLessThan(2e-6));
  });

  test('a gradient wrapping the parameter’s own GPUBuffer (two fromGPUBuffer tensors)', async () => {
    const device = getDevice();
    const buffer = device.createBuffer({ size: 12, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
    device.queue.writeBuffer(buffer, 0, new Float32Array([1, 2, 3]));
    const p = fromGPUBuffer(buffer, [3]);
    p.requiresGrad = true;
    const opt = new optim.SGD([p], { lr: 0.5 });
    p.grad = fromGPUBuffer(buffer, [3]);
    opt.step();
    expect(await values(p)).toEqual([0.5, 1, 1.5]);
    buffer.destroy();
  });

  test('two parameters sharing memory are refused when the optimizer is made', () => {
    const p = tensor([1, 2, 3], { requiresGrad: true });
    const q = p.detach();
    q.requiresGrad = true;
    expect(() => new optim.SGD([p, q], { lr: 0.1 })).toThrow(ValueError);
    expect(() => new optim.SGD([p, q], { lr: 0.1 })).toThrow(/parameter 1 .*shares its memory with parameter 0/);
  });
});

describe('anomaly detection inside a captured step', () => {
  /** A step whose loss is infinite when its input holds an infinity. */
  function makeStep(): { step: (x: Tensor) => Tensor; p: Tensor } {
    const p = tensor([1, 2, 3], { requiresGrad: true });
    const opt = new optim.SGD([p], { lr: 0.1 });
    const step = captureStep((x: Tensor) => {
      opt.zeroGrad();
      const loss = p.mul(x).sum();
      loss.backward();
      opt.step();
      return loss;
    });
    return { step, p };
  }
  const good = () => tensor([1, 1, 1]);
  const bad = () => tensor([1, Infinity, 1]);

  /** Reads the step's loss: 'anomaly' when the read raised an AnomalyError, else the value. */
  async function read(t: Tensor): Promise<number | 'anomaly'> {
    try {
      return await t.item();
    } catch (err) {
      if (err instanceof AnomalyError) return 'anomaly';
      throw err;
    }
  }

  test('switched on after the step was recorded: replays are checked too', async () => {
    const { step } = makeStep();
    for (let i = 0; i < 3; i++) await read(step(good()));
    detectAnomaly(true);
    try {
      expect(await read(step(bad()))).toBe('anomaly');
      await checkAnomaly();
    } finally {
      detectAnomaly(false);
    }
  });

  test('every replay that produces an infinity is reported, not only the first', async () => {
    detectAnomaly(true);
    const got: (number | 'anomaly')[] = [];
    try {
      const { step, p } = makeStep();
      for (let i = 0; i < 8; i++) {
        got.push(await read(step(i % 2 === 0 ? good() : bad())));
        p.write([1, 2, 3]);
      }
    } finally {
      detectAnomaly(false);
    }
    expect(got).toEqual([6, 'anomaly', 6, 'anomaly', 6, 'anomaly', 6, 'anomaly']);
  });
});

describe('options an optimizer or a schedule does not know are refused (PyTorch: unexpected keyword argument)', () => {
  const param = () => tensor([1], { requiresGrad: true });
  const cases: [string, () => unknown, RegExp][] = [
    ['SGD momentun (a typo)', () => new optim.SGD([param()], { lr: 0.1, momentun: 0.9 } as never), /SGD: unknown option 'momentun'/],
    [
      'SGD weight_decay (PyTorch spelling)',
      () => new optim.SGD([param()], { lr: 0.1, weight_decay: 1e-4 } as never),
      /unknown option 'weight_decay'.*weightDecay/,
    ],
    ['Adam amsgrad (not supported)', () => new optim.Adam([param()], { amsgrad: true } as never), /Adam: unknown option 'amsgrad'/],
    ['AdamW weight_decay', () => new optim.AdamW([param()], { weight_decay: 0 } as never), /AdamW: unknown option 'weight_decay'.*weightDecay/],
    [
      'StepLR step_size',
      () => new optim.StepLR(new optim.SGD([param()], { lr: 0.1 }), { stepSize: 2, step_size: 5 } as never),
      /StepLR: unknown option 'step_size'/,
    ],
    [
      'CosineAnnealingLR eta_min',
      () => new optim.CosineAnnealingLR(new optim.SGD([param()], { lr: 0.1 }), { tMax: 2, eta_min: 0.01 } as never),
      /CosineAnnealingLR: unknown option 'eta_min'/,
    ],
    ['StepLR without an optimizer', () => new optim.StepLR(null as never, { stepSize: 1 }), /StepLR: optimizer must be an optimizer .*got null/],
  ];
  test.each(cases)('%s', (_name, make, message) => {
    expect(make).toThrow(ValueError);
    expect(make).toThrow(message);
  });
});

describe('sum and mean stay accurate over long axes', () => {
  // Before the fix the reduction kernel relied on a compensated (Kahan) loop that the shader
  // compiler folded into a plain running sum: summing 2^20 copies of 0.1 was off by 4 (3.9e-5).
  const cases: [name: string, shape: [number, number, number], axis: 'all' | 1][] = [
    ['a full sum of 2^20 elements (a workgroup per output)', [1, 1 << 20, 1], 'all'],
    ['a sum over a long axis, 2 outputs (a workgroup per output)', [2, 1 << 20, 1], 1],
    ['column sums of [2048, 4097] (an invocation per output)', [1, 2048, 4097], 1],
  ];
  test.each(cases)('%s: relative error under 1e-6 against float64', async (_name, [outer, R, inner], axis) => {
    // Nearly constant values make float32 rounding errors add up instead of cancelling.
    const x = new Float32Array(outer * R * inner).map((_, i) => 0.1 + 1e-3 * ((i * 7919) % 13));
    const want = new Float64Array(axis === 'all' ? 1 : outer * inner);
    for (let o = 0; o < outer; o++) {
      for (let r = 0; r < R; r++) for (let j = 0; j < inner; j++) want[axis === 'all' ? 0 : o * inner + j]! += x[(o * R + r) * inner + j]!;
    }
    const t = tensor(x, { shape: [outer, R, inner] });
    const sum = axis === 'all' ? t.sum() : t.sum(1);
    const mean = axis === 'all' ? t.mean() : t.mean(1);
    const count = axis === 'all' ? x.length : R;
    const [gotSum, gotMean] = [await values(sum), await values(mean)];
    const worst = (got: number[], scale: number) => Math.max(...got.map((v, i) => Math.abs(v - want[i]! / scale) / Math.abs(want[i]! / scale)));
    expect(worst(gotSum, 1)).toBeLessThan(1e-6);
    expect(worst(gotMean, count)).toBeLessThan(1e-6);
    t.dispose();
  });
});
