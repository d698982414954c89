// gather, indexSelect and embedding: elements picked along one dimension by int32 indices, as
// torch.gather, torch.index_select and torch.nn.functional.embedding. All three are one gather
// kernel seen through different strides, and their gradient is one scatter-add kernel in which
// each element of the gradient sums the upstream elements that picked it, in a fixed order (no
// atomics: a captured step replays the same bits as the eager one).
//
// Indices outside [0, size) are an error before anything runs when they came from host values
// (checked again on each replay of a captured step); indices computed on the GPU cannot be checked
// without a readback, so there an index out of range reads nothing: the element is NaN (0 for
// int32 and bool sources), and it adds nothing to the gradient.

import { DTypeError, fmtShape, ShapeError, ValueError } from '../errors.js';
import { mapGrid } from '../runtime/dispatch.js';
import type { Kernel } from '../runtime/pipelines.js';
import type { Tensor } from '../tensor.js';
import { checkBufferLimits, checkRank, filled, MAX_RANK, normAxis, output, padShape } from './common.js';
import { offsetRank, shapeDivisors } from './divisor.js';
import { directInputs } from './elementwise.js';
import { type HostTensor, host, unravel } from './host.js';
import { GATHER_PARAMS, gatherKernel, gatherWordsKernel, SCATTER_ADD_PARAMS, scatterAddKernel } from './index_kernels.js';
import { narrowBackward } from './narrow.js';
import type { OpDef } from './op.js';
import type { UniformFieldType, UniformLayout } from './wgsl.js';

const halves = (v: readonly number[]): [number[], number[]] => [v.slice(0, 4), v.slice(4, 8)];
const padStrides = (s: readonly number[]): number[] => [...new Array<number>(MAX_RANK - s.length).fill(0), ...s];
const withZeroAt = (strides: readonly number[], d: number): number[] => strides.map((s, k) => (k === d ? 0 : s));

/** One index-driven kernel over `shape` (contiguous output): each read tensor through its own strides seen from that shape. */
function recordIndexed(
  op: string,
  kernel: Kernel,
  layout: UniformLayout<Record<string, UniformFieldType>>,
  shape: readonly number[],
  reads: readonly [string, Tensor, readonly number[]][],
  extra: Record<string, number>,
): Tensor {
  checkRank(op, shape);
  const rt = reads[0]![1].runtime;
  checkBufferLimits(rt, op, shape);
  const out = output(rt, shape, kernel.floatOutputs ? 'float32' : reads[0]![1].dtype, op);
  if (out.size === 0) return out;
  const padded = padShape(shape);
  const [shape0, shape1] = halves(padded);
  const values: Record<string, number | readonly number[]> = { scalar: 0, zero: 0, ...extra, n: out.size, shape0, shape1 };
  shapeDivisors(padded).forEach((words, k) => (values[`div${k + 1}`] = words));
  for (const [name, t, strides] of reads) {
    const [s0, s1] = halves(padStrides(strides));
    values[`${name}_off`] = t.offset;
    values[`${name}_strides0`] = s0;
    values[`${name}_strides1`] = s1;
  }
  rt.scheduler.record({
    // The variant for this rank that reads the inputs laid out as the output at offset + i (see Kernel.strided).
    kernel: kernel.strided?.(offsetRank(padded), directInputs({ shape, strides: reads.map(([, , strides]) => strides) })) ?? kernel,
    params: layout.pack(values as never),
    storages: [...reads.map(([, t]) => t.storage), out.storage],
    workgroups: mapGrid(kernel, out.size),
  });
  return out;
}

/** How a gather reads its source: strides seen from the output (the gathered dimension left out), that dimension's stride and size. */
interface Source {
  x: Tensor;
  strides: readonly number[];
  step: number;
  size: number;
}

/** out[c] = source at c with the gathered coordinate replaced by the index read at c (index strides seen from `shape`). */
function gatherRecord(op: string, src: Source, index: Tensor, indexStrides: readonly number[], shape: readonly number[]): Tensor {
  const words = src.x.dtype !== 'float32';
  // Nothing to pick from: every index is out of range.
  if (src.size === 0) return filled(src.x.runtime, shape, words ? 0 : NaN, src.x.dtype, op);
  return recordIndexed(
    op,
    words ? gatherWordsKernel : gatherKernel,
    GATHER_PARAMS,
    shape,
    [
      ['x', src.x, src.strides],
      ['i', index, indexStrides],
    ],
    { size: src.size, step: src.step },
  );
}

