// Code generation for fused elementwise kernels: a group of maps (fused_maps.ts) that share one
// output index space becomes one WGSL kernel that computes every member per element, reading the
// group's external inputs through their own shapes and strides and keeping intermediates in
// registers (float32, int32 or bool values, each in its own type). The grouping itself is
// src/runtime/fusion.ts; a reduction that sums a group's result gets the same per-element code as
// its prologue (fused_reduce.ts).
//
// A kernel depends only on the group's structure (which op reads which load or which earlier
// member, which members are written, how many storages are bound): shapes, strides, offsets and
// scalars are uniform parameters, so a loop that repeats the same chain reuses one pipeline.

import fastdivSrc from '../../shaders/fastdiv.wgsl?raw';
import type { Kernel } from '../runtime/pipelines.js';
import { offsetRankWgsl, shapeDivisorNames } from './divisor.js';
import type { MapInfo } from './fused_maps.js';
import { ELEMENTS_PER_INVOCATION, MAP_HEADER } from './shader_constants.js';
import type { ElementType } from './typed_maps.js';
import { type UniformFieldType, UniformLayout } from './wgsl.js';

/** What a member's operand is: an external load (index into the group's loads) or an earlier member's value. */
export type Operand = { load: number } | { member: number };

/** One member of a fused group: its op and where its operands come from. */
export interface FusedMember {
  info: MapInfo;
  operands: readonly Operand[];
}

/** The structure of a fused group, from which its kernel is generated. */
export interface FusedStructure {
  members: readonly FusedMember[];
  /** Per load, the binding (0-based, among the external inputs) it reads. */
  loadBindings: readonly number[];
  /** Per load, whether it reads element i at its offset + i (contiguous in the output's order): no index arithmetic. */
  directLoads: readonly boolean[];
  /** Per load read through strides, the rank of its padded shape (offsetRank): its offset_r function. */
  loadRanks: readonly number[];
  /** External input storages bound (bindings 1..inputs). */
  inputs: number;
  /** Members whose values are written, in output binding order. */
  outputs: readonly number[];
  /**
   * Members (float32) whose values are written into one shared "pack" binding after the outputs,
   * each at its own element offset (parameter `p<k>`): small results that only tensors hold, so a
   * chain of many of them needs one binding instead of one each (see runtime/fusion.ts).
   */
  packed: readonly number[];
}

/** A generated kernel and the layout of its parameters. */
export interface FusedKernel {
  kernel: Kernel;
  layout: UniformLayout<Record<string, UniformFieldType>>;
}

/** The WGSL pieces that compute a group's members at element `i` (shared by the elementwise and reduction kernels). */
export interface ElementCode {
  /** Uniform fields: a 0, each member's scalar, each load's offset, shape and strides. */
  fields: Record<string, UniformFieldType>;
  /** Storage declarations: inputs from binding `first`, then the written members. */
  bindings: string[];
  /** Helper and op functions, and the offset_r functions with the division they need (when a load reads through strides). */
  functions: string;
  /** Statements: loads, members (v0, v1, …), stores of the written members. */
  statements: string[];
}

export const structureKey = (s: FusedStructure): string =>
  [
    s.members.map((m) => `${m.info.id}(${m.operands.map((o) => ('load' in o ? `l${o.load}` : `m${o.member}`)).join(',')})`).join(';'),
    s.loadBindings.join(','),
    s.directLoads.map((d, l) => (d ? 'd' : `s${s.loadRanks[l]}`)).join(''),
    s.inputs,
    s.outputs.join(','),
    s.packed.join(','),
  ].join('|');

// Offset of output element i in an input of the given shape and strides (dims 0–3, then 4–7).
/** The element type each load is read as (that of the member input it feeds). */
function loadTypes(s: FusedStructure): ElementType[] {
  const types: ElementType[] = s.loadBindings.map(() => 'f32');
  for (const m of s.members) {
    m.operands.forEach((o, k) => {
      if ('load' in o) types[o.load] = m.info.types[k]!;
    });
  }
  return types;
}

/** fastdiv and one offset_r function per rank its strided loads have (none when every load is direct). */
function offsetFunctions(s: FusedStructure): string[] {
  const ranks = new Set(s.loadRanks.filter((_, l) => !s.directLoads[l]));
  return ranks.size === 0 ? [] : [fastdivSrc, ...[...ranks].sort().map(offsetRankWgsl)];
}

