// Dropout's masks, drawn on the GPU from a generator whose state (seed, counter) lives in a small
// buffer of each runtime: the mask kernel reads it and a one-invocation kernel adds 1 to the counter
// after each mask. Replays of a captured step run both kernels again, so each replay draws a new
// mask, the same one the same call would draw eagerly. manualSeed(s) rewrites (s, 0) into every
// runtime's state, so a seed gives the same masks in the same order of calls.

import { currentSeed, onManualSeed } from '../random.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../tensor.js';
import { grid1d, output, Params } from './common.js';
import { dropoutAdvanceKernel, dropoutMaskKernel } from './layer_kernels.js';

/** Each runtime's generator state: a pinned int32 tensor [seed, counter]. */
const states = new Map<Runtime, Tensor>();

const seedWords = (seed: number): Uint32Array<ArrayBuffer> => Uint32Array.from([seed >>> 0, 0]);

onManualSeed((seed) => {
  for (const [rt, state] of states) {
    // A lost device has no buffers to write; its state goes with it.
    if (rt.scheduler.lostMessage || state.isDisposed) states.delete(rt);
    else rt.scheduler.write(state.storage, seedWords(seed));
  }
});

function stateOf(rt: Runtime): Tensor {
  let state = states.get(rt);
  if (state && !state.isDisposed && !rt.scheduler.lostMessage) return state;
  state = output(rt, [2], 'int32', 'dropout').pin();
  rt.scheduler.write(state.storage, seedWords(currentSeed()));
  states.set(rt, state);
  return state;
}

/**
 * A mask of x's shape whose elements are 1/(1 − p) with probability 1 − p and 0 otherwise, for
 * 0 < p < 1; the runtime's generator moves on to the next mask.
 */
export function dropoutMask(x: Tensor, p: number): Tensor {
  const rt = x.runtime;
  const state = stateOf(rt);
  const mask = output(rt, x.shape, 'float32', 'dropout');
  const n = mask.size;
  if (n === 0) return mask;
  // Keep when the hash's top 24 bits are ≥ round(p·2²⁴): probability 1 − p, to 2⁻²⁴.
  const threshold = Math.round(p * 2 ** 24);
  rt.scheduler.record({
    kernel: dropoutMaskKernel,
    params: new Params()
      .u(n, threshold)
      .f(1 / (1 - p))
      .done(),
    storages: [state.storage, mask.storage],
    workgroups: grid1d(n),
  });
  rt.scheduler.record({ kernel: dropoutAdvanceKernel, params: new Params().u(0).done(), storages: [state.storage], workgroups: [1, 1, 1] });
  return mask;
}
