// Every WGSL entry point webgrad dispatches, with the bindings and uniform layouts it declares. The
// sources are bundled from shaders/*.wgsl at build time (nothing is fetched at run time); those
// that are templates are filled in here from TypeScript declarations: the elementwise op table,
// the shared constants (shader_constants.ts) and the uniform layouts below.

import adamSrc from '../../shaders/adam.wgsl?raw';
import argmaxSrc from '../../shaders/argmax.wgsl?raw';
import crossEntropySrc from '../../shaders/cross_entropy.wgsl?raw';
import elementwiseSrc from '../../shaders/elementwise.wgsl?raw';
import extremumSrc from '../../shaders/extremum.wgsl?raw';
import fastdivSrc from '../../shaders/fastdiv.wgsl?raw';
import matmulSrc from '../../shaders/matmul.wgsl?raw';
import matmulCommonSrc from '../../shaders/matmul_common.wgsl?raw';
import matmulTiledSrc from '../../shaders/matmul_tiled.wgsl?raw';
import matmulVec4Src from '../../shaders/matmul_vec4.wgsl?raw';
import momentsSrc from '../../shaders/moments.wgsl?raw';
import nllLossSrc from '../../shaders/nll_loss.wgsl?raw';
import nllLossBackwardSrc from '../../shaders/nll_loss_backward.wgsl?raw';
import normSrc from '../../shaders/norm.wgsl?raw';
import reduceSrc from '../../shaders/reduce.wgsl?raw';
import rowsSrc from '../../shaders/rows.wgsl?raw';
import softmaxSrc from '../../shaders/softmax.wgsl?raw';
import type { Kernel } from '../runtime/pipelines.js';
import { convKernels, convUniformLayouts } from './conv_kernels.js';
import { OFFSET_FAST_WGSL, offsetRankWgsl, shapeDivisorNames } from './divisor.js';
import { BINARY_OPS, type BinaryOpName, type CompareOpName, MATH_FUNCTIONS, UNARY_OPS, type UnaryOpName } from './elementwise_ops.js';
import { indexKernels, indexLayouts } from './index_kernels.js';
import { layerKernels } from './layer_kernels.js';
import { VEC4_BLOCK_SIDES, type Vec4BlockSide, type Vec4Layout, vec4BlockParts } from './matmul_vec4_kernels.js';
import { SGD_PARAMS, sgdKernels } from './sgd_kernels.js';
import { ELEMENTS_PER_INVOCATION, MAP_HEADER, MATMUL_BLOCK, MATMUL_TILE_ELEMENTS, WORKGROUP_HEADER } from './shader_constants.js';
import { CAST_IDS, CAST_MAPS, COMPARE_MAPS, COMPARE_SCALAR_MAPS, type ElementType, OTHER_MAPS, type TypedMap, typedFunction } from './typed_maps.js';
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

/**
 * The parameters of both matmul kernels: C[b, M, N] = A[b, M, K]·B[b, K, N] for `batch` products,
 * operands through strides; a batch index splits into two batch dimensions (outer, inner of size
 * batch_inner) with a stride each per operand (0 where broadcast). y_tiles: the row tiles of one
 * batch in the grid's y (batches past the z limit fold into y).
 */
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
  batch: 'u32',
  batch_inner: 'u32',
  y_tiles: 'u32',
  a_bs0: 'u32',
  a_bs1: 'u32',
  b_bs0: 'u32',
  b_bs1: 'u32',
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
/** The vectorised register kernel per block of rows × columns and read layout (family `matmul_vec4.RxC.aKbN`). */
const matmulVec4ByBlock = new Map<string, { main: Kernel; bias: Kernel }>();
const vec4Key = (rows: number, cols: number, { aAlongK, bAlongN }: Vec4Layout): string => `${rows}x${cols}.a${aAlongK ? 'k' : 'm'}b${bAlongN ? 'n' : 'k'}`;
for (const rows of VEC4_BLOCK_SIDES)
  for (const cols of VEC4_BLOCK_SIDES)
    for (const aAlongK of [true, false])
      for (const bAlongN of [true, false]) {
        const layout = { aAlongK, bAlongN };
        const parts = vec4BlockParts(rows, cols, layout);
        const source = matmulSource(fillTemplate(matmulVec4Src, { CONSTANTS: wgslConstants({ ROWS: rows, COLS: cols }), ...parts }));
        const family = `matmul_vec4.${vec4Key(rows, cols, layout)}`;
        matmulVec4ByBlock.set(vec4Key(rows, cols, layout), {
          main: k(family, source, 'main', ['read', 'read', 'rw']),
          bias: k(family, source, 'main_bias', ['read', 'read', 'read', 'rw']),
        });
      }