/**
 * The scatter-add: a tensor of `shape` whose element with coordinate v along d sums g over j < len
 * where index = v (g and index read at their strides seen from `shape` plus j times their step).
 */
function scatterAdd(
  op: string,
  shape: readonly number[],
  d: number,
  g: { t: Tensor; strides: readonly number[]; step: number },
  index: { t: Tensor; strides: readonly number[]; step: number },
  len: number,
  skip = -1,
): Tensor {
  if (len === 0 || shape.includes(0)) return filled(g.t.runtime, shape, 0, 'float32', op);
  return recordIndexed(
    op,
    scatterAddKernel,
    SCATTER_ADD_PARAMS,
    shape,
    [
      ['g', g.t, g.strides],
      ['i', index.t, index.strides],
    ],
    { inner: shape.slice(d + 1).reduce((a, b) => a * b, 1), size: shape[d] ?? 1, len, g_step: g.step, i_step: index.step, skip },
  );
}

/** Checks the index dtype, and its values against [0, size) when they are known on the host (and on each replay of a captured step). */
function checkIndex(op: string, index: Tensor, size: number, outOfRange: (bad: number) => string): void {
  if (index.dtype !== 'int32') throw new DTypeError(`${op}: index must be int32, got ${index.dtype} (shape ${fmtShape(index.shape)}).`);
  const check = (t: Tensor): void => {
    const range = t.hostRange;
    // An empty tensor's range is [+inf, −inf]; a view sees part of its storage, whose range may be wider.
    if (!range || range[0] > range[1] || (range[0] >= 0 && range[1] < size)) return;
    if (!(t.isContiguous && t.offset === 0 && t.size * 4 === t.storage.byteLength)) return;
    throw new ValueError(outOfRange(range[0] < 0 ? range[0] : range[1]));
  };
  check(index);
  // A replay checks the whole argument: only an index that is all of it gets the check.
  if (index.coversStorage) index.runtime.scheduler.addInputCheck(index.storage, check);
}

export interface DimAttrs {
  dim: number;
}

export interface EmbeddingAttrs {
  /** The row whose gradient stays zero (in [-numEmbeddings, numEmbeddings); negative counts from the end), or null. */
  paddingIdx: number | null;
}

/** gather's dimension, checked with PyTorch's shape rules: same rank, index no larger than input apart from dim. */
function gatherDim(x: { shape: readonly number[] }, index: { shape: readonly number[] }, dim: number): number {
  if (index.shape.length !== x.shape.length) {
    throw new ShapeError(`gather: index ${fmtShape(index.shape)} must have as many dimensions as input ${fmtShape(x.shape)}.`);
  }
  const d = normAxis('gather', dim, Math.max(x.shape.length, 1));
  index.shape.forEach((n, k) => {
    if (k !== d && n > x.shape[k]!) {
      throw new ShapeError(
        `gather: size does not match at dimension ${k}: index ${fmtShape(index.shape)} must be no larger than input ${fmtShape(x.shape)} apart from dimension ${dim}.`,
      );
    }
  });
  return d;
}

/** The source of a gather along d of x (a 0-d x is one element: size 1). */
const sourceAlong = (x: Tensor, d: number): Source =>
  x.ndim === 0 ? { x, strides: [], step: 0, size: 1 } : { x, strides: withZeroAt(x.strides, d), step: x.strides[d]!, size: x.shape[d]! };

