// Four ways to a gradient, side by side on one loss: forward and central finite
// differences (one and two extra forward passes per parameter), forward-mode AD (one tangent pass
// per parameter) and reverse-mode AD (one backward pass for all parameters). Each runs on a sample
// of parameters, is compared with reverse mode, and has its cost extrapolated to all of them.

import { describeValue, isFiniteNonNegative, showSetting } from './arguments.js';
import { noGrad } from './autograd.js';
import { tensor } from './creation.js';
import { AutogradError, fmtShape, ValueError } from './errors.js';
import { jvp } from './forward_ad.js';
import { Tensor } from './tensor.js';

/** One way to a gradient, as compareGradientMethods() measured it. */
export interface GradientMethodRow {
  /** Which method this row describes. */
  method: 'reverse-mode' | 'forward-mode' | 'central-difference' | 'forward-difference';
  /** Passes one partial derivative costs (null for reverse mode, which gets all at once). */
  passesPerParameter: string | null;
  /** Passes all partial derivatives cost, for the loss's parameter count (e.g. `1 forward + 1 backward`). */
  passesForAll: string;
  /** Measured time per sampled parameter (null for reverse mode). */
  msPerParameter: number | null;
  /** Time for all parameters: measured for reverse mode, extrapolated for the others. */
  msForAll: number;
  /** Largest |method − reverse| over the sample (null for reverse). */
  maxAbsError: number | null;
  /** maxAbsError divided by the largest |gradient| in the sample (null for reverse). */
  maxRelError: number | null;
}

/** What compareGradientMethods() returns. */
export interface GradientComparison {
  /** Total number of parameter elements over all tensors. */
  parameters: number;
  /** Parameter elements actually differentiated by the sampled methods. */
  sampled: number;
  /** Finite-difference step used. */
  eps: number;
  /** One row per method: reverse mode, forward mode, central and forward differences. */
  rows: GradientMethodRow[];
}

/** Options for compareGradientMethods(). */
export interface CompareOptions {
  /** Parameters to sample, spread over all tensors (default 24). */
  samples?: number;
  /** Finite-difference step (default 1e-2: the loss is evaluated in float32 on the GPU). */
  eps?: number;
}

async function readAll(ts: Tensor[]): Promise<number[]> {
  const values = await Promise.all(ts.map((t) => t.item()));
  ts.forEach((t) => t.dispose());
  return values;
}

/**
 * Runs the comparison for `loss(...params)` (a scalar). The parameters are perturbed in place for
 * the finite differences and restored exactly afterwards; their .grad is replaced by reverse mode's.
 */
