// The shapes unsqueeze, squeeze and flatten produce (each is a reshape to that shape), with
// PyTorch's rules for the dimension arguments.

import { fmtShape, ShapeError } from './errors.js';

function dimIn(op: string, dim: number, ndim: number): number {
  const d = Number.isInteger(dim) && dim < 0 ? dim + Math.max(ndim, 1) : dim;
  if (!Number.isInteger(d) || d < 0 || d >= Math.max(ndim, 1)) {
    throw new ShapeError(
      `${op}: dimension ${dim} is out of range for a tensor with ${ndim} dimensions (valid: ${-Math.max(ndim, 1)} to ${Math.max(ndim, 1) - 1}).`,
    );
  }
  return d;
}

/** shape with a 1 inserted at dim, which may be ndim (after the last). */
export function unsqueezedShape(shape: readonly number[], dim: number): number[] {
  const d = dimIn('unsqueeze', dim, shape.length + 1);
  return [...shape.slice(0, d), 1, ...shape.slice(d)];
}

/** shape without its size-1 dimensions, or without dim when its size is 1. */
export function squeezedShape(shape: readonly number[], dim?: number): number[] {
  if (dim === undefined) return shape.filter((s) => s !== 1);
  if (shape.length === 0) {
    dimIn('squeeze', dim, 0);
    return [];
  }
  const d = dimIn('squeeze', dim, shape.length);
  return shape[d] === 1 ? shape.filter((_, i) => i !== d) : [...shape];
}

/** shape with dimensions startDim..endDim merged; a 0-d tensor flattens to [1]. */
export function flattenedShape(shape: readonly number[], startDim: number, endDim: number): number[] {
  if (shape.length === 0) {
    dimIn('flatten', startDim, 0);
    dimIn('flatten', endDim, 0);
    return [1];
  }
  const a = dimIn('flatten', startDim, shape.length);
  const b = dimIn('flatten', endDim, shape.length);
  if (a > b) throw new ShapeError(`flatten: startDim ${startDim} comes after endDim ${endDim} for shape ${fmtShape(shape)}.`);
  return [...shape.slice(0, a), shape.slice(a, b + 1).reduce((p, s) => p * s, 1), ...shape.slice(b + 1)];
}
