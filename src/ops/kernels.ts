// Every WGSL entry point webgrad dispatches, with the bindings and uniform layouts it declares. The
// sources are bundled from shaders/*.wgsl at build time (nothing is fetched at run time); those
// that are templates are filled in here from TypeScript declarations: the elementwise op table,
// the shared constants (shader_constants.ts) and the uniform layouts below.

import adamSrc from '../../shaders/adam.wgsl?raw';
import argmaxSrc from '../../shaders/argmax.wgsl?raw';
import crossEntropySrc from '../../shaders/cross_entropy.wgsl?raw';
import elementwiseSrc from '../../shaders/elementwise.wgsl?raw';
import extremumSrc from '../../shaders/extremum.wgsl?raw';
import matmulSrc from '../../shaders/matmul.wgsl?raw';
import matmulCommonSrc from '../../shaders/matmul_common.wgsl?raw';
import matmulTiledSrc from '../../shaders/matmul_tiled.wgsl?raw';
import momentsSrc from '../../shaders/moments.wgsl?raw';
import nllLossSrc from '../../shaders/nll_loss.wgsl?raw';
import nllLossBackwardSrc from '../../shaders/nll_loss_backward.wgsl?raw';
import normSrc from '../../shaders/norm.wgsl?raw';
import reduceSrc from '../../shaders/reduce.wgsl?raw';
import sgdSrc from '../../shaders/sgd.wgsl?raw';
import softmaxSrc from '../../shaders/softmax.wgsl?raw';
import type { Kernel } from '../runtime/pipelines.js';
import { BINARY_OPS, type BinaryOpName, UNARY_OPS, type UnaryOpName } from './elementwise_ops.js';
import { MATMUL_BLOCK, MATMUL_TILE_ELEMENTS, SGD_CHUNK, WORKGROUP_HEADER, WORKGROUP_SIZE } from './shader_constants.js';
import { fillTemplate, type UniformFieldType, UniformLayout, wgslConstants } from './wgsl.js';

const k = (family: string, source: string, entry: string, bindings: Kernel['bindings'], floatOutputs = true): Kernel => ({
  family,
  source,
  entry,
  bindings,
  floatOutputs,
});

const mapValues = <K extends string, V, W>(table: Record<K, V>, f: (key: K, value: V) => W): Record<K, W> =>
  Object.fromEntries(Object.entries(table).map(([key, value]) => [key, f(key as K, value as V)])) as Record<K, W>;

// --- matmul ---------------------------------------------------------------------------------

/** The parameters of both matmul kernels: C[M, N] = A[M, K]·B[K, N], operands through strides. */
export const MATMUL_PARAMS = new UniformLayout('Params', {
  M: 'u32',
  N: 'u32',
  K: 'u32',
  a_off: 'u32',
  a_rs: 'u32',
  a_cs: 'u32',
  b_off: 'u32',
  b_rs: 'u32',
  b_cs: 'u32',
});

/** The WGSL function of a unary op of the table: `fn op_relu(x: f32, s: f32) -> f32 { … }`. */
export function unaryFunction(name: string, expression: string): string {
  return `fn op_${name}(x: f32, s: f32) -> f32 { return ${expression}; }`;
}

/** The WGSL function of a binary op of the table: `fn op_add(a: f32, b: f32, s: f32) -> f32 { … }`. */
export function binaryFunction(name: string, expression: string): string {
  return `fn op_${name}(a: f32, b: f32, s: f32) -> f32 { return ${expression}; }`;
}

const matmulSource = (kernelSrc: string): string =>
  [
    wgslConstants({ BLOCK: MATMUL_BLOCK, TILE_ELEMENTS: MATMUL_TILE_ELEMENTS }),
    fillTemplate(matmulCommonSrc, { PARAMS: MATMUL_PARAMS.wgsl, FUNCTIONS: unaryFunction('relu', UNARY_OPS.relu) }),
    kernelSrc,
  ].join('\n');

