// gradcheck: reverse-mode gradients against finite differences, the oldest way of getting a
// gradient. The function is evaluated either on the GPU in float32, or — traced once and replayed
// through the op table's float64 CPU references — on the CPU in float64, where the differences
// are accurate enough for tight tolerances.

import { describeValue, isFiniteNonNegative, showSetting } from './arguments.js';
import { noGrad, withApplyHook } from './autograd.js';
import { tensor } from './creation.js';
import { ValueError } from './errors.js';
import { type HostTensor, host } from './ops/host.js';
import { type OpName, ops } from './ops/table.js';
import { Generator } from './random.js';
import { Tensor } from './tensor.js';

/** The finite-difference formula: central (f(x+eps) − f(x−eps)) / 2eps, or forward (f(x+eps) − f(x)) / eps. */
export type DifferenceMethod = 'central' | 'forward';

/** Options for gradcheck(); unset tolerances come from GRADCHECK_DEFAULTS for the method and evaluate chosen. */
export interface GradcheckOptions {
  /** Central differences (two evaluations per element, error O(eps²)) or forward (one, O(eps)). */
  method?: DifferenceMethod;
  /** Where the finite differences are evaluated: 'cpu' (float64 replay, default) or 'gpu' (float32). */
  evaluate?: 'cpu' | 'gpu';
  /** Finite-difference step added to each input element. */
  eps?: number;
  /** Absolute tolerance: an element passes when |analytic − numeric| ≤ atol + rtol·|numeric|. */
  atol?: number;
  /** Relative tolerance (see atol). */
  rtol?: number;
  /** Check at most this many elements per input (a seeded random sample); default all. */
  maxElements?: number;
  /** Seed for the random projection u and the element sample (default 0). */
  seed?: number;
}

/** gradcheck()'s findings for one input. */
export interface InputCheck {
  /** Elements compared. */
  checked: number;
  /** Largest |analytic − numeric| over the elements checked. */
  maxAbsError: number;
  /** Largest |analytic − numeric| / |numeric| over the elements checked. */
  maxRelError: number;
  /** |analytic − numeric| ≤ atol + rtol·|numeric| for every element checked. */
  passed: boolean;
}

/** What gradcheck() returns. */
export interface GradcheckResult {
  /** True when every checked input passed. */
  passed: boolean;
  /** One entry per input, in order; null for inputs not checked (int32, or no gradient reaches them). */
  inputs: (InputCheck | null)[];
  /** Evaluations of fn the differences took. */
  evaluations: number;
}

/**
 * Default tolerances. float64 on the CPU: the architecture's eps 1e-6, atol 1e-5, rtol 1e-3.
 * float32 on the GPU: a step of 1e-2 balances rounding (≈ 1e-7·|f|/eps) against truncation
 * (≈ eps²·f''' for central, eps·f'' for forward); agreement is then at the 1e-2 level, not better.
 */
export const GRADCHECK_DEFAULTS = {
  /** For evaluate: 'cpu' (float64). */
  cpu: {
    /** For method: 'central'. */
    central: {
      /** Finite-difference step. */
      eps: 1e-6,
      /** Absolute tolerance. */
      atol: 1e-5,
      /** Relative tolerance. */
      rtol: 1e-3,
    },
    /** For method: 'forward'. */
    forward: {
      /** Finite-difference step. */
      eps: 1e-7,
      /** Absolute tolerance. */
      atol: 1e-4,
      /** Relative tolerance. */
      rtol: 1e-2,
    },
  },
  /** For evaluate: 'gpu' (float32). */
  gpu: {
    /** For method: 'central'. */
    central: {
      /** Finite-difference step. */
      eps: 1e-2,
      /** Absolute tolerance. */
      atol: 1e-3,
      /** Relative tolerance. */
      rtol: 2e-2,
    },
    /** For method: 'forward'. */
    forward: {
      /** Finite-difference step. */
      eps: 1e-2,
      /** Absolute tolerance. */
      atol: 1e-2,
      /** Relative tolerance. */
      rtol: 1e-1,
    },
  },
} as const;

interface TracedOp {
  name: OpName;
  inputs: readonly Tensor[];
  attrs: unknown;
  output: Tensor;
}