export async function compareGradientMethods(
  loss: (...params: Tensor[]) => Tensor,
  params: readonly Tensor[],
  options: CompareOptions = {},
): Promise<GradientComparison> {
  const samples = options.samples ?? 24;
  const eps = options.eps ?? 1e-2;
  if (!Number.isInteger(samples) || samples < 1) throw new ValueError(`compareGradientMethods: samples must be a positive integer, got ${samples}.`);
  checkArguments(loss, params, eps);
  const P = params.reduce((n, p) => n + p.size, 0);
  const picks: [number, number][] = [];
  for (let s = 0; s < samples; s++) {
    const k = s % params.length;
    picks.push([k, Math.floor((((s * 2654435761) % 4294967296) / 4294967296) * params[k]!.size)]);
  }
  const hostValues = await Promise.all(params.map(async (p) => Float32Array.from(await p.data())));

  // Reverse mode: one forward and one backward pass give all P partial derivatives.
  const leaves = params.map((p) => {
    const l = p.detach();
    l.requiresGrad = true;
    return l;
  });
  const reverse = async (): Promise<Float32Array[]> => {
    for (const l of leaves) {
      l.grad?.dispose();
      l.grad = null;
    }
    const value = loss(...leaves);
    try {
      value.backward();
    } finally {
      if (!leaves.includes(value)) value.dispose();
    }
    // As torch.autograd.grad without allow_unused: a parameter the loss ignores is a mistake to name.
    const unused = leaves.findIndex((l) => !l.grad);
    if (unused >= 0) {
      throw new AutogradError(
        `compareGradientMethods: parameter ${unused} (shape ${fmtShape(params[unused]!.shape)}) gets no gradient from the loss: ` +
          'the loss does not depend on it. Leave it out of the parameters.',
      );
    }
    return Promise.all(leaves.map(async (l) => Float32Array.from(await l.grad!.data())));
  };
  let t0: number;
  const reps = 3;
  let exact: Float32Array[] = [];
  let reverseMs: number;
  try {
    await reverse();
    t0 = performance.now();
    for (let r = 0; r < reps; r++) exact = await reverse();
    reverseMs = (performance.now() - t0) / reps;
  } finally {
    leaves.forEach((l) => l.dispose());
  }
  const truth = picks.map(([k, i]) => exact[k]![i]!);
  const scale = Math.max(...truth.map(Math.abs), 1e-30);
  const errors = (values: number[]): { maxAbsError: number; maxRelError: number } => {
    const maxAbsError = Math.max(...values.map((v, j) => Math.abs(v - truth[j]!)));
    return { maxAbsError, maxRelError: maxAbsError / scale };
  };

  // Forward mode: one tangent pass per parameter, with a one-hot tangent.
  const forwardMode = async (): Promise<number[]> => {
    const results: Tensor[] = [];
    for (const [k, i] of picks) {
      const oneHot = new Float32Array(params[k]!.size);
      oneHot[i] = 1;
      const tangents = params.map((p, j) => (j === k ? tensor(oneHot, { shape: p.shape }) : null));
      const { output, tangent } = noGrad(() => jvp(loss, params, tangents));
      results.push(tangent.keep());
      [output, ...tangents].forEach((t) => t?.dispose());
    }
    return readAll(results);
  };
  await forwardMode();
  t0 = performance.now();
  const forwardAD = await forwardMode();
  const forwardADMs = (performance.now() - t0) / picks.length;

  // Finite differences in float32 on the GPU: upload the perturbed parameter, record the loss,
  // restore; the losses are read back together so the timing is the passes', not readback latency.
  const lossAt = (k: number, i: number, delta: number): Tensor => {
    const values = hostValues[k]!;
    const original = values[i]!;
    values[i] = original + delta;
    params[k]!.write(values);
    values[i] = original;
    const l = noGrad(() => loss(...params)).keep();
    params[k]!.write(values);
    return l;
  };
  const [base] = await readAll([noGrad(() => loss(...params)).keep()]);
  const difference = async (central: boolean): Promise<number[]> => {
    if (central) {
      const plus = picks.map(([k, i]) => lossAt(k, i, eps));
      const minus = picks.map(([k, i]) => lossAt(k, i, -eps));
      const [p, m] = [await readAll(plus), await readAll(minus)];
      return p.map((v, j) => (v - m[j]!) / (2 * eps));
    }
    return (await readAll(picks.map(([k, i]) => lossAt(k, i, eps)))).map((v) => (v - base!) / eps);
  };
  await difference(false);
  t0 = performance.now();
  const forwardDiff = await difference(false);
  const forwardDiffMs = (performance.now() - t0) / picks.length;
  t0 = performance.now();
  const centralDiff = await difference(true);
  const centralDiffMs = (performance.now() - t0) / picks.length;

  const n = (x: number): string => x.toLocaleString('en');
  return {
    parameters: P,
    sampled: picks.length,
    eps,
    rows: [
      {
        method: 'reverse-mode',
        passesPerParameter: null,
        passesForAll: '1 forward + 1 backward',
        msPerParameter: null,
        msForAll: reverseMs,
        maxAbsError: null,
        maxRelError: null,
      },
      {
        method: 'forward-mode',
        passesPerParameter: '1 tangent pass',
        passesForAll: `${n(P)} tangent passes`,
        msPerParameter: forwardADMs,
        msForAll: forwardADMs * P,
        ...errors(forwardAD),
      },
      {
        method: 'central-difference',
        passesPerParameter: '2 forward',
        passesForAll: `${n(2 * P)} forward`,
        msPerParameter: centralDiffMs,
        msForAll: centralDiffMs * P,
        ...errors(centralDiff),
      },
      {
        method: 'forward-difference',
        passesPerParameter: '1 forward',
        passesForAll: `${n(P + 1)} forward`,
        msPerParameter: forwardDiffMs,
        msForAll: forwardDiffMs * P,
        ...errors(forwardDiff),
      },
    ],
  };
}

/** Refuses what would otherwise fail part-way as a TypeError: non-tensors, int32 parameters, a bad step. */
function checkArguments(loss: unknown, params: unknown, eps: unknown): void {
  if (typeof loss !== 'function') throw new ValueError(`compareGradientMethods: loss must be a function, got ${describeValue(loss)}.`);
  if (!Array.isArray(params) || params.length === 0) {
    throw new ValueError(
      `compareGradientMethods: params must be a non-empty array of tensors, got ${Array.isArray(params) ? 'an empty array' : describeValue(params)}.`,
    );
  }
  params.forEach((p: unknown, i) => {
    if (!(p instanceof Tensor)) throw new ValueError(`compareGradientMethods: parameter ${i} is not a Tensor (got ${describeValue(p)}).`);
    if (p.dtype !== 'float32') throw new ValueError(`compareGradientMethods: parameter ${i} is ${p.dtype}; only float32 tensors have gradients.`);
  });
  if (!(isFiniteNonNegative(eps) && eps > 0)) throw new ValueError(`compareGradientMethods: eps must be a positive finite number, got ${showSetting(eps)}.`);
}

/** Milliseconds as people read them: 15.2 ms, 3.4 s, 12.6 min, 2.1 h. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}
