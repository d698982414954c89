// Automatic fusion of elementwise maps at flush (and when a captured step is planned): live maps
// over the same number of elements (float32 math, comparisons, casts, where; src/ops/fused_maps.ts)
// become one generated kernel (src/ops/fused_kernel.ts) that computes them per element in registers.
//
// A group need not be a run of adjacent dispatches: a dispatch that neither reads what an open
// group writes nor writes what it reads or writes is emitted before the group, which stays open
// (a maskedFill's one-element fill, the reduction of another gradient, a map over another number
// of elements that opens a group of its own). Groups that a dispatch depends on are closed, i.e.
// emitted, before it, so every dispatch still sees what it saw in recording order.
//
// A member's value is passed on in a register only where its reader sees it at the same element
// (offset 0, contiguous strides); any other reader (a broadcast, a transposed view) ends the group,
// as does any other dispatch that depends on it, except a sum or mean of one member's elements,
// which takes the group in as its prologue (src/ops/fused_reduce.ts). A member's result is still written to memory when
// a tensor holds it (the user's, or one saved for backward) or a dispatch outside the group reads
// it; results nobody can see never get a buffer. Members keep their order, and a group never
// reads a storage it writes except through registers, so no invocation sees another's writes.
//
// Results that only tensors hold and that another member reads (no other dispatch of the flush
// reads them: typically the intermediates of eager code the user has dropped but the garbage
// collector has not yet finalised) share one "pack" binding instead of one binding each: a chain
// of 200 eager ops is then one kernel, not one per binding limit. Each such result is a part of the
// pack's memory (Storage.pack); the pack goes back to the pool once every part is released. Only
// small results are packed, and not a group's final results (most likely the ones kept), so a
// long-lived part pins little memory; captured programs keep one buffer each. Such results too
// large for a pack are not written at all while a flush allows it: their maps are parked
// (runtime/parking.ts) and run only if something needs their values.

import { offsetRank, shapeDivisors } from '../ops/divisor.js';
import { type FusedKernel, type FusedStructure, fusedKernel, type Operand } from '../ops/fused_kernel.js';
import { type MapInfo, mapInfo } from '../ops/fused_maps.js';
import { fusedReduceKernel, isReduction } from '../ops/fused_reduce.js';
import { type Dispatch, mapGrid } from './dispatch.js';
import {
  bindingsOf,
  blocksParking,
  type Context,
  contiguous,
  countUses,
  field,
  Group,
  inputReadsSameElement,
  type Load,
  loadWords,
  MAX_PACK_BYTES,
  makePack,
  outputsOf,
  type ParkOptions,
  parkedMembers,
  reclassify,
  writtenStorages,
} from './fusion_group.js';
import { liveDispatches } from './plan.js';
import type { Storage } from './storage.js';

/** Members per fused kernel at most: bounds its source, its compile time and its parameter block. */
const MAX_MEMBERS = 256;
/** Parameter bytes per kernel at most (WebGPU's guaranteed uniform binding size is 64 KiB). */
const MAX_PARAM_BYTES = 16384;
/** Groups open at once at most (each over its own element count). */
const MAX_OPEN = 4;
/** Bytes of parameters per load at most: offset plus shape and strides (four vec4s) and seven divisors (vec4s). */
const LOAD_BYTES = 180;
/**
 * Adds a recorded map to the group, or returns false (the group unchanged) when it cannot join:
 * a different element count, a reader that sees a member's result at another element, a write
 * to a storage the group reads, or a kernel past the binding or parameter limits.
 */