/** The vectorised register kernel computing rows × cols outputs per invocation, reading A and B as `layout` says. */
export function matmulVec4Kernel(rows: Vec4BlockSide, cols: Vec4BlockSide, layout: Vec4Layout, bias: boolean): Kernel {
  const kernels = matmulVec4ByBlock.get(vec4Key(rows, cols, layout));
  if (!kernels) throw new RangeError(`internal: no vectorised matmul for a ${rows}×${cols} block.`);
  return bias ? kernels.bias : kernels.main;
}

export const matmulTiledKernel = k('matmul_tiled', matmulTiledFull, 'main', ['read', 'read', 'rw']);
export const matmulTiledBiasKernel = k('matmul_tiled', matmulTiledFull, 'main_bias', ['read', 'read', 'read', 'rw']);

// --- elementwise and fill -------------------------------------------------------------------

/** Divisors of the output shape's dims 1–7 (shaders/fastdiv.wgsl): inputs read through strides find their coordinates without hardware division. */
const SHAPE_DIVISORS = {
  div1: 'vec4<u32>',
  div2: 'vec4<u32>',
  div3: 'vec4<u32>',
  div4: 'vec4<u32>',
  div5: 'vec4<u32>',
  div6: 'vec4<u32>',
  div7: 'vec4<u32>',
} as const;

/** A unary map's parameters: n, the scalar s, x's offset; the output shape and x's strides, padded to rank 8 (dims 0–3, 4–7). */
export const UNARY_PARAMS = new UniformLayout('Params', {
  n: 'u32',
  scalar: 'f32',
  /** Bit k set: input k is read at its offset + i (contiguous in the output's order; see recordMap). */
  direct: 'u32',
  x_off: 'u32',
  shape0: 'vec4<u32>',
  shape1: 'vec4<u32>',
  x_strides0: 'vec4<u32>',
  x_strides1: 'vec4<u32>',
  ...SHAPE_DIVISORS,
});

/** A binary map's parameters: as UNARY_PARAMS, for the inputs a and b. */
export const BINARY_PARAMS = new UniformLayout('Params', {
  n: 'u32',
  scalar: 'f32',
  direct: 'u32',
  a_off: 'u32',
  b_off: 'u32',
  shape0: 'vec4<u32>',
  shape1: 'vec4<u32>',
  a_strides0: 'vec4<u32>',
  a_strides1: 'vec4<u32>',
  b_strides0: 'vec4<u32>',
  b_strides1: 'vec4<u32>',
  ...SHAPE_DIVISORS,
});

/** A three-input map's parameters (where(cond, a, b)): as BINARY_PARAMS, for c, a and b. */
export const TERNARY_PARAMS = new UniformLayout('Params', {
  n: 'u32',
  scalar: 'f32',
  direct: 'u32',
  c_off: 'u32',
  a_off: 'u32',
  b_off: 'u32',
  shape0: 'vec4<u32>',
  shape1: 'vec4<u32>',
  c_strides0: 'vec4<u32>',
  c_strides1: 'vec4<u32>',
  a_strides0: 'vec4<u32>',
  a_strides1: 'vec4<u32>',
  b_strides0: 'vec4<u32>',
  b_strides1: 'vec4<u32>',
  ...SHAPE_DIVISORS,
});

export type { ElementType } from './typed_maps.js';

/**
 * The kernel of an elementwise map: the template shaders/elementwise.wgsl with the given inputs
 * (read in binding order, each through its own offset and strides in `layout`), WGSL functions and
 * the expression written to the output. `family` names the generated source (its module cache key).
 * `types` gives each input's element type and the output's (all f32 unless given).
 */
