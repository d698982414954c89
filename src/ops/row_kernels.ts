// The reductions and the kernels that work on rows of a tensor viewed as [outer, R, inner]: sums,
// argmax, extremum, moments, norms, softmax and the losses (shaders/reduce.wgsl, rows.wgsl and their
// own files). Listed with every other kernel in kernels.ts, which re-exports them.

import argmaxSrc from '../../shaders/argmax.wgsl?raw';
import crossEntropySrc from '../../shaders/cross_entropy.wgsl?raw';
import extremumSrc from '../../shaders/extremum.wgsl?raw';
import momentsSrc from '../../shaders/moments.wgsl?raw';
import nllLossSrc from '../../shaders/nll_loss.wgsl?raw';
import nllLossBackwardSrc from '../../shaders/nll_loss_backward.wgsl?raw';
import normSrc from '../../shaders/norm.wgsl?raw';
import reduceSrc from '../../shaders/reduce.wgsl?raw';
import rowsSrc from '../../shaders/rows.wgsl?raw';
import softmaxSrc from '../../shaders/softmax.wgsl?raw';
import { type Kernel, entryKernel as k } from '../runtime/pipelines.js';
import { WORKGROUP_HEADER } from './shader_constants.js';
import { UniformLayout, wgslConstants } from './wgsl.js';

/** The sum kernel's parameters (shaders/reduce.wgsl): the input as [outer, R, inner], and the factor applied to each sum. */
export const REDUCE_FIELDS = { outer: 'u32', R: 'u32', inner: 'u32', scale: 'f32' } as const;
/** The body of the sum kernels, which reads its input through `load_x(k)`. */
export const REDUCE_BODY = reduceSrc;
const reduceSource = `${WORKGROUP_HEADER}
${new UniformLayout('Params', REDUCE_FIELDS).wgsl}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<f32>;
fn load_x(k: u32) -> f32 { return X[k]; }
${reduceSrc}`;
export const reducePerOutputKernel = k('reduce', reduceSource, 'per_output', ['read', 'rw']);
export const reducePerGroupKernel = k('reduce', reduceSource, 'per_group', ['read', 'rw']);
export const argmaxKernel = k('argmax', `${WORKGROUP_HEADER}\n${argmaxSrc}`, 'main', ['read', 'rw'], false);
export const extremumKernel = k('extremum', `${WORKGROUP_HEADER}\n${extremumSrc}\n${rowsSrc}`, 'values', ['read', 'rw']);
export const extremumBackwardKernel = k('extremum', `${WORKGROUP_HEADER}\n${extremumSrc}\n${rowsSrc}`, 'backward', ['read', 'read', 'rw']);
export const momentsKernel = k('moments', `${WORKGROUP_HEADER}\n${momentsSrc}\n${rowsSrc}`, 'forward', ['read', 'rw']);
export const momentsBackwardKernel = k('moments', `${WORKGROUP_HEADER}\n${momentsSrc}\n${rowsSrc}`, 'backward', ['read', 'read', 'rw']);
export const nllLossKernel = k('nll_loss', `${WORKGROUP_HEADER}\n${nllLossSrc}`, 'forward_none', ['read', 'read', 'rw']);
export const nllLossReduceKernel = k('nll_loss', `${WORKGROUP_HEADER}\n${nllLossSrc}`, 'forward_reduce', ['read', 'read', 'rw', 'rw']);
export const nllLossBackwardKernel = k('nll_loss_backward', `${WORKGROUP_HEADER}\n${nllLossBackwardSrc}`, 'backward', ['read', 'read', 'read', 'rw']);
export const normKernel = k('norm', `${WORKGROUP_HEADER}\n${normSrc}\n${rowsSrc}`, 'forward', ['read', 'rw']);
export const normBackwardKernel = k('norm', `${WORKGROUP_HEADER}\n${normSrc}\n${rowsSrc}`, 'backward', ['read', 'read', 'rw']);
export const softmaxKernel = k('softmax', `${WORKGROUP_HEADER}\n${softmaxSrc}\n${rowsSrc}`, 'softmax', ['read', 'rw']);
export const logSoftmaxKernel = k('softmax', `${WORKGROUP_HEADER}\n${softmaxSrc}\n${rowsSrc}`, 'log_softmax', ['read', 'rw']);
export const logsumexpKernel = k('softmax', `${WORKGROUP_HEADER}\n${softmaxSrc}\n${rowsSrc}`, 'logsumexp', ['read', 'rw']);
export const crossEntropyForwardKernel = k('cross_entropy', `${WORKGROUP_HEADER}\n${crossEntropySrc}`, 'forward', ['read', 'read', 'rw']);
export const crossEntropyForwardGradKernel = k('cross_entropy', `${WORKGROUP_HEADER}\n${crossEntropySrc}`, 'forward_grad', ['read', 'read', 'rw', 'rw']);
/**
 * The same loss kernels compiled for one-invocation workgroups, for small batches: the 256-wide
 * workgroup's two tree reductions (16 barriers) cost a batch-64 step ~1 ms on CPU adapters for
 * 640 logits; one invocation walks the rows in order instead (cross_entropy.ts picks by size).
 */
const crossEntropySerialSrc = `${wgslConstants({ WORKGROUP_SIZE: 1 })}\n${crossEntropySrc}`;
export const crossEntropyForwardSerialKernel = k('cross_entropy.serial', crossEntropySerialSrc, 'forward', ['read', 'read', 'rw']);
export const crossEntropyForwardGradSerialKernel = k('cross_entropy.serial', crossEntropySerialSrc, 'forward_grad', ['read', 'read', 'rw', 'rw']);
export const crossEntropyBackwardKernel = k('cross_entropy', `${WORKGROUP_HEADER}\n${crossEntropySrc}`, 'backward', ['read', 'read', 'read', 'rw']);

export const rowKernels: readonly Kernel[] = [
  reducePerOutputKernel,
  reducePerGroupKernel,
  argmaxKernel,
  extremumKernel,
  extremumBackwardKernel,
  momentsKernel,
  momentsBackwardKernel,
  nllLossKernel,
  nllLossReduceKernel,
  nllLossBackwardKernel,
  normKernel,
  normBackwardKernel,
  softmaxKernel,
  logSoftmaxKernel,
  logsumexpKernel,
  crossEntropyForwardKernel,
  crossEntropyForwardGradKernel,
  crossEntropyForwardSerialKernel,
  crossEntropyForwardGradSerialKernel,
  crossEntropyBackwardKernel,
];
