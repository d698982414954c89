// The groups of the fusion pass (fusion.ts) and where their members' results go: nowhere (kept in
// registers), a binding of their own, or a shared pack (see fusion.ts). Kept up to date as members
// join, so a long chain costs linear time to group.

import type { FusedKernel, FusedMember } from '../ops/fused_kernel.js';
import type { MapInfo } from '../ops/fused_maps.js';
import type { Dispatch } from './dispatch.js';
import { partBytes, Storage } from './storage.js';

/** The largest result written into a pack, and the largest pack (a pack lives while any part does). */
export const MAX_PART_BYTES = 64 * 1024;
export const MAX_PACK_BYTES = 256 * 1024;

/** What the grouping of one queue needs to know besides the group. */
export interface Context {
  /** Bindings per storage over the whole queue. */
  uses: Map<Storage, number>;
  maxBindings: number;
  /** Whether held results may share a pack (not in a captured program, whose buffers are its own). */
  pack: boolean;
  /** What the flush lets fusion park (runtime/parking.ts); null: every held result is written. */
  park: ParkOptions | null;
  /** Per storage, the last queue index of a dispatch that writes it (only while parking). */
  lastWrite: Map<Storage, number>;
}

/** What a flush lets fusion park (see runtime/parking.ts). */
export interface ParkOptions {
  /** Results asked for (read back, gpuBuffer): always written. */
  demand: ReadonlySet<Storage>;
  /** Storages the host overwrites once this flush is submitted: maps that read them run now. */
  overwritten: ReadonlySet<Storage>;
  /** Dispatches taken out of parking into this queue: parked again even when no member reads their result. */
  unparked: ReadonlySet<Dispatch>;
  /** Out: the dispatches parked, each group's in member order. */
  parked: Dispatch[];
}

export interface Load {
  storage: Storage;
  /** Offset, shape0, shape1, strides0, strides1 as the member's parameters hold them. */
  words: Uint32Array;
}

export class Group {
  readonly dispatches: Dispatch[] = [];
  readonly members: FusedMember[] = [];
  readonly scalars: number[] = [];
  readonly loads: Load[] = [];
  readonly inputs: Storage[] = [];
  /** Member index of each storage the group writes. */
  readonly producer = new Map<Storage, number>();
  /** Storages the group reads from memory. */
  readonly read = new Set<Storage>();
  /** Bindings of each storage by the group's dispatches. */
  readonly usesInside = new Map<Storage, number>();
  /** How each member's result leaves the kernel (kept up to date as members join: see reclassify). */
  readonly written: Written[] = [];
  /**
   * Whether a member binds memory written after it (later in the queue, or by the host after the
   * flush) or an application's buffer: then nothing in the group is parked (see parkedMembers).
   */
  parkBlocked = false;
  /** Members written to a binding of their own, members that may go into the pack, and the pack's bytes. */
  own = 0;
  packable = 0;
  packBytes = 0;

  constructor(readonly n: number) {}
}

/**
 * Where a member's result goes: nowhere (read only in registers), a binding of its own (a
 * dispatch outside the group reads it, or it cannot be packed), the pack (a fresh, small
 * float32 result that only tensors hold), or nowhere for now: its map is parked (see parkedMembers).
 */
export type Written = 'none' | 'own' | 'pack' | 'park';

/** Storages bound per dispatch of the whole queue, counted once per binding. */
export function countUses(queue: readonly Dispatch[]): Map<Storage, number> {
  const uses = new Map<Storage, number>();
  for (const d of queue) for (const s of d.storages) uses.set(s, (uses.get(s) ?? 0) + 1);
  return uses;
}

export const field = (info: MapInfo, name: string): number => (info.layout.offsets as Record<string, number>)[name]!;

/** Per input of a map, where its parameters hold the input's offset, shape halves and stride halves (found once per map). */
const loadFieldCache = new WeakMap<MapInfo, (readonly number[])[]>();
function loadFields(info: MapInfo, k: number): readonly number[] {
  let fields = loadFieldCache.get(info);
  if (!fields) {
    fields = info.inputs.map((name) => [
      field(info, `${name}_off`),
      field(info, 'shape0'),
      field(info, 'shape1'),
      field(info, `${name}_strides0`),
      field(info, `${name}_strides1`),
    ]);
    loadFieldCache.set(info, fields);
  }
  return fields[k]!;
}

