// The 2-D pools of PyTorch over an input [N, C, H, W] (shaders/pool2d.wgsl): maxPool2d (padding
// is −inf; the gradient goes to the window's first max, NaN winning as the first NaN),
// avgPool2d (countIncludePad, divisorOverride) and adaptiveAvgPool2d (windows ⌊o·H/OH⌋ ..<
// ⌈(o+1)·H/OH⌉). Output sizes follow PyTorch's rule, ceilMode included: with ceilMode the last
// window must still start inside the input or its left padding. Each kernel writes one element per
// invocation; the gradients are gathers over the windows holding an input element (no atomics).

import { fmtShape, ShapeError, ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { grid1d, output, requireFloat } from './common.js';
import {
  adaptiveAvgPool2dBackwardKernel,
  adaptiveAvgPool2dKernel,
  avgPool2dBackwardKernel,
  avgPool2dKernel,
  maxPool2dBackwardKernel,
  maxPool2dKernel,
  maxPool2dTangentKernel,
  maxPool2dTiledBackwardKernel,
  packPool2dParams,
} from './conv_kernels.js';
import { type HostTensor, host } from './host.js';
import type { OpDef } from './op.js';
import { denseInput } from './reshape.js';

type Pair = readonly [number, number];

export interface MaxPool2dAttrs {
  kernelSize: Pair;
  stride: Pair;
  padding: Pair;
  dilation: Pair;
  ceilMode: boolean;
}

export interface AvgPool2dAttrs {
  kernelSize: Pair;
  stride: Pair;
  padding: Pair;
  ceilMode: boolean;
  /** Whether padding counts in the divisor (PyTorch's default: true). */
  countIncludePad: boolean;
  /** A positive divisor used for every window instead, or null. */
  divisorOverride: number | null;
}

export interface AdaptiveAvgPool2dAttrs {
  outputSize: Pair;
}

const isCount = (v: unknown, min: number): boolean => Number.isInteger(v) && (v as number) >= min;

/** PyTorch's pooling output size along one axis. */
export function poolOutputSize(size: number, kernel: number, pad: number, stride: number, dilation: number, ceilMode: boolean): number {
  const span = size + 2 * pad - dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0);
  let out = Math.floor(span / stride) + 1;
  // The last window must start inside the input or the left padding.
  if (ceilMode && (out - 1) * stride >= size + pad) out--;
  return out;
}

/** Checks a window's settings and the input as PyTorch does; returns the output shape [N, C, OH, OW]. */
function poolShape(op: string, x: readonly number[], a: { kernelSize: Pair; stride: Pair; padding: Pair; dilation: Pair; ceilMode: boolean }): number[] {
  const checks: [string, Pair, number][] = [
    ['kernelSize', a.kernelSize, 1],
    ['stride', a.stride, 1],
    ['padding', a.padding, 0],
    ['dilation', a.dilation, 1],
  ];
  for (const [name, v, min] of checks) {
    if (!v.every((d) => isCount(d, min))) throw new ValueError(`${op}: ${name} must be ${min ? 'positive' : 'non-negative'} integers, got ${fmtShape(v)}.`);
  }
  const [kh, kw] = a.kernelSize;
  if (a.padding[0] > Math.floor(kh / 2) || a.padding[1] > Math.floor(kw / 2)) {
    throw new ValueError(
      `${op}: padding should be at most half of the kernel size, but got padding ${fmtShape(a.padding)} for kernelSize ${fmtShape(a.kernelSize)}.`,
    );
  }
  const [N, C, H, W] = spatialInput(op, x);
  const OH = poolOutputSize(H, kh, a.padding[0], a.stride[0], a.dilation[0], a.ceilMode);
  const OW = poolOutputSize(W, kw, a.padding[1], a.stride[1], a.dilation[1], a.ceilMode);
  if (OH < 1 || OW < 1) {
    throw new ShapeError(`${op}: given input size (${C}x${H}x${W}), the calculated output size (${C}x${OH}x${OW}) is too small.`);
  }
  return [N, C, OH, OW];
}

/** x as [N, C, H, W] with non-empty C, H and W (an empty batch is allowed, as in PyTorch). */
function spatialInput(op: string, x: readonly number[]): [number, number, number, number] {
  if (x.length !== 4 || x.slice(1).some((d) => d === 0)) {
    throw new ShapeError(`${op}: expected a 3-D or 4-D input with non-empty channel and spatial dimensions, got input of size ${fmtShape(x)}.`);
  }
  return x as unknown as [number, number, number, number];
}

