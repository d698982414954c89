// Recording of the elementwise kernels (shaders/elementwise.wgsl, one per op of the table in
// elementwise_ops.ts) shared by add, sub, mul, scale, relu and copies. Inputs are read through
// strides, so broadcast and transposed views need no copy.

import { fmtShape, ShapeError } from '../errors.js';
import { mapGrid } from '../runtime/dispatch.js';
import type { Kernel } from '../runtime/pipelines.js';
import type { Runtime } from '../runtime/runtime.js';
import { type DType, hasContiguousStrides, type Tensor } from '../tensor.js';
import { broadcastStrides, checkRank, coalesce, MAX_RANK, output, requireFloat } from './common.js';
import { divisor, shapeDivisorNames } from './divisor.js';
import type { BinaryOpName, UnaryOpName } from './elementwise_ops.js';
import { broadcastShapes } from './host.js';
import { BINARY_PARAMS, binaryKernels, UNARY_PARAMS, unaryKernels } from './kernels.js';
import type { UniformFieldType, UniformLayout } from './wgsl.js';

export { BinaryOp, UnaryOp } from './elementwise_ops.js';

/** The layouts' divisor fields of the output shape's dims 1–7. */
const DIVISOR_FIELDS = shapeDivisorNames('');

/** Bit k set for each input k whose strides are the contiguous ones of the (coalesced) shape: element i is at its offset + i. */
export function directInputs(merged: { shape: readonly number[]; strides: readonly (readonly number[])[] }): number {
  let bits = 0;
  merged.strides.forEach((strides, k) => {
    if (hasContiguousStrides(merged.shape, strides)) bits |= 1 << k;
  });
  return bits;
}

type MapLayout = UniformLayout<Record<string, UniformFieldType>>;

/** Where a layout keeps an input's offset and the two halves of its strides (found once per layout and name). */
const inputFieldCache = new WeakMap<MapLayout, Map<string, readonly [number, number, number]>>();
function inputFields(layout: MapLayout, name: string): readonly [number, number, number] {
  let byName = inputFieldCache.get(layout);
  if (!byName) {
    byName = new Map();
    inputFieldCache.set(layout, byName);
  }
  let fields = byName.get(name);
  if (!fields) {
    const at = layout.offsets as Record<string, number>;
    fields = [at[`${name}_off`]!, at[`${name}_strides0`]!, at[`${name}_strides1`]!];
    byName.set(name, fields);
  }
  return fields;
}

/** Whether t is laid out exactly as a fresh tensor of `shape` (then the map reads it at element i, with no coalescing to do). */
const plainInput = (t: Tensor, shape: readonly number[]): boolean =>
  (t.shape === shape || (t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]))) && t.isContiguous;

/** The map's iteration with fewer dimensions (see coalesce); one dimension at once when every input is plain. */
function mergedIteration(shape: readonly number[], n: number, inputs: readonly [string, Tensor][]): { shape: number[]; strides: number[][] } {
  if (inputs.every(([, t]) => plainInput(t, shape))) {
    return n === 1 ? { shape: [], strides: inputs.map(() => []) } : { shape: [n], strides: inputs.map(() => [1]) };
  }
  return coalesce(
    shape,
    inputs.map(([, t]) => broadcastStrides(t, shape)),
  );
}

/** Writes a rank-8 vector, `values` padded on the left with `pad`, into the halves at `first` (dims 0–3) and `second` (dims 4–7). */
function writePadded(out: Uint32Array, first: number, second: number, values: readonly number[], pad: number): void {
  const lead = MAX_RANK - values.length;
  for (let d = 0; d < MAX_RANK; d++) out[d < 4 ? first + d : second + d - 4] = d < lead ? pad : values[d - lead]!;
}

/**
 * Records one elementwise kernel over `shape`: each named input is read through its offset and
 * strides (broadcast to `shape`), the output is a new contiguous tensor of `dtype`.
 */
export function recordMap(
  op: string,
  kernel: Kernel,
  layout: MapLayout,
  inputs: readonly [string, Tensor][],
  shape: readonly number[],
  dtype: DType = 'float32',
  scalar = 0,
  extra: Record<string, number> = {},
): Tensor {
  checkRank(op, shape);
  const rt: Runtime = inputs[0]![1].runtime;
  const out = output(rt, shape, dtype, op);
  const n = out.size;
  if (n === 0) return out;
  // The kernel peels one coordinate per dimension: fewer dimensions, less integer division.
  const merged = mergedIteration(shape, n, inputs);
  // Written field by field (what layout.pack would write, without building a values object: this runs for every eager op).
  const params = new Uint32Array(layout.words);
  const at = layout.offsets as Record<string, number>;
  for (const name in extra) layout.write(params, name, extra[name]!);
  params[at.n!] = n;
  layout.write(params, 'scalar', scalar);
  writePadded(params, at.shape0!, at.shape1!, merged.shape, 1);
  if ('div7' in at) {
    const lead = MAX_RANK - merged.shape.length;
    for (let d = 1; d < MAX_RANK; d++) params.set(divisor(d < lead ? 1 : merged.shape[d - lead]!), at[DIVISOR_FIELDS[d - 1]!]!);
  }
  for (let k = 0; k < inputs.length; k++) {
    const [name, t] = inputs[k]!;
    const [off, strides0, strides1] = inputFields(layout, name);
    params[off] = t.offset;
    writePadded(params, strides0, strides1, merged.strides[k]!, 0);
  }
  rt.scheduler.record({
    // The variant for this rank that reads the inputs in the output's order at offset + i (see Kernel.strided).
    kernel: kernel.strided?.(merged.shape.length, directInputs(merged)) ?? kernel,
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
