// Version counters of storages, as PyTorch keeps them: every in-place write to a storage bumps its
// version (views share it, as they share the storage). Autograd saves the versions of the tensors
// an op's gradient needs and backward() refuses to run once one of them has changed.
import type { Storage } from './scheduler.js';

const versions = new WeakMap<Storage, number>();

/** How many in-place writes this storage has had. */
export function storageVersion(storage: Storage): number {
  return versions.get(storage) ?? 0;
}

/**
 * Records an in-place write to a storage. Call it for every write that changes existing values:
 * a host write, an optimizer's update, and each storage a replayed captured step writes in place.
 */
export function bumpVersion(storage: Storage): void {
  versions.set(storage, storageVersion(storage) + 1);
}
