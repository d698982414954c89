// Recording of the elementwise kernels (shaders/elementwise.wgsl, one per op of the table in
// elementwise_ops.ts) shared by add, sub, mul, scale, relu and copies. Inputs are read through
// strides, so broadcast and transposed views need no copy.

import { fmtShape, ShapeError } from '../errors.js';
import { mapGrid } from '../runtime/dispatch.js';
import type { Kernel } from '../runtime/pipelines.js';
import type { Runtime } from '../runtime/runtime.js';
import type { DType, Tensor } from '../tensor.js';
import { broadcastStrides, checkBufferLimits, checkRank, coalesce, MAX_RANK, output, padShape, requireFloat } from './common.js';
import { type Divisor, shapeDivisorNames, shapeDivisors } from './divisor.js';
import type { BinaryOpName, UnaryOpName } from './elementwise_ops.js';
import { broadcastShapes } from './host.js';
import { BINARY_PARAMS, binaryKernels, UNARY_PARAMS, unaryKernels } from './kernels.js';
import type { UniformFieldType, UniformLayout } from './wgsl.js';

export { BinaryOp, UnaryOp } from './elementwise_ops.js';

/** The layouts' divisor fields of the output shape's dims 1–7. */
const DIVISOR_FIELDS = shapeDivisorNames('');

const halves = (v: readonly number[]): [number[], number[]] => [v.slice(0, 4), v.slice(4, 8)];

/** Bit k set for each input k whose strides are the contiguous ones of the (coalesced) shape: element i is at its offset + i. */
export function directInputs(merged: { shape: readonly number[]; strides: readonly (readonly number[])[] }): number {
  let bits = 0;
  merged.strides.forEach((strides, k) => {
    let expected = 1;
    for (let d = merged.shape.length - 1; d >= 0; d--) {
      if (strides[d] !== expected) return;
      expected *= merged.shape[d]!;
    }
    bits |= 1 << k;
  });
  return bits;
}

/**
 * Records one elementwise kernel over `shape`: each named input is read through its offset and
 * strides (broadcast to `shape`), the output is a new contiguous tensor of `dtype`.
 */
export function recordMap(
  op: string,
  kernel: Kernel,
  layout: UniformLayout<Record<string, UniformFieldType>>,
  inputs: readonly [string, Tensor][],
  shape: readonly number[],
  dtype: DType = 'float32',
  scalar = 0,
  extra: Record<string, number> = {},
): Tensor {
  checkRank(op, shape);
  const rt: Runtime = inputs[0]![1].runtime;
  checkBufferLimits(rt, op, shape);
  const out = output(rt, shape, dtype, op);
  const n = out.size;
  if (n === 0) return out;
  // The kernel peels one coordinate per dimension: fewer dimensions, less integer division.
  const merged = coalesce(
    shape,
    inputs.map(([, t]) => broadcastStrides(t, shape)),
  );
  const padded = padShape(merged.shape);
  const [shape0, shape1] = halves(padded);
  const values: Record<string, number | number[] | Divisor> = { ...extra, n, scalar, shape0, shape1 };
  if ('direct' in layout.fields) values.direct = directInputs(merged);
  if ('div7' in layout.fields) shapeDivisors(padded).forEach((d, k) => (values[DIVISOR_FIELDS[k]!] = d));
  inputs.forEach(([name, t], k) => {
    const strides = merged.strides[k]!;
    const [s0, s1] = halves([...new Array<number>(MAX_RANK - strides.length).fill(0), ...strides]);
    values[`${name}_off`] = t.offset;
    values[`${name}_strides0`] = s0;
    values[`${name}_strides1`] = s1;
  });
  const params = layout.pack(values as never);
  rt.scheduler.record({
    kernel,
    params,
    storages: [...inputs.map(([, t]) => t.storage), out.storage],
    workgroups: mapGrid(kernel, n),
  });
  return out;
}

/** Records `out = name(a, scalar)` elementwise; `op` names the caller in error messages. */
export function recordUnary(op: string, name: UnaryOpName, a: Tensor, scalar = 0): Tensor {
  requireFloat(op, a, 'the input');
  return recordMap(op, unaryKernels[name], UNARY_PARAMS, [['x', a]], a.shape, 'float32', scalar);
}

export function broadcastOrThrow(op: string, a: Tensor, b: Tensor): number[] {
  const shape = broadcastShapes(a.shape, b.shape);
  if (!shape) {
    throw new ShapeError(`${op}: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} cannot be broadcast together.`);
  }
  return shape;
}

/** Records `out = name(a, b, scalar)` elementwise with broadcasting; `op` names the caller in errors. */
export function recordBinary(op: string, name: BinaryOpName, a: Tensor, b: Tensor, scalar = 0): Tensor {
  requireFloat(op, a, 'the first input');
  requireFloat(op, b, 'the second input');
  const shape = broadcastOrThrow(op, a, b);
  return recordMap(
    op,
    binaryKernels[name],
    BINARY_PARAMS,
    [
      ['a', a],
      ['b', b],
    ],
    shape,
    'float32',
    scalar,
  );
}

/** The gradient of a broadcast input: g summed over the axes it was broadcast along, in its shape. */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  let r = g;
  const lead = g.shape.length - shape.length;
  for (let d = 0; d < g.shape.length; d++) {
    const target = d < lead ? 1 : shape[d - lead]!;
    if (target === 1 && g.shape[d] !== 1) r = r.sum(d, true);
  }
  return r.reshape(shape);
}
