// Gradients four ways, table-driven over every op and over the MLP's whole loss: central
// gradcheck passes; forward mode (jvp) agrees with central differences; forward and reverse mode
// agree through ⟨J·v, u⟩ = ⟨v, Jᵀ·u⟩; a zero upstream gradient gives zero; backward twice agrees.
import { describe, expect, test } from 'vitest';
import { apply } from '../src/autograd.js';
import { grad, gradcheck, jvp, nn, randn, type Tensor, tensor, traceReference, valueAndGrad } from '../src/index.js';
import { host, hostNumel } from '../src/ops/host.js';
import { type OpName, ops } from '../src/ops/table.js';
import { expectClose, randHost, relErr, rng, toGpu } from './helpers.js';
import { type OpCase, opTable } from './op_table.js';

const names = Object.keys(ops) as OpName[];
const differentiable = names.filter((n) => opTable[n].differentiable);

/** A few small cases of each op (finite differences evaluate the op twice per element). */
function smallCases(name: OpName): OpCase[] {
  return opTable[name]
    .cases(rng(3000 + names.indexOf(name)))
    .filter((c) => c.inputs.reduce((n, x) => n + hostNumel(x.value.shape), 0) <= 1500)
    .slice(0, 4);
}

interface Problem {
  label: string;
  fn: (...xs: Tensor[]) => Tensor;
  inputs: () => Tensor[];
}

function opProblems(): Problem[] {
  return differentiable.flatMap((name) =>
    smallCases(name).map((c) => ({
      label: `${name} ${c.label}`,
      fn: (...xs: Tensor[]) => apply(name, xs, c.attrs as never),
      inputs: () => c.inputs.map((x) => toGpu(x)),
    })),
  );
}

// The seed network's loss as a function of its four parameters, on a small batch.
const mlpLoss = (x: Tensor, labels: Tensor) => (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor) =>
  nn.functional.crossEntropy(nn.functional.linear(nn.functional.linear(x, w1, b1).relu(), w2, b2), labels);

function mlpProblem(): Problem {
  // Made on first use: the device does not exist yet when the test file is collected.
  let batch: [Tensor, Tensor] | null = null;
  const data = () => (batch ??= [randn([8, 12], { seed: 11 }).keep(), tensor(new Int32Array([0, 1, 2, 3, 4, 0, 1, 2])).keep()]);
  return {
    label: 'MLP loss (linear → relu → linear → cross-entropy)',
    fn: (w1, b1, w2, b2) => mlpLoss(...data())(w1!, b1!, w2!, b2!),
    inputs: () => [randn([16, 12], { seed: 12 }), randn([16], { seed: 13 }), randn([5, 16], { seed: 14 }), randn([5], { seed: 15 })].map((t) => t.mul(0.5)),
  };
}

const problems = [...opProblems(), mlpProblem()];

test('every differentiable op of the table is covered', () => {
  for (const name of differentiable)
    expect(
      problems.some((p) => p.label.startsWith(`${name} `)),
      name,
    ).toBe(true);
});

