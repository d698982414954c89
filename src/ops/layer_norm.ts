// layerNorm: PyTorch's F.layer_norm. Each row of the last k dims (normalizedShape) is shifted by
// its mean and divided by sqrt(biased variance + eps), then times weight and plus bias when given.
// Inputs [x, weight?, bias?] (attrs say which are there). One fused dispatch forward
// (shaders/layer_norm.wgsl) that also keeps each row's mean and 1/std for the gradient; backward is
// one dispatch for dx and one for dweight and dbias together. An empty x gives an empty result.

import { describeValue } from '../arguments.js';
import { fmtShape, ShapeError, ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { filled, grid1d, output, Params, requireFloat } from './common.js';
import { type HostTensor, host, hostNumel } from './host.js';
import {
  LAYER_NORM_NARROW,
  layerNormBackwardKernel,
  layerNormKernel,
  layerNormNarrowBackwardKernel,
  layerNormNarrowKernel,
  layerNormParamGradsKernel,
} from './layer_kernels.js';
import type { OpDef } from './op.js';
import { denseInput } from './reshape.js';

export interface LayerNormAttrs {
  normalizedShape: readonly number[];
  eps: number;
  /** Whether inputs[1] is a weight. */
  weight: boolean;
  /** Whether the last input is a bias. */
  bias: boolean;
}

const OP = 'layerNorm';

/** weight and bias out of [x, weight?, bias?]. */
function affine(inputs: readonly Tensor[], attrs: LayerNormAttrs): { w: Tensor | undefined; b: Tensor | undefined } {
  return { w: attrs.weight ? inputs[1] : undefined, b: attrs.bias ? inputs[attrs.weight ? 2 : 1] : undefined };
}

/** The layout [rows, N] of x; checks the shapes and eps as PyTorch does. */
function layout(xShape: readonly number[], { normalizedShape, eps }: LayerNormAttrs): { rows: number; N: number } {
  const k = normalizedShape.length;
  if (k === 0 || normalizedShape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(`${OP}: normalizedShape must be a non-empty list of sizes ≥ 0, got ${describeValue(normalizedShape)}.`);
  }
  const tail = xShape.slice(xShape.length - k);
  if (xShape.length < k || tail.some((d, i) => d !== normalizedShape[i])) {
    throw new ShapeError(
      `${OP}: normalizedShape ${fmtShape(normalizedShape)} expects an input of shape [*, ${normalizedShape.join(', ')}], got ${fmtShape(xShape)}.`,
    );
  }
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) throw new ValueError(`${OP}: eps must be a finite number ≥ 0, got ${describeValue(eps)}.`);
  return { rows: hostNumel(xShape.slice(0, xShape.length - k)), N: hostNumel(normalizedShape) };
}

function checkAffine(t: Tensor | undefined, what: string, normalizedShape: readonly number[]): void {
  if (!t) return;
  requireFloat(OP, t, `the ${what}`);
  if (t.ndim !== normalizedShape.length || t.shape.some((d, i) => d !== normalizedShape[i])) {
    throw new ShapeError(`${OP}: the ${what} must have shape normalizedShape ${fmtShape(normalizedShape)}, got ${fmtShape(t.shape)}.`);
  }
}

const params = (rows: number, N: number, eps: number, w: unknown, b: unknown): Uint32Array<ArrayBuffer> =>
  new Params()
    .u(rows, N)
    .f(eps)
    .u((w ? 1 : 0) | (b ? 2 : 0))
    .done();

/** Workgroups for `rows` rows of N: one per row, or one invocation per row when rows are narrow. */
const rowGrid = (rows: number, N: number): [number, number, number] => (N <= LAYER_NORM_NARROW ? grid1d(rows) : grid1d(rows, 1));

