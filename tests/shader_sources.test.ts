// The WGSL generated from TypeScript declarations: every op of the elementwise snippet table
// compiles and computes its float64 reference (a test row per op: adding an op without one does
// not type-check), a broken snippet is reported with its generated line, and every uniform layout
// packs its fields where WGSL's layout rules put them.
import { describe, expect, test } from 'vitest';
import { WebgradError } from '../src/errors.js';
import { type Tensor, tensor, zeros } from '../src/index.js';
import { recordBinary, recordUnary } from '../src/ops/elementwise.js';
import { BINARY_OPS, type BinaryOpName, UNARY_OPS, type UnaryOpName } from '../src/ops/elementwise_ops.js';
import { allUniformLayouts, binaryKernels, elementwiseKernel, UNARY_PARAMS, unaryFunction, unaryKernels } from '../src/ops/kernels.js';
import { erfcReference, powReference } from '../src/ops/unary_math.js';
import { type UniformFieldType, UniformLayout } from '../src/ops/wgsl.js';
import { Generator } from '../src/random.js';
import { runtime } from '../src/runtime/runtime.js';

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const normalCdf = (x: number): number => 0.5 * erfcReference(-x / Math.SQRT2);
const GELU_K = Math.sqrt(2 / Math.PI);
const geluTanhInner = (x: number): number => GELU_K * (x + 0.044715 * x * x * x);
const softplus = (x: number, threshold: number): number => (x > threshold ? x : Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))));
const nanOr = (a: number, b: number, value: number): number => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : value);

/** float64 references of the unary ops, given x and the scalar s. */
const unaryCases: { [K in UnaryOpName]: (x: number, s: number) => number } = {
  copy: (x) => x,
  relu: (x) => (Number.isNaN(x) ? x : Math.max(x, 0)),
  scale: (x, s) => x * s,
  addScalar: (x, s) => x + s,
  divScalar: (x, s) => x / s,
  abs: Math.abs,
  exp: Math.exp,
  log: Math.log,
  log1p: Math.log1p,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  square: (x) => x * x,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sigmoid,
  silu: (x) => x * sigmoid(x),
  gelu: (x) => x * normalCdf(x),
  geluTanh: (x) => 0.5 * x * (1 + Math.tanh(geluTanhInner(x))),
  softplus,
  clampMin: (x, s) => Math.max(x, s),
  clampMax: (x, s) => Math.min(x, s),
  powScalar: (x, s) => powReference(x, s),
};

/** float64 references of the binary ops, given a, b and s. A `…Backward` op gets the input a and the gradient b. */
const binaryCases: { [K in BinaryOpName]: (a: number, b: number, s: number) => number } = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: powReference,
  maximum: (a, b) => nanOr(a, b, Math.max(a, b)),
  minimum: (a, b) => nanOr(a, b, Math.min(a, b)),
  reluBackward: (a, b) => (a > 0 ? b : 0),
  absBackward: (a, b) => (a > 0 ? b : a < 0 ? -b : 0),
  expBackward: (a, b) => b * Math.exp(a),
  logBackward: (a, b) => b / a,
  log1pBackward: (a, b) => b / (1 + a),
  sqrtBackward: (a, b) => b / (2 * Math.sqrt(a)),
  rsqrtBackward: (a, b) => (-0.5 * b) / (a * Math.sqrt(a)),
  squareBackward: (a, b) => 2 * a * b,
  sinBackward: (a, b) => b * Math.cos(a),
  cosBackward: (a, b) => -b * Math.sin(a),
  tanhBackward: (a, b) => b * (1 - Math.tanh(a) ** 2),
  sigmoidBackward: (a, b) => b * sigmoid(a) * sigmoid(-a),
  siluBackward: (a, b) => b * sigmoid(a) * (1 + a * sigmoid(-a)),
  geluBackward: (a, b) => b * (normalCdf(a) + (a * Math.exp(-0.5 * a * a)) / Math.sqrt(2 * Math.PI)),
  // PyTorch's formula; a² overflowing float32 makes it NaN there, as in PyTorch's float32 kernel.
  geluTanhBackward: (a, b) => {
    if (Math.fround(a * a) === Infinity) return Number.NaN;
    const t = Math.tanh(geluTanhInner(a));
    return b * (0.5 * (1 + t) + 0.5 * a * (1 - t * t) * GELU_K * (1 + 3 * 0.044715 * a * a));
  },
  softplusBackward: (a, b, s) => (a > s ? b : b * sigmoid(a)),
  clampMinBackward: (a, b, s) => (a >= s ? b : 0),
  clampMaxBackward: (a, b, s) => (a <= s ? b : 0),
  powScalarBackward: (a, b, s) => (s === 0 ? 0 : b * s * powReference(a, s - 1)),
  powBaseGrad: (a, b) => (b === 0 ? 0 : b * powReference(a, b - 1)),
  powExponentGrad: (a, b) => (a === 0 && b >= 0 ? 0 : powReference(a, b) * Math.log(a)),
  maximumGradShare: (a, b) => (a === b ? 0.5 : a < b ? 0 : 1),
};