describe.each(problems.map((p) => [p.label, p] as const))('%s', (_label, problem) => {
  test('central gradcheck passes (float64 differences on the CPU)', async () => {
    const result = await gradcheck(problem.fn, problem.inputs(), { method: 'central' });
    expect(result.passed, JSON.stringify(result.inputs)).toBe(true);
  });

  test('jvp agrees with central differences, and ⟨J·v, u⟩ = ⟨v, Jᵀ·u⟩', async () => {
    const xs = problem.inputs();
    const g = rng(5);
    const floats = xs.map((x) => x.dtype === 'float32');
    const vs = xs.map((x, i) => (floats[i] ? randHost(g, [...x.shape]) : null));
    const { output, tangent } = jvp(
      problem.fn,
      xs,
      vs.map((v) => (v ? tensor(Float32Array.from(v.data), { shape: v.shape }) : null)),
    );
    const jv = Float64Array.from(await tangent.data());

    const { evaluate } = await traceReference(problem.fn, xs);
    const base = await Promise.all(xs.map(async (x) => host([...x.shape], await x.data(), x.dtype)));
    const eps = 1e-6;
    const shifted = (sign: number) =>
      evaluate(
        base.map((b, i) =>
          vs[i]
            ? host(
                b.shape,
                b.data.map((v, j) => v + sign * eps * vs[i]!.data[j]!),
              )
            : b,
        ),
      );
    const plus = shifted(1).data;
    const minus = shifted(-1).data;
    const numeric = plus.map((p, i) => (p - minus[i]!) / (2 * eps));
    expectClose(jv, numeric, 1e-4, 'J·v');

    // Reverse mode with a random u on the same point.
    const u = randHost(g, [...output.shape]);
    const leaves = xs.map((x) => {
      const l = x.detach();
      l.requiresGrad = x.dtype === 'float32';
      return l;
    });
    problem.fn(...leaves).backward(tensor(Float32Array.from(u.data), { shape: u.shape }));
    let lhs = 0;
    jv.forEach((v, i) => (lhs += v * u.data[i]!));
    let rhs = 0;
    for (let k = 0; k < leaves.length; k++) {
      if (!vs[k]) continue;
      const gk = await leaves[k]!.grad!.data();
      gk.forEach((v, i) => (rhs += v * vs[k]!.data[i]!));
    }
    expect(Math.abs(lhs - rhs), `⟨Jv,u⟩ = ${lhs}, ⟨v,Jᵀu⟩ = ${rhs}`).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(lhs)));
  });

  test('a zero upstream gradient gives zero gradients; backward twice on fresh graphs agrees', async () => {
    const xs = problem.inputs();
    const run = async (upstream: 'zero' | 'ones') => {
      const leaves = xs.map((x) => {
        const l = x.detach();
        l.requiresGrad = x.dtype === 'float32';
        return l;
      });
      const y = problem.fn(...leaves);
      const n = y.size;
      y.backward(tensor(new Float32Array(n).fill(upstream === 'zero' ? 0 : 1), { shape: y.shape }));
      return Promise.all(leaves.map(async (l) => (l.grad ? Array.from(await l.grad.data()) : null)));
    };
    for (const g of await run('zero')) if (g) expect(g.every((v) => v === 0)).toBe(true);
    expect(await run('ones')).toEqual(await run('ones'));
  });
});

test('gradcheck catches a wrong gradient rule', async () => {
  // Break scale's vjp for the duration of the test: the gradient comes out 1.5 times too large.
  const table = ops as unknown as Record<string, { vjp: unknown }>;
  const original = table.scale!.vjp;
  table.scale!.vjp = (g: Tensor, ctx: { attrs: { factor: number } }) => [g.mul(ctx.attrs.factor * 1.5)];
  try {
    for (const evaluate of ['cpu', 'gpu'] as const) {
      const result = await gradcheck((x: Tensor) => x.mul(3).sum(), [tensor([0.5, -1, 2])], { evaluate });
      expect(result.passed, evaluate).toBe(false);
      expect(result.inputs[0]!.maxAbsError).toBeGreaterThan(1);
    }
  } finally {
    table.scale!.vjp = original;
  }
  expect((await gradcheck((x: Tensor) => x.mul(3).sum(), [tensor([0.5, -1, 2])])).passed).toBe(true);
});

test('on the GPU, finite differences see through detach(); the CPU replay treats it as a constant', async () => {
  // x · detach(x): reverse mode sees one factor (gradient x); differences of x² give 2x.
  const result = await gradcheck((x: Tensor) => x.mul(x.detach()).sum(), [tensor([0.5, -1, 2])], { evaluate: 'gpu' });
  expect(result.passed).toBe(false);
});

test('gradcheck on the GPU in float32 passes with its float32 tolerances, central and forward', async () => {
  const problem = mlpProblem();
  for (const method of ['central', 'forward'] as const) {
    const result = await gradcheck(problem.fn, problem.inputs(), { method, evaluate: 'gpu', maxElements: 12 });
    expect(result.passed, `${method}: ${JSON.stringify(result.inputs)}`).toBe(true);
    const checked = result.inputs.reduce((n, r) => n + (r?.checked ?? 0), 0);
    expect(checked).toBe(12 + 12 + 12 + 5);
    expect(result.evaluations).toBe(method === 'central' ? 2 * checked : checked + 1);
  }
});

test('grad and valueAndGrad return the gradients without touching the inputs', async () => {
  const f = (x: Tensor, y: Tensor) => x.mul(y).sum();
  const x = tensor([1, 2, 3]);
  const y = tensor([4, 5, 6]);
  const [value, [gx, gy]] = valueAndGrad(f)(x, y);
  expect(await value.item()).toBe(32);
  expect(Array.from(await gx!.data())).toEqual([4, 5, 6]);
  expect(Array.from(await gy!.data())).toEqual([1, 2, 3]);
  expect(x.grad).toBeNull();
  const [g2] = grad((a: Tensor) => a.mul(a).sum())(x);
  expect(Array.from(await g2!.data())).toEqual([2, 4, 6]);
  expect(relErr([1], [1])).toBe(0);
});
