// The kernels of layer normalisation (shaders/layer_norm.wgsl) and of dropout's masks
// (shaders/dropout.wgsl), with their bindings. kernels.ts lists them among every op kernel.

import dropoutSrc from '../../shaders/dropout.wgsl?raw';
import layerNormSrc from '../../shaders/layer_norm.wgsl?raw';
import type { Kernel } from '../runtime/pipelines.js';
import { WORKGROUP_HEADER } from './shader_constants.js';

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

export const layerKernels: readonly Kernel[] = [layerNormKernel, layerNormBackwardKernel, layerNormParamGradsKernel, dropoutMaskKernel, dropoutAdvanceKernel];