/** Each gradient element's sum over the upstream elements that picked it; run over `shape` then placed into zeros of x's shape where smaller. */
function gatherBackward(g: Tensor, index: Tensor, xShape: readonly number[], d: number): Tensor {
  if (xShape.length === 0) return scatterAdd('gather backward', [], 0, { t: g, strides: [], step: 0 }, { t: index, strides: [], step: 0 }, 1);
  const shape = index.shape.map((n, k) => (k === d ? xShape[d]! : n));
  let r = scatterAdd(
    'gather backward',
    shape,
    d,
    { t: g, strides: withZeroAt(g.strides, d), step: g.strides[d]! },
    { t: index, strides: withZeroAt(index.strides, d), step: index.strides[d]! },
    index.shape[d]!,
  );
  for (let k = 0; k < xShape.length; k++) {
    if (shape[k] === xShape[k]) continue;
    const length = shape[k]!;
    shape[k] = xShape[k]!;
    const placed = narrowBackward(r, shape, { dim: k, start: 0, length }, 'gather backward');
    r.dispose();
    r = placed;
  }
  return r;
}

function gatherForward(x: Tensor, index: Tensor, dim: number): Tensor {
  const d = gatherDim(x, index, dim);
  const src = sourceAlong(x, d);
  checkIndex(
    'gather',
    index,
    src.size,
    (bad) => `gather: index ${bad} is out of bounds for dimension ${dim} with size ${src.size} (input ${fmtShape(x.shape)}).`,
  );
  return gatherRecord('gather', src, index, index.strides, index.shape);
}

/** A row-major flat index of coordinates in a shape. */
const flatAt = (idx: readonly number[], shape: readonly number[]): number => idx.reduce((f, c, k) => f * shape[k]! + c, 0);

export const gather: OpDef<DimAttrs> = {
  forward: ([x, index], { dim }) => gatherForward(x!, index!, dim),
  vjp: (g, { inputs: [x, index], attrs }) => [gatherBackward(g, index!, x!.shape, gatherDim(x!, index!, attrs.dim)), null],
  jvp: ([tx], { inputs: [, index], attrs }) => (tx ? gatherForward(tx, index!, attrs.dim) : null),
  reference: ([x, index], { dim }) => {
    const d = gatherDim(x!, index!, dim);
    const size = x!.shape.length ? x!.shape[d]! : 1;
    const out = host(index!.shape, undefined, x!.dtype);
    for (let i = 0; i < out.data.length; i++) {
      const c = unravel(i, index!.shape);
      const v = index!.data[i]!;
      if (c.length) c[d] = v;
      out.data[i] = v >= 0 && v < size ? x!.data[flatAt(c, x!.shape)]! : NaN;
    }
    return out;
  },
};

/** indexSelect's checks: a vector of indices, a dimension of input; the result's shape. */
function selectShape(x: { shape: readonly number[] }, index: { shape: readonly number[] }, dim: number): { d: number; shape: number[] } {
  if (index.shape.length > 1) throw new ShapeError(`indexSelect: index must be a vector (0-d or 1-D), got shape ${fmtShape(index.shape)}.`);
  const d = normAxis('indexSelect', dim, Math.max(x.shape.length, 1));
  const count = index.shape[0] ?? 1;
  if (x.shape.length === 0) {
    if (count !== 1) throw new ShapeError(`indexSelect: a 0-d input takes one index, got ${count} (index ${fmtShape(index.shape)}).`);
    return { d, shape: [] };
  }
  return { d, shape: x.shape.map((n, k) => (k === d ? count : n)) };
}

function indexSelectForward(x: Tensor, index: Tensor, dim: number): Tensor {
  const { d, shape } = selectShape(x, index, dim);
  const src = sourceAlong(x, d);
  checkIndex(
    'indexSelect',
    index,
    src.size,
    (bad) => `indexSelect: index ${bad} is out of range for dimension ${dim} of size ${src.size} (input ${fmtShape(x.shape)}).`,
  );
  const indexStrides = shape.map((_, k) => (k === d ? (index.strides[0] ?? 0) : 0));
  return gatherRecord('indexSelect', src, index, indexStrides, shape);
}