/** The per-element code of a group whose input storages are bound from binding `first` on. */
export function elementCode(s: FusedStructure, first: number): ElementCode {
  const fields: Record<string, UniformFieldType> = { zero: 'u32' };
  s.members.forEach((_, m) => {
    fields[`s${m}`] = 'f32';
  });
  s.loadBindings.forEach((_, l) => {
    fields[`l${l}_off`] = 'u32';
  });
  s.packed.forEach((_, k) => {
    fields[`p${k}`] = 'u32';
  });
  s.loadBindings.forEach((_, l) => {
    Object.assign(fields, { [`l${l}_shape0`]: 'vec4<u32>', [`l${l}_shape1`]: 'vec4<u32>', [`l${l}_strides0`]: 'vec4<u32>', [`l${l}_strides1`]: 'vec4<u32>' });
    // A load read through strides finds its coordinates with the divisors of its shape's dims 1–7.
    if (!s.directLoads[l]) for (const name of shapeDivisorNames(`l${l}_`)) fields[name] = 'vec4<u32>';
  });
  // A storage read as one type is bound as that type; one read as several (an int32 tensor also
  // copied as raw words) is bound as u32 and each load reinterprets its bits.
  const types = loadTypes(s);
  const bindingTypes = Array.from({ length: s.inputs }, (_, b) => {
    const seen = new Set(types.filter((_, l) => s.loadBindings[l] === b));
    return seen.size === 1 ? [...seen][0]! : 'u32';
  });
  const bindings = [
    ...bindingTypes.map((t, b) => `@group(0) @binding(${first + b}) var<storage, read> IN${b}: array<${t}>;`),
    ...s.outputs.map((m, o) => `@group(0) @binding(${first + s.inputs + o}) var<storage, read_write> OUT${m}: array<${s.members[m]!.info.output}>;`),
    ...(s.packed.length > 0 ? [`@group(0) @binding(${first + s.inputs + s.outputs.length}) var<storage, read_write> PACK: array<f32>;`] : []),
  ];
  const loads = s.loadBindings.map((b, l) => {
    const at = s.directLoads[l] ? 'i' : `offset_r${s.loadRanks[l]}(i, ${shapeDivisorNames(`P.l${l}_`).join(', ')}, P.l${l}_strides0, P.l${l}_strides1)`;
    const word = `IN${b}[P.l${l}_off + ${at}]`;
    return `  let l${l} = ${bindingTypes[b] === types[l] ? word : `bitcast<${types[l]}>(${word})`};`;
  });
  const members = s.members.map((m, k) => {
    const args = m.operands.map((o, j) => {
      if ('load' in o) return `l${o.load}`;
      const from = s.members[o.member]!.info.output;
      const to = m.info.types[j]!;
      return from === to ? `v${o.member}` : `bitcast<${to}>(v${o.member})`;
    });
    const call = `op_${m.info.id}(${args.join(', ')}, P.s${k})`;
    // A float value is XORed with a uniform 0 the compiler cannot see through: it is rounded to
    // float32 as if stored, so no multiply-add is contracted and no sqrt(x)² folded across ops,
    // and fused results equal unfused ones bit for bit. Integers and bools are exact already.
    return m.info.output === 'f32' ? `  let v${k} = bitcast<f32>(bitcast<u32>(${call}) ^ P.zero);` : `  let v${k} = ${call};`;
  });
  const stores = [...s.outputs.map((m) => `  OUT${m}[i] = v${m};`), ...s.packed.map((m, k) => `  PACK[P.p${k} + i] = v${m};`)];
  const helpers = new Set<string>();
  const fns = new Map<string, string>();
  for (const { info } of s.members) {
    for (const h of info.helpers) helpers.add(h);
    fns.set(info.id, info.fn);
  }
  return {
    fields,
    bindings,
    functions: [...offsetFunctions(s), ...helpers, ...fns.values()].join('\n'),
    statements: [...loads, ...members, ...stores],
  };
}

/** The pack's binding, when the structure has one. */
export const packBinding = (s: FusedStructure): 'rw'[] => (s.packed.length > 0 ? ['rw'] : []);

// Kernels by structure; bounded so a program that keeps making new structures cannot grow it for ever.
const MAX_CACHED = 512;
const cache = new Map<string, FusedKernel>();

/** A kernel cached by `key`, generated on first use; shared by the elementwise and reduction generators. */
export function cachedKernel(key: string, make: () => FusedKernel): FusedKernel {
  let fused = cache.get(key);
  if (!fused) {
    if (cache.size >= MAX_CACHED) cache.clear();
    fused = make();
    cache.set(key, fused);
  }
  return fused;
}

/** The kernel of a group's structure (generated once per structure). */
export function fusedKernel(structure: FusedStructure): FusedKernel {
  const key = structureKey(structure);
  return cachedKernel(`map|${key}`, () => generate(structure, key));
}

function generate(structure: FusedStructure, key: string): FusedKernel {
  const code = elementCode(structure, 1);
  // n first: the fusion pass reads a dispatch's element count from its first word.
  const layout = new UniformLayout('Params', { n: 'u32', ...code.fields });
  const source = `${MAP_HEADER}
${layout.wgsl}
@group(0) @binding(0) var<uniform> P: Params;
${code.bindings.join('\n')}

fn flat(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

${code.functions}

// Each invocation maps ELEMENTS_PER_INVOCATION elements, one grid's width apart (as elementwise.wgsl).
@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let width = groups.x * groups.y * WORKGROUP_SIZE;
  for (var e = 0u; e < ELEMENTS_PER_INVOCATION; e = e + 1u) {
  let i = flat(gid, groups) + e * width;
  if (i >= P.n) { return; }
${code.statements.join('\n')}
  }
}
`;
  const kernel: Kernel = {
    family: `fused.${key}`,
    source,
    entry: 'main',
    bindings: [...Array.from({ length: structure.inputs }, () => 'read' as const), ...structure.outputs.map(() => 'rw' as const), ...packBinding(structure)],
    floatOutputs: structure.outputs.every((m) => structure.members[m]!.info.output === 'f32'),
    perInvocation: ELEMENTS_PER_INVOCATION,
  };
  return { kernel, layout };
}