const matmulFull = matmulSource(matmulSrc);
const matmulTiledFull = matmulSource(matmulTiledSrc);
export const matmulKernel = k('matmul', matmulFull, 'main', ['read', 'read', 'rw']);
export const matmulBiasKernel = k('matmul', matmulFull, 'main_bias', ['read', 'read', 'read', 'rw']);
export const matmulTiledKernel = k('matmul_tiled', matmulTiledFull, 'main', ['read', 'read', 'rw']);
export const matmulTiledBiasKernel = k('matmul_tiled', matmulTiledFull, 'main_bias', ['read', 'read', 'read', 'rw']);

// --- elementwise and fill -------------------------------------------------------------------

/** A unary map's parameters: n, the scalar s, x's offset; the output shape and x's strides (rank 4). */
export const UNARY_PARAMS = new UniformLayout('Params', { n: 'u32', scalar: 'f32', x_off: 'u32', shape: 'vec4<u32>', x_strides: 'vec4<u32>' });

/** A binary map's parameters: as UNARY_PARAMS, for the inputs a and b. */
export const BINARY_PARAMS = new UniformLayout('Params', {
  n: 'u32',
  scalar: 'f32',
  a_off: 'u32',
  b_off: 'u32',
  shape: 'vec4<u32>',
  a_strides: 'vec4<u32>',
  b_strides: 'vec4<u32>',
});

/**
 * The kernel of an elementwise map: the template shaders/elementwise.wgsl with the given inputs
 * (read in binding order, each through its own offset and strides in `layout`), WGSL functions and
 * the expression written to the output. `family` names the generated source (its module cache key).
 */
export function elementwiseKernel(
  family: string,
  inputs: readonly string[],
  layout: UniformLayout<Record<string, UniformFieldType>>,
  functions: string,
  expression: string,
): Kernel {
  for (const field of ['n', 'scalar', 'shape', ...inputs.flatMap((name) => [`${name}_off`, `${name}_strides`])]) {
    if (!(field in layout.fields)) throw new Error(`internal: elementwise kernel ${family}: its parameters have no field ${field}.`);
  }
  const binding = (i: number): number => i + 1;
  const source = fillTemplate(elementwiseSrc, {
    CONSTANTS: WORKGROUP_HEADER,
    PARAMS: layout.wgsl,
    BINDINGS: [
      ...inputs.map((name, i) => `@group(0) @binding(${binding(i)}) var<storage, read> IN_${name}: array<f32>;`),
      `@group(0) @binding(${binding(inputs.length)}) var<storage, read_write> OUT: array<f32>;`,
    ].join('\n'),
    FUNCTIONS: functions,
    LOADS: inputs.map((name) => `  let ${name} = IN_${name}[P.${name}_off + offset_of(i, P.${name}_strides)];`).join('\n'),
    EXPRESSION: expression,
  });
  return k(family, source, 'main', [...inputs.map(() => 'read' as const), 'rw']);
}

/** One kernel per unary op of the table (elementwise_ops.ts). */
export const unaryKernels: Readonly<Record<UnaryOpName, Kernel>> = mapValues(UNARY_OPS, (name, expression) =>
  elementwiseKernel(`elementwise.${name}`, ['x'], UNARY_PARAMS, unaryFunction(name, expression), `op_${name}(x, P.scalar)`),
);

/** One kernel per binary op of the table. */
export const binaryKernels: Readonly<Record<BinaryOpName, Kernel>> = mapValues(BINARY_OPS, (name, expression) =>
  elementwiseKernel(`elementwise.${name}`, ['a', 'b'], BINARY_PARAMS, binaryFunction(name, expression), `op_${name}(a, b, P.scalar)`),
);

// --- SGD ------------------------------------------------------------------------------------

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
  return k(`sgd.${slots}${momentum ? '.momentum' : ''}`, source, 'main', Array.from({ length: slots }, () => access).flat());
}

const sgdKernels = [false, true].map((momentum) => Array.from({ length: SGD_MAX_SLOTS }, (_, i) => sgdKernelFor(i + 1, momentum)));