function tryAdd(group: Group, d: Dispatch, at: number, info: MapInfo, cx: Context): boolean {
  if (d.params[0] !== group.n || group.members.length >= MAX_MEMBERS) return false;
  const out = d.storages[d.storages.length - 1]!;
  if (group.read.has(out) || group.producer.has(out) || d.storages.indexOf(out) !== d.storages.length - 1) return false;
  const operands: Operand[] = [];
  const newLoads: Load[] = [];
  const newInputs: Storage[] = [];
  for (let k = 0; k < info.inputs.length; k++) {
    const s = d.storages[k]!;
    const producer = group.producer.get(s);
    if (producer !== undefined) {
      if (!inputReadsSameElement(d, info, k)) return false;
      operands.push({ member: producer });
      continue;
    }
    operands.push({ load: group.loads.length + newLoads.length });
    newLoads.push({ storage: s, words: loadWords(d, info, k) });
    if (!group.inputs.includes(s) && !newInputs.includes(s)) newInputs.push(s);
  }
  const loads = group.loads.length + newLoads.length;
  // Per member: its scalar, and its offset in the pack.
  if ((group.members.length + 1) * 8 + loads * LOAD_BYTES > MAX_PARAM_BYTES) return false;
  // Commit, then check the bindings the kernel would need; undo when past the limit.
  group.dispatches.push(d);
  group.members.push({ info, operands });
  group.scalars.push(d.params[field(info, 'scalar')]!);
  group.loads.push(...newLoads);
  group.inputs.push(...newInputs);
  group.producer.set(out, group.members.length - 1);
  for (const l of newLoads) group.read.add(l.storage);
  for (const s of d.storages) group.usesInside.set(s, (group.usesInside.get(s) ?? 0) + 1);
  group.written.push('none');
  // A member that binds memory written later stops the group from parking: every member is classified again.
  const wasBlocked = group.parkBlocked;
  group.parkBlocked ||= blocksParking(d, at, cx);
  const restore = reclassify(group, group.parkBlocked !== wasBlocked ? [...group.producer.keys()] : d.storages, cx);
  if (bindingsOf(group) <= cx.maxBindings && group.packBytes <= MAX_PACK_BYTES) return true;
  // Undo, in reverse.
  restore();
  group.parkBlocked = wasBlocked;
  group.written.pop();
  group.dispatches.pop();
  group.members.pop();
  group.scalars.pop();
  group.loads.splice(group.loads.length - newLoads.length);
  group.inputs.splice(group.inputs.length - newInputs.length);
  group.producer.delete(out);
  for (const l of newLoads) if (!group.loads.some((g) => g.storage === l.storage)) group.read.delete(l.storage);
  for (const s of d.storages) group.usesInside.set(s, group.usesInside.get(s)! - 1);
  return false;
}

/** The structure of a group whose members `outputs` are written to bindings of their own and `packed` into its pack. */
const structureOf = (group: Group, outputs: number[], packed: number[]): FusedStructure => ({
  members: group.members,
  loadBindings: group.loads.map((l) => group.inputs.indexOf(l.storage)),
  directLoads: group.loads.map((l) => contiguous(l.words)),
  loadRanks: group.loads.map((l) => offsetRank(l.words.subarray(1, 9))),
  inputs: group.inputs.length,
  outputs,
  packed,
});

/** Where a fused kernel's parameters hold each member's scalar and each load's words (found once per kernel). */
interface GroupFields {
  scalars: number[];
  /** Per load: offset, shape0, shape1, strides0, strides1, and its first divisor (−1: read directly, no divisors). */
  loads: [number, number, number, number, number, number][];
}
const groupFieldCache = new WeakMap<FusedKernel['layout'], GroupFields>();
function groupFields(layout: FusedKernel['layout'], group: Group): GroupFields {
  let fields = groupFieldCache.get(layout);
  if (!fields) {
    const at = layout.offsets as Record<string, number>;
    fields = {
      scalars: group.scalars.map((_, m) => at[`s${m}`]!),
      loads: group.loads.map((_, i) => [
        at[`l${i}_off`]!,
        at[`l${i}_shape0`]!,
        at[`l${i}_shape1`]!,
        at[`l${i}_strides0`]!,
        at[`l${i}_strides1`]!,
        `l${i}_div1` in at ? at[`l${i}_div1`]! : -1,
      ]),
    };
    for (const [i, l] of fields.loads.entries()) {
      if (l[5] >= 0 && at[`l${i}_div7`] !== l[5] + 24) throw new Error(`internal: load ${i}'s divisor fields are not consecutive`);
    }
    groupFieldCache.set(layout, fields);
  }
  return fields;
}

