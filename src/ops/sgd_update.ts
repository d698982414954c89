// Recording of the SGD update (shaders/sgd.wgsl): which parameters share a dispatch, and the
// parameters of each. optim.SGD calls it with the step's list of updates.
import type { Tensor } from '../tensor.js';
import { grid1d } from './common.js';
import { SGD_MAX_SLOTS, SGD_PARAMS, sgdKernel } from './sgd_kernels.js';
import { SGD_CHUNK } from './shader_constants.js';

/** The settings of the update rule (optim.SGD's, named as there). */
export interface SgdSettings {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
}

/** One parameter's update: its gradient, its momentum buffer (null without momentum), and whether
 * this is the buffer's first step (buf = d). */
export interface SgdParameterUpdate {
  /** The parameter's index in the optimizer, for labels. */
  index: number;
  p: Tensor;
  g: Tensor;
  buf: Tensor | null;
  first: boolean;
}

/**
 * Records the updates, in place. Where one dispatch for several parameters is faster (see
 * the device profile, runtime/profile.ts) and the device binds enough storage buffers (2 per parameter, 3 with
 * momentum), up to four parameters share a dispatch; otherwise one each. Parameters on their first
 * momentum step are dispatched apart from the others, as that flag is per dispatch.
 *
 * `settings` is read when recording and again on each replay of a captured step (so a changed
 * learning rate applies); a replay is refused (recorded anew) once momentum is switched on or off.
 */
export function recordSgdUpdates(updates: readonly SgdParameterUpdate[], settings: () => SgdSettings): void {
  if (updates.length === 0) return;
  const rt = updates[0]!.p.runtime;
  const withMomentum = updates[0]!.buf !== null;
  const perParameter = withMomentum ? 3 : 2;
  const batch = rt.profile.multiParameterUpdate && rt.ctx.limits.maxStorageBuffersPerShaderStage >= SGD_MAX_SLOTS * perParameter ? SGD_MAX_SLOTS : 1;
  for (const first of [true, false]) {
    const group = updates.filter((u) => u.first === first);
    for (let at = 0; at < group.length; at += batch) recordDispatch(group.slice(at, at + batch), first, settings);
  }
}

function recordDispatch(slots: readonly SgdParameterUpdate[], first: boolean, settings: () => SgdSettings): void {
  const scheduler = slots[0]!.p.runtime.scheduler;
  const label = (): string =>
    slots.length === 1
      ? `SGD.step (parameter ${slots[0]!.index} [${slots[0]!.p.shape.join(', ')}])`
      : `SGD.step (parameters ${slots.map((u) => u.index).join(', ')})`;
  // Read as vec4s when every parameter's size allows (sgd_kernels.ts): sizes and chunks then count vec4s.
  const vectorised = slots.every((u) => u.p.size % 4 === 0);
  const unit = vectorised ? 4 : 1;
  // Each parameter gets whole workgroups of SGD_CHUNK floats (see sgd.wgsl).
  const sizes = [0, 0, 0, 0];
  const groupEnds = [0, 0, 0, 0];
  let groups = 0;
  slots.forEach((u, k) => {
    sizes[k] = u.p.size / unit;
    groupEnds[k] = groups += Math.ceil(u.p.size / SGD_CHUNK);
  });
  const withMomentum = slots[0]!.buf !== null;
  // The settings in force when called: a captured step's replay calls it again (with first_step 0,
  // as replays come after the step that initialised the momentum buffers).
  const params = (isFirst: boolean): Uint32Array<ArrayBuffer> => {
    const o = settings();
    return SGD_PARAMS.pack({
      sizes,
      group_ends: groupEnds,
      first_step: isFirst ? 1 : 0,
      nesterov: o.nesterov ? 1 : 0,
      lr: o.lr,
      momentum: o.momentum,
      dampening: o.dampening,
      weight_decay: o.weightDecay,
    });
  };
  const dispatch = {
    kernel: sgdKernel(slots.length, withMomentum, vectorised),
    params: params(first),
    refresh: () => params(false),
    valid: () => (settings().momentum !== 0) === withMomentum,
    storages: slots.flatMap((u) => (withMomentum ? [u.p.storage, u.g.storage, u.buf!.storage] : [u.p.storage, u.g.storage])),
    workgroups: grid1d(groups, 1),
  };
  scheduler.withLabel(label, () => scheduler.record(dispatch));
}
