// Parked work. An eager intermediate that only a tensor holds (nothing recorded reads it, nobody
// has asked for its value) is most often one the program has dropped and the garbage collector
// has not yet finalised: a chain of 200 eager ops leaves 199 of them. Small ones are written into
// a shared pack (fusion.ts); a large one would need memory and a binding of its own. Instead, when
// fusion computes such a result in registers for a later member, the map that makes it is parked
// here, not run: its value exists nowhere until something needs it.
//
// A parked map keeps its recorded uses (pendingUses), so what it reads stays alive and unchanged,
// and it comes back into the queue, in recording order and with every parked map it is connected
// to (those that make what it reads, those that read what it makes), when
//   - a recorded dispatch reads its result, or writes in place to something it reads;
//   - its value is asked for (a read back, gpuBuffer, a captured step's input);
//   - the host overwrites something it reads (write(), a replayed step's in-place updates);
//   - a step is captured (a program must not recompute eager values).
// When its result's last tensor goes (dispose, tidy, the garbage collector), it is dropped, and
// so are the parked maps only it still needed.
import type { Dispatch } from './dispatch.js';
import type { Storage } from './storage.js';

/** Whether binding b of d is one it writes. */
const writes = (d: Dispatch, b: number): boolean => d.kernel.bindings[b] === 'rw';

export class Parking {
  /** Parked dispatches (each carries its place in recording order: parkedSeq), and some taken out since (compacted now and then). */
  private all: Dispatch[] = [];
  private count = 0;
  private next = 0;

  get size(): number {
    return this.count;
  }

  has(d: Dispatch): boolean {
    return d.parkedSeq !== undefined;
  }

  /** Parks dispatches (given in recording order; after any parked before). */
  park(dispatches: readonly Dispatch[]): void {
    for (const d of dispatches) {
      d.parkedSeq = this.next++;
      this.count++;
      this.all.push(d);
      const storages = d.storages;
      for (let b = 0; b < storages.length; b++) {
        const s = storages[b]!;
        if (writes(d, b)) s.parkedBy = d;
        else if (s.parkedReaders) s.parkedReaders.push(d);
        else s.parkedReaders = [d];
      }
    }
  }

  /**
   * Takes out the parked dispatches connected to `roots` (the parked makers of what they read and
   * the parked readers of what they make, transitively), in recording order.
   */
  take(roots: Iterable<Dispatch>): Dispatch[] {
    const found = new Set<Dispatch>();
    const stack = [...roots];
    while (stack.length > 0) {
      const d = stack.pop()!;
      if (found.has(d) || d.parkedSeq === undefined) continue;
      found.add(d);
      d.storages.forEach((s, b) => {
        if (!writes(d, b)) {
          if (s.parkedBy) stack.push(s.parkedBy);
        } else if (s.parkedReaders) stack.push(...s.parkedReaders);
      });
    }
    const taken = [...found].sort((a, b) => a.parkedSeq! - b.parkedSeq!);
    for (const d of taken) this.remove(d);
    return taken;
  }

  /** Takes out every parked dispatch, in recording order. */
  takeAll(): Dispatch[] {
    return this.take(this.all.filter((d) => d.parkedSeq !== undefined));
  }

  /** The parked dispatches that something reading or overwriting `s` needs run first. */
  rootsFor(s: Storage, overwritten: boolean): Dispatch[] {
    const roots: Dispatch[] = [];
    if (s.parkedBy) roots.push(s.parkedBy);
    if (overwritten && s.parkedReaders) roots.push(...s.parkedReaders);
    return roots;
  }

  /**
   * The parked map that makes `s`, when nothing else can read `s` any more (no tensor, no other
   * recorded or parked use): that map can be dropped.
   */
  unreachableMaker(s: Storage): Dispatch | null {
    const maker = s.parkedBy;
    return maker && s.handles === 0 && !s.released && s.pendingUses === bindingCount(maker, s) ? maker : null;
  }

  /** Forgets a parked dispatch (taken out, or dropped because nothing can read its result any more). */
  remove(d: Dispatch): void {
    if (d.parkedSeq === undefined) return;
    d.parkedSeq = undefined;
    this.count--;
    if (this.all.length > 64 && this.all.length > 4 * this.count) this.all = this.all.filter((p) => p.parkedSeq !== undefined);
    d.storages.forEach((s, b) => {
      if (writes(d, b)) {
        if (s.parkedBy === d) s.parkedBy = null;
      } else if (s.parkedReaders) {
        const readers = s.parkedReaders;
        const k = readers.indexOf(d);
        if (k >= 0) readers.splice(k, 1);
        if (readers.length === 0) s.parkedReaders = null;
      }
    });
  }
}

/** Bindings of s by d. */
function bindingCount(d: Dispatch, s: Storage): number {
  let n = 0;
  for (const t of d.storages) if (t === s) n++;
  return n;
}
