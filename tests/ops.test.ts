// Generic op tests, driven by tests/op_table.ts: every op against its float64 CPU reference on
// seeded random shapes (outputs pre-filled with NaN by tests/setup.ts), and every gradient rule
// against central differences of the reference.
import { describe, expect, test } from 'vitest';
import { apply } from '../src/autograd.js';
import { tensor, tidy } from '../src/index.js';
import { type HostTensor, host, hostNumel } from '../src/ops/host.js';
import { type OpName, ops } from '../src/ops/table.js';
import { expectClose, randHost, rng, toGpu, toHost } from './helpers.js';
import { opTable } from './op_table.js';

const names = Object.keys(ops) as OpName[];

describe.each(names)('%s matches its float64 reference', (name) => {
  const spec = opTable[name];
  const cases = spec.cases(rng(1000 + names.indexOf(name)));

  test('has at least 20 random shapes', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  test.each(cases.map((c, i) => [i, c.label] as const))('case %i: %s', async (i) => {
    const c = cases[i]!;
    const ref = ops[name].reference(
      c.inputs.map((x) => x.value),
      c.attrs as never,
    );
    const out = await tidy(() =>
      apply(
        name,
        c.inputs.map((x) => toGpu(x)),
        c.attrs as never,
      ),
    ).data();
    expect(out.length).toBe(ref.data.length);
    // Integer and bool results are exact; float results are rounded to float32 first.
    if (spec.tol === 0) expect(Array.from(out)).toEqual(Array.from(ref.data, (v) => ((ref.dtype ?? 'float32') === 'float32' ? Math.fround(v) : v)));
    else expectClose(out, ref.data, spec.tol, `${name} ${c.label}`);
  });
});

/** d⟨u, f(x)⟩/dx_i by central differences on the float64 reference. */
function numericGrad(name: OpName, inputs: HostTensor[], attrs: unknown, which: number, u: HostTensor): Float64Array {
  const eps = 1e-6;
  const x = inputs[which]!;
  const grad = new Float64Array(x.data.length);
  const dot = (): number => {
    const y = ops[name].reference(inputs, attrs as never);
    let s = 0;
    for (let i = 0; i < y.data.length; i++) s += y.data[i]! * u.data[i]!;
    return s;
  };
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i]!;
    x.data[i] = v + eps;
    const plus = dot();
    x.data[i] = v - eps;
    const minus = dot();
    x.data[i] = v;
    grad[i] = (plus - minus) / (2 * eps);
  }
  return grad;
}

describe.each(names.filter((n) => opTable[n].differentiable))('%s gradient (vjp) matches central differences', (name) => {
  const all = opTable[name].cases(rng(2000 + names.indexOf(name)));
  // Finite differences cost two reference evaluations per element: keep the small cases.
  const cases = all.filter((c) => c.inputs.reduce((n, x) => n + hostNumel(x.value.shape), 0) <= 3000);

  test.each(cases.map((c, i) => [i, c.label] as const))('case %i: %s', async (i) => {
    const c = cases[i]!;
    const g = rng(i);
    const values = c.inputs.map((x) => x.value);
    const refOut = ops[name].reference(values, c.attrs as never);
    const u = randHost(g, refOut.shape);
    const leaves = c.inputs.map((x) => toGpu(x, (x.value.dtype ?? 'float32') === 'float32'));
    const out = apply(name, leaves, c.attrs as never);
    out
      .mul(tensor(Float32Array.from(u.data), { shape: u.shape }))
      .sum()
      .backward();
    for (let k = 0; k < leaves.length; k++) {
      if ((values[k]!.dtype ?? 'float32') !== 'float32') continue;
      const expected = numericGrad(
        name,
        values.map((v) => host(v.shape, v.data, v.dtype)),
        c.attrs,
        k,
        u,
      );
      const got = await toHost(leaves[k]!.grad!);
      expect(got.shape).toEqual(values[k]!.shape);
      expectClose(got.data, expected, 1e-4, `d/dinput${k}`);
    }
  });
});