/** Writes the group's scalars and loads into a fused kernel's parameters. */
function setGroupParams(params: Uint32Array, layout: FusedKernel['layout'], group: Group): void {
  const fields = groupFields(layout, group);
  group.scalars.forEach((bits, m) => {
    params[fields.scalars[m]!] = bits;
  });
  group.loads.forEach((l, i) => {
    const [off, shape0, shape1, strides0, strides1, div1] = fields.loads[i]!;
    const w = l.words;
    params[off] = w[0]!;
    for (let c = 0; c < 4; c++) {
      params[shape0 + c] = w[1 + c]!;
      params[shape1 + c] = w[5 + c]!;
      params[strides0 + c] = w[9 + c]!;
      params[strides1 + c] = w[13 + c]!;
    }
    // Loads the kernel reads through strides get the divisors of their shape's dims 1–7 (consecutive vec4s).
    if (div1 >= 0) shapeDivisors(w.subarray(1, 9)).forEach((d, k) => params.set(d, div1 + 4 * k));
  });
}

/** What closing a group gives: its dispatch (none when it writes nothing) and the members it parks. */
interface Closed {
  dispatch: Dispatch | null;
  parked: Set<number>;
}

/** The one dispatch of a closed group (its own dispatch when it has one member). */
function fusedDispatch(group: Group): Closed {
  if (group.dispatches.length === 1) return { dispatch: group.dispatches[0]!, parked: new Set() };
  const parked = parkedMembers(group);
  const { outputs, packed } = outputsOf(group);
  if (outputs.length === 0 && packed.length === 0) return { dispatch: null, parked };
  const { kernel, layout } = fusedKernel(structureOf(group, outputs, packed));
  const params = new Uint32Array(layout.words);
  params[(layout.offsets as Record<string, number>).n!] = group.n;
  setGroupParams(params, layout, group);
  const pack = makePack(group, packed, params, layout);
  return {
    dispatch: { kernel, params, storages: [...group.inputs, ...writtenStorages(group, outputs), ...pack], workgroups: mapGrid(kernel, group.n) },
    parked,
  };
}

/** Runs `fn` with the reduction's bindings counted as the group's own, as they are once it is fused in. */
function withReduction<T>(group: Group, reduction: Dispatch, cx: Context, fn: () => T): T {
  for (const s of reduction.storages) group.usesInside.set(s, (group.usesInside.get(s) ?? 0) + 1);
  const restore = reclassify(group, reduction.storages, cx);
  try {
    return fn();
  } finally {
    restore();
    for (const s of reduction.storages) group.usesInside.set(s, group.usesInside.get(s)! - 1);
  }
}

/** Whether the group's kernel with the sum fused in stays within the binding limit. */
function fitsWithReduction(group: Group, reduction: Dispatch, cx: Context): boolean {
  return withReduction(group, reduction, cx, () => bindingsOf(group) + 1 <= cx.maxBindings && group.packBytes <= MAX_PACK_BYTES);
}

/**
 * The sum `reduction` with the group as its prologue: its input, the group's member `value`, is
 * computed as it is read; the group's other results are written where something still needs them.
 */
function reductionDispatch(group: Group, reduction: Dispatch, cx: Context): Closed {
  const { outputs, packed, parked } = withReduction(group, reduction, cx, () => {
    const parked = parkedMembers(group);
    return { ...outputsOf(group), parked };
  });
  const value = group.producer.get(reduction.storages[0]!)!;
  const { kernel, layout } = fusedReduceKernel(structureOf(group, outputs, packed), value, reduction.kernel);
  const params = new Uint32Array(layout.words);
  // The sum's own words (outer, R, inner, scale) lead both layouts.
  params.set(reduction.params.subarray(0, 4));
  setGroupParams(params, layout, group);
  const pack = makePack(group, packed, params, layout);
  return {
    dispatch: {
      kernel,
      params,
      storages: [...group.inputs, ...writtenStorages(group, outputs), ...pack, reduction.storages[1]!],
      workgroups: reduction.workgroups,
    },
    parked,
  };
}

let enabled = true;

/** Switches fusion on or off for later flushes and captures (off: every map is its own dispatch). */
export function setFusion(on: boolean): void {
  enabled = on;
}

/** Whether fusion is on. */
export function fusionEnabled(): boolean {
  return enabled;
}