function params(x: readonly number[], out: readonly number[], a: Partial<MaxPool2dAttrs & AvgPool2dAttrs>): Uint32Array<ArrayBuffer> {
  const [kh, kw] = a.kernelSize ?? [1, 1];
  return packPool2dParams({
    planes: x[0]! * x[1]!,
    H: x[2]!,
    W: x[3]!,
    OH: out[2]!,
    OW: out[3]!,
    KH: kh,
    KW: kw,
    SH: a.stride?.[0] ?? 1,
    SW: a.stride?.[1] ?? 1,
    PH: a.padding?.[0] ?? 0,
    PW: a.padding?.[1] ?? 0,
    DH: a.dilation?.[0] ?? 1,
    DW: a.dilation?.[1] ?? 1,
    count_include_pad: a.countIncludePad ? 1 : 0,
    divisor_override: a.divisorOverride ?? 0,
  });
}

/** One dispatch of a pool kernel: dense copies of `inputs` in, a new tensor of `shape` out. */
function run(
  op: string,
  kernel: typeof maxPool2dKernel,
  inputs: readonly Tensor[],
  shape: readonly number[],
  packed: Uint32Array<ArrayBuffer>,
  invocations = shape.reduce((a, b) => a * b, 1),
): Tensor {
  const rt = inputs[0]!.runtime;
  const out = output(rt, shape, 'float32', op);
  if (out.size === 0) return out;
  const dense = inputs.map((t) => denseInput(op, t));
  rt.scheduler.record({ kernel, params: packed, storages: [...dense.map((t) => t.storage), out.storage], workgroups: grid1d(invocations) });
  dense.forEach((t, i) => t !== inputs[i] && t.dispose());
  return out;
}

const noSave = { recording: false, save: () => {} };

/** Whether max pooling's windows cover every input element exactly once (window = stride, no dilation or padding, no partial window). */
function tilesExactly(x: readonly number[], out: readonly number[], a: MaxPool2dAttrs): boolean {
  const [kh, kw] = a.kernelSize;
  return (
    a.stride[0] === kh &&
    a.stride[1] === kw &&
    a.dilation[0] === 1 &&
    a.dilation[1] === 1 &&
    a.padding[0] === 0 &&
    a.padding[1] === 0 &&
    out[2]! * kh === x[2]! &&
    out[3]! * kw === x[3]!
  );
}

/** The host reference's loop over output elements: `f` gets the plane and output position, returns the value. */
function hostPool(shape: readonly number[], f: (plane: number, oh: number, ow: number) => number): HostTensor {
  const out = host(shape);
  const [N, C, OH, OW] = shape as [number, number, number, number];
  let i = 0;
  for (let plane = 0; plane < N * C; plane++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) out.data[i++] = f(plane, oh, ow);
  return out;
}

export const maxPool2d: OpDef<MaxPool2dAttrs> = {
  forward: ([x], attrs) => {
    requireFloat('maxPool2d', x!, 'the input');
    const shape = poolShape('maxPool2d', x!.shape, attrs);
    return run('maxPool2d', maxPool2dKernel, [x!], shape, params(x!.shape, shape, attrs));
  },
  vjp: (g, { inputs: [x], output: y, attrs }) => {
    const packed = params(x!.shape, y.shape, attrs);
    // Windows that tile the input exactly: one invocation per window (the shader says why).
    if (tilesExactly(x!.shape, y.shape, attrs)) return [run('maxPool2d backward', maxPool2dTiledBackwardKernel, [x!, g], x!.shape, packed, y.size)];
    return [run('maxPool2d backward', maxPool2dBackwardKernel, [x!, g], x!.shape, packed)];
  },
  jvp: ([tx], { inputs: [x], output: y, attrs }) =>
    tx ? run('maxPool2d jvp', maxPool2dTangentKernel, [x!, tx], y.shape, params(x!.shape, y.shape, attrs)) : null,
  reference: ([x], attrs) => {
    const shape = poolShape('maxPool2d', x!.shape, attrs);
    const [, , H, W] = x!.shape as [number, number, number, number];
    const { kernelSize: k, stride: s, padding: p, dilation: d } = attrs;
    return hostPool(shape, (plane, oh, ow) => {
      let best = -Infinity;
      let found = false;
      for (let kh = 0; kh < k[0]; kh++) {
        const ih = oh * s[0] - p[0] + kh * d[0];
        if (ih < 0 || ih >= H) continue;
        for (let kw = 0; kw < k[1]; kw++) {
          const iw = ow * s[1] - p[1] + kw * d[1];
          if (iw < 0 || iw >= W) continue;
          const v = x!.data[(plane * H + ih) * W + iw]!;
          if (!found || (!Number.isNaN(best) && (v > best || Number.isNaN(v)))) best = v;
          found = true;
        }
      }
      return best;
    });
  },
};