interface Tolerance {
  rel: number;
  abs?: number;
  /** Beyond this |input| WGSL does not bound the error (sin, cos): only NaN-ness must match. */
  largeInput?: number;
}

// What lavapipe's float32 exp, log, sin, … reach against float64 here; WGSL allows more (exp: 3 + 2|x| ulp).
const TRANSCENDENTAL: Tolerance = { rel: 4e-6, abs: 2 ** -22 };
const TRIGONOMETRIC: Tolerance = { ...TRANSCENDENTAL, largeInput: 1e4 };

/** Error allowed beyond float32 rounding, for ops built on WGSL's builtins, which are not correctly rounded. */
const TOLERANCE: Partial<Record<UnaryOpName | BinaryOpName, Tolerance>> = {
  ...Object.fromEntries(
    (['exp', 'log', 'log1p', 'tanh', 'sigmoid', 'silu', 'gelu', 'geluTanh', 'softplus'] as const).flatMap((name) => [
      [name, TRANSCENDENTAL],
      [`${name}Backward`, TRANSCENDENTAL],
    ]),
  ),
  powScalar: { rel: 2e-5 },
  pow: { rel: 2e-5 },
  powScalarBackward: { rel: 2e-5 },
  powBaseGrad: { rel: 2e-5 },
  powExponentGrad: { rel: 2e-5 },
  // Φ(a) + a·φ(a) cancels near a = −0.75 (as in PyTorch's float32 formula).
  geluBackward: { rel: 1e-5, abs: 2 ** -22 },
  sin: TRIGONOMETRIC,
  cos: TRIGONOMETRIC,
  sinBackward: TRIGONOMETRIC,
  cosBackward: TRIGONOMETRIC,
};
const DEFAULT_MATH_TOLERANCE: Tolerance = { rel: 2 ** -23 };

const SCALAR = Math.fround(-0.7);
const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1e30, -1e-30, 3, -1e30, 1e-30, 1e-40, -1e-40, 30, -30, 100, -100, 1e-4, -1e-4, 1, -1];

/** `count` float32 values: the special ones first, then seeded values in (−2, 2). */
function values(count: number, seed: number): Float32Array {
  const g = new Generator(seed);
  return Float32Array.from({ length: count }, (_, i) => (i < SPECIAL.length ? SPECIAL[i]! : g.uniform() * 4 - 2));
}

const SMALLEST_NORMAL = 2 ** -126;

/**
 * out equals the float32 rounding of ref: NaN for NaN, within `tol` otherwise (an ulp by default). A
 * subnormal result may come back as 0 (GPUs may flush subnormals).
 */