/** The SGD update of `slots` parameters (1 to 4) in one dispatch, with or without momentum buffers. */
export function sgdKernel(slots: number, momentum: boolean): Kernel {
  const kernel = sgdKernels[momentum ? 1 : 0]![slots - 1];
  if (!kernel) throw new RangeError(`internal: an SGD dispatch updates 1 to ${SGD_MAX_SLOTS} parameters, not ${slots}.`);
  return kernel;
}

// --- the rest -------------------------------------------------------------------------------

export const reducePerOutputKernel = k('reduce', reduceSrc, 'per_output', ['read', 'rw']);
export const reducePerGroupKernel = k('reduce', reduceSrc, 'per_group', ['read', 'rw']);
export const argmaxKernel = k('argmax', argmaxSrc, 'main', ['read', 'rw'], false);
export const extremumKernel = k('extremum', extremumSrc, 'values', ['read', 'rw']);
export const extremumBackwardKernel = k('extremum', extremumSrc, 'backward', ['read', 'read', 'rw']);
export const momentsKernel = k('moments', momentsSrc, 'forward', ['read', 'rw']);
export const momentsBackwardKernel = k('moments', momentsSrc, 'backward', ['read', 'read', 'rw']);
export const nllLossKernel = k('nll_loss', nllLossSrc, 'forward_none', ['read', 'read', 'rw']);
export const nllLossReduceKernel = k('nll_loss', nllLossSrc, 'forward_reduce', ['read', 'read', 'rw', 'rw']);
export const nllLossBackwardKernel = k('nll_loss_backward', nllLossBackwardSrc, 'backward', ['read', 'read', 'read', 'rw']);
export const normKernel = k('norm', normSrc, 'forward', ['read', 'rw']);
export const normBackwardKernel = k('norm', normSrc, 'backward', ['read', 'read', 'rw']);
export const softmaxKernel = k('softmax', softmaxSrc, 'softmax', ['read', 'rw']);
export const logSoftmaxKernel = k('softmax', softmaxSrc, 'log_softmax', ['read', 'rw']);
export const logsumexpKernel = k('softmax', softmaxSrc, 'logsumexp', ['read', 'rw']);
export const crossEntropyForwardKernel = k('cross_entropy', crossEntropySrc, 'forward', ['read', 'read', 'rw']);
export const crossEntropyForwardGradKernel = k('cross_entropy', crossEntropySrc, 'forward_grad', ['read', 'read', 'rw', 'rw']);
export const crossEntropyBackwardKernel = k('cross_entropy', crossEntropySrc, 'backward', ['read', 'read', 'read', 'rw']);
export const adamKernel = k('adam', `${WORKGROUP_HEADER}\n${adamSrc}`, 'main', ['rw', 'read', 'rw', 'rw']);

/** Every uniform layout declared here (tests check each against WGSL's own layout rules). */
export const allUniformLayouts: readonly UniformLayout<Record<string, UniformFieldType>>[] = [MATMUL_PARAMS, UNARY_PARAMS, BINARY_PARAMS, SGD_PARAMS];

export const allKernels: readonly Kernel[] = [
  matmulKernel,
  matmulBiasKernel,
  matmulTiledKernel,
  matmulTiledBiasKernel,
  ...Object.values(unaryKernels),
  ...Object.values(binaryKernels),
  reducePerOutputKernel,
  reducePerGroupKernel,
  argmaxKernel,
  extremumKernel,
  extremumBackwardKernel,
  momentsKernel,
  momentsBackwardKernel,
  nllLossKernel,
  nllLossReduceKernel,
  nllLossBackwardKernel,
  normKernel,
  normBackwardKernel,
  softmaxKernel,
  logSoftmaxKernel,
  logsumexpKernel,
  crossEntropyForwardKernel,
  crossEntropyForwardGradKernel,
  crossEntropyBackwardKernel,
  ...sgdKernels.flat(),
  adamKernel,
];