/**
 * Traces fn(...inputs) once on the GPU and returns a float64 CPU evaluator of the same computation,
 * built from the op table's references. Tensors fn uses that are neither inputs nor op results
 * (constants, labels) are read back once.
 */
export async function traceReference(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
): Promise<{
  /** fn(...inputs), evaluated once on the GPU without recording gradients. */
  output: Tensor;
  /** Recomputes fn in float64 on the CPU from host values of the inputs, given in the same order. */
  evaluate: (values: readonly HostTensor[]) => HostTensor;
}> {
  const trace: TracedOp[] = [];
  const output: unknown = noGrad(() =>
    withApplyHook(
      (name, ins, attrs, out) => trace.push({ name, inputs: ins, attrs, output: out }),
      () => fn(...inputs),
    ),
  );
  if (!(output instanceof Tensor)) throw new ValueError(`traceReference: fn must return a Tensor, got ${describeValue(output)}.`);
  const produced = new Set(trace.map((t) => t.output));
  const constants = new Map<Tensor, HostTensor>();
  for (const op of trace) {
    for (const x of op.inputs) {
      if (produced.has(x) || inputs.includes(x) || constants.has(x)) continue;
      constants.set(x, host([...x.shape], await x.data(), x.dtype));
    }
  }
  const evaluate = (values: readonly HostTensor[]): HostTensor => {
    const env = new Map<Tensor, HostTensor>(constants);
    inputs.forEach((x, i) => env.set(x, values[i]!));
    for (const op of trace) {
      env.set(
        op.output,
        ops[op.name].reference(
          op.inputs.map((x) => env.get(x)!),
          op.attrs as never,
        ),
      );
    }
    const result = env.get(output);
    if (!result) throw new ValueError('gradcheck: fn returned one of its inputs unchanged; nothing to differentiate.');
    return result;
  };
  return { output, evaluate };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * Compares reverse-mode gradients of ⟨u, fn(inputs)⟩ (u random; 1 for a scalar fn) with finite
 * differences, per input: the largest absolute and relative errors and whether all passed.
 *
 * ```ts
 * const x = randn([3, 4]);
 * const w = randn([4, 2]);
 * const r = await gradcheck((x, w) => x.matmul(w).relu().sum(), [x, w]);
 * if (!r.passed) console.log(r.inputs.map((c) => c?.maxRelError));
 * ```
 */
export async function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: readonly Tensor[], options: GradcheckOptions = {}): Promise<GradcheckResult> {
  const { method, where } = checkOptions(fn, inputs, options);
  const defaults = GRADCHECK_DEFAULTS[where][method];
  const eps = options.eps ?? defaults.eps;
  const atol = options.atol ?? defaults.atol;
  const rtol = options.rtol ?? defaults.rtol;
  const gen = new Generator(options.seed ?? 0);

  // Reverse mode, on fresh leaves (released however fn ends).
  const leaves = inputs.map((x) => {
    const leaf = x.detach();
    leaf.requiresGrad = x.dtype === 'float32';
    return leaf;
  });
  let u: Float64Array;
  let analytic: (Float64Array | null)[];
  try {
    const y: unknown = fn(...leaves);
    if (!(y instanceof Tensor)) throw new ValueError(`gradcheck: fn must return a Tensor, got ${describeValue(y)}.`);
    try {
      u = new Float64Array(y.size);
      for (let i = 0; i < u.length; i++) u[i] = y.size === 1 ? 1 : Math.fround(gen.uniform() * 2 - 1);
      if (y.requiresGrad) {
        const seed = tensor(Float32Array.from(u), { shape: y.shape });
        y.backward(seed);
        seed.dispose();
      }
      analytic = await Promise.all(leaves.map(async (l) => (l.grad ? Float64Array.from(await l.grad.data()) : null)));
    } finally {
      y.dispose();
    }
  } finally {
    leaves.forEach((l) => l.dispose());
  }

  const values = await Promise.all(inputs.map(async (x) => host([...x.shape], await x.data(), x.dtype)));
  let evaluations = 0;
  let f: (vals: readonly HostTensor[]) => Promise<number>;
  if (where === 'cpu') {
    const { output, evaluate } = await traceReference(fn, inputs);
    output.dispose();
    f = async (vals) => dot(evaluate(vals).data, u);
  } else {
    f = async (vals) => {
      const ts = vals.map((v, i) => (inputs[i]!.dtype !== 'float32' ? inputs[i]! : tensor(Float32Array.from(v.data), { shape: v.shape })));
      const out = noGrad(() => fn(...ts));
      const r = dot(await out.data(), u);
      out.dispose();
      ts.forEach((t, i) => t !== inputs[i] && t.dispose());
      return r;
    };
  }
  const base = method === 'forward' ? await f(values) : 0;
  if (method === 'forward') evaluations++;

  const results: (InputCheck | null)[] = [];
  for (let k = 0; k < inputs.length; k++) {
    const grad = analytic[k];
    if (!grad || inputs[k]!.dtype !== 'float32') {
      results.push(null);
      continue;
    }
    const x = values[k]!;
    let indices = Array.from({ length: x.data.length }, (_, i) => i);
    if (options.maxElements !== undefined && indices.length > options.maxElements) {
      for (let i = indices.length - 1; i > 0; i--) {
        const j = gen.int(i + 1);
        [indices[i], indices[j]] = [indices[j]!, indices[i]!];
      }
      indices = indices.slice(0, options.maxElements);
    }
    let maxAbs = 0;
    let maxRel = 0;
    let passed = true;
    for (const i of indices) {
      const v = x.data[i]!;
      let numeric: number;
      if (method === 'central') {
        x.data[i] = v + eps;
        const plus = await f(values);
        x.data[i] = v - eps;
        const minus = await f(values);
        numeric = (plus - minus) / (2 * eps);
        evaluations += 2;
      } else {
        x.data[i] = v + eps;
        numeric = ((await f(values)) - base) / eps;
        evaluations++;
      }
      x.data[i] = v;
      const err = Math.abs(grad[i]! - numeric);
      maxAbs = Math.max(maxAbs, err);
      maxRel = Math.max(maxRel, err / Math.max(Math.abs(numeric), 1e-12));
      if (!(err <= atol + rtol * Math.abs(numeric))) passed = false;
    }
    results.push({ checked: indices.length, maxAbsError: maxAbs, maxRelError: maxRel, passed });
  }
  return { passed: results.every((r) => r === null || r.passed), inputs: results, evaluations };
}

