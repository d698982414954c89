// Recording of the elementwise kernels (shaders/elementwise.wgsl, one per op of the table in
// elementwise_ops.ts) shared by add, sub, mul, scale, relu and copies. Inputs are read through
// strides, so broadcast and transposed views need no copy.

import { fmtShape, ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { broadcastStrides4, checkBufferLimits, grid1d, output, pad4, requireFloat } from './common.js';
import type { BinaryOpName, UnaryOpName } from './elementwise_ops.js';
import { broadcastShapes } from './host.js';
import { BINARY_PARAMS, binaryKernels, UNARY_PARAMS, unaryKernels } from './kernels.js';

export { BinaryOp, UnaryOp } from './elementwise_ops.js';

function checkRank(op: string, shape: readonly number[]): void {
  if (shape.length > 4) throw new ShapeError(`${op}: tensors of up to 4 dimensions are supported, got shape ${fmtShape(shape)}.`);
}

/** Records `out = name(a, scalar)` elementwise; `op` names the caller in error messages. */
export function recordUnary(op: string, name: UnaryOpName, a: Tensor, scalar = 0): Tensor {
  requireFloat(op, a, 'the input');
  checkRank(op, a.shape);
  const rt = a.runtime;
  const out = output(rt, a.shape, 'float32', op);
  const n = out.size;
  if (n === 0) return out;
  const params = UNARY_PARAMS.pack({ n, scalar, x_off: a.offset, shape: pad4(a.shape), x_strides: broadcastStrides4(a, a.shape) });
  rt.scheduler.record({ kernel: unaryKernels[name], params, storages: [a.storage, out.storage], workgroups: grid1d(n) });
  return out;
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
  checkRank(op, shape);
  const rt = a.runtime;
  checkBufferLimits(rt, op, shape);
  const out = output(rt, shape, 'float32', op);
  const n = out.size;
  if (n === 0) return out;
  const params = BINARY_PARAMS.pack({
    n,
    scalar,
    a_off: a.offset,
    b_off: b.offset,
    shape: pad4(shape),
    a_strides: broadcastStrides4(a, shape),
    b_strides: broadcastStrides4(b, shape),
  });
  rt.scheduler.record({
    kernel: binaryKernels[name],
    params,
    storages: [a.storage, b.storage, out.storage],
    workgroups: grid1d(n),
  });
  return out;
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
