// The op methods of Tensor (t.add(u), t.exp(), t.sum(dim), …): each a thin call into the op table
// through autograd's apply(), with its argument checks. Tensor extends this class; only tensor.ts
// imports it (Tensor's own module must be the one that starts loading this pair of files).

import { describeValue } from './arguments.js';
import { apply } from './autograd.js';
import { ValueError } from './errors.js';
import { checkBmm } from './ops/matmul.js';
import { chunkSizes, flattenedShape, splitSizes, squeezedShape, unsqueezedShape } from './shapes.js';
import { type DType, Tensor, tensorArgument, where } from './tensor.js';

/** The op methods every Tensor has; see Tensor. */
export abstract class TensorMethods {
  /** Matrix product as torch.matmul: 1-D (dot, row or column), 2-D, and batched with broadcast batch dimensions. */
  matmul(this: Tensor, other: Tensor): Tensor {
    return apply('matmul', [this, tensorArgument('matmul', 'other', other)], {});
  }

  /** Batched matrix product as torch.bmm: [B, M, K] · [B, K, N] → [B, M, N], both 3-D with the same B (no broadcasting). */
  bmm(this: Tensor, mat2: Tensor): Tensor {
    return apply('matmul', [this, checkBmm(this, tensorArgument('bmm', 'mat2', mat2))], {});
  }

  /** Elementwise sum, with numpy broadcasting; a number is a scalar. */
  add(this: Tensor, other: Tensor | number): Tensor {
    const b = operand('add', other);
    if (typeof b === 'number') return apply('addScalar', [this], { value: b });
    return apply('add', [this, b], {});
  }

  /** Elementwise difference, with numpy broadcasting; a number is a scalar. */
  sub(this: Tensor, other: Tensor | number): Tensor {
    const b = operand('sub', other);
    if (typeof b === 'number') return apply('addScalar', [this], { value: -b });
    return apply('sub', [this, b], {});
  }

  /** Elementwise product, with numpy broadcasting; a number scales every element. */
  mul(this: Tensor, other: Tensor | number): Tensor {
    const b = operand('mul', other);
    if (typeof b === 'number') return apply('scale', [this], { factor: b });
    return apply('mul', [this, b], {});
  }

  /** Elementwise negation. */
  neg(this: Tensor): Tensor {
    return apply('scale', [this], { factor: -1 });
  }

  /** Elementwise quotient, with numpy broadcasting; a number divides every element. */
  div(this: Tensor, other: Tensor | number): Tensor {
    const b = operand('div', other);
    return typeof b === 'number' ? apply('divScalar', [this], { value: b }) : apply('div', [this, b], {});
  }

  /** Elementwise power (a tensor exponent broadcasts); as PyTorch, x^0 = 1 with a zero gradient, a negative base needs an integer exponent. */
  pow(this: Tensor, exponent: Tensor | number): Tensor {
    const e = operand('pow', exponent, 'exponent');
    return typeof e === 'number' ? apply('powScalar', [this], { exponent: e }) : apply('pow', [this, e], {});
  }

  /** Elementwise larger value with broadcasting; NaN wins; at ties each input gets half the gradient. */
  maximum(this: Tensor, other: Tensor): Tensor {
    return apply('maximum', [this, tensorArgument('maximum', 'other', other)], {});
  }

  /** Elementwise smaller value with broadcasting; NaN wins; at ties each input gets half the gradient. */
  minimum(this: Tensor, other: Tensor): Tensor {
    return apply('minimum', [this, tensorArgument('minimum', 'other', other)], {});
  }

  /** Elementwise |x|; the gradient at 0 is 0. */
  abs(this: Tensor): Tensor {
    return apply('abs', [this], {});
  }

  /** Elementwise eˣ. */
  exp(this: Tensor): Tensor {
    return apply('exp', [this], {});
  }

  /** Elementwise natural logarithm (NaN below 0, −inf at 0). */
  log(this: Tensor): Tensor {
    return apply('log', [this], {});
  }

  /** Elementwise ln(1 + x), accurate for small x. */
  log1p(this: Tensor): Tensor {
    return apply('log1p', [this], {});
  }

  /** Elementwise square root. */
  sqrt(this: Tensor): Tensor {
    return apply('sqrt', [this], {});
  }

  /** Elementwise 1 / √x. */
  rsqrt(this: Tensor): Tensor {
    return apply('rsqrt', [this], {});
  }

