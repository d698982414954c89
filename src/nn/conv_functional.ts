// nn.functional's convolution and pooling: conv2d, maxPool2d, avgPool2d, adaptiveAvgPool2d, with
// PyTorch's arguments (an int or [h, w] for each size; 'same' / 'valid' padding) turned into the op
// table's attributes. Inputs are [N, C, H, W], or [C, H, W] unbatched as PyTorch allows.

import { checkOptionNames, describeValue } from '../arguments.js';
import { apply } from '../autograd.js';
import { fmtShape, ShapeError, ValueError } from '../errors.js';
import type { OpAttrs, OpName } from '../ops/table.js';
import { type Tensor, tensorArgument } from '../tensor.js';

/** A size given once for both axes, or as [height, width]. */
export type IntPair = number | readonly [number, number];

/** Options of conv2d, as PyTorch's (stride, padding, dilation, groups). */
export interface Conv2dOptions {
  /** Step between windows (default 1). */
  stride?: IntPair;
  /** Zero padding on both sides of each axis (default 0), or 'valid' (none) or 'same' (output as large as the input; stride 1 only). */
  padding?: IntPair | 'same' | 'valid';
  /** Spacing between kernel taps (default 1). */
  dilation?: IntPair;
  /** Channel groups (default 1): in and out channels must both be divisible by it. */
  groups?: number;
}

/** Options of maxPool2d, as PyTorch's. */
export interface MaxPool2dOptions {
  /** Step between windows (default: the kernel size). */
  stride?: IntPair;
  /** −inf padding on both sides of each axis, at most half the kernel size (default 0). */
  padding?: IntPair;
  /** Spacing between window taps (default 1). */
  dilation?: IntPair;
  /** Rounds the output size up (a last partial window), as long as it starts inside the input or the left padding (default false). */
  ceilMode?: boolean;
}

/** Options of avgPool2d, as PyTorch's. */
export interface AvgPool2dOptions {
  /** Step between windows (default: the kernel size). */
  stride?: IntPair;
  /** Zero padding on both sides of each axis, at most half the kernel size (default 0). */
  padding?: IntPair;
  /** Rounds the output size up, as maxPool2d (default false). */
  ceilMode?: boolean;
  /** Whether the zero padding counts in each window's divisor (default true). */
  countIncludePad?: boolean;
  /** A positive integer that divides every window's sum instead (default: none). */
  divisorOverride?: number | null;
}

/** @internal An int or [h, w] as [h, w]; anything else is a ValueError naming the argument. */
export function pair(op: string, name: string, value: unknown): [number, number] {
  if (typeof value === 'number' && Number.isInteger(value)) return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => Number.isInteger(v))) return [value[0] as number, value[1] as number];
  throw new ValueError(
    `${op}: ${name} must be an integer or [height, width] of integers, got ${Array.isArray(value) ? `[${value.join(', ')}]` : describeValue(value)}.`,
  );
}

function flag(op: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ValueError(`${op}: ${name} must be a boolean, got ${describeValue(value)}.`);
  return value;
}

/** Runs a 4-D op on a 4-D input, or on a 3-D one as a batch of one (the result has no batch dimension then). */
function spatial<K extends OpName>(op: string, name: K, input: Tensor, rest: readonly Tensor[], attrs: OpAttrs[K]): Tensor {
  if (input.ndim !== 3 && input.ndim !== 4) {
    throw new ShapeError(`${op}: expected a 3-D (unbatched) or 4-D (batched) input, but got input of size ${fmtShape(input.shape)}.`);
  }
  if (input.ndim === 4) return apply(name, [input, ...rest], attrs);
  const y = apply(name, [input.reshape([1, ...input.shape]), ...rest], attrs);
  return y.reshape(y.shape.slice(1));
}

/**
 * 2-D convolution (PyTorch's F.conv2d, a cross-correlation) of input [N, C, H, W] (or [C, H, W])
 * with weight [out, C / groups, kH, kW] and an optional bias [out]:
 * out size = ⌊(H + 2·padding − dilation·(kH − 1) − 1) / stride⌋ + 1 per axis.
 *
 * ```ts
 * const y = nn.functional.conv2d(x, w, b, { stride: 2, padding: 'valid' }); // x [64, 1, 28, 28], w [6, 1, 5, 5]
 * ```
 */