export function elementwiseKernel(
  family: string,
  inputs: readonly string[],
  layout: UniformLayout<Record<string, UniformFieldType>>,
  functions: string,
  expression: string,
  types: { inputs: readonly ElementType[]; output: ElementType } = { inputs: inputs.map(() => 'f32'), output: 'f32' },
): Kernel {
  const fields = ['n', 'scalar', 'shape0', 'shape1', ...inputs.flatMap((name) => [`${name}_off`, `${name}_strides0`, `${name}_strides1`])];
  for (const field of fields) {
    if (!(field in layout.fields)) throw new Error(`internal: elementwise kernel ${family}: its parameters have no field ${field}.`);
  }
  const binding = (i: number): number => i + 1;
  const fast = 'direct' in layout.fields && 'div7' in layout.fields;
  // Loads: `direct`, every input at offset + i; `ranked`, through offset_r<rank>, but the inputs
  // whose bit is set in its mask at offset + i; neither, the generic choice per input at run time.
  const source = (direct: boolean, ranked?: { rank: number; mask: number }): string =>
    fillTemplate(elementwiseSrc, {
      CONSTANTS: MAP_HEADER,
      PARAMS: layout.wgsl,
      BINDINGS: [
        ...inputs.map((name, i) => `@group(0) @binding(${binding(i)}) var<storage, read> IN_${name}: array<${types.inputs[i] ?? 'f32'}>;`),
        `@group(0) @binding(${binding(inputs.length)}) var<storage, read_write> OUT: array<${types.output}>;`,
      ].join('\n'),
      FUNCTIONS: ranked ? `${fastdivSrc}\n${offsetRankWgsl(ranked.rank)}\n${functions}` : fast ? `${fastdivSrc}\n${OFFSET_FAST_WGSL}\n${functions}` : functions,
      // With `direct` and divisor fields, an input read in the output's order skips the index
      // arithmetic (a branch on a uniform: every invocation takes the same side), and the others
      // find their coordinates by multiplications (fastdiv.wgsl) instead of hardware division.
      LOADS: inputs
        .map((name, k) => {
          if (direct || (ranked && (ranked.mask & (1 << k)) !== 0)) return `    let ${name} = IN_${name}[P.${name}_off + i];`;
          if (!fast) return `    let ${name} = IN_${name}[P.${name}_off + offset_of(i, P.${name}_strides0, P.${name}_strides1)];`;
          const divisors = shapeDivisorNames('P.').join(', ');
          if (ranked) return `    let ${name} = IN_${name}[P.${name}_off + offset_r${ranked.rank}(i, ${divisors}, P.${name}_strides0, P.${name}_strides1)];`;
          return [
            `    var ${name}_at = i;`,
            `    if ((P.direct & ${1 << k}u) == 0u) { ${name}_at = offset_fast(i, ${divisors}, P.${name}_strides0, P.${name}_strides1); }`,
            `    let ${name} = IN_${name}[P.${name}_off + ${name}_at];`,
          ].join('\n');
        })
        .join('\n'),
      EXPRESSION: expression,
    });
  const bindings = [...inputs.map(() => 'read' as const), 'rw' as const];
  const make = (suffix: string, src: string): Kernel => ({
    ...k(`${family}${suffix}`, src, 'main', bindings, types.output === 'f32'),
    perInvocation: ELEMENTS_PER_INVOCATION,
  });
  const base = make('', source(false));
  if (!fast) return base;
  // Software adapters run both sides of a branch under a mask and pay for offset_fast's seven
  // divisions whatever the rank: recordMap picks the twin or the variant that has no such branch.
  const variants = new Map<string, Kernel>();
  const strided = (rank: number, mask: number): Kernel => {
    const key = `r${rank}m${mask}`;
    let variant = variants.get(key);
    if (!variant) {
      variant = { ...make(`.${key}`, source(false, { rank, mask })), base };
      variants.set(key, variant);
    }
    return variant;
  };
  return Object.assign(base, { direct: { ...make('.direct', source(true)), base }, strided });
}

/** The math helpers (m_log1p, m_pow, …) for an expression that calls one; none otherwise, so add or relu compile as before. */
const mathFunctionsFor = (expression: string): string => (expression.includes('m_') ? MATH_FUNCTIONS : '');

/** One kernel per unary op of the table (elementwise_ops.ts). */
export const unaryKernels: Readonly<Record<UnaryOpName, Kernel>> = mapValues(UNARY_OPS, (name, expression) =>
  elementwiseKernel(`elementwise.${name}`, ['x'], UNARY_PARAMS, mathFunctionsFor(expression) + unaryFunction(name, expression), `op_${name}(x, P.scalar)`),
);

/** One kernel per binary op of the table. */
export const binaryKernels: Readonly<Record<BinaryOpName, Kernel>> = mapValues(BINARY_OPS, (name, expression) =>
  elementwiseKernel(
    `elementwise.${name}`,
    ['a', 'b'],
    BINARY_PARAMS,
    mathFunctionsFor(expression) + binaryFunction(name, expression),
    `op_${name}(a, b, P.scalar)`,
  ),
);

