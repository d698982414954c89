// The kernels of layer normalisation (shaders/layer_norm.wgsl), batch normalisation
// (shaders/batch_norm.wgsl) and dropout's masks (shaders/dropout.wgsl), with their bindings.
// kernels.ts lists them among every op kernel.

import batchNormSrc from '../../shaders/batch_norm.wgsl?raw';
import dropoutSrc from '../../shaders/dropout.wgsl?raw';
import layerNormSrc from '../../shaders/layer_norm.wgsl?raw';
import type { Kernel } from '../runtime/pipelines.js';
import { WORKGROUP_HEADER } from './shader_constants.js';
import { UniformLayout } from './wgsl.js';

const layerNormSource = `${WORKGROUP_HEADER}\n${layerNormSrc}`;
const dropoutSource = `${WORKGROUP_HEADER}\n${dropoutSrc}`;

export const layerNormKernel: Kernel = {
  family: 'layer_norm',
  source: layerNormSource,
  entry: 'forward',
  bindings: ['read', 'read', 'read', 'rw', 'rw'],
  floatOutputs: true,
};
export const layerNormBackwardKernel: Kernel = {
  family: 'layer_norm',
  source: layerNormSource,
  entry: 'backward',
  bindings: ['read', 'read', 'read', 'read', 'rw'],
  floatOutputs: true,
};
/** Rows of at most this many elements are normalised by one invocation each (no barriers; see layer_norm.wgsl). */
export const LAYER_NORM_NARROW = 128;
export const layerNormNarrowKernel: Kernel = { ...layerNormKernel, entry: 'forward_narrow' };
export const layerNormNarrowBackwardKernel: Kernel = { ...layerNormBackwardKernel, entry: 'backward_narrow' };
export const layerNormParamGradsKernel: Kernel = {
  family: 'layer_norm',
  source: layerNormSource,
  entry: 'param_grads',
  bindings: ['read', 'read', 'read', 'rw', 'rw'],
  floatOutputs: true,
};
export const dropoutMaskKernel: Kernel = { family: 'dropout', source: dropoutSource, entry: 'mask', bindings: ['read', 'rw'], floatOutputs: true };
/** Writes the generator's integer state, not floats: anomaly detection skips it. */
export const dropoutAdvanceKernel: Kernel = { family: 'dropout', source: dropoutSource, entry: 'advance', bindings: ['rw'], floatOutputs: false };

/** Batch normalisation's sizes ([N, C, inner]), flags (weight, bias, training), eps and the running statistics' momentum. */
export const BATCH_NORM_PARAMS = new UniformLayout('Params', { N: 'u32', C: 'u32', inner: 'u32', flags: 'u32', eps: 'f32', momentum: 'f32' });
const batchNormSource = `${WORKGROUP_HEADER}\n${BATCH_NORM_PARAMS.wgsl}\n${batchNormSrc}`;
const batchNorm = (entry: string, bindings: Kernel['bindings'], floatOutputs = true): Kernel => ({
  family: 'batch_norm',
  source: batchNormSource,
  entry,
  bindings,
  floatOutputs,
});
export const batchNormStatsKernel = batchNorm('channel_stats', ['read', 'rw']);
export const batchNormRunningStatsKernel = batchNorm('running_stats', ['read', 'read', 'rw']);
export const batchNormKernel = batchNorm('normalize', ['read', 'read', 'read', 'read', 'rw']);
export const batchNormUpdateKernel = batchNorm('update_running', ['read', 'rw', 'rw']);
/** Adds 1 to an int32 counter, not floats: anomaly detection skips it. */
export const batchNormCountKernel = batchNorm('count_batch', ['rw'], false);
export const batchNormChannelGradsKernel = batchNorm('channel_grads', ['read', 'read', 'read', 'rw', 'rw']);
export const batchNormInputGradKernel = batchNorm('input_grad', ['read', 'read', 'read', 'read', 'read', 'read', 'rw']);

export const layerKernels: readonly Kernel[] = [
  layerNormKernel,
  layerNormBackwardKernel,
  layerNormNarrowKernel,
  layerNormNarrowBackwardKernel,
  layerNormParamGradsKernel,
  dropoutMaskKernel,
  dropoutAdvanceKernel,
  batchNormStatsKernel,
  batchNormRunningStatsKernel,
  batchNormKernel,
  batchNormUpdateKernel,
  batchNormCountKernel,
  batchNormChannelGradsKernel,
  batchNormInputGradKernel,
];
