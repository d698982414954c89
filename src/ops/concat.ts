// cat and stack: tensors joined along one dimension (cat) or along a new one (stack). Each input is
// placed into zeros of the result's shape by the narrow-gradient kernel and the pieces are added,
// so k inputs cost 2k − 1 elementwise passes over the result and no new shader. The gradient of
// each input is a narrow (a view) of the upstream gradient.

import { DTypeError, fmtShape, ShapeError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { filled, normAxis, requireFloat } from './common.js';
import { recordBinary } from './elementwise.js';
import { host, hostNumel, unravel } from './host.js';
import { narrowBackward } from './narrow.js';
import type { OpDef } from './op.js';

export interface ConcatAttrs {
  dim: number;
}

/** The result's shape and the normalised dimension; errors name the input at fault. */
function catShape(op: string, shapes: readonly (readonly number[])[], dim: number): { shape: number[]; d: number } {
  const first = shapes[0]!;
  if (first.length === 0) throw new ShapeError(`${op}: zero-dimensional tensor (input 0) cannot be concatenated.`);
  const d = normAxis(op, dim, first.length);
  const shape = [...first];
  for (let i = 1; i < shapes.length; i++) {
    const s = shapes[i]!;
    const same = s.length === first.length && s.every((n, k) => k === d || n === first[k]);
    if (!same) {
      throw new ShapeError(`${op}: input ${i} has shape ${fmtShape(s)}, input 0 has ${fmtShape(first)}: sizes must match except in dimension ${dim}.`);
    }
    shape[d] = shape[d]! + s[d]!;
  }
  return { shape, d };
}

/** The inputs joined along d of `shape` (forward and tangent share it; null parts are zeros). */
function join(op: string, parts: readonly (Tensor | null)[], sizes: readonly number[], shape: number[], d: number, rt: Tensor['runtime']): Tensor {
  let out: Tensor | null = null;
  let start = 0;
  parts.forEach((t, i) => {
    const length = sizes[i]!;
    if (t && length > 0 && hostNumel(shape) > 0) {
      const placed = narrowBackward(t, shape, { dim: d, start, length }, op);
      if (out) {
        const sum = recordBinary(op, 'add', out, placed);
        out.dispose();
        placed.dispose();
        out = sum;
      } else out = placed;
    }
    start += length;
  });
  return out ?? filled(rt, shape, 0, 'float32', op);
}

/** The gradient of each input: its slice of g along d. */
const slices = (g: Tensor, sizes: readonly number[], d: number): Tensor[] => {
  let start = 0;
  return sizes.map((n) => {
    const s = g.narrow(d, start, n);
    start += n;
    return s;
  });
};

function checkFloat(op: string, xs: readonly Tensor[]): void {
  xs.forEach((x, i) => {
    if (x.dtype !== 'float32') throw new DTypeError(`${op}: input ${i} is ${x.dtype}; only float32 tensors can be joined.`);
    requireFloat(op, x, `input ${i}`);
  });
}

/** x with a dimension of size 1 inserted at d (a view). */
function unsqueezeView(x: Tensor, d: number): Tensor {
  const shape = [...x.shape];
  const strides = [...x.strides];
  shape.splice(d, 0, 1);
  strides.splice(d, 0, 0);
  return new Tensor(x.runtime, x.storage, shape, x.dtype, strides, x.offset);
}

/** stack's new dimension, normalised against the result's rank (one more than the inputs'). */
const stackDim = (xs: readonly { shape: readonly number[] }[], dim: number): number => normAxis('stack', dim, xs[0]!.shape.length + 1);

function checkStackShapes(shapes: readonly (readonly number[])[]): void {
  const first = shapes[0]!;
  shapes.forEach((s, i) => {
    if (s.length !== first.length || s.some((n, k) => n !== first[k])) {
      throw new ShapeError(`stack: input ${i} has shape ${fmtShape(s)}, input 0 has ${fmtShape(first)}: all must be equal.`);
    }
  });
}

function hostCat(xs: readonly { shape: number[]; data: Float64Array }[], shape: number[], d: number) {
  const out = host(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape);
    let k = 0;
    while (idx[d]! >= xs[k]!.shape[d]!) idx[d] = idx[d]! - xs[k++]!.shape[d]!;
    let flat = 0;
    for (let a = 0; a < shape.length; a++) flat = flat * xs[k]!.shape[a]! + idx[a]!;
    out.data[i] = xs[k]!.data[flat]!;
  }
  return out;
}

export const cat: OpDef<ConcatAttrs> = {
  forward: (xs, { dim }) => {
    checkFloat('cat', xs);
    const { shape, d } = catShape(
      'cat',
      xs.map((x) => x.shape),
      dim,
    );
    return join(
      'cat',
      xs,
      xs.map((x) => x.shape[d]!),
      shape,
      d,
      xs[0]!.runtime,
    );
  },
  vjp: (g, { inputs, attrs }) => {
    const d = normAxis('cat', attrs.dim, g.shape.length);
    return slices(
      g,
      inputs.map((x) => x.shape[d]!),
      d,
    );
  },
  jvp: (ts, { inputs, output, attrs }) => {
    if (ts.every((t) => !t)) return null;
    const d = normAxis('cat', attrs.dim, output.shape.length);
    return join(
      'cat',
      ts,
      inputs.map((x) => x.shape[d]!),
      [...output.shape],
      d,
      output.runtime,
    );
  },
  reference: (xs, { dim }) => {
    const { shape, d } = catShape(
      'cat',
      xs.map((x) => x.shape),
      dim,
    );
    return hostCat(xs, shape, d);
  },
};

export const stack: OpDef<ConcatAttrs> = {
  forward: (xs, { dim }) => {
    checkFloat('stack', xs);
    checkStackShapes(xs.map((x) => x.shape));
    const d = stackDim(xs, dim);
    const views = xs.map((x) => unsqueezeView(x, d));
    const shape = [...views[0]!.shape];
    shape[d] = xs.length;
    const out = join(
      'stack',
      views,
      views.map(() => 1),
      shape,
      d,
      xs[0]!.runtime,
    );
    for (const v of views) v.dispose();
    return out;
  },
  vjp: (g, { inputs, attrs }) => {
    const d = stackDim(inputs, attrs.dim);
    return inputs.map((x, i) => g.narrow(d, i, 1).reshape(x.shape));
  },
  jvp: (ts, { inputs, output, attrs }) => {
    if (ts.every((t) => !t)) return null;
    const d = stackDim(inputs, attrs.dim);
    const views = ts.map((t) => (t ? unsqueezeView(t, d) : null));
    const out = join(
      'stack',
      views,
      views.map(() => 1),
      [...output.shape],
      d,
      output.runtime,
    );
    for (const v of views) v?.dispose();
    return out;
  },
  reference: (xs, { dim }) => {
    checkStackShapes(xs.map((x) => x.shape));
    const d = stackDim(xs, dim);
    const expanded = xs.map((x) => {
      const shape = [...x.shape];
      shape.splice(d, 0, 1);
      return { shape, data: x.data };
    });
    const shape = [...expanded[0]!.shape];
    shape[d] = xs.length;
    return hostCat(expanded, shape, d);
  },
};