function expectMatches(out: ArrayLike<number>, ref: ArrayLike<number>, what: string, tol = DEFAULT_MATH_TOLERANCE, inputs?: ArrayLike<number>): void {
  expect(out.length).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    const want = Math.fround(ref[i]!);
    const got = out[i]!;
    const input = inputs?.[i] ?? 0;
    // Large inputs of sin and cos, and subnormal inputs of the builtins (which may flush them), are not bounded by WGSL.
    const unbounded =
      (tol.largeInput !== undefined && Math.abs(input) > tol.largeInput) ||
      (tol !== DEFAULT_MATH_TOLERANCE && input !== 0 && Math.abs(input) < SMALLEST_NORMAL);
    if (unbounded) {
      if (Number.isNaN(want) !== Number.isNaN(got)) expect.fail(`${what}: element ${i} is ${got}, expected ${want}`);
      continue;
    }
    const close = got === want || Math.abs(got - want) <= Math.abs(want) * tol.rel + (tol.abs ?? 0);
    const flushed = Math.abs(want) < SMALLEST_NORMAL && Math.abs(got) < SMALLEST_NORMAL;
    const ok = Number.isNaN(want) ? Number.isNaN(got) : close || flushed;
    if (!ok) expect.fail(`${what}: element ${i} (first input ${input}) is ${got}, expected ${want}`);
  }
}

describe('elementwise snippet table', () => {
  test('every op has a test row, and every generated kernel compiles', async () => {
    expect(Object.keys(unaryCases).sort()).toEqual(Object.keys(UNARY_OPS).sort());
    expect(Object.keys(binaryCases).sort()).toEqual(Object.keys(BINARY_OPS).sort());
    const kernels = [...Object.values(unaryKernels), ...Object.values(binaryKernels)];
    // Each also has its twin for inputs read in order (no index arithmetic).
    expect(kernels.every((k) => k.direct !== undefined)).toBe(true);
    await expect(runtime().scheduler.pipelines.check(kernels.flatMap((k) => [k, k.direct!]))).resolves.toBeUndefined();
  });

  test.each(Object.keys(unaryCases) as UnaryOpName[])('unary %s matches float64 on special values and a strided input', async (name) => {
    const rows = 13;
    const cols = 29;
    const stored = values(rows * cols, 1);
    // A transposed view: the kernel reads it through its strides.
    const x = tensor(stored, { shape: [cols, rows] }).transpose();
    const out = await recordUnary('test', name, x, SCALAR).data();
    const inputs = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) inputs[i * cols + j] = stored[j * rows + i]!;
    expectMatches(
      out,
      inputs.map((x) => unaryCases[name](x, SCALAR)),
      name,
      TOLERANCE[name],
      inputs,
    );
    // The same values stored in order go through the direct twin: the same bits.
    const plain = tensor(Float32Array.from(inputs), { shape: [rows, cols] });
    expect(Array.from(await recordUnary('test', name, plain, SCALAR).data())).toEqual(Array.from(out));
  });

  test.each(Object.keys(binaryCases) as BinaryOpName[])('binary %s matches float64 on special values, broadcast and strided inputs', async (name) => {
    const rows = 11;
    const cols = 37;
    const aStored = values(rows * cols, 2);
    const bRow = values(cols, 3).reverse();
    const a = tensor(aStored, { shape: [cols, rows] }).transpose();
    const b = tensor(bRow, { shape: [cols] });
    for (const [first, second, swap] of [
      [a, b, false],
      [b, a, true],
    ] as [Tensor, Tensor, boolean][]) {
      const out = await recordBinary('test', name, first, second, SCALAR).data();
      const ref = new Float64Array(rows * cols);
      const firsts = new Float64Array(rows * cols);
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          const av = aStored[j * rows + i]!;
          const bv = bRow[j]!;
          ref[i * cols + j] = swap ? binaryCases[name](bv, av, SCALAR) : binaryCases[name](av, bv, SCALAR);
          firsts[i * cols + j] = swap ? bv : av;
        }
      }
      expectMatches(out, ref, `${name}${swap ? ' (broadcast first operand)' : ''}`, TOLERANCE[name], firsts);
      // Both operands stored in order: the direct twin, the same bits.
      const seconds = Float32Array.from(ref, (_, k) => (swap ? aStored[(k % cols) * rows + Math.floor(k / cols)]! : bRow[k % cols]!));
      const plainOut = await recordBinary(
        'test',
        name,
        tensor(Float32Array.from(firsts), { shape: [rows, cols] }),
        tensor(seconds, { shape: [rows, cols] }),
        SCALAR,
      ).data();
      expect(Array.from(plainOut)).toEqual(Array.from(out));
    }
  });

  test('a snippet that does not compile is reported with the family and its generated line', async () => {
    const broken = elementwiseKernel('elementwise.broken', ['x'], UNARY_PARAMS, unaryFunction('broken', 'x +* s'), 'op_broken(x, P.scalar)');
    const device = runtime().device;
    device.pushErrorScope('validation');
    const checked = runtime()
      .scheduler.pipelines.check([broken])
      .then(
        () => null,
        (e: unknown) => e,
      );
    const scopeError = await device.popErrorScope();
    const error = await checked;
    expect(scopeError).not.toBeNull();
    expect(error).toBeInstanceOf(WebgradError);
    expect((error as Error).message).toMatch(/elementwise\.broken \(line \d+:\d+ of its WGSL source\)/);
    expect((error as Error).message).toContain('fn op_broken(x: f32, s: f32) -> f32 { return x +* s; }');
  });
});