function checkAvgAttrs(a: AvgPool2dAttrs): void {
  if (a.divisorOverride !== null && !isCount(a.divisorOverride, 1)) {
    throw new ValueError(`avgPool2d: divisorOverride must be a positive integer or null, got ${a.divisorOverride}.`);
  }
}

const avgShape = (x: readonly number[], a: AvgPool2dAttrs): number[] => {
  checkAvgAttrs(a);
  return poolShape('avgPool2d', x, { ...a, dilation: [1, 1] });
};

export const avgPool2d: OpDef<AvgPool2dAttrs> = {
  forward: ([x], attrs) => {
    requireFloat('avgPool2d', x!, 'the input');
    const shape = avgShape(x!.shape, attrs);
    return run('avgPool2d', avgPool2dKernel, [x!], shape, params(x!.shape, shape, attrs));
  },
  vjp: (g, { inputs: [x], output: y, attrs }) => [run('avgPool2d backward', avgPool2dBackwardKernel, [g], x!.shape, params(x!.shape, y.shape, attrs))],
  // Linear: the tangent pooled the same way.
  jvp: ([tx], { attrs }) => (tx ? avgPool2d.forward([tx], attrs, noSave) : null),
  reference: ([x], attrs) => {
    const shape = avgShape(x!.shape, attrs);
    const [, , H, W] = x!.shape as [number, number, number, number];
    const { kernelSize: k, stride: s, padding: p } = attrs;
    return hostPool(shape, (plane, oh, ow) => {
      const h0 = oh * s[0] - p[0];
      const w0 = ow * s[1] - p[1];
      const h1 = Math.min(h0 + k[0], H + p[0]);
      const w1 = Math.min(w0 + k[1], W + p[1]);
      const padded = (h1 - h0) * (w1 - w0);
      const [ha, hb, wa, wb] = [Math.max(h0, 0), Math.min(h1, H), Math.max(w0, 0), Math.min(w1, W)];
      let sum = 0;
      for (let ih = ha; ih < hb; ih++) for (let iw = wa; iw < wb; iw++) sum += x!.data[(plane * H + ih) * W + iw]!;
      return sum / (attrs.divisorOverride ?? (attrs.countIncludePad ? padded : (hb - ha) * (wb - wa)));
    });
  },
};

function adaptiveShape(x: readonly number[], { outputSize }: AdaptiveAvgPool2dAttrs): number[] {
  if (!outputSize.every((d) => isCount(d, 1))) throw new ValueError(`adaptiveAvgPool2d: outputSize must be positive integers, got ${fmtShape(outputSize)}.`);
  const [N, C] = spatialInput('adaptiveAvgPool2d', x);
  return [N, C, outputSize[0], outputSize[1]];
}

export const adaptiveAvgPool2d: OpDef<AdaptiveAvgPool2dAttrs> = {
  forward: ([x], attrs) => {
    requireFloat('adaptiveAvgPool2d', x!, 'the input');
    const shape = adaptiveShape(x!.shape, attrs);
    return run('adaptiveAvgPool2d', adaptiveAvgPool2dKernel, [x!], shape, params(x!.shape, shape, {}));
  },
  vjp: (g, { inputs: [x], output: y }) => [run('adaptiveAvgPool2d backward', adaptiveAvgPool2dBackwardKernel, [g], x!.shape, params(x!.shape, y.shape, {}))],
  jvp: ([tx], { attrs }) => (tx ? adaptiveAvgPool2d.forward([tx], attrs, noSave) : null),
  reference: ([x], attrs) => {
    const shape = adaptiveShape(x!.shape, attrs);
    const [, , H, W] = x!.shape as [number, number, number, number];
    const [OH, OW] = attrs.outputSize;
    return hostPool(shape, (plane, oh, ow) => {
      const [h0, h1] = [Math.floor((oh * H) / OH), Math.ceil(((oh + 1) * H) / OH)];
      const [w0, w1] = [Math.floor((ow * W) / OW), Math.ceil(((ow + 1) * W) / OW)];
      let sum = 0;
      for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) sum += x!.data[(plane * H + ih) * W + iw]!;
      return sum / ((h1 - h0) * (w1 - w0));
    });
  },
};