/** A kernel built from a typed map, with what the fusion pass needs to call its function inline. */
export interface TypedKernel {
  kernel: Kernel;
  id: string;
  map: TypedMap;
  layout: UniformLayout<Record<string, UniformFieldType>>;
}

const typed: TypedKernel[] = [];

/** The standalone kernel of a typed map (typed_maps.ts): its function applied to the loaded inputs and the scalar. */
function typedKernel(family: string, id: string, map: TypedMap, layout: UniformLayout<Record<string, UniformFieldType>>): Kernel {
  const names = map.inputs.map(([name]) => name);
  const kernel = elementwiseKernel(family, names, layout, [...map.helpers, typedFunction(id, map)].join('\n'), `op_${id}(${names.join(', ')}, P.scalar)`, {
    inputs: map.inputs.map(([, type]) => type),
    output: map.output,
  });
  typed.push({ kernel, id, map, layout });
  return kernel;
}

/** Every kernel built from a typed map (the fusion pass composes them). */
export const typedKernels: readonly TypedKernel[] = typed;

/** A strided copy of 32-bit words, whatever they hold (int32 and bool tensors: views made contiguous). */
export const copyWordsStridedKernel = typedKernel('elementwise.copy_words', 'copy_words', OTHER_MAPS.copy_words, UNARY_PARAMS);

/** One kernel per comparison of the table: float32 a and b (b may be the scalar), a bool (u32 0/1) out. */
export const compareKernels: Readonly<Record<CompareOpName, Kernel>> = mapValues(COMPARE_MAPS, (name, map) =>
  typedKernel(`elementwise.compare.${name}`, `compare_${name}`, map, BINARY_PARAMS),
);

/** The same comparisons against the scalar s (one input). */
export const compareScalarKernels: Readonly<Record<CompareOpName, Kernel>> = mapValues(COMPARE_SCALAR_MAPS, (name, map) =>
  typedKernel(`elementwise.compare_scalar.${name}`, `compare_scalar_${name}`, map, UNARY_PARAMS),
);

/** Conversions between dtypes, by (from, to); see src/ops/cast.ts for the rules. */
export const castKernels: Readonly<Record<keyof typeof CAST_MAPS, Kernel>> = mapValues(CAST_MAPS, (pair, map) =>
  typedKernel(`elementwise.${CAST_IDS[pair].replace('_', '.')}`, CAST_IDS[pair], map, UNARY_PARAMS),
);

/** where(cond, a, b): a where cond (bool) is true, else b; all three broadcast. */
export const whereKernel = typedKernel('elementwise.where', 'where', OTHER_MAPS.where, TERNARY_PARAMS);

/** where's gradient to a (or, with flipped selection, to b): g where cond, else 0. */
export const whereGradKernels = {
  whereTrue: typedKernel('elementwise.where_grad_true', 'where_grad_true', OTHER_MAPS.where_grad_true, BINARY_PARAMS),
  whereFalse: typedKernel('elementwise.where_grad_false', 'where_grad_false', OTHER_MAPS.where_grad_false, BINARY_PARAMS),
} as const;

// --- the rest -------------------------------------------------------------------------------

