// Checkpoints in the safetensors format, with the names PyTorch's state_dict() gives: a model's
// weights and buffers (running statistics) load into the same model written in PyTorch, and back.
// int32 buffers (num_batches_tracked) are written as I64, PyTorch's dtype for them; I64 or I32 in a
// file is read into them when the values fit int32. A mismatch in names, shapes or dtypes is
// one error that lists every difference, and loads nothing.

import { CaptureError, ValueError } from '../errors.js';
import { checkHostWritable } from '../interop.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import { runtime } from '../runtime/runtime.js';
import { checkTensors, type HostArray } from '../state_file.js';
import type { Tensor } from '../tensor.js';
import { encodeSafetensors, parseSafetensors, readSafetensors } from './safetensors.js';

/** Reads tensors back to the host as safetensors entries (int32 ones as I64 with `int64`). */
export async function toHostArrays(entries: [string, Tensor][], int64 = false): Promise<[string, HostArray][]> {
  return Promise.all(
    entries.map(async ([name, t]): Promise<[string, HostArray]> => {
      const data = await t.data();
      return [name, { dtype: t.dtype === 'int32' ? (int64 ? 'I64' : 'I32') : 'F32', shape: [...t.shape], data: data.slice() }];
    }),
  );
}

/**
 * The module's parameters and buffers as a safetensors file (fc1.weight, fc1.bias, …,
 * bn.running_mean, …: the entries of module.stateDict()), readable by PyTorch.
 *
 * ```ts
 * const bytes = await save(model);   // e.g. fs.writeFileSync('net.safetensors', bytes)
 * load(model, bytes);                // in place; a mismatch throws and loads nothing
 * ```
 */
export async function save(module: Module): Promise<Uint8Array> {
  // Every name a shared parameter has, as PyTorch's state_dict() lists them.
  return encodeSafetensors(await toHostArrays(module.stateDict(), true), { format: 'pt', producer: 'webgrad' });
}

/** Refuses to change state from the host inside a captured step (a replay would not repeat it). */
function refuseInCapture(what: string): void {
  if (runtime().scheduler.capturing) {
    throw new CaptureError(`${what}: a checkpoint was loaded inside a captured step; a replay would not repeat it. Load it before calling the step.`);
  }
}

/**
 * Loads a safetensors file (a Uint8Array, e.g. a Node Buffer, or an ArrayBuffer) into the module's
 * parameters and buffers, in place. The whole file and every tensor are checked first: a malformed
 * file, a missing, unexpected or misshapen tensor, or one that cannot be written is one error, and
 * nothing changes.
 */
export function load(module: Module, bytes: Uint8Array | ArrayBuffer): void {
  if (typeof (module as Partial<Module> | null)?.namedParameters !== 'function') {
    throw new ValueError(`load: the first argument must be an nn.Module, got ${module === null ? 'null' : typeof module}.`);
  }
  const file = parseSafetensors(bytes, 'load');
  const state = module.stateDict();
  checkTensors(
    `load(${module.constructor.name})`,
    state.map(([n, t]) => [n, t.shape, t.dtype === 'int32' ? 'I32' : 'F32']),
    file,
  );
  const params = new Set(module.parameters());
  for (const [name, t] of state) checkHostWritable(t, `load (${params.has(t) ? 'parameter' : 'buffer'} ${name})`);
  refuseInCapture('load');
  for (const [name, t] of state) t.write(file.get(name)!.data);
}

/** The optimizer's state (momentum buffers, Adam moments and step counts) and settings. */
export async function saveOptimizer(optimizer: Optimizer): Promise<Uint8Array> {
  const { tensors, settings } = optimizer.exportState();
  const host = await toHostArrays(tensors.filter((e): e is [string, Tensor] => typeof e[1] !== 'number'));
  const scalars: [string, HostArray][] = tensors
    .filter((e): e is [string, number] => typeof e[1] === 'number')
    .map(([name, v]) => [name, { dtype: 'F32', shape: [], data: new Float32Array([v]) }]);
  return encodeSafetensors([...host, ...scalars], { optimizer: optimizer.kind, ...settings });
}

/**
 * Restores what saveOptimizer wrote into an optimizer of the same kind ('SGD', 'Adam', 'AdamW')
 * over parameters of the same shapes: the state (momentum buffers, Adam's moments and step
 * counts) and every setting in the file (lr, momentum, dampening, nesterov, weight decay; Adam's
 * betas and eps), as PyTorch's load_state_dict restores param_groups. Each setting is checked
 * (finite, in range, step counts integers ≥ 1, nesterov only with momentum > 0 and dampening 0);
 * a setting the file lacks keeps its current value, and a key the optimizer has no setting for is
 * refused. On any error nothing changes.
 */
export function loadOptimizer(optimizer: Optimizer, bytes: Uint8Array | ArrayBuffer): void {
  const { tensors, metadata } = readSafetensors(bytes, 'loadOptimizer');
  const kind = metadata.optimizer;
  // Files written before optimizers had a kind name the class, which for webgrad's own classes is
  // the same word (and for a subclass, the subclass).
  if (kind !== optimizer.kind && kind !== optimizer.constructor.name) {
    throw new ValueError(`loadOptimizer: the file holds ${kind ? `${kind} state` : 'no optimizer state'}, not ${optimizer.kind}'s.`);
  }
  refuseInCapture('loadOptimizer');
  optimizer.importState(tensors, metadata);
}
