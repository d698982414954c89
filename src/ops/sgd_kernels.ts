// The SGD update's kernels (shaders/sgd.wgsl, a template): 1 to 4 parameters per dispatch, with or
// without momentum buffers. sgd_update.ts decides how parameters are dealt out to dispatches;
// kernels.ts lists these among every op kernel.
import sgdSrc from '../../shaders/sgd.wgsl?raw';
import type { Kernel } from '../runtime/pipelines.js';
import { SGD_CHUNK, WORKGROUP_SIZE } from './shader_constants.js';
import { fillTemplate, UniformLayout, wgslConstants } from './wgsl.js';

/** The SGD update's parameters: each slot's size and running workgroup total, then the settings. */
export const SGD_PARAMS = new UniformLayout('Params', {
  sizes: 'vec4<u32>',
  group_ends: 'vec4<u32>',
  first_step: 'u32',
  nesterov: 'u32',
  lr: 'f32',
  momentum: 'f32',
  dampening: 'f32',
  weight_decay: 'f32',
});

/** Parameters one SGD dispatch updates at most. */
export const SGD_MAX_SLOTS = 4;

function sgdKernelFor(slots: number, momentum: boolean): Kernel {
  const perSlot = momentum ? ['P', 'G', 'B'] : ['P', 'G'];
  const bindings: string[] = [];
  const loops: string[] = [];
  for (let s = 0; s < slots; s++) {
    perSlot.forEach((array, j) => {
      const access = array === 'G' ? 'read' : 'read_write';
      bindings.push(`@group(0) @binding(${1 + s * perSlot.length + j}) var<storage, ${access}> ${array}${s}: array<f32>;`);
    });
    const body = momentum
      ? [`let r = update(P${s}[i], G${s}[i], B${s}[i]);`, `P${s}[i] = r.x;`, `B${s}[i] = r.y;`]
      : [`P${s}[i] = update(P${s}[i], G${s}[i], 0.0).x;`];
    loops.push(`  for (var i = start; i < end_of(s, ${s}u, start); i = i + WORKGROUP_SIZE) {\n${body.map((l) => `    ${l}\n`).join('')}  }`);
  }
  const source = fillTemplate(sgdSrc, {
    CONSTANTS: wgslConstants({ WORKGROUP_SIZE, SGD_CHUNK, SLOTS: slots, MOMENTUM: momentum }),
    PARAMS: SGD_PARAMS.wgsl,
    BINDINGS: bindings.join('\n'),
    SLOT_LOOPS: loops.join('\n'),
  });
  const access = perSlot.map((array) => (array === 'G' ? 'read' : 'rw') as 'read' | 'rw');
  return {
    family: `sgd.${slots}${momentum ? '.momentum' : ''}`,
    source,
    entry: 'main',
    bindings: Array.from({ length: slots }, () => access).flat(),
    floatOutputs: true,
  };
}

const bySlots = [false, true].map((momentum) => Array.from({ length: SGD_MAX_SLOTS }, (_, i) => sgdKernelFor(i + 1, momentum)));

/** The SGD update of `slots` parameters (1 to 4) in one dispatch, with or without momentum buffers. */
export function sgdKernel(slots: number, momentum: boolean): Kernel {
  const kernel = bySlots[momentum ? 1 : 0]![slots - 1];
  if (!kernel) throw new RangeError(`internal: an SGD dispatch updates 1 to ${SGD_MAX_SLOTS} parameters, not ${slots}.`);
  return kernel;
}

/** Every SGD kernel, for the start-up compile check. */
export const sgdKernels: readonly Kernel[] = bySlots.flat();
