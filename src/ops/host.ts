// Host-side (CPU, float64) tensors for the reference implementations, and shape helpers they share.
export interface HostTensor {
  shape: number[];
  data: Float64Array;
  dtype?: 'float32' | 'int32' | 'bool';
}

export function hostNumel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function host(shape: readonly number[], data?: ArrayLike<number>, dtype: 'float32' | 'int32' | 'bool' = 'float32'): HostTensor {
  const n = hostNumel(shape);
  return { shape: [...shape], data: data ? Float64Array.from(data) : new Float64Array(n), dtype };
}

/** Row-major multi-index of flat index i. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return idx;
}

/** Flat index in `shape` of a multi-index of a (broadcast) output, right-aligned, size-1 axes pinned to 0. */
export function broadcastIndex(outIdx: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  const lead = outIdx.length - shape.length;
  for (let d = 0; d < shape.length; d++) {
    const v = shape[d] === 1 ? 0 : outIdx[d + lead]!;
    flat = flat * shape[d]! + v;
  }
  return flat;
}

/** numpy broadcasting of two shapes, or null when they are incompatible. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Elementwise map of two broadcast host tensors. */
export function hostBinary(a: HostTensor, b: HostTensor, f: (x: number, y: number) => number): HostTensor {
  const shape = broadcastShapes(a.shape, b.shape)!;
  const out = host(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape);
    out.data[i] = f(a.data[broadcastIndex(idx, a.shape)]!, b.data[broadcastIndex(idx, b.shape)]!);
  }
  return out;
}

/**
 * Sum over the given axes (ascending, non-negative; null: all), times scale(count of the summed
 * elements per output); keepdim keeps them as size 1.
 */
export function hostReduce(x: HostTensor, axes: number | readonly number[] | null, keepdim: boolean, scale: (r: number) => number): HostTensor {
  const reduced = axes === null ? x.shape.map((_, i) => i) : typeof axes === 'number' ? [axes] : axes;
  const keptShape = x.shape.map((d, i) => (reduced.includes(i) ? 1 : d));
  const out = host(keepdim ? keptShape : keptShape.filter((_, i) => !reduced.includes(i)));
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape).map((v, d) => (reduced.includes(d) ? 0 : v));
    let flat = 0;
    for (let d = 0; d < idx.length; d++) flat = flat * keptShape[d]! + idx[d]!;
    out.data[flat]! += x.data[i]!;
  }
  const R = hostNumel(reduced.map((d) => x.shape[d]!));
  for (let i = 0; i < out.data.length; i++) out.data[i]! *= scale(R);
  return out;
}