/** Validates gradcheck()'s arguments before anything runs; returns the method and where to evaluate. */
function checkOptions(fn: unknown, inputs: unknown, options: GradcheckOptions): { method: DifferenceMethod; where: 'cpu' | 'gpu' } {
  if (typeof fn !== 'function') throw new ValueError(`gradcheck: fn must be a function, got ${describeValue(fn)}.`);
  if (!Array.isArray(inputs)) throw new ValueError(`gradcheck: inputs must be an array of tensors, got ${describeValue(inputs)}.`);
  inputs.forEach((x: unknown, i) => {
    if (!(x instanceof Tensor)) throw new ValueError(`gradcheck: input ${i} is not a Tensor (got ${describeValue(x)}).`);
  });
  const method: unknown = options.method ?? 'central';
  const where: unknown = options.evaluate ?? 'cpu';
  const quoted = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : describeValue(v));
  if (method !== 'central' && method !== 'forward') throw new ValueError(`gradcheck: unknown method ${quoted(method)} (expected 'central' or 'forward').`);
  if (where !== 'cpu' && where !== 'gpu') throw new ValueError(`gradcheck: unknown evaluate ${quoted(where)} (expected 'cpu' or 'gpu').`);
  // eps 0 would divide by zero; a negative or NaN step gives meaningless differences.
  if (options.eps !== undefined && !(isFiniteNonNegative(options.eps) && options.eps > 0)) {
    throw new ValueError(`gradcheck: eps must be a positive finite number, got ${showSetting(options.eps)}.`);
  }
  for (const name of ['atol', 'rtol'] as const) {
    const v = options[name];
    if (v !== undefined && !isFiniteNonNegative(v)) throw new ValueError(`gradcheck: ${name} must be a finite number ≥ 0, got ${showSetting(v)}.`);
  }
  const max = options.maxElements;
  if (max !== undefined && !(Number.isInteger(max) && max >= 1))
    throw new ValueError(`gradcheck: maxElements must be a positive integer, got ${showSetting(max)}.`);
  return { method, where };
}