const aliases = (a: Storage, b: Storage): boolean => a === b || (a.external && b.external && a.buffer === b.buffer);

/**
 * Whether `d` must come after the group's fused dispatch: it binds a storage the group writes, or
 * writes one the group reads. Otherwise d may run before the group's members.
 */
function dependsOn(d: Dispatch, group: Group): boolean {
  return d.storages.some((s, b) => {
    if (group.producer.has(s)) return true;
    if (d.kernel.bindings[b] !== 'rw') return false;
    if (group.read.has(s)) return true;
    if (!s.external) return false;
    for (const r of [...group.read, ...group.producer.keys()]) if (aliases(r, s)) return true;
    return false;
  });
}

/**
 * The queue with groups of fusable maps replaced by fused dispatches. Recorded-use counts are moved
 * from the replaced dispatches to the fused ones, and results that no longer exist anywhere (kept
 * in registers) are marked released, so planning and the walk see a consistent queue.
 */
export function fuseQueue(queue: Dispatch[], maxBindings: number, pack = true, park: ParkOptions | null = null): Dispatch[] {
  if (!enabled) return queue;
  const live = liveDispatches(queue);
  const lastWrite = new Map<Storage, number>();
  if (park) queue.forEach((d, i) => d.storages.forEach((s, b) => d.kernel.bindings[b] === 'rw' && lastWrite.set(s, i)));
  const cx: Context = { uses: countUses(queue), maxBindings, pack, park, lastWrite };
  const result: Dispatch[] = [];
  // Open groups in the order they were opened; at most one per element count.
  let open: Group[] = [];
  // Closes a group: its fused dispatch (with `reduction` fused in, when given)
  // replaces its members; parked members keep their recorded uses (they may run later).
  const close = (group: Group, reduction?: Dispatch): void => {
    open = open.filter((g) => g !== group);
    const closed = reduction ? reductionDispatch(group, reduction, cx) : fusedDispatch(group);
    const fused = closed.dispatch;
    if (fused !== group.dispatches[0]) {
      group.dispatches.forEach((d, m) => {
        if (!closed.parked.has(m)) for (const s of d.storages) s.pendingUses--;
      });
      if (reduction) for (const s of reduction.storages) s.pendingUses--;
      for (const s of fused?.storages ?? []) s.pendingUses++;
      const kept = new Set(fused?.storages ?? []);
      // Results kept in registers exist nowhere; packed ones live in the pack; parked ones may be made later.
      group.producer.forEach((m, s) => {
        if (!kept.has(s) && s.pack === null && !closed.parked.has(m)) s.released = true;
      });
    }
    if (fused) result.push(fused);
    // In member order (a parked member's parked operands come before it); groups park independently of each other.
    for (const m of [...closed.parked].sort((a, b) => a - b)) park!.parked.push(group.dispatches[m]!);
  };
  queue.forEach((d, i) => {
    const plain = live[i] && !d.refresh && !d.valid && !d.constants;
    if (plain && isReduction(d.kernel)) {
      // A sum of exactly one group member's elements, read from element 0 on: the group becomes its prologue.
      const count = d.params[0]! * d.params[1]! * d.params[2]!;
      const producer = open.find((g) => g.producer.has(d.storages[0]!) && g.n === count && fitsWithReduction(g, d, cx));
      if (producer) {
        for (const g of [...open]) if (g !== producer && dependsOn(d, g)) close(g);
        close(producer, d);
        return;
      }
    }
    const info = plain ? mapInfo(d.kernel) : undefined;
    const n = d.params[0]!;
    const target = info && n > 0 ? open.find((g) => g.n === n) : undefined;
    // Groups d depends on run first; the one it may join passes values in registers instead.
    for (const g of [...open]) if (g !== target && dependsOn(d, g)) close(g);
    if (!info || n === 0) {
      result.push(d);
      return;
    }
    if (target) {
      if (tryAdd(target, d, i, info, cx)) return;
      close(target);
    }
    const group = new Group(n);
    if (!tryAdd(group, d, i, info, cx)) {
      result.push(d);
      return;
    }
    open.push(group);
    if (open.length > MAX_OPEN) close(open[0]!);
  });
  for (const g of [...open]) close(g);
  return result;
}