export function conv2d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  checkOptionNames(op, options, ['stride', 'padding', 'dilation', 'groups']);
  const x = tensorArgument(op, 'input', input);
  const w = tensorArgument(op, 'weight', weight);
  const rest = [w];
  if (bias !== null && bias !== undefined) rest.push(tensorArgument(op, 'bias', bias));
  const stride = pair(op, 'stride', options.stride ?? 1);
  const dilation = pair(op, 'dilation', options.dilation ?? 1);
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new ValueError(`conv2d: groups must be a positive integer, got ${describeValue(groups)}.`);
  const padding = convPadding(options.padding ?? 0, stride, dilation, w);
  return spatial(op, 'conv2d', x, rest, { stride, padding, dilation, groups });
}

/** [top, bottom, left, right] from PyTorch's padding argument; 'same' puts the odd one at the end, as PyTorch does. */
function convPadding(padding: unknown, stride: [number, number], dilation: [number, number], w: Tensor): [number, number, number, number] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1)
      throw new ValueError(`conv2d: padding='same' is not supported for strided convolutions (stride ${fmtShape(stride)}).`);
    if (w.ndim !== 4) return [0, 0, 0, 0]; // the op reports the weight's shape
    const total = [dilation[0] * (w.shape[2]! - 1), dilation[1] * (w.shape[3]! - 1)];
    return [Math.floor(total[0]! / 2), Math.ceil(total[0]! / 2), Math.floor(total[1]! / 2), Math.ceil(total[1]! / 2)];
  }
  if (typeof padding === 'string') throw new ValueError(`conv2d: invalid padding string '${padding}', should be one of 'valid', 'same'.`);
  const [h, w2] = pair('conv2d', 'padding', padding);
  return [h, h, w2, w2];
}

/**
 * Max over each window of input [N, C, H, W] (or [C, H, W]), as PyTorch's F.max_pool2d: padding
 * counts as −inf; the gradient goes to the first max of each window.
 */
export function maxPool2d(input: Tensor, kernelSize: IntPair, options: MaxPool2dOptions = {}): Tensor {
  const op = 'maxPool2d';
  checkOptionNames(op, options, ['stride', 'padding', 'dilation', 'ceilMode']);
  const x = tensorArgument(op, 'input', input);
  const k = pair(op, 'kernelSize', kernelSize);
  return spatial(op, 'maxPool2d', x, [], {
    kernelSize: k,
    stride: options.stride === undefined ? k : pair(op, 'stride', options.stride),
    padding: pair(op, 'padding', options.padding ?? 0),
    dilation: pair(op, 'dilation', options.dilation ?? 1),
    ceilMode: flag(op, 'ceilMode', options.ceilMode, false),
  });
}

/** Mean over each window of input [N, C, H, W] (or [C, H, W]), as PyTorch's F.avg_pool2d. */
export function avgPool2d(input: Tensor, kernelSize: IntPair, options: AvgPool2dOptions = {}): Tensor {
  const op = 'avgPool2d';
  checkOptionNames(op, options, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride']);
  const x = tensorArgument(op, 'input', input);
  const k = pair(op, 'kernelSize', kernelSize);
  const divisorOverride = options.divisorOverride ?? null;
  if (divisorOverride !== null && !(Number.isInteger(divisorOverride) && divisorOverride > 0)) {
    throw new ValueError(`avgPool2d: divisorOverride must be a positive integer, got ${describeValue(divisorOverride)}.`);
  }
  return spatial(op, 'avgPool2d', x, [], {
    kernelSize: k,
    stride: options.stride === undefined ? k : pair(op, 'stride', options.stride),
    padding: pair(op, 'padding', options.padding ?? 0),
    ceilMode: flag(op, 'ceilMode', options.ceilMode, false),
    countIncludePad: flag(op, 'countIncludePad', options.countIncludePad, true),
    divisorOverride,
  });
}

/**
 * Mean over windows chosen so the output is outputSize (an int, or [h, w] where null keeps that
 * axis's input size), as PyTorch's F.adaptive_avg_pool2d: output o covers ⌊o·H/OH⌋ ..< ⌈(o+1)·H/OH⌉.
 */
export function adaptiveAvgPool2d(input: Tensor, outputSize: number | readonly [number | null, number | null]): Tensor {
  const op = 'adaptiveAvgPool2d';
  const x = tensorArgument(op, 'input', input);
  const given = Array.isArray(outputSize) ? outputSize.map((v, i) => (v === null ? (x.shape.at(i - 2) ?? 1) : v)) : outputSize;
  return spatial(op, 'adaptiveAvgPool2d', x, [], { outputSize: pair(op, 'outputSize', given) });
}
