// Code generation for fused elementwise kernels: a group of float32 maps of the op table
// (elementwise_ops.ts) that share one output index space becomes one WGSL kernel that computes
// every member per element, reading the group's external inputs through their own shapes and
// strides and keeping intermediates in registers. The grouping itself is src/runtime/fusion.ts.
//
// A kernel depends only on the group's structure (which op reads which load or which earlier
// member, which members are written, how many storages are bound): shapes, strides, offsets and
// scalars are uniform parameters, so a loop that repeats the same chain reuses one pipeline.

import type { Kernel } from '../runtime/pipelines.js';
import { BINARY_OPS, MATH_FUNCTIONS, UNARY_OPS } from './elementwise_ops.js';
import { BINARY_PARAMS, binaryFunction, binaryKernels, UNARY_PARAMS, unaryFunction, unaryKernels } from './kernels.js';
import { WORKGROUP_HEADER } from './shader_constants.js';
import { type UniformFieldType, UniformLayout } from './wgsl.js';

/** What a member's operand is: an external load (index into the group's loads) or an earlier member's value. */
export type Operand = { load: number } | { member: number };

/** A fusable map as the fusion pass sees a recorded dispatch of it. */
export interface MapInfo {
  kind: 'unary' | 'binary';
  name: string;
  /** The input names of its parameter layout ('x', or 'a' and 'b'), in binding order. */
  inputs: readonly string[];
  layout: UniformLayout<Record<string, UniformFieldType>>;
}

const fusable = new Map<Kernel, MapInfo>();
for (const [name, kernel] of Object.entries(unaryKernels)) fusable.set(kernel, { kind: 'unary', name, inputs: ['x'], layout: UNARY_PARAMS });
for (const [name, kernel] of Object.entries(binaryKernels)) fusable.set(kernel, { kind: 'binary', name, inputs: ['a', 'b'], layout: BINARY_PARAMS });

/** The map a kernel computes, when it is one fusion can compose (float32 unary and binary maps). */
export function mapInfo(kernel: Kernel): MapInfo | undefined {
  return fusable.get(kernel);
}

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
  /** External input storages bound (bindings 1..inputs). */
  inputs: number;
  /** Members whose values are written, in output binding order. */
  outputs: readonly number[];
}

/** A generated kernel and the layout of its parameters. */
export interface FusedKernel {
  kernel: Kernel;
  layout: UniformLayout<Record<string, UniformFieldType>>;
}

// Kernels by structure; bounded so a program that keeps making new structures cannot grow it for ever.
const MAX_CACHED = 512;
const cache = new Map<string, FusedKernel>();

const structureKey = (s: FusedStructure): string =>
  [
    s.members.map((m) => `${m.info.name}(${m.operands.map((o) => ('load' in o ? `l${o.load}` : `m${o.member}`)).join(',')})`).join(';'),
    s.loadBindings.join(','),
    s.inputs,
    s.outputs.join(','),
  ].join('|');

/** The kernel of a group's structure (generated once per structure). */
export function fusedKernel(structure: FusedStructure): FusedKernel {
  const key = structureKey(structure);
  let fused = cache.get(key);
  if (!fused) {
    if (cache.size >= MAX_CACHED) cache.clear();
    fused = generate(structure, key);
    cache.set(key, fused);
  }
  return fused;
}

/** The parameters of a group: n, a 0 (see generate), each member's scalar, each load's offset, shape and strides. */
function layoutFor(structure: FusedStructure): UniformLayout<Record<string, UniformFieldType>> {
  const fields: Record<string, UniformFieldType> = { n: 'u32', zero: 'u32' };
  structure.members.forEach((_, m) => {
    fields[`s${m}`] = 'f32';
  });
  structure.loadBindings.forEach((_, l) => {
    fields[`l${l}_off`] = 'u32';
  });
  structure.loadBindings.forEach((_, l) => {
    Object.assign(fields, { [`l${l}_shape0`]: 'vec4<u32>', [`l${l}_shape1`]: 'vec4<u32>', [`l${l}_strides0`]: 'vec4<u32>', [`l${l}_strides1`]: 'vec4<u32>' });
  });
  return new UniformLayout('Params', fields);
}

function generate(structure: FusedStructure, key: string): FusedKernel {
  const layout = layoutFor(structure);
  const functions = new Map<string, string>();
  for (const { info } of structure.members) {
    if (functions.has(info.name)) continue;
    functions.set(
      info.name,
      info.kind === 'unary'
        ? unaryFunction(info.name, UNARY_OPS[info.name as keyof typeof UNARY_OPS])
        : binaryFunction(info.name, BINARY_OPS[info.name as keyof typeof BINARY_OPS]),
    );
  }
  const functionSource = [...functions.values()].join('\n');
  const bindings = [
    ...Array.from({ length: structure.inputs }, (_, b) => `@group(0) @binding(${b + 1}) var<storage, read> IN${b}: array<f32>;`),
    ...structure.outputs.map((m, o) => `@group(0) @binding(${structure.inputs + o + 1}) var<storage, read_write> OUT${m}: array<f32>;`),
  ];
  const loads = structure.loadBindings.map(
    (b, l) => `  let l${l} = IN${b}[P.l${l}_off + offset_of(i, P.l${l}_shape0, P.l${l}_shape1, P.l${l}_strides0, P.l${l}_strides1)];`,
  );
  const body = structure.members.map((m, k) => {
    const args = m.operands.map((o) => ('load' in o ? `l${o.load}` : `v${o.member}`));
    // XOR with a uniform 0 the compiler cannot see through: each value is rounded to float32 as
    // if stored, so no multiply-add is contracted and no sqrt(x)² folded across ops, and fused
    // results equal unfused ones bit for bit.
    return `  let v${k} = bitcast<f32>(bitcast<u32>(op_${m.info.name}(${args.join(', ')}, P.s${k})) ^ P.zero);`;
  });
  const stores = structure.outputs.map((m) => `  OUT${m}[i] = v${m};`);
  const source = `${WORKGROUP_HEADER}
${layout.wgsl}
@group(0) @binding(0) var<uniform> P: Params;
${bindings.join('\n')}

fn flat(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

// Offset of output element i in an input of the given shape and strides (dims 0–3, then 4–7).
fn offset_of(i: u32, n0: vec4<u32>, n1: vec4<u32>, s0: vec4<u32>, s1: vec4<u32>) -> u32 {
  var r = i;
  var off = 0u;
  for (var d = 3; d >= 0 && r != 0u; d = d - 1) {
    off = off + (r % n1[d]) * s1[d];
    r = r / n1[d];
  }
  for (var d = 3; d >= 0 && r != 0u; d = d - 1) {
    off = off + (r % n0[d]) * s0[d];
    r = r / n0[d];
  }
  return off;
}

${functionSource.includes('m_') ? MATH_FUNCTIONS : ''}
${functionSource}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat(gid, groups);
  if (i >= P.n) { return; }
${loads.join('\n')}
${body.join('\n')}
${stores.join('\n')}
}
`;
  const kernel: Kernel = {
    family: `fused.${key}`,
    source,
    entry: 'main',
    bindings: [...Array.from({ length: structure.inputs }, () => 'read' as const), ...structure.outputs.map(() => 'rw' as const)],
    floatOutputs: true,
  };
  return { kernel, layout };
}
