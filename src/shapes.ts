// The shapes unsqueeze, squeeze and flatten produce (each is a reshape to that shape), and the
// pieces split and chunk cut, with PyTorch's rules for the dimension arguments.

import { describeValue } from './arguments.js';
import { fmtShape, ShapeError, ValueError } from './errors.js';

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

/** The lengths split() cuts dimension dim into, as torch.split: a size per piece (the last may be smaller), or the sections given. */
export function splitSizes(
  shape: readonly number[],
  splitSizeOrSections: number | readonly number[],
  dim: number,
  op = 'split',
): { d: number; sizes: number[] } {
  if (shape.length === 0) throw new ShapeError(`${op}: expected a tensor with at least 1 dimension, got a 0-d tensor.`);
  const d = dimIn(op, dim, shape.length);
  const size = shape[d]!;
  if (Array.isArray(splitSizeOrSections)) {
    const sections = splitSizeOrSections as readonly unknown[];
    if (sections.some((n) => !Number.isInteger(n) || (n as number) < 0)) {
      throw new ValueError(`${op}: split sizes must be non-negative integers, got [${sections.map((n) => describeValue(n)).join(', ')}].`);
    }
    const total = (sections as number[]).reduce((a, b) => a + b, 0);
    if (total !== size) {
      throw new ShapeError(
        `${op}: split sizes [${sections.join(', ')}] must sum exactly to ${size}, the size of dimension ${dim} of ${fmtShape(shape)}, got ${total}.`,
      );
    }
    return { d, sizes: [...(sections as number[])] };
  }
  const step = splitSizeOrSections;
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) {
    throw new ValueError(`${op}: splitSize must be a non-negative integer or an array of them, got ${describeValue(step)}.`);
  }
  if (step === 0 && size !== 0)
    throw new ValueError(`${op}: splitSize can only be 0 if dimension ${dim} is empty, but it has size ${size} (shape ${fmtShape(shape)}).`);
  const count = Math.max(1, Math.ceil(size / Math.max(step, 1)));
  return { d, sizes: Array.from({ length: count }, (_, i) => Math.min(step, size - i * step)) };
}

/** The lengths chunk() cuts dimension dim into, as torch.chunk: pieces of ⌈size / chunks⌉ (so possibly fewer than chunks); an empty dimension gives chunks empty pieces. */
export function chunkSizes(shape: readonly number[], chunks: number, dim: number): { d: number; sizes: number[] } {
  if (!Number.isInteger(chunks) || chunks < 1) throw new ValueError(`chunk: chunks must be a positive integer, got ${describeValue(chunks)}.`);
  if (shape.length === 0) throw new ShapeError('chunk: expected a tensor with at least 1 dimension, got a 0-d tensor.');
  const d = dimIn('chunk', dim, shape.length);
  const size = shape[d]!;
  if (size === 0) return { d, sizes: new Array<number>(chunks).fill(0) };
  return splitSizes(shape, Math.ceil(size / chunks), dim, 'chunk');
}