/**
 * Whether the strides in `words` are the contiguous ones of the shape there (element i at offset + i):
 * the shape's halves (dims 0–3, 4–7) at shape0 and shape1, the strides' at strides0 and strides1.
 */
function contiguousAt(words: Uint32Array, shape0: number, shape1: number, strides0: number, strides1: number): boolean {
  let expected = 1;
  for (let d = 7; d >= 0; d--) {
    const size = d < 4 ? words[shape0 + d]! : words[shape1 + d - 4]!;
    const stride = d < 4 ? words[strides0 + d]! : words[strides1 + d - 4]!;
    if (size !== 1 && stride !== expected) return false;
    expected *= size;
  }
  return true;
}

/** Whether a load's strides are the contiguous ones of its shape: element i is at its offset + i. */
export const contiguous = (words: Uint32Array): boolean => contiguousAt(words, 1, 5, 9, 13);

/** Whether input k of a recorded map reads element i at element i (offset 0, contiguous strides), read from its parameters. */
export function inputReadsSameElement(d: Dispatch, info: MapInfo, k: number): boolean {
  const [off, shape0, shape1, strides0, strides1] = loadFields(info, k) as [number, number, number, number, number];
  return d.params[off] === 0 && contiguousAt(d.params, shape0, shape1, strides0, strides1);
}

/** The offset, shape and strides of input k of a recorded map (17 words). */
export function loadWords(d: Dispatch, info: MapInfo, k: number): Uint32Array {
  const p = d.params;
  const [off, shape0, shape1, strides0, strides1] = loadFields(info, k) as [number, number, number, number, number];
  const out = new Uint32Array(17);
  out[0] = p[off]!;
  for (let c = 0; c < 4; c++) {
    out[1 + c] = p[shape0 + c]!;
    out[5 + c] = p[shape1 + c]!;
    out[9 + c] = p[strides0 + c]!;
    out[13 + c] = p[strides1 + c]!;
  }
  return out;
}

export const outputOf = (group: Group, m: number): Storage => group.dispatches[m]!.storages.at(-1)!;

/** Where member m's result goes now (see Written). */
export function classify(group: Group, m: number, cx: Context): Written {
  const s = outputOf(group, m);
  const inside = group.usesInside.get(s) ?? 0;
  const outside = (cx.uses.get(s) ?? 0) > inside;
  if (s.handles === 0 && !outside) return 'none';
  // Results a pack cannot hold (large, or not float32) are parked instead (see parkedMembers):
  // small ones cost less to write into the pack than to keep their maps for later.
  const park = cx.park;
  const packSized = group.members[m]!.info.output === 'f32' && s.byteLength <= MAX_PART_BYTES;
  if (
    park &&
    !packSized &&
    !group.parkBlocked &&
    !outside &&
    !park.demand.has(s) &&
    s.region === null &&
    (inside >= 2 || park.unparked.has(group.dispatches[m]!))
  ) {
    return 'park';
  }
  // Only results another member reads (intermediates) are packed: a result nothing reads is most
  // likely one the caller keeps, and a kept part would pin the whole pack (up to MAX_PACK_BYTES).
  const readInside = (group.usesInside.get(s) ?? 0) >= 2;
  const packable =
    cx.pack && !outside && readInside && s.region === null && !s.external && group.members[m]!.info.output === 'f32' && s.byteLength <= MAX_PART_BYTES;
  if (!packable) return 'own';
  // Once the pack is full, further results get bindings of their own rather than ending the group
  // (ending it would make a chain of large held results take more kernels than with no pack at all).
  const others = group.packBytes - (group.written[m] === 'pack' ? partBytes(s) : 0);
  return others + partBytes(s) <= MAX_PACK_BYTES ? 'pack' : 'own';
}

export function setWritten(group: Group, m: number, w: Written): void {
  const before = group.written[m];
  if (before === w) return;
  const bytes = partBytes(outputOf(group, m));
  if (before === 'own') group.own--;
  if (before === 'pack') {
    group.packable--;
    group.packBytes -= bytes;
  }
  if (w === 'own') group.own++;
  if (w === 'pack') {
    group.packable++;
    group.packBytes += bytes;
  }
  group.written[m] = w;
}

