// Recording of the elementwise kernels (shaders/elementwise.wgsl) shared by add, sub, mul, scale,
// relu and copies. Inputs are read through strides, so broadcast and transposed views need no copy.
import type { Tensor } from '../tensor.js';
import { ShapeError, fmtShape } from '../errors.js';
import { binaryKernel, unaryKernel } from './kernels.js';
import { Params, broadcastStrides4, checkBufferLimits, grid1d, output, pad4, requireFloat } from './common.js';
import { broadcastShapes } from './host.js';

export const UnaryOp = { copy: 0, relu: 1, scale: 2, neg: 3, addScalar: 4 } as const;
export const BinaryOp = { add: 0, sub: 1, mul: 2, reluBackward: 3, axpy: 4 } as const;

function checkRank(op: string, shape: readonly number[]): void {
  if (shape.length > 4) throw new ShapeError(`${op}: tensors of up to 4 dimensions are supported, got shape ${fmtShape(shape)}.`);
}

const f32bits = (x: number): number => new Uint32Array(new Float32Array([x]).buffer)[0]!;

export function recordUnary(op: string, code: number, a: Tensor, scalar = 0): Tensor {
  requireFloat(op, a, 'the input');
  checkRank(op, a.shape);
  const rt = a.runtime;
  const out = output(rt, a.shape, 'float32', op);
  const n = out.size;
  if (n === 0) return out;
  const params = new Params()
    .u(n, a.offset, 0, f32bits(scalar))
    .u(...pad4(a.shape))
    .u(...broadcastStrides4(a, a.shape))
    .u(0, 0, 0, 0)
    .done();
  rt.scheduler.record({ kernel: unaryKernel, constants: { OP: code }, params, storages: [a.storage, out.storage], workgroups: grid1d(n) });
  return out;
}

export function broadcastOrThrow(op: string, a: Tensor, b: Tensor): number[] {
  const shape = broadcastShapes(a.shape, b.shape);
  if (!shape) {
    throw new ShapeError(`${op}: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} cannot be broadcast together.`);
  }
  return shape;
}

export function recordBinary(op: string, code: number, a: Tensor, b: Tensor, scalar = 0): Tensor {
  requireFloat(op, a, 'the first input');
  requireFloat(op, b, 'the second input');
  const shape = broadcastOrThrow(op, a, b);
  checkRank(op, shape);
  const rt = a.runtime;
  checkBufferLimits(rt, op, shape);
  const out = output(rt, shape, 'float32', op);
  const n = out.size;
  if (n === 0) return out;
  const params = new Params()
    .u(n, a.offset, b.offset, f32bits(scalar))
    .u(...pad4(shape))
    .u(...broadcastStrides4(a, shape))
    .u(...broadcastStrides4(b, shape))
    .done();
  rt.scheduler.record({
    kernel: binaryKernel,
    constants: { OP: code },
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
