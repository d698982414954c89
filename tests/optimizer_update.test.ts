// The optimizer's update kernels (one parameter per dispatch, or four in one) against PyTorch's
// SGD rule computed in float64 on the CPU: awkward parameter counts and sizes, a parameter that
// gets no gradient in some step (PyTorch skips it and its momentum), every option.
import { describe, expect, test } from 'vitest';
import { counters, optim, type Tensor, tensor } from '../src/index.js';
import { Generator } from '../src/random.js';
import { runtime } from '../src/runtime/runtime.js';

interface Options {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
}

/** torch.optim.SGD's step for one parameter, in float64. */
function referenceStep(p: Float64Array, g: Float64Array, state: { buf: Float64Array | null }, o: Options): void {
  const firstStep = state.buf === null;
  const buf = state.buf ?? new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    let d = g[i]! + o.weightDecay * p[i]!;
    if (o.momentum !== 0) {
      buf[i] = firstStep ? d : o.momentum * buf[i]! + (1 - o.dampening) * d;
      d = o.nesterov ? d + o.momentum * buf[i]! : buf[i]!;
    }
    p[i] = p[i]! - o.lr * d;
  }
  if (o.momentum !== 0) state.buf = buf;
}

// Sizes that are not all multiples of 4 run the scalar kernel; a dispatch whose parameters' sizes
// all are reads them as vec4s (src/ops/sgd_kernels.ts): both must follow the rule.
const SIZE_SETS = {
  'awkward sizes': [1, 300, 7, 5000, 33, 2, 65_537],
  'sizes that are multiples of 4 (vec4 kernel)': [4, 300, 5000, 65_536, 8, 12, 100_352],
};
const cases: [string, Options][] = [
  ['plain', { lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 }],
  ['plain with weight decay', { lr: 0.05, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0.01 }],
  ['momentum with dampening', { lr: 0.05, momentum: 0.9, dampening: 0.3, nesterov: false, weightDecay: 0 }],
  ['Nesterov with weight decay', { lr: 0.02, momentum: 0.8, dampening: 0, nesterov: true, weightDecay: 0.001 }],
];

describe.each(cases)('SGD %s', (_name, o) => {
  test.each(Object.entries(SIZE_SETS))('%s: matches the float64 rule over steps where some parameters have no gradient', async (_label, sizes) => {
    const g = new Generator(31);
    const values = sizes.map((n) => Float64Array.from({ length: n }, () => Math.fround(g.uniform() * 2 - 1)));
    const params = values.map((v) => tensor(Float32Array.from(v), { requiresGrad: true }).keep());
    const opt = new optim.SGD(params, o);
    const states = sizes.map(() => ({ buf: null as Float64Array | null }));
    // Step 1: all; step 2: parameters 1 and 4 get no gradient; step 3: all again (mixed first steps).
    const skip = [new Set<number>(), new Set([1, 4]), new Set<number>(), new Set([0])];
    for (const skipped of skip) {
      opt.zeroGrad();
      const grads = sizes.map((n) => Float64Array.from({ length: n }, () => Math.fround(g.uniform() * 2 - 1)));
      let loss: Tensor | null = null;
      params.forEach((p, k) => {
        if (skipped.has(k)) return;
        const term = p.mul(tensor(Float32Array.from(grads[k]!))).sum();
        loss = loss ? loss.add(term) : term;
      });
      loss!.backward();
      opt.step();
      values.forEach((v, k) => !skipped.has(k) && referenceStep(v, grads[k]!, states[k]!, o));
    }
    for (let k = 0; k < sizes.length; k++) {
      const out = await params[k]!.data();
      let worst = 0;
      for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i]! - values[k]![i]!));
      expect(worst, `parameter ${k} (${sizes[k]} elements)`).toBeLessThan(1e-6);
      if (o.momentum !== 0) {
        const buf = await opt.momentumBuffer(params[k]!)!.data();
        let w = 0;
        for (let i = 0; i < buf.length; i++) w = Math.max(w, Math.abs(buf[i]! - states[k]!.buf![i]!));
        expect(w, `momentum buffer ${k}`).toBeLessThan(1e-6);
      }
    }
  });
});

test("the seed network's four parameters are updated in one dispatch", async () => {
  const shapes = [[128, 784], [128], [10, 128], [10]];
  const params = shapes.map((s) => tensor(new Float32Array(s.reduce((a, b) => a * b, 1)), { shape: s, requiresGrad: true }).keep());
  for (const momentum of [0, 0.9]) {
    const opt = new optim.SGD(params, { lr: 0.1, momentum });
    for (let s = 0; s < 2; s++) {
      opt.zeroGrad();
      params
        .map((p) => p.sum())
        .reduce((a, b) => a.add(b))
        .backward();
      runtime().scheduler.flush();
      const before = counters().dispatches;
      opt.step();
      const used = counters().dispatches - before;
      // Twelve storage buffers are needed for momentum; every adapter here has them.
      const one = runtime().profile.multiParameterUpdate && (momentum === 0 || runtime().ctx.limits.maxStorageBuffersPerShaderStage >= 12);
      expect(one).toBe(true); // lavapipe, where the unit tests run
      expect(used, `momentum ${momentum}`).toBe(1);
    }
  }
  expect(runtime().ctx.limits.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(8);
});