/**
 * Re-derives where the results of the members that write any of `storages` go (their uses inside
 * the group changed); returns a function that restores the previous state.
 */
export function reclassify(group: Group, storages: readonly Storage[], cx: Context): () => void {
  const before: [number, Written][] = [];
  for (let i = 0; i < storages.length; i++) {
    const s = storages[i]!;
    if (storages.indexOf(s) !== i) continue;
    const m = group.producer.get(s);
    if (m === undefined) continue;
    before.push([m, group.written[m] ?? 'none']);
    setWritten(group, m, classify(group, m, cx));
  }
  return () => {
    for (const [m, w] of before.reverse()) setWritten(group, m, w);
  };
}

/** The group's written members, split into those with a binding of their own and those written into the pack (in member order). */
export function outputsOf(group: Group): { outputs: number[]; packed: number[] } {
  const outputs: number[] = [];
  const packed: number[] = [];
  // A pack of one saves nothing: its member gets a binding of its own.
  const packing = group.packable >= 2;
  group.written.forEach((w, m) => {
    if (w === 'own' || (w === 'pack' && !packing)) outputs.push(m);
    else if (w === 'pack') packed.push(m);
  });
  return { outputs, packed };
}

/**
 * Whether d (at queue index `at`) binds memory that is written after it — later in the queue, by
 * the host once the flush is submitted, by a captured program's replays or by the application. A group with such a member
 * parks nothing: a parked map must find its inputs unchanged whenever it runs. (A later writer of
 * a member's memory depends on the group, so the group is closed before it: this is the same as
 * asking, when it closes, whether anything it binds is written from there on.)
 */
export function blocksParking(d: Dispatch, at: number, cx: Context): boolean {
  const park = cx.park;
  if (!park) return true;
  // Memory written outside the queue: an application's buffer, one handed out by gpuBuffer, and
  // what a captured program binds (its replays write gradients and parameters in place).
  return d.storages.some(
    (s) => s.external || s.handedOut || s.programOwned || s.programHolds > 0 || park.overwritten.has(s) || (cx.lastWrite.get(s) ?? -1) > at,
  );
}

/**
 * The members whose maps the flush parks instead of running (runtime/parking.ts): results too large
 * for a pack (or not float32) that only tensors hold, that no dispatch outside the group reads and
 * nobody asked for, which another member reads in registers (or which were parked before); with
 * them, the members they read in registers that are written nowhere. Parking small results saved
 * GPU work but cost more in JavaScript (their maps outlive the flush until the garbage collector
 * finalises their tensors): the 200-op chain of 256 floats went 24 → 27–28 µs/op in Chromium.
 */
export function parkedMembers(group: Group): Set<number> {
  const parked = new Set<number>();
  if (group.dispatches.length < 2) return parked;
  group.written.forEach((w, m) => w === 'park' && parked.add(m));
  for (let m = group.members.length - 1; m >= 0; m--) {
    if (!parked.has(m)) continue;
    for (const o of group.members[m]!.operands) if ('member' in o && group.written[o.member] === 'none') parked.add(o.member);
  }
  return parked;
}

/** Storage bindings the group's kernel needs: its inputs, its own outputs and the pack. */
export const bindingsOf = (group: Group): number => group.inputs.length + group.own + (group.packable >= 2 ? 1 : group.packable);

export const writtenStorages = (group: Group, outputs: number[]): Storage[] => outputs.map((m) => group.dispatches[m]!.storages.at(-1)!);

/**
 * The storage the packed members' results are parts of (none when nothing is packed): each part
 * gets its offset (also a parameter, in elements), and the pack is held once per part.
 */
export function makePack(group: Group, packed: number[], params: Uint32Array, layout: FusedKernel['layout']): Storage[] {
  if (packed.length === 0) return [];
  const parts = writtenStorages(group, packed);
  let bytes = 0;
  const offsets = parts.map((s) => {
    const at = bytes;
    bytes += partBytes(s);
    return at;
  });
  const pack = new Storage(bytes);
  pack.isPack = true;
  parts.forEach((s, k) => {
    s.pack = pack;
    s.packOffset = offsets[k]!;
    params[(layout.offsets as Record<string, number>)[`p${k}`]!] = offsets[k]! / 4;
  });
  pack.handles = parts.length;
  pack.parts = new Set(parts);
  return [pack];
}
