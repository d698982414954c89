// cat and stack: tensors joined along one dimension (cat) or along a new one (stack), of any dtype
// (mixed dtypes promote as in PyTorch: bool < int32 < float32). Up to four inputs are placed by
// one pass over the result that copies bits (ops/assemble.ts, so −0 and NaN payloads survive).
// The gradient of each float32 input is a narrow (a view) of the upstream gradient.

import { fmtShape, ShapeError } from '../errors.js';
import { type DType, Tensor } from '../tensor.js';
import { assemble, type Piece } from './assemble.js';
import { cast } from './cast.js';
import { normAxis } from './common.js';
import { host, unravel } from './host.js';
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

/** The inputs (all of `dtype`) joined along d of `shape` (forward and tangent share it; null parts stay zeros). */
function join(
  op: string,
  parts: readonly (Tensor | null)[],
  sizes: readonly number[],
  shape: number[],
  d: number,
  rt: Tensor['runtime'],
  dtype: DType = 'float32',
): Tensor {
  const pieces: Piece[] = [];
  let start = 0;
  parts.forEach((t, i) => {
    if (t) pieces.push({ t, start });
    start += sizes[i]!;
  });
  return assemble(op, rt, pieces, shape, d, dtype);
}

/** Gradients for the float32 inputs only (integer and bool inputs have none); the others are released. */
function floatOnly(inputs: readonly Tensor[], grads: Tensor[]): (Tensor | null)[] {
  return grads.map((g, i) => {
    if (inputs[i]!.dtype === 'float32') return g;
    g.dispose();
    return null;
  });
}

/** PyTorch's type promotion for joining: float32 if any input is, else int32 if any is, else bool. */
function joinedDType(xs: readonly { dtype?: DType }[]): DType {
  const dtypes = xs.map((x) => x.dtype ?? 'float32');
  return dtypes.includes('float32') ? 'float32' : dtypes.includes('int32') ? 'int32' : 'bool';
}

const NO_SAVE = { recording: false, save: () => {} };

/** The inputs converted to the joined dtype where they differ; `converted` lists the conversions to release after use. */
function promoted(xs: readonly Tensor[]): { dtype: DType; parts: Tensor[]; converted: Tensor[] } {
  const dtype = joinedDType(xs);
  const converted: Tensor[] = [];
  const parts = xs.map((x) => {
    if (x.dtype === dtype) return x;
    const c = cast.forward([x], { dtype }, NO_SAVE);
    converted.push(c);
    return c;
  });
  return { dtype, parts, converted };
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

function hostCat(xs: readonly { shape: number[]; data: Float64Array; dtype?: DType }[], shape: number[], d: number) {
  const out = host(shape, undefined, joinedDType(xs));
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
    const { shape, d } = catShape(
      'cat',
      xs.map((x) => x.shape),
      dim,
    );
    const { dtype, parts, converted } = promoted(xs);
    const out = join(
      'cat',
      parts,
      xs.map((x) => x.shape[d]!),
      shape,
      d,
      xs[0]!.runtime,
      dtype,
    );
    for (const c of converted) c.dispose();
    return out;
  },
  vjp: (g, { inputs, attrs }) => {
    const d = normAxis('cat', attrs.dim, g.shape.length);
    return floatOnly(
      inputs,
      slices(
        g,
        inputs.map((x) => x.shape[d]!),
        d,
      ),
    );
  },
  jvp: (ts, { inputs, output, attrs }) => {
    if (output.dtype !== 'float32' || ts.every((t) => !t)) return null;
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
    checkStackShapes(xs.map((x) => x.shape));
    const d = stackDim(xs, dim);
    const { dtype, parts, converted } = promoted(xs);
    const views = parts.map((x) => unsqueezeView(x, d));
    const shape = [...views[0]!.shape];
    shape[d] = xs.length;
    const out = join(
      'stack',
      views,
      views.map(() => 1),
      shape,
      d,
      xs[0]!.runtime,
      dtype,
    );
    for (const v of [...views, ...converted]) v.dispose();
    return out;
  },
  vjp: (g, { inputs, attrs }) => {
    const d = stackDim(inputs, attrs.dim);
    return inputs.map((x, i) => (x.dtype === 'float32' ? g.narrow(d, i, 1).reshape(x.shape) : null));
  },
  jvp: (ts, { inputs, output, attrs }) => {
    if (output.dtype !== 'float32' || ts.every((t) => !t)) return null;
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
      return { shape, data: x.data, dtype: x.dtype };
    });
    const shape = [...expanded[0]!.shape];
    shape[d] = xs.length;
    return hostCat(expanded, shape, d);
  },
};
