// conv2d: PyTorch's 2-D convolution (a cross-correlation) of an input [N, C, H, W] with a weight
// [OC, C / groups, KH, KW] and an optional bias [OC], with stride, padding (per side: 'same' may pad
// one more at the bottom or right, as PyTorch does), dilation and groups. Direct kernels
// (shaders/conv2d.wgsl): the forward, the input gradient (the transposed convolution as a gather)
// and the weight gradient each run one invocation per element they write (the forward one per four
// adjacent outputs of a row; the weight gradient one per element and part of the positions, the
// parts then added in order), so they are simple and deterministic. Where it measured faster, the three run as im2col + the tuned matmul instead
// (src/ops/conv_gemm.ts, whose gemmPlan() states the rule); both paths pass this op's table rows.

import { fmtShape, ShapeError, ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { grid1d, output, requireFloat } from './common.js';
import { conv2dParams, gemmForward, gemmInputGrad, gemmPlan, gemmWeightGrad } from './conv_gemm.js';
import { conv2dBiasKernel, conv2dInputGradKernel, conv2dKernel, conv2dWeightGradKernel, specialiseConv } from './conv_kernels.js';
import { host } from './host.js';
import type { OpDef } from './op.js';
import { recordReduce } from './reduce.js';
import { denseInput } from './reshape.js';

export interface Conv2dAttrs {
  /** Step between windows: [height, width]. */
  stride: readonly [number, number];
  /** Implicit zero padding on each side: [top, bottom, left, right]. */
  padding: readonly [number, number, number, number];
  /** Spacing between kernel taps: [height, width]. */
  dilation: readonly [number, number];
  /** Channel groups: input and output channels split into this many independent convolutions. */
  groups: number;
}

const isCount = (v: unknown, min: number): boolean => Number.isInteger(v) && (v as number) >= min;

/** The output size along one axis, or a ShapeError when the (dilated) kernel is larger than the padded input. */
function outputSize(size: number, padBefore: number, padAfter: number, kernel: number, stride: number, dilation: number): number {
  return Math.floor((size + padBefore + padAfter - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** Checks attrs and shapes as PyTorch does; returns the output shape [N, OC, OH, OW]. */
export function conv2dShape(x: readonly number[], w: readonly number[], b: readonly number[] | undefined, attrs: Conv2dAttrs): number[] {
  const { stride, padding, dilation, groups } = attrs;
  if (!stride.every((s) => isCount(s, 1))) throw new ValueError(`conv2d: stride must be positive integers, got ${fmtShape(stride)}.`);
  if (!padding.every((p) => isCount(p, 0))) throw new ValueError(`conv2d: padding must be non-negative integers, got ${fmtShape(padding)}.`);
  if (!dilation.every((d) => isCount(d, 1))) throw new ValueError(`conv2d: dilation must be positive integers, got ${fmtShape(dilation)}.`);
  if (!isCount(groups, 1)) throw new ValueError(`conv2d: groups must be a positive integer, got ${groups}.`);
  if (x.length !== 4) throw new ShapeError(`conv2d: expected a 4-D input [N, C, H, W] (or 3-D unbatched), got input of size ${fmtShape(x)}.`);
  if (w.length !== 4 || w.some((d) => d === 0)) {
    throw new ShapeError(`conv2d: weight must be a non-empty 4-D [out_channels, in_channels / groups, kH, kW], got ${fmtShape(w)}.`);
  }
  const [N, C, H, W] = x as [number, number, number, number];
  const [OC, Cg, KH, KW] = w as [number, number, number, number];
  if (OC % groups !== 0) {
    throw new ShapeError(`conv2d: given groups=${groups}, expected weight to be divisible by ${groups} at dimension 0, but got weight of size ${fmtShape(w)}.`);
  }
  if (C !== Cg * groups) {
    throw new ShapeError(
      `conv2d: given groups=${groups}, weight of size ${fmtShape(w)}, expected input ${fmtShape(x)} to have ${Cg * groups} channels, but got ${C} channels.`,
    );
  }
  if (b && (b.length !== 1 || b[0] !== OC)) {
    throw new ShapeError(`conv2d: given weight of size ${fmtShape(w)}, expected bias to be 1-D with ${OC} elements, but got bias of size ${fmtShape(b)}.`);
  }
  const paddedH = H + padding[0] + padding[1];
  const paddedW = W + padding[2] + padding[3];
  const spanH = dilation[0] * (KH - 1) + 1;
  const spanW = dilation[1] * (KW - 1) + 1;
  if (H === 0 || W === 0 || paddedH < spanH || paddedW < spanW) {
    throw new ShapeError(
      `conv2d: input ${fmtShape(x)} padded to ${paddedH} x ${paddedW} per channel is smaller than the (dilated) kernel ${spanH} x ${spanW}.`,
    );
  }
  return [N, OC, outputSize(H, padding[0], padding[1], KH, stride[0], dilation[0]), outputSize(W, padding[2], padding[3], KW, stride[1], dilation[1])];
}

/** About this many invocations keep every core of a CPU adapter busy and fill a small GPU. */
const WEIGHT_GRAD_INVOCATIONS = 16384;
/** The fewest output positions one part of the weight gradient sums, so a part outweighs its write and its share of the final sum. */
const MIN_PART_POSITIONS = 256;

/**
 * How the direct weight gradient splits the N·OH rows of the output gradient: into enough parts
 * that the weights times the parts make about WEIGHT_GRAD_INVOCATIONS invocations, each part at
 * least MIN_PART_POSITIONS positions long. Sizes alone decide, so every run sums in the same order.
 */
export function weightGradSplit(outShape: readonly number[], weights: number): { parts: number; rowsPerPart: number } {
  const [N, , OH, OW] = outShape as [number, number, number, number];
  const rows = N * OH;
  const wanted = Math.max(1, Math.min(Math.ceil(WEIGHT_GRAD_INVOCATIONS / weights), Math.floor((rows * OW) / MIN_PART_POSITIONS)));
  const rowsPerPart = Math.max(1, Math.ceil(rows / wanted));
  return { parts: Math.max(1, Math.ceil(rows / rowsPerPart)), rowsPerPart };
}

/** The weight gradient by the direct kernel: per part a partial sum, then the parts added in order. */
function directWeightGrad(g: Tensor, x: Tensor, wShape: readonly number[], outShape: readonly number[], attrs: Conv2dAttrs): Tensor {
  const { parts, rowsPerPart } = weightGradSplit(
    outShape,
    wShape.reduce((a, b) => a * b, 1),
  );
  const packed = conv2dParams(x.shape, wShape, outShape, attrs, 0, x.shape[0], rowsPerPart);
  if (parts === 1) return run('conv2d backward', conv2dWeightGradKernel, [g, x], wShape, packed);
  const partial = run('conv2d backward', conv2dWeightGradKernel, [g, x], [parts, ...wShape], packed);
  const total = recordReduce('conv2d backward', partial, { axis: [0], keepdim: false }, false);
  partial.dispose();
  return total;
}

/** One dispatch of a conv2d kernel writing a new tensor of `shape` from dense copies of `inputs`, by `invocations` invocations (default: one per element). */
function run(
  op: string,
  kernel: typeof conv2dKernel,
  inputs: readonly Tensor[],
  shape: readonly number[],
  packed: Uint32Array<ArrayBuffer>,
  invocations = shape.reduce((a, b) => a * b, 1),
): Tensor {
  const rt = inputs[0]!.runtime;
  const out = output(rt, shape, 'float32', op);
  if (out.size === 0) return out;
  const dense = inputs.map((t) => denseInput(op, t));
  const [a, b, ...rest] = dense.map((t) => t.storage);
  rt.scheduler.record({ kernel: specialiseConv(kernel, packed), params: packed, storages: [a!, b!, out.storage, ...rest], workgroups: grid1d(invocations) });
  dense.forEach((t, i) => t !== inputs[i] && t.dispose());
  return out;
}

export const conv2d: OpDef<Conv2dAttrs> = {
  forward: ([x, w, b], attrs, ctx) => {
    requireFloat('conv2d', x!, 'the input');
    requireFloat('conv2d', w!, 'the weight');
    if (b) requireFloat('conv2d', b, 'the bias');
    const shape = conv2dShape(x!.shape, w!.shape, b?.shape, attrs);
    const plan = gemmPlan(x!.shape, w!.shape, shape, attrs.groups);
    // The unfolded input is kept for the weight gradient when one will be taken (see GemmPlan.keepCols).
    const keepCols = plan.keepCols && ctx.recording && w!.requiresGrad;
    if (plan.forward || keepCols) {
      const { y, cols } = gemmForward(x!, w!, b, shape, attrs, keepCols);
      if (cols) ctx.save(cols);
      return y;
    }
    const packed = conv2dParams(x!.shape, w!.shape, shape, attrs);
    // One invocation per run of four adjacent columns of an output row.
    const runs = shape[0]! * shape[1]! * shape[2]! * Math.ceil(shape[3]! / 4);
    return b ? run('conv2d', conv2dBiasKernel, [x!, w!, b], shape, packed, runs) : run('conv2d', conv2dKernel, [x!, w!], shape, packed, runs);
  },
  vjp: (g, { inputs: [x, w, b], output: y, attrs, saved: [cols] }) => {
    const packed = conv2dParams(x!.shape, w!.shape, y.shape, attrs);
    const gemm = gemmPlan(x!.shape, w!.shape, y.shape, attrs.groups);
    const inputGrad = () =>
      gemm.inputGrad ? gemmInputGrad(g, w!, x!.shape, y.shape, attrs) : run('conv2d backward', conv2dInputGradKernel, [g, w!], x!.shape, packed);
    const weightGrad = () =>
      cols || gemm.weightGrad ? gemmWeightGrad(g, x!, w!.shape, y.shape, attrs, cols) : directWeightGrad(g, x!, w!.shape, y.shape, attrs);
    // The bias gradient sums over the images first: one invocation per (channel, position) reading
    // a column, then a few long rows; summing each image's plane first (g.sum([0, 2, 3])) took ~7×
    // longer on lavapipe for LeNet's conv1 (N·OC = 384 workgroup reductions of 784 values each).
    const biasGrad = () => {
      const perPosition = g.sum(0);
      const summed = perPosition.sum([1, 2]);
      perPosition.dispose();
      return summed;
    };
    return [x!.requiresGrad ? inputGrad() : null, w!.requiresGrad ? weightGrad() : null, b?.requiresGrad ? biasGrad() : null];
  },
  // Bilinear in (x, w), affine in b: conv(tx, w) + conv(x, tw) + tb per channel.
  jvp: ([tx, tw, tb], { inputs: [x, w], output: y, attrs }) => {
    const conv = (a: Tensor, k: Tensor): Tensor => conv2d.forward([a, k], attrs, { recording: false, save: () => {} });
    let t: Tensor | null = null;
    for (const part of [tx ? conv(tx, w!) : null, tw ? conv(x!, tw) : null]) if (part) t = t ? t.add(part) : part;
    if (tb) {
      const perChannel = tb.reshape([1, y.shape[1]!, 1, 1]);
      t = t ? t.add(perChannel) : perChannel.expand(y.shape);
    }
    return t;
  },
  reference: ([x, w, b], attrs) => {
    const shape = conv2dShape(x!.shape, w!.shape, b?.shape, attrs);
    const [N, OC, OH, OW] = shape as [number, number, number, number];
    const [, C, H, W] = x!.shape as [number, number, number, number];
    const [, Cg, KH, KW] = w!.shape as [number, number, number, number];
    const { stride, padding, dilation } = attrs;
    const OCg = OC / attrs.groups;
    const out = host(shape);
    let i = 0;
    for (let n = 0; n < N; n++) {
      for (let oc = 0; oc < OC; oc++) {
        const c0 = Math.floor(oc / OCg) * Cg;
        for (let oh = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++) {
            let s = b ? b.data[oc]! : 0;
            for (let c = 0; c < Cg; c++) {
              for (let kh = 0; kh < KH; kh++) {
                const ih = oh * stride[0] - padding[0] + kh * dilation[0];
                if (ih < 0 || ih >= H) continue;
                for (let kw = 0; kw < KW; kw++) {
                  const iw = ow * stride[1] - padding[2] + kw * dilation[1];
                  if (iw < 0 || iw >= W) continue;
                  s += x!.data[((n * C + c0 + c) * H + ih) * W + iw]! * w!.data[((oc * Cg + c) * KH + kh) * KW + kw]!;
                }
              }
            }
            out.data[i++] = s;
          }
        }
      }
    }
    return out;
  },
};
