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

/** Sum over one axis (or all), times scale. */
export function hostReduce(x: HostTensor, axis: number | null, keepdim: boolean, scale: (r: number) => number): HostTensor {
  if (axis === null) {
    let s = 0;
    for (const v of x.data) s += v;
    const shape = keepdim ? x.shape.map(() => 1) : [];
    return host(shape, [s * scale(x.data.length)]);
  }
  const outer = hostNumel(x.shape.slice(0, axis));
  const R = x.shape[axis]!;
  const inner = hostNumel(x.shape.slice(axis + 1));
  const shape = keepdim ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis);
  const out = host(shape);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let s = 0;
      for (let r = 0; r < R; r++) s += x.data[(o * R + r) * inner + j]!;
      out.data[o * inner + j] = s * scale(R);
    }
  }
  return out;
}
