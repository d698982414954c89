// Every WGSL entry point webgrad dispatches, with the bindings it declares. The sources are bundled
// from shaders/*.wgsl at build time: nothing is fetched at run time.
import type { Kernel } from '../runtime/pipelines.js';
import matmulSrc from '../../shaders/matmul.wgsl?raw';
import matmulTiledSrc from '../../shaders/matmul_tiled.wgsl?raw';
import elementwiseSrc from '../../shaders/elementwise.wgsl?raw';
import reduceSrc from '../../shaders/reduce.wgsl?raw';
import argmaxSrc from '../../shaders/argmax.wgsl?raw';
import crossEntropySrc from '../../shaders/cross_entropy.wgsl?raw';
import sgdSrc from '../../shaders/sgd.wgsl?raw';
import sgdMultiSrc from '../../shaders/sgd_multi.wgsl?raw';
import adamSrc from '../../shaders/adam.wgsl?raw';

const k = (family: string, source: string, entry: string, bindings: Kernel['bindings'], floatOutputs = true): Kernel => ({
  family,
  source,
  entry,
  bindings,
  floatOutputs,
});

export const matmulKernel = k('matmul', matmulSrc, 'main', ['read', 'read', 'rw']);
export const matmulBiasKernel = k('matmul', matmulSrc, 'main_bias', ['read', 'read', 'read', 'rw']);
export const matmulTiledKernel = k('matmul_tiled', matmulTiledSrc, 'main', ['read', 'read', 'rw']);
export const matmulTiledBiasKernel = k('matmul_tiled', matmulTiledSrc, 'main_bias', ['read', 'read', 'read', 'rw']);
export const unaryKernel = k('elementwise', elementwiseSrc, 'unary', ['read', 'rw']);
export const binaryKernel = k('elementwise', elementwiseSrc, 'binary', ['read', 'read', 'rw']);
export const reducePerOutputKernel = k('reduce', reduceSrc, 'per_output', ['read', 'rw']);
export const reducePerGroupKernel = k('reduce', reduceSrc, 'per_group', ['read', 'rw']);
export const argmaxKernel = k('argmax', argmaxSrc, 'main', ['read', 'rw'], false);
export const crossEntropyForwardKernel = k('cross_entropy', crossEntropySrc, 'forward', ['read', 'read', 'rw']);
export const crossEntropyForwardGradKernel = k('cross_entropy', crossEntropySrc, 'forward_grad', ['read', 'read', 'rw', 'rw']);
export const crossEntropyBackwardKernel = k('cross_entropy', crossEntropySrc, 'backward', ['read', 'read', 'read', 'rw']);
export const sgdPlainKernel = k('sgd', sgdSrc, 'plain', ['rw', 'read']);
export const sgdMomentumKernel = k('sgd', sgdSrc, 'momentum', ['rw', 'read', 'rw']);
/** The SGD update of four parameters in one dispatch (momentum 0): parameter, gradient per slot. */
export const sgdPlainMultiKernel = k('sgd_multi', sgdMultiSrc, 'plain', ['rw', 'read', 'rw', 'read', 'rw', 'read', 'rw', 'read']);
/** The same with momentum: parameter, gradient, momentum buffer per slot (twelve storage buffers). */
export const sgdMomentumMultiKernel = k('sgd_multi', sgdMultiSrc, 'momentum', ['rw', 'read', 'rw', 'rw', 'read', 'rw', 'rw', 'read', 'rw', 'rw', 'read', 'rw']);
export const adamKernel = k('adam', adamSrc, 'main', ['rw', 'read', 'rw', 'rw']);
/** A word-for-word copy (any dtype's bits), for reading back buffers without COPY_SRC usage. */

export const allKernels: readonly Kernel[] = [
  matmulKernel, matmulBiasKernel, matmulTiledKernel, matmulTiledBiasKernel, unaryKernel, binaryKernel, reducePerOutputKernel, reducePerGroupKernel,
  argmaxKernel, crossEntropyForwardKernel, crossEntropyForwardGradKernel, crossEntropyBackwardKernel, sgdPlainKernel, sgdMomentumKernel, sgdPlainMultiKernel, sgdMomentumMultiKernel, adamKernel,
];