  /** Elementwise x². */
  square(this: Tensor): Tensor {
    return apply('square', [this], {});
  }

  /** Elementwise sine. */
  sin(this: Tensor): Tensor {
    return apply('sin', [this], {});
  }

  /** Elementwise cosine. */
  cos(this: Tensor): Tensor {
    return apply('cos', [this], {});
  }

  /** Elementwise hyperbolic tangent (±1 for large |x|, never NaN from overflow). */
  tanh(this: Tensor): Tensor {
    return apply('tanh', [this], {});
  }

  /** Elementwise 1 / (1 + e⁻ˣ), computed without overflow. */
  sigmoid(this: Tensor): Tensor {
    return apply('sigmoid', [this], {});
  }

  /** Elementwise min(max(x, min), max); either bound may be omitted (null), not both. NaN stays NaN. */
  clamp(this: Tensor, min?: number | null, max?: number | null): Tensor {
    return apply('clamp', [this], clampBounds(min, max));
  }

  /** Elementwise max(x, 0); the gradient at exactly 0 is 0. */
  relu(this: Tensor): Tensor {
    return apply('relu', [this], {});
  }

  /** Sum of all elements (null or []), along one dim or over a list. */
  sum(this: Tensor, axis: number | readonly number[] | null = null, keepdim = false): Tensor {
    return apply('sum', [this], { axis, keepdim });
  }

  /** Mean of all elements (null or []), along one dim or over a list. */
  mean(this: Tensor, axis: number | readonly number[] | null = null, keepdim = false): Tensor {
    return apply('mean', [this], { axis, keepdim });
  }

  /** Index of the largest value along an axis, the last by default (int32; NaN counts as the largest). */
  argmax(this: Tensor, axis = -1): Tensor {
    return apply('argmax', [this], { axis });
  }
  /** Index of the smallest value along an axis, the last by default (int32; NaN counts as the smallest). */
  argmin(this: Tensor, axis = -1): Tensor {
    return apply('argmin', [this], { axis });
  }

  /** Largest value of all elements (null), or along one dim; values only (indices: argmax). Gradient to the first max; lists of dims: amax. */
  max(this: Tensor, dim: number | null = null, keepdim = false): Tensor {
    return apply('max', [this], { axis: dim, keepdim });
  }

  /** Smallest value of all elements (null), or along one dim; values only (indices: argmin). Gradient to the first min; lists of dims: amin. */
  min(this: Tensor, dim: number | null = null, keepdim = false): Tensor {
    return apply('min', [this], { axis: dim, keepdim });
  }

  /** Largest value over one dim, a list of dims or all (null or []), as torch.amax; the gradient is split evenly among ties. */
  amax(this: Tensor, dim: number | readonly number[] | null = null, keepdim = false): Tensor {
    return apply('amax', [this], { axis: dim, keepdim });
  }

  /** Smallest value over one dim, a list of dims or all (null or []), as torch.amin; the gradient is split evenly among ties. */
  amin(this: Tensor, dim: number | readonly number[] | null = null, keepdim = false): Tensor {
    return apply('amin', [this], { axis: dim, keepdim });
  }

  /** Variance of all elements (null or []), along one dim or over a list; `correction` 1 (default) is unbiased, 0 divides by N. */
  var(this: Tensor, dim: number | readonly number[] | null = null, options: { correction?: number; keepdim?: boolean } = {}): Tensor {
    return apply('var', [this], { axis: dim, correction: options.correction ?? 1, keepdim: options.keepdim ?? false });
  }

  /** Standard deviation, sqrt(var), with the same `correction` and `keepdim` options. */
  std(this: Tensor, dim: number | readonly number[] | null = null, options: { correction?: number; keepdim?: boolean } = {}): Tensor {
    return apply('std', [this], { axis: dim, correction: options.correction ?? 1, keepdim: options.keepdim ?? false });
  }

  /** The vector p-norm (p = 2 by default, 1 or Infinity) of all elements (null or []), along one dim or over a list. */
  norm(this: Tensor, p = 2, dim: number | readonly number[] | null = null, keepdim = false): Tensor {
    return apply('norm', [this], { p, axis: dim, keepdim });
  }

  /** exp(x) / Σ exp(x) along `dim`, in one stable dispatch (as torch.softmax). */
  softmax(this: Tensor, dim: number): Tensor {
    return apply('softmax', [this], { dim });
  }

