// Planning a batch of recorded dispatches, with no GPU calls of its own: which dispatches are
// live (something can still read what they write), which buffer each binding gets, and when each
// storage's buffer can be reused. Flush and capture share it; tests drive it with a fake pool.
import type { Region } from './buffers.js';
import { bindsTwice, type Dispatch } from './dispatch.js';
import type { Storage } from './storage.js';

/** The part of the buffer pool planning needs (BufferPool implements it). */
export interface BufferSource<B> {
  /** The size class a request of `bytes` gets. */
  classOf(bytes: number): number;
  /** The size class of a buffer this source made. */
  sizeOf(buffer: B): number;
  /**
   * A buffer of at least `bytes` (from the free list or new); may throw when memory runs out.
   * `own`: not a slot of a buffer shared with other storages (see buffers.ts); `pack`: for the
   * pack of a fused kernel's held results (see fusion.ts).
   */
  acquire(bytes: number, own?: boolean, pack?: boolean): B;
  release(buffer: B): void;
}

/** The buffers of one batch of dispatches, decided before anything is encoded. */
export interface Plan<B> {
  /** Per dispatch: whether it runs (false: nothing can read what it writes). */
  live: boolean[];
  /** Storages that get a buffer in this batch. */
  assign: Map<Storage, B>;
  /** Per live dispatch, the buffers of its bindings. */
  bindings: B[][];
  /** Per dispatch, the storages released after it (no tensor holds them, no later use). */
  releasedAt: (Storage[] | undefined)[];
  /** Buffers free again once the batch has run (their storages were released in it). */
  toPool: B[];
}

/** Marks dispatches whose written storages someone can still read (walking backwards). */
export function liveDispatches(queue: readonly Dispatch[]): boolean[] {
  const live = new Array<boolean>(queue.length).fill(false);
  const needed = new Set<Storage>();
  for (let i = queue.length - 1; i >= 0; i--) {
    const d = queue[i]!;
    const bindings = d.kernel.bindings;
    let alive = false;
    for (let b = 0; b < bindings.length; b++) {
      const s = d.storages[b]!;
      if (bindings[b] === 'rw' && (s.handles > 0 || needed.has(s))) alive = true;
    }
    if (!alive) continue;
    live[i] = true;
    for (const s of d.storages) needed.add(s);
  }
  return live;
}

/**
 * A storage gets a buffer the first time a live dispatch binds it, and gives it back after its
 * last use in the queue when no tensor holds it, so later dispatches of the same batch reuse it.
 * An allocation that fails throws here, with every buffer taken so far given back.
 */
export function planBuffers<B>(queue: readonly Dispatch[], pool: BufferSource<B>): Plan<B> {
  const live = liveDispatches(queue);
  const lastUse = new Map<Storage, number>();
  queue.forEach((d, i) => d.storages.forEach((st) => lastUse.set(st, i)));
  const assign = new Map<Storage, B>();
  const reusable = new Map<number, B[]>();
  const fromPool: B[] = [];
  const bindings: B[][] = [];
  const releasedAt: (Storage[] | undefined)[] = [];
  const bufferOf = (st: Storage): B | undefined => (st.region as B | null) ?? assign.get(st);
  try {
    for (let i = 0; i < queue.length; i++) {
      const d = queue[i]!;
      if (live[i]) {
        // A dispatch binding one storage twice reads its inputs read-only, so what it writes must
        // not share a buffer with them: it gets a buffer of its own (see pipelines.ts).
        const own = bindsTwice(d);
        bindings[i] = d.storages.map((st) => {
          let buffer = bufferOf(st);
          if (buffer === undefined) {
            buffer = own ? undefined : reusable.get(pool.classOf(st.byteLength))?.pop();
            if (buffer === undefined) {
              buffer = pool.acquire(st.byteLength, own, st.isPack);
              fromPool.push(buffer);
            }
            assign.set(st, buffer);
          }
          return buffer;
        });
      }
      const done: Storage[] = [];
      for (const st of new Set(d.storages)) {
        // Parked maps that read it keep it (runtime/parking.ts).
        if (lastUse.get(st) !== i || st.handles > 0 || st.released || st.parkedReaders !== null) continue;
        done.push(st);
        const buffer = bufferOf(st);
        // A buffer the application or a captured program owns never goes back to the pool, nor a part of a pack (its pack does).
        if (buffer === undefined || st.external || st.programOwned || st.pack) continue;
        const size = pool.sizeOf(buffer);
        const list = reusable.get(size);
        if (list) list.push(buffer);
        else reusable.set(size, [buffer]);
      }
      if (done.length > 0) releasedAt[i] = done;
    }
  } catch (err) {
    for (const b of fromPool) pool.release(b);
    throw err;
  }
  return { live, assign, bindings, releasedAt, toPool: [...reusable.values()].flat() };
}

/**
 * The one walk over planned dispatches that flush and capture share: storages get their planned
 * buffers, each live dispatch is visited with the buffers of its bindings, and every dispatch's
 * uses end (storages whose last use it was lose their buffer to later dispatches, as planned;
 * `released` is told of each).
 */
export function walkPlan(
  queue: readonly Dispatch[],
  plan: Plan<Region>,
  visit: (d: Dispatch, regions: Region[]) => void,
  released: (st: Storage) => void,
): void {
  for (const [s, region] of plan.assign) s.region = region;
  for (let i = 0; i < queue.length; i++) {
    const d = queue[i]!;
    if (plan.live[i]) visit(d, plan.bindings[i]!);
    for (const st of d.storages) st.pendingUses--;
    for (const st of plan.releasedAt[i] ?? []) {
      st.released = true;
      released(st);
      st.region = null;
    }
  }
}
