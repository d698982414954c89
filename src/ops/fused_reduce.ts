// Reductions with an elementwise prologue: a sum or mean (shaders/reduce.wgsl) whose input is the
// result of a fused group (fused_kernel.ts) computes that result per element as it reads it,
// instead of reading it from memory, so `(a - b).square().sum()` is one dispatch. The reduction
// visits every element of its input exactly once, so members a tensor still holds are written
// from the same place, as the group's own kernel would write them.

import type { Kernel } from '../runtime/pipelines.js';
import { cachedKernel, elementCode, type FusedKernel, type FusedStructure, packBinding, structureKey } from './fused_kernel.js';
import { REDUCE_BODY, REDUCE_FIELDS, reducePerGroupKernel, reducePerOutputKernel } from './kernels.js';
import { WORKGROUP_HEADER } from './shader_constants.js';
import { UniformLayout } from './wgsl.js';

/** The sum kernels a prologue can be fused into, by kernel. */
const REDUCE_ENTRIES = new Map<Kernel, string>([
  [reducePerOutputKernel, reducePerOutputKernel.entry],
  [reducePerGroupKernel, reducePerGroupKernel.entry],
]);

/** Whether a kernel is a sum over [outer, R, inner] whose input (binding 1, read from element 0) may come from a prologue. */
export function isReduction(kernel: Kernel): boolean {
  return REDUCE_ENTRIES.has(kernel);
}

/**
 * The sum kernel `reduction` with a group's structure as its prologue: the reduced input is the
 * value of member `value`. Bindings: the group's inputs, its written members (and their pack), then the sum's output.
 * Parameters: the sum's four words first (as the plain kernel's), then the group's.
 */
export function fusedReduceKernel(structure: FusedStructure, value: number, reduction: Kernel): FusedKernel {
  const entry = REDUCE_ENTRIES.get(reduction);
  if (entry === undefined) throw new Error(`internal: ${reduction.family}.${reduction.entry} is not a reduction a prologue can join.`);
  // One module per structure; each entry point is its own pipeline.
  const family = `fused.reduce.v${value}|${structureKey(structure)}`;
  return cachedKernel(`${family}:${entry}`, () => {
    const code = elementCode(structure, 1);
    const layout = new UniformLayout('Params', { ...REDUCE_FIELDS, ...code.fields });
    const outBinding = 1 + structure.inputs + structure.outputs.length + packBinding(structure).length;
    const source = `${WORKGROUP_HEADER}
${layout.wgsl}
@group(0) @binding(0) var<uniform> P: Params;
${code.bindings.join('\n')}
@group(0) @binding(${outBinding}) var<storage, read_write> OUT: array<f32>;

${code.functions}

// Element i of the reduced input, computed from the group's inputs (and stored where a member is kept).
fn load_x(i: u32) -> f32 {
${code.statements.join('\n')}
  return v${value};
}

${REDUCE_BODY}`;
    const kernel: Kernel = {
      family,
      source,
      entry,
      bindings: [
        ...Array.from({ length: structure.inputs }, () => 'read' as const),
        ...structure.outputs.map(() => 'rw' as const),
        ...packBinding(structure),
        'rw',
      ],
      floatOutputs: structure.outputs.every((m) => structure.members[m]!.info.output === 'f32'),
    };
    return { kernel, layout };
  });
}