  /** log(softmax(x)) along `dim`, computed as x − max − log Σ exp(x − max) (as torch.log_softmax). */
  logSoftmax(this: Tensor, dim: number): Tensor {
    return apply('logSoftmax', [this], { dim });
  }

  /** log Σ exp(x) along `dim` or over a list of dims ([]: all), stable for huge values (as torch.logsumexp). */
  logsumexp(this: Tensor, dim: number | readonly number[], keepdim = false): Tensor {
    return apply('logsumexp', [this], { dim, keepdim });
  }

  /** Swaps two axes (the last two by default). A view: no data is copied. */
  transpose(this: Tensor, dim0 = -2, dim1 = -1): Tensor {
    return apply('transpose', [this], { dim0, dim1 });
  }

  /** Same elements, new shape: a view when the strides allow it (as PyTorch), else a copy. One dimension may be -1. */
  reshape(this: Tensor, shape: readonly number[]): Tensor {
    return apply('reshape', [this], { shape, forceCopy: false });
  }

  /** Same elements, new shape, always a view; throws a ShapeError when that would need a copy (use reshape). */
  view(this: Tensor, shape: readonly number[]): Tensor {
    return apply('reshape', [this], { shape, forceCopy: false, viewOnly: true });
  }

  /** The elements in row-major order in storage of their own; this tensor itself when it already is contiguous. */
  contiguous(this: Tensor): Tensor {
    return this.isContiguous ? this : apply('reshape', [this], { shape: this.shape, forceCopy: true, op: 'contiguous' });
  }

  /** Reorders the dimensions: output dimension i is input dimension dims[i]. A view. */
  permute(this: Tensor, dims: readonly number[]): Tensor {
    return apply('permute', [this], { dims });
  }

  /** Inserts a dimension of size 1 at `dim` (-ndim-1 ≤ dim ≤ ndim). A view. */
  unsqueeze(this: Tensor, dim: number): Tensor {
    return apply('reshape', [this], { shape: unsqueezedShape(this.shape, dim), forceCopy: false, op: 'unsqueeze' });
  }

  /** Removes dimensions of size 1: all of them, or only `dim` (left as is when its size is not 1). A view. */
  squeeze(this: Tensor, dim?: number): Tensor {
    return apply('reshape', [this], { shape: squeezedShape(this.shape, dim), forceCopy: false, op: 'squeeze' });
  }

  /** Merges dimensions startDim..endDim (inclusive) into one; a view when the strides allow it, else a copy. */
  flatten(this: Tensor, startDim = 0, endDim = -1): Tensor {
    return apply('reshape', [this], { shape: flattenedShape(this.shape, startDim, endDim), forceCopy: false, op: 'flatten' });
  }

  /** The slice start..start+length of dimension dim (a negative start counts from the end). A view. */
  narrow(this: Tensor, dim: number, start: number, length: number): Tensor {
    return apply('narrow', [this], { dim, start, length });
  }

  /** Broadcasts to a larger shape as a view (stride 0 along new or size-1 axes). */
  expand(this: Tensor, shape: readonly number[]): Tensor {
    return apply('expand', [this], { shape });
  }

  /** This tensor converted to dtype (float → int truncates toward zero, NaN → 0; non-zero → true); a view of it when it already has it. */
  to(this: Tensor, dtype: DType): Tensor {
    return apply('to', [this], { dtype });
  }

  /** to('float32'). */
  float(this: Tensor): Tensor {
    return this.to('float32');
  }

  /** to('int32'). */
  int(this: Tensor): Tensor {
    return this.to('int32');
  }

  /** to('bool'). */
  bool(this: Tensor): Tensor {
    return this.to('bool');
  }

  /** Elementwise this == other (bool, broadcasting; no gradient). */
  eq(this: Tensor, other: Tensor | number): Tensor {
    return compareWith('eq', this, other);
  }

  /** Elementwise this != other (bool, broadcasting; no gradient). */
  ne(this: Tensor, other: Tensor | number): Tensor {
    return compareWith('ne', this, other);
  }

  /** Elementwise this < other (bool, broadcasting; no gradient). */
  lt(this: Tensor, other: Tensor | number): Tensor {
    return compareWith('lt', this, other);
  }

