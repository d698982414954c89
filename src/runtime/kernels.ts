// The kernels the runtime dispatches itself, whatever ops exist: word fills (debug NaN pre-fill,
// constant tensors), word copies (reading back a buffer that lacks COPY_SRC) and the anomaly check.

import checkSrc from '../../shaders/check.wgsl?raw';
import wordsSrc from '../../shaders/words.wgsl?raw';
import { type Dispatch, grid, WORKGROUP_SIZE_HEADER } from './dispatch.js';
import type { Kernel } from './pipelines.js';
import type { Storage } from './storage.js';

const words = `${WORKGROUP_SIZE_HEADER}\n${wordsSrc}`;
export const fillKernel: Kernel = { family: 'words', source: words, entry: 'fill', bindings: ['rw'], floatOutputs: false };
export const copyWordsKernel: Kernel = { family: 'words', source: words, entry: 'copy', bindings: ['read', 'rw'], floatOutputs: false };
export const checkKernel: Kernel = {
  family: 'check',
  source: `${WORKGROUP_SIZE_HEADER}\n${checkSrc}`,
  entry: 'main',
  bindings: ['read', 'rw'],
  floatOutputs: false,
};

/** The runtime's kernels, for the compile check. */
export const runtimeKernels: readonly Kernel[] = [fillKernel, copyWordsKernel, checkKernel];

/** Sets the first `n` words of `out` to the bit pattern `bits` (a float32's or an int32's). */
export function fillDispatch(out: Storage, n: number, bits: number): Dispatch {
  return { kernel: fillKernel, params: Uint32Array.of(n, bits >>> 0, 0, 0), storages: [out], workgroups: grid(n) };
}

/** Copies the first `n` words of `src` into `out`, bit for bit. */
export function copyWordsDispatch(src: Storage, out: Storage, n: number): Dispatch {
  return { kernel: copyWordsKernel, params: Uint32Array.of(n, 0, 0, 0), storages: [src, out], workgroups: grid(n) };
}

/** The bits of a number stored as float32. */
export function float32Bits(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0]!;
}
