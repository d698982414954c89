// The kernels of conv2d and the 2-D pools (shaders/conv2d.wgsl, shaders/pool2d.wgsl), with their
// uniform layouts declared once here: the WGSL struct is generated from the same field list the
// host packs. The sizes the kernels divide by also travel as divisor words (div_OW, …, for
// shaders/fastdiv.wgsl's udiv), packed from the same values as the sizes themselves.

import conv2dSrc from '../../shaders/conv2d.wgsl?raw';
import fastdivSrc from '../../shaders/fastdiv.wgsl?raw';
import pool2dSrc from '../../shaders/pool2d.wgsl?raw';
import type { Kernel } from '../runtime/pipelines.js';
import { divisorFields, divisorValues } from './divisor.js';
import { WORKGROUP_HEADER } from './shader_constants.js';
import { UniformLayout } from './wgsl.js';

/**
 * conv2d's sizes: input [N, C, H, W], weight [OC, C_g, KH, KW] with C_g = C / groups input and
 * OC_g = OC / groups output channels per group, output [N, OC, OH, OW] (the forward's runs of four
 * columns: OW_q = ⌈OW / 4⌉ per row); stride, top/left padding and dilation per axis; n0: the first image the unfold reads (its N images are n0 ..< n0 + N);
 * the weight gradient's split of the N·OH output rows into `parts` runs of rows_per_part.
 */
const CONV2D_SIZES = {
  N: 'u32',
  C: 'u32',
  H: 'u32',
  W: 'u32',
  OC: 'u32',
  OH: 'u32',
  OW: 'u32',
  OW_q: 'u32',
  KH: 'u32',
  KW: 'u32',
  SH: 'u32',
  SW: 'u32',
  PH: 'u32',
  PW: 'u32',
  DH: 'u32',
  DW: 'u32',
  C_g: 'u32',
  OC_g: 'u32',
  n0: 'u32',
  parts: 'u32',
  rows_per_part: 'u32',
} as const;

/** The sizes conv2d's kernels divide by. */
const CONV2D_DIVISORS = ['OW', 'OW_q', 'OH', 'OC', 'OC_g', 'W', 'H', 'C', 'C_g', 'KW', 'KH', 'SH', 'SW'] as const;

export const CONV2D_PARAMS = new UniformLayout('Params', { ...CONV2D_SIZES, ...divisorFields(CONV2D_DIVISORS) });

/** conv2d's uniform words: the sizes and the divisor words made from them. */
export const packConv2dParams = (sizes: { readonly [K in keyof typeof CONV2D_SIZES]: number }): Uint32Array<ArrayBuffer> =>
  CONV2D_PARAMS.pack({ ...sizes, ...divisorValues(sizes, CONV2D_DIVISORS) });

/** The pools' sizes: planes (N·C) of [H, W] in, [OH, OW] out; the window's size, stride, padding and dilation; average pooling's divisor rules. */
const POOL2D_SIZES = {
  planes: 'u32',
  H: 'u32',
  W: 'u32',
  OH: 'u32',
  OW: 'u32',
  KH: 'u32',
  KW: 'u32',
  SH: 'u32',
  SW: 'u32',
  PH: 'u32',
  PW: 'u32',
  DH: 'u32',
  DW: 'u32',
  count_include_pad: 'u32',
  divisor_override: 'u32',
} as const;

/** The sizes the pools' kernels divide by. */
const POOL2D_DIVISORS = ['OW', 'OH', 'W', 'H', 'SH', 'SW'] as const;

export const POOL2D_PARAMS = new UniformLayout('Params', { ...POOL2D_SIZES, ...divisorFields(POOL2D_DIVISORS) });

/** The pools' uniform words: the sizes and the divisor words made from them. */
export const packPool2dParams = (sizes: { readonly [K in keyof typeof POOL2D_SIZES]: number }): Uint32Array<ArrayBuffer> =>
  POOL2D_PARAMS.pack({ ...sizes, ...divisorValues(sizes, POOL2D_DIVISORS) });

const conv2dSource = `${WORKGROUP_HEADER}\n${CONV2D_PARAMS.wgsl}\n${fastdivSrc}\n${conv2dSrc}`;
const pool2dSource = `${WORKGROUP_HEADER}\n${POOL2D_PARAMS.wgsl}\n${fastdivSrc}\n${pool2dSrc}`;

