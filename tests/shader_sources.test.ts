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
import { type UniformFieldType, UniformLayout } from '../src/ops/wgsl.js';
import { Generator } from '../src/random.js';
import { runtime } from '../src/runtime/runtime.js';

/** float64 references of the unary ops, given x and the scalar s. */
const unaryCases: { [K in UnaryOpName]: (x: number, s: number) => number } = {
  copy: (x) => x,
  relu: (x) => (Number.isNaN(x) ? x : Math.max(x, 0)),
  scale: (x, s) => x * s,
  addScalar: (x, s) => x + s,
};

/** float64 references of the binary ops, given a, b (and s, which none uses yet). */
const binaryCases: { [K in BinaryOpName]: (a: number, b: number, s: number) => number } = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  reluBackward: (a, b) => (a > 0 ? b : 0),
};

const SCALAR = Math.fround(-0.7);
const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1e30, -1e-30, 3];

/** `count` float32 values: the special ones first, then seeded values in (−2, 2). */
function values(count: number, seed: number): Float32Array {
  const g = new Generator(seed);
  return Float32Array.from({ length: count }, (_, i) => (i < SPECIAL.length ? SPECIAL[i]! : g.uniform() * 4 - 2));
}

/** out equals the float32 rounding of ref: NaN for NaN, within an ulp of float32 otherwise. */
function expectMatches(out: ArrayLike<number>, ref: ArrayLike<number>, what: string): void {
  expect(out.length).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    const want = Math.fround(ref[i]!);
    const got = out[i]!;
    const ok = Number.isNaN(want) ? Number.isNaN(got) : got === want || Math.abs(got - want) <= Math.abs(want) * 2 ** -23;
    if (!ok) expect.fail(`${what}: element ${i} is ${got}, expected ${want}`);
  }
}

describe('elementwise snippet table', () => {
  test('every op has a test row, and every generated kernel compiles', async () => {
    expect(Object.keys(unaryCases).sort()).toEqual(Object.keys(UNARY_OPS).sort());
    expect(Object.keys(binaryCases).sort()).toEqual(Object.keys(BINARY_OPS).sort());
    await expect(runtime().scheduler.pipelines.check([...Object.values(unaryKernels), ...Object.values(binaryKernels)])).resolves.toBeUndefined();
  });

  test.each(Object.keys(unaryCases) as UnaryOpName[])('unary %s matches float64 on special values and a strided input', async (name) => {
    const rows = 13;
    const cols = 29;
    const stored = values(rows * cols, 1);
    // A transposed view: the kernel reads it through its strides.
    const x = tensor(stored, { shape: [cols, rows] }).transpose();
    const out = await recordUnary('test', name, x, SCALAR).data();
    const ref = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) ref[i * cols + j] = unaryCases[name](stored[j * rows + i]!, SCALAR);
    expectMatches(out, ref, name);
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
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          const av = aStored[j * rows + i]!;
          const bv = bRow[j]!;
          ref[i * cols + j] = swap ? binaryCases[name](bv, av, SCALAR) : binaryCases[name](av, bv, SCALAR);
        }
      }
      expectMatches(out, ref, `${name}${swap ? ' (broadcast first operand)' : ''}`);
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
