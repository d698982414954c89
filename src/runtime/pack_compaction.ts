// A pack (fusion.ts) holds the memory of all its parts while any part lives, so a part kept long
// after its neighbours were released would pin the whole pack: up to 256 KiB for a 4-byte tensor.
// A flush therefore first moves the last parts of a mostly released pack into memory of their own
// (copies at the start of its command encoder, no extra submit) and lets the pack go.
import type { BufferPool, Region } from './buffers.js';
import { partBytes, type Storage } from './storage.js';

/** A pack is compacted once its live parts take at most a quarter of it... */
const LIVE_SHARE = 4;
/** ...and compacting frees at least this many bytes (a small pack pins little). */
const MIN_FREED_BYTES = 16 * 1024;

/**
 * Copies the parts of each sparse pack among `candidates` into regions of their own, using
 * `encoder`, and returns each part with its new region (the caller makes it the part's and lets
 * the part leave its pack). A pack that recorded work or a captured program still binds where it
 * is (a part with pending uses, a part a program holds) is left as it is.
 */
export function compactPacks(candidates: Set<Storage>, pool: BufferPool, encoder: GPUCommandEncoder): [Storage, Region][] {
  const moves: [Storage, Region][] = [];
  for (const pack of candidates) {
    // Not written yet (its flush was refused for memory): looked at again by a later flush.
    if (!pack.released && !pack.region) continue;
    const parts = pack.released ? [] : [...pack.parts!];
    // This flush binds a part where it is (pending uses), or a captured program does for as long
    // as it lives: a later flush looks again.
    if (parts.some((p) => p.pendingUses > 0 || p.programHolds > 0)) continue;
    candidates.delete(pack);
    const live = parts.reduce((sum, p) => sum + partBytes(p), 0);
    if (parts.length === 0 || live * LIVE_SHARE > pack.byteLength || pack.byteLength - live < MIN_FREED_BYTES) continue;
    const targets: Region[] = [];
    try {
      for (const p of parts) targets.push(pool.acquire(p.byteLength));
    } catch {
      // Out of memory: the pack stays as it is.
      for (const r of targets) pool.release(r);
      continue;
    }
    parts.forEach((p, k) => {
      const from = p.region!;
      const to = targets[k]!;
      encoder.copyBufferToBuffer(from.buffer, from.offset, to.buffer, to.offset, Math.ceil(p.byteLength / 4) * 4);
      moves.push([p, to]);
    });
  }
  return moves;
}

/**
 * A released part `s` lets go of its pack: the pack's memory goes back (`release`) once no part
 * holds it; a pack that keeps parts joins `sparse`, since what is left may need much less than it
 * holds (the next flush looks).
 */
export function leavePack(s: Storage, sparse: Set<Storage>, release: (pack: Storage) => void): void {
  const pack = s.pack!;
  s.pack = null;
  pack.parts!.delete(s);
  pack.handles--;
  release(pack);
  if (!pack.released) sparse.add(pack);
}