const conv = (entry: string, bindings: Kernel['bindings']): Kernel => ({ family: 'conv2d', source: conv2dSource, entry, bindings, floatOutputs: true });
const pool = (entry: string, bindings: Kernel['bindings']): Kernel => ({ family: 'pool2d', source: pool2dSource, entry, bindings, floatOutputs: true });

export const conv2dKernel = conv('forward', ['read', 'read', 'rw']);
export const conv2dBiasKernel = conv('forward_bias', ['read', 'read', 'rw', 'read']);
export const conv2dInputGradKernel = conv('backward_input', ['read', 'read', 'rw']);
export const conv2dWeightGradKernel = conv('backward_weight', ['read', 'read', 'rw']);
export const unfoldKernel = conv('unfold', ['read', 'rw']);
export const foldKernel = conv('fold', ['read', 'rw']);

export const maxPool2dKernel = pool('max_forward', ['read', 'rw']);
export const maxPool2dBackwardKernel = pool('max_backward', ['read', 'read', 'rw']);
export const maxPool2dTiledBackwardKernel = pool('max_backward_tiled', ['read', 'read', 'rw']);
export const maxPool2dTangentKernel = pool('max_tangent', ['read', 'read', 'rw']);
export const avgPool2dKernel = pool('avg_forward', ['read', 'rw']);
export const avgPool2dBackwardKernel = pool('avg_backward', ['read', 'rw']);
export const adaptiveAvgPool2dKernel = pool('adaptive_forward', ['read', 'rw']);
export const adaptiveAvgPool2dBackwardKernel = pool('adaptive_backward', ['read', 'rw']);

export const convKernels: readonly Kernel[] = [
  conv2dKernel,
  conv2dBiasKernel,
  conv2dInputGradKernel,
  conv2dWeightGradKernel,
  unfoldKernel,
  foldKernel,
  maxPool2dKernel,
  maxPool2dBackwardKernel,
  maxPool2dTiledBackwardKernel,
  maxPool2dTangentKernel,
  avgPool2dKernel,
  avgPool2dBackwardKernel,
  adaptiveAvgPool2dKernel,
  adaptiveAvgPool2dBackwardKernel,
];

export const convUniformLayouts = [CONV2D_PARAMS, POOL2D_PARAMS];

/**
 * The sizes a conv2d kernel is compiled for: every size but the batch's (N, n0 and the weight
 * gradient's parts vary with the batch and the chunk of images). Their uses in the source become
 * literals, and the divisors' words constants, so the compiler unrolls the tap loops and folds the
 * index arithmetic. Software adapters run every branch and loop under a mask and divide lane by
 * lane; on LeNet's convolutions in Chromium (SwiftShader) the generic kernels cost 4–5× the
 * specialised ones. GPUs gain too (jax-js and TF.js compile per shape as well).
 */
const SPECIALISED_SIZES = Object.keys(CONV2D_SIZES).filter((f) => !['N', 'n0', 'parts', 'rows_per_part'].includes(f));
const SPECIALISED_FIELDS = new Set([...SPECIALISED_SIZES, ...CONV2D_DIVISORS.map((d) => `div_${d}`)]);

// Specialised kernels by entry point and sizes; bounded so a program that sweeps shapes cannot grow it for ever.
const MAX_SPECIALISED = 256;
const specialised = new Map<string, Kernel>();

/** `kernel` (one of conv2d's) compiled for the sizes in its packed parameters `params` (see SPECIALISED_SIZES). */
export function specialiseConv(kernel: Kernel, params: Uint32Array): Kernel {
  const at = CONV2D_PARAMS.offsets as Record<string, number>;
  const key = `${kernel.entry}:${SPECIALISED_SIZES.map((f) => params[at[f]!]).join(',')}`;
  let k = specialised.get(key);
  if (!k) {
    const literal = (field: string): string => {
      const o = at[field]!;
      if (!field.startsWith('div_')) return `${params[o]}u`;
      return `vec4<u32>(${params[o]}u, ${params[o + 1]}u, ${params[o + 2]}u, ${params[o + 3]}u)`;
    };
    const source = kernel.source.replace(/\bP\.(\w+)\b/g, (use, field: string) => (SPECIALISED_FIELDS.has(field) ? `(${literal(field)})` : use));
    if (specialised.size >= MAX_SPECIALISED) specialised.clear();
    k = { ...kernel, family: `${kernel.family}#${key}`, source };
    specialised.set(key, k);
  }
  return k;
}