/** The sum kernel's parameters (shaders/reduce.wgsl): the input as [outer, R, inner], and the factor applied to each sum. */
export const REDUCE_FIELDS = { outer: 'u32', R: 'u32', inner: 'u32', scale: 'f32' } as const;
/** The body of the sum kernels, which reads its input through `load_x(k)`. */
export const REDUCE_BODY = reduceSrc;
const reduceSource = `${WORKGROUP_HEADER}
${new UniformLayout('Params', REDUCE_FIELDS).wgsl}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<f32>;
fn load_x(k: u32) -> f32 { return X[k]; }
${reduceSrc}`;
export const reducePerOutputKernel = k('reduce', reduceSource, 'per_output', ['read', 'rw']);
export const reducePerGroupKernel = k('reduce', reduceSource, 'per_group', ['read', 'rw']);
export const argmaxKernel = k('argmax', `${WORKGROUP_HEADER}\n${argmaxSrc}`, 'main', ['read', 'rw'], false);
export const extremumKernel = k('extremum', `${WORKGROUP_HEADER}\n${extremumSrc}\n${rowsSrc}`, 'values', ['read', 'rw']);
export const extremumBackwardKernel = k('extremum', `${WORKGROUP_HEADER}\n${extremumSrc}\n${rowsSrc}`, 'backward', ['read', 'read', 'rw']);
export const momentsKernel = k('moments', `${WORKGROUP_HEADER}\n${momentsSrc}\n${rowsSrc}`, 'forward', ['read', 'rw']);
export const momentsBackwardKernel = k('moments', `${WORKGROUP_HEADER}\n${momentsSrc}\n${rowsSrc}`, 'backward', ['read', 'read', 'rw']);
export const nllLossKernel = k('nll_loss', `${WORKGROUP_HEADER}\n${nllLossSrc}`, 'forward_none', ['read', 'read', 'rw']);
export const nllLossReduceKernel = k('nll_loss', `${WORKGROUP_HEADER}\n${nllLossSrc}`, 'forward_reduce', ['read', 'read', 'rw', 'rw']);
export const nllLossBackwardKernel = k('nll_loss_backward', `${WORKGROUP_HEADER}\n${nllLossBackwardSrc}`, 'backward', ['read', 'read', 'read', 'rw']);
export const normKernel = k('norm', `${WORKGROUP_HEADER}\n${normSrc}\n${rowsSrc}`, 'forward', ['read', 'rw']);
export const normBackwardKernel = k('norm', `${WORKGROUP_HEADER}\n${normSrc}\n${rowsSrc}`, 'backward', ['read', 'read', 'rw']);
export const softmaxKernel = k('softmax', `${WORKGROUP_HEADER}\n${softmaxSrc}\n${rowsSrc}`, 'softmax', ['read', 'rw']);
export const logSoftmaxKernel = k('softmax', `${WORKGROUP_HEADER}\n${softmaxSrc}\n${rowsSrc}`, 'log_softmax', ['read', 'rw']);
export const logsumexpKernel = k('softmax', `${WORKGROUP_HEADER}\n${softmaxSrc}\n${rowsSrc}`, 'logsumexp', ['read', 'rw']);
export const crossEntropyForwardKernel = k('cross_entropy', `${WORKGROUP_HEADER}\n${crossEntropySrc}`, 'forward', ['read', 'read', 'rw']);
export const crossEntropyForwardGradKernel = k('cross_entropy', `${WORKGROUP_HEADER}\n${crossEntropySrc}`, 'forward_grad', ['read', 'read', 'rw', 'rw']);
/**
 * The same loss kernels compiled for one-invocation workgroups, for small batches: the 256-wide
 * workgroup's two tree reductions (16 barriers) cost a batch-64 step ~1 ms on CPU adapters for
 * 640 logits; one invocation walks the rows in order instead (cross_entropy.ts picks by size).
 */
const crossEntropySerialSrc = `${wgslConstants({ WORKGROUP_SIZE: 1 })}\n${crossEntropySrc}`;
export const crossEntropyForwardSerialKernel = k('cross_entropy.serial', crossEntropySerialSrc, 'forward', ['read', 'read', 'rw']);
export const crossEntropyForwardGradSerialKernel = k('cross_entropy.serial', crossEntropySerialSrc, 'forward_grad', ['read', 'read', 'rw', 'rw']);
export const crossEntropyBackwardKernel = k('cross_entropy', `${WORKGROUP_HEADER}\n${crossEntropySrc}`, 'backward', ['read', 'read', 'read', 'rw']);
export const adamKernel = k('adam', `${WORKGROUP_HEADER}\n${adamSrc}`, 'main', ['rw', 'read', 'rw', 'rw']);

/** Every uniform layout declared here (tests check each against WGSL's own layout rules). */
export const allUniformLayouts: readonly UniformLayout<Record<string, UniformFieldType>>[] = [
  MATMUL_PARAMS,
  UNARY_PARAMS,
  BINARY_PARAMS,
  TERNARY_PARAMS,
  SGD_PARAMS,
  ...indexLayouts,
  ...convUniformLayouts,
];

export const allKernels: readonly Kernel[] = [
  matmulKernel,
  matmulBiasKernel,
  matmulTiledKernel,
  matmulTiledBiasKernel,
  ...[...matmulVec4ByBlock.values()].flatMap(({ main, bias }) => [main, bias]),
  ...Object.values(unaryKernels),
  ...Object.values(binaryKernels),
  copyWordsStridedKernel,
  ...Object.values(compareKernels),
  ...Object.values(compareScalarKernels),
  ...Object.values(castKernels),
  whereKernel,
  ...Object.values(whereGradKernels),
  ...indexKernels,
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
  crossEntropyForwardSerialKernel,
  crossEntropyForwardGradSerialKernel,
  crossEntropyBackwardKernel,
  ...sgdKernels,
  adamKernel,
  ...layerKernels,
  ...convKernels,
];