export const layerNorm: OpDef<LayerNormAttrs> = {
  forward: (inputs, attrs, ctx) => {
    const x = inputs[0]!;
    const { w, b } = affine(inputs, attrs);
    requireFloat(OP, x, 'the input');
    const { rows, N } = layout(x.shape, attrs);
    checkAffine(w, 'weight', attrs.normalizedShape);
    checkAffine(b, 'bias', attrs.normalizedShape);
    const rt = x.runtime;
    const y = output(rt, x.shape, 'float32', OP);
    // Per row: mean and 1/std, which the gradient needs.
    const stats = output(rt, [rows, 2], 'float32', OP);
    if (rows * N > 0) {
      const [src, wd, bd] = [x, w, b].map((t) => t && denseInput(OP, t));
      rt.scheduler.record({
        kernel: N <= LAYER_NORM_NARROW ? layerNormNarrowKernel : layerNormKernel,
        params: params(rows, N, attrs.eps, w, b),
        // An absent weight or bias binds x in its place (the kernel does not read it).
        storages: [src!.storage, (wd ?? src!).storage, (bd ?? src!).storage, y.storage, stats.storage],
        workgroups: rowGrid(rows, N),
      });
      [src, wd, bd].forEach((t, i) => t && t !== [x, w, b][i] && t.dispose());
    }
    if (ctx.recording) ctx.save(stats);
    else stats.dispose();
    return y;
  },
  vjp: (g, { inputs, attrs, saved: [stats] }) => {
    const x = inputs[0]!;
    const { w, b } = affine(inputs, attrs);
    const { rows, N } = layout(x.shape, attrs);
    const rt = x.runtime;
    const empty = rows * N === 0;
    const [xd, gd, wd] = [x, g, w].map((t) => (t && !empty ? denseInput(OP, t) : t));
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      dx = output(rt, x.shape, 'float32', `${OP} backward`);
      if (!empty) {
        rt.scheduler.record({
          kernel: N <= LAYER_NORM_NARROW ? layerNormNarrowBackwardKernel : layerNormBackwardKernel,
          params: params(rows, N, attrs.eps, w, b),
          storages: [xd!.storage, (wd ?? xd!).storage, gd!.storage, stats!.storage, dx.storage],
          workgroups: rowGrid(rows, N),
        });
      }
    }
    let dw: Tensor | null = null;
    let db: Tensor | null = null;
    if (w?.requiresGrad || b?.requiresGrad) {
      const shape = attrs.normalizedShape;
      // Σ over no rows is 0; with N = 0 there is nothing to write.
      dw = rows === 0 ? filled(rt, shape, 0, 'float32', OP) : output(rt, shape, 'float32', `${OP} backward`);
      db = rows === 0 ? filled(rt, shape, 0, 'float32', OP) : output(rt, shape, 'float32', `${OP} backward`);
      if (!empty) {
        rt.scheduler.record({
          kernel: layerNormParamGradsKernel,
          params: params(rows, N, attrs.eps, w, b),
          storages: [xd!.storage, gd!.storage, stats!.storage, dw.storage, db.storage],
          workgroups: grid1d(N),
        });
      }
      // One kernel writes both; keep only what is asked for.
      if (!w?.requiresGrad) {
        dw.dispose();
        dw = null;
      }
      if (!b?.requiresGrad) {
        db.dispose();
        db = null;
      }
    }
    [xd, gd, wd].forEach((t, i) => t && t !== [x, g, w][i] && t.dispose());
    return attrs.weight ? (attrs.bias ? [dx, dw, db] : [dx, dw]) : attrs.bias ? [dx, db] : [dx];
  },
  // Composed from other ops: with x̂ = (x − mean)·rstd, dx̂ = rstd·(t − mean(t) − x̂·mean(t·x̂)), and
  // the output's tangent is dx̂·w + x̂·tw + tb.
  jvp: (tangents, { inputs, attrs }) => {
    const x = inputs[0]!;
    const { w } = affine(inputs, attrs);
    const [tx] = tangents;
    const tw = attrs.weight ? tangents[1] : null;
    const tb = attrs.bias ? tangents[attrs.weight ? 2 : 1] : null;
    if (!tx && !tw && !tb) return null;
    const { rows, N } = layout(x.shape, attrs);
    const asRows = (t: Tensor): Tensor => t.reshape([rows, N]);
    const xr = asRows(x);
    const centered = xr.sub(xr.mean(-1, true));
    const rstd = centered.square().mean(-1, true).add(attrs.eps).rsqrt();
    const xhat = centered.mul(rstd);
    let out: Tensor | null = null;
    const plus = (t: Tensor): void => {
      out = out ? out.add(t) : t;
    };
    if (tx) {
      const t = asRows(tx);
      const dxhat = rstd.mul(t.sub(t.mean(-1, true)).sub(xhat.mul(t.mul(xhat).mean(-1, true))));
      plus(w ? dxhat.mul(w.reshape([N])) : dxhat);
    }
    if (tw) plus(xhat.mul(tw.reshape([N])));
    if (tb) plus(tb.reshape([1, N]).expand([rows, N]));
    return (out as unknown as Tensor).reshape(x.shape);
  },
  reference: (inputs, attrs) => {
    const x = inputs[0]!;
    const w = attrs.weight ? inputs[1] : undefined;
    const b = attrs.bias ? inputs[attrs.weight ? 2 : 1] : undefined;
    const { rows, N } = layout(x.shape, attrs);
    const out: HostTensor = host(x.shape);
    for (let r = 0; r < rows; r++) {
      const row = Array.from({ length: N }, (_, j) => x.data[r * N + j]!);
      const mean = row.reduce((s, v) => s + v, 0) / N;
      const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / N;
      const rstd = 1 / Math.sqrt(variance + attrs.eps);
      row.forEach((v, j) => {
        out.data[r * N + j] = (v - mean) * rstd * (w ? w.data[j]! : 1) + (b ? b.data[j]! : 0);
      });
    }
    return out;
  },
};