export const indexSelect: OpDef<DimAttrs> = {
  forward: ([x, index], { dim }) => indexSelectForward(x!, index!, dim),
  vjp: (g, { inputs: [x, index], attrs }) => {
    const { d } = selectShape(x!, index!, attrs.dim);
    const rank = x!.ndim;
    const along = { t: g, strides: withZeroAt(g.strides, d), step: rank ? g.strides[d]! : 0 };
    const picks = { t: index!, strides: new Array<number>(rank).fill(0), step: index!.strides[0] ?? 0 };
    return [scatterAdd('indexSelect backward', x!.shape, d, along, picks, index!.size), null];
  },
  jvp: ([tx], { inputs: [, index], attrs }) => (tx ? indexSelectForward(tx, index!, attrs.dim) : null),
  reference: ([x, index], { dim }) => {
    const { d, shape } = selectShape(x!, index!, dim);
    const size = x!.shape.length ? x!.shape[d]! : 1;
    const out = host(shape, undefined, x!.dtype);
    for (let i = 0; i < out.data.length; i++) {
      const c = unravel(i, shape);
      const v = index!.data[c.length ? c[d]! : 0]!;
      if (c.length) c[d] = v;
      out.data[i] = v >= 0 && v < size ? x!.data[flatAt(c, x!.shape)]! : NaN;
    }
    return out;
  },
};

/** embedding's checks: int32 indices, a 2-D weight, a padding row inside it; the result's shape. */
function embeddingShape(indices: { shape: readonly number[]; dtype?: string }, weight: { shape: readonly number[] }, paddingIdx: number | null): number[] {
  if (indices.dtype !== 'int32') throw new DTypeError(`embedding: indices must be int32, got ${indices.dtype} (shape ${fmtShape(indices.shape)}).`);
  if (weight.shape.length !== 2) throw new ShapeError(`embedding: weight must be 2-D [numEmbeddings, embeddingDim], got ${fmtShape(weight.shape)}.`);
  const V = weight.shape[0]!;
  if (paddingIdx !== null && !(Number.isInteger(paddingIdx) && paddingIdx >= -V && paddingIdx < V)) {
    throw new ValueError(`embedding: paddingIdx ${paddingIdx} must be an integer within [-${V}, ${V}) (numEmbeddings ${V}).`);
  }
  return [...indices.shape, weight.shape[1]!];
}

function embeddingForward(indices: Tensor, weight: Tensor, paddingIdx: number | null): Tensor {
  const shape = embeddingShape(indices, weight, paddingIdx);
  const V = weight.shape[0]!;
  checkIndex('embedding', indices, V, (bad) => `embedding: index ${bad} is out of range for numEmbeddings ${V} (weight ${fmtShape(weight.shape)}).`);
  const src: Source = { x: weight, strides: [...new Array<number>(indices.ndim).fill(0), weight.strides[1]!], step: weight.strides[0]!, size: V };
  return gatherRecord('embedding', src, indices, [...indices.strides, 0], shape);
}

export const embedding: OpDef<EmbeddingAttrs> = {
  forward: ([indices, weight], { paddingIdx }) => embeddingForward(indices!, weight!, paddingIdx),
  vjp: (g, { inputs: [indices, weight], attrs }) => {
    const [V, D] = weight!.shape as [number, number];
    const N = indices!.size;
    // Every token's row of g, in order: the tokens' dimensions flattened (a view unless g's strides forbid it).
    const rows = g.reshape([N, D]);
    const flat = indices!.reshape([N]);
    const pad = attrs.paddingIdx === null ? -1 : (attrs.paddingIdx + V) % V;
    const dw = scatterAdd(
      'embedding backward',
      [V, D],
      0,
      { t: rows, strides: [0, rows.strides[1]!], step: rows.strides[0]! },
      { t: flat, strides: [0, 0], step: flat.strides[0]! },
      N,
      pad,
    );
    rows.dispose();
    flat.dispose();
    return [null, dw];
  },
  jvp: ([, tw], { inputs: [indices], attrs }) => (tw ? embeddingForward(indices!, tw, attrs.paddingIdx) : null),
  reference: ([indices, weight], { paddingIdx }) => {
    const shape = embeddingShape(indices!, weight!, paddingIdx);
    const [V, D] = weight!.shape as [number, number];
    const out: HostTensor = host(shape, undefined, weight!.dtype);
    indices!.data.forEach((v, t) => {
      for (let e = 0; e < D; e++) out.data[t * D + e] = v >= 0 && v < V ? weight!.data[v * D + e]! : NaN;
    });
    return out;
  },
};
