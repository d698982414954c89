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

/**
 * The kernel for `slots` parameters, with or without momentum; `vectorised`: every array read as
 * vec4<f32> (all sizes multiples of 4; sizes and chunks then count vec4s). Software adapters pay
 * per load and store, not per float: an update of 100k floats took 1.3 ms scalar and 0.6 ms as
 * vec4s on SwiftShader (raw WGSL, timestamps; bench/RESULTS.md, session 9). The arithmetic is the
 * same per float, so the results are the same bits.
 */
function sgdKernelFor(slots: number, momentum: boolean, vectorised: boolean): Kernel {
  const type = vectorised ? 'vec4<f32>' : 'f32';
  const perSlot = momentum ? ['P', 'G', 'B'] : ['P', 'G'];
  const bindings: string[] = [];
  const loops: string[] = [];
  for (let s = 0; s < slots; s++) {
    perSlot.forEach((array, j) => {
      const access = array === 'G' ? 'read' : 'read_write';
      bindings.push(`@group(0) @binding(${1 + s * perSlot.length + j}) var<storage, ${access}> ${array}${s}: array<${type}>;`);
    });
    const body = momentum
      ? [`let r = update(P${s}[i], G${s}[i], B${s}[i]);`, `P${s}[i] = r.p;`, `B${s}[i] = r.buf;`]
      : [`P${s}[i] = update(P${s}[i], G${s}[i], T(0.0)).p;`];
    loops.push(`  for (var i = start; i < end_of(s, ${s}u, start); i = i + WORKGROUP_SIZE) {\n${body.map((l) => `    ${l}\n`).join('')}  }`);
  }
  const source = fillTemplate(sgdSrc, {
    CONSTANTS: `${wgslConstants({ WORKGROUP_SIZE, SGD_CHUNK: vectorised ? SGD_CHUNK / 4 : SGD_CHUNK, SLOTS: slots, MOMENTUM: momentum })}\nalias T = ${type};`,
    PARAMS: SGD_PARAMS.wgsl,
    BINDINGS: bindings.join('\n'),
    SLOT_LOOPS: loops.join('\n'),
  });
  const access = perSlot.map((array) => (array === 'G' ? 'read' : 'rw') as 'read' | 'rw');
  return {
    family: `sgd.${slots}${momentum ? '.momentum' : ''}${vectorised ? '.vec4' : ''}`,
    source,
    entry: 'main',
    bindings: Array.from({ length: slots }, () => access).flat(),
    floatOutputs: true,
  };
}

const kernels = [false, true].map((vectorised) =>
  [false, true].map((momentum) => Array.from({ length: SGD_MAX_SLOTS }, (_, i) => sgdKernelFor(i + 1, momentum, vectorised))),
);

/** The SGD update of `slots` parameters (1 to 4) in one dispatch, with or without momentum buffers, as floats or vec4s. */
export function sgdKernel(slots: number, momentum: boolean, vectorised = false): Kernel {
  const kernel = kernels[vectorised ? 1 : 0]![momentum ? 1 : 0]![slots - 1];
  if (!kernel) throw new RangeError(`internal: an SGD dispatch updates 1 to ${SGD_MAX_SLOTS} parameters, not ${slots}.`);
  return kernel;
}

/** Every SGD kernel, for the start-up compile check. */
export const sgdKernels: readonly Kernel[] = kernels.flat(2);