/** Distinct values per field (so a field read from the wrong offset shows), integers for integer types. */
function sampleValues(layout: UniformLayout<Record<string, UniformFieldType>>): Record<string, number | number[]> {
  const out: Record<string, number | number[]> = {};
  Object.entries(layout.fields).forEach(([field, type], f) => {
    const value = (c: number): number => (type.includes('f32') ? 0.5 + f * 8 + c : type === 'i32' ? -(f * 8 + c + 1) : f * 8 + c + 1);
    out[field] = type.startsWith('vec4') ? [0, 1, 2, 3].map(value) : value(0);
  });
  return out;
}

const bits = (type: UniformFieldType, v: number): number => (type.includes('f32') ? new Uint32Array(Float32Array.of(v).buffer)[0]! : v >>> 0);

const mixed = new UniformLayout('Params', { a: 'f32', v: 'vec4<f32>', b: 'i32', c: 'u32', w: 'vec4<u32>', d: 'f32' });

describe('uniform layouts', () => {
  test.each([mixed, ...allUniformLayouts].map((l) => [Object.keys(l.fields).join(', '), l] as const))(
    'the WGSL struct of (%s) reads every field where pack() wrote it',
    async (_, layout) => {
      // A kernel that copies each field's bits, in declaration order, to an output array.
      const lines: string[] = [];
      const expected: number[] = [];
      const values = sampleValues(layout);
      for (const [field, type] of Object.entries(layout.fields)) {
        const v = values[field]!;
        if (Array.isArray(v)) {
          ['x', 'y', 'z', 'w'].forEach((c, i) => {
            lines.push(`  OUT[${expected.length}] = bitcast<u32>(P.${field}.${c});`);
            expected.push(bits(type, v[i]!));
          });
        } else {
          lines.push(`  OUT[${expected.length}] = bitcast<u32>(P.${field});`);
          expected.push(bits(type, v));
        }
      }
      const source = `${layout.wgsl}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> OUT: array<u32>;
@compute @workgroup_size(1)
fn main() {
${lines.join('\n')}
}`;
      const kernel = { family: `test.layout.${Object.keys(layout.fields).join('.')}`, source, entry: 'main', bindings: ['rw'] as const, floatOutputs: false };
      await expect(runtime().scheduler.pipelines.check([kernel])).resolves.toBeUndefined();
      const out = zeros([expected.length], { dtype: 'int32' });
      runtime().scheduler.record({ kernel, params: layout.pack(values as never), storages: [out.storage], workgroups: [1, 1, 1] });
      const got = Array.from(await out.data(), (w) => w >>> 0);
      expect(got).toEqual(expected);
      expect(layout.words % 4).toBe(0);
    },
  );

  test('pack() refuses a vec4 field given the wrong number of values', () => {
    expect(() => mixed.pack({ a: 1, v: [1, 2, 3], b: 0, c: 0, w: [0, 0, 0, 0], d: 0 })).toThrow(/Params\.v: a vec4<f32> needs 4 values, got 3/);
  });
});