  /** Elementwise this <= other (bool, broadcasting; no gradient). */
  le(this: Tensor, other: Tensor | number): Tensor {
    return compareWith('le', this, other);
  }

  /** Elementwise this > other (bool, broadcasting; no gradient). */
  gt(this: Tensor, other: Tensor | number): Tensor {
    return compareWith('gt', this, other);
  }

  /** Elementwise this >= other (bool, broadcasting; no gradient). */
  ge(this: Tensor, other: Tensor | number): Tensor {
    return compareWith('ge', this, other);
  }

  /** The lower triangle of the last two dimensions (j − i ≤ diagonal), the rest zero, as torch.tril. */
  tril(this: Tensor, diagonal = 0): Tensor {
    return apply('tril', [this], { diagonal });
  }

  /** The upper triangle of the last two dimensions (j − i ≥ diagonal), the rest zero, as torch.triu. */
  triu(this: Tensor, diagonal = 0): Tensor {
    return apply('triu', [this], { diagonal });
  }

  /** value where the bool mask is true (mask broadcasts), else this, as Tensor.masked_fill. */
  maskedFill(this: Tensor, mask: Tensor, value: number): Tensor {
    return apply('maskedFill', [this, tensorArgument('maskedFill', 'mask', mask)], { value });
  }

  /** Pieces of dimension dim as views, as Tensor.split: of splitSize each (the last may be smaller), or of the given sizes. */
  split(this: Tensor, splitSizeOrSections: number | readonly number[], dim = 0): Tensor[] {
    return narrowPieces(this, splitSizes(this.shape, splitSizeOrSections, dim));
  }

  /** Dimension dim cut into at most `chunks` views of ⌈size / chunks⌉ (the last may be smaller), as Tensor.chunk. */
  chunk(this: Tensor, chunks: number, dim = 0): Tensor[] {
    return narrowPieces(this, chunkSizes(this.shape, chunks, dim));
  }

  /** The slices of dimension dim at the int32 indices of a vector, as Tensor.index_select; differentiable w.r.t. this. */
  indexSelect(this: Tensor, dim: number, index: Tensor): Tensor {
    return apply('indexSelect', [this, tensorArgument('indexSelect', 'index', index)], { dim });
  }

  /** out[i][j] = this[index[i][j]][j] for dim 0 (and alike for other dims), as Tensor.gather; differentiable w.r.t. this. */
  gather(this: Tensor, dim: number, index: Tensor): Tensor {
    return apply('gather', [this, tensorArgument('gather', 'index', index)], { dim });
  }

  /** where(condition, this, other), as PyTorch's Tensor.where. */
  where(this: Tensor, condition: Tensor, other: Tensor | number): Tensor {
    return where(condition, this, other);
  }
}

/** The other operand of add, sub, mul, div and pow: a Tensor or a number (a scalar). */
function operand(op: string, value: unknown, name = 'other'): Tensor | number {
  if (typeof value === 'number' || value instanceof Tensor) return value;
  throw new ValueError(`${op}: argument '${name}' must be a Tensor or a number, got ${describeValue(value)}.`);
}

/** clamp's bounds, checked: numbers or null/undefined, at least one given (PyTorch's rule). */
function clampBounds(min: unknown, max: unknown): { min: number | null; max: number | null } {
  const bound = (v: unknown, name: string): number | null => {
    if (v === undefined || v === null) return null;
    if (typeof v === 'number') return v;
    throw new ValueError(`clamp: argument '${name}' must be a number or null, got ${describeValue(v)}.`);
  };
  const bounds = { min: bound(min, 'min'), max: bound(max, 'max') };
  if (bounds.min === null && bounds.max === null) throw new ValueError("clamp: at least one of 'min' and 'max' must be given, got neither.");
  return bounds;
}

/** Consecutive narrow views of t along d, one per size. */
function narrowPieces(t: Tensor, { d, sizes }: { d: number; sizes: readonly number[] }): Tensor[] {
  let start = 0;
  return sizes.map((length) => {
    const piece = t.narrow(d, start, length);
    start += length;
    return piece;
  });
}

/** Elementwise comparison against a tensor or a number. */
function compareWith(op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge', a: Tensor, other: unknown): Tensor {
  const b = operand(op, other);
  return typeof b === 'number' ? apply('compareScalar', [a], { op, value: b }) : apply('compare', [a, b], { op });
}
