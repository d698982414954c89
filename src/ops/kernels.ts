// Every WGSL entry point webgrad dispatches, with the bindings and uniform layouts it declares. The
// sources are bundled from shaders/*.wgsl at build time (nothing is fetched at run time); those
// that are templates are filled in here from TypeScript declarations: the elementwise op table,
// the shared constants (shader_constants.ts) and the uniform layouts below.

import adamSrc from '../../shaders/adam.wgsl?raw';
import elementwiseSrc from '../../shaders/elementwise.wgsl?raw';
import matmulSrc from '../../shaders/matmul.wgsl?raw';
import matmulCommonSrc from '../../shaders/matmul_common.wgsl?raw';
import matmulTiledSrc from '../../shaders/matmul_tiled.wgsl?raw';
import matmulVec4Src from '../../shaders/matmul_vec4.wgsl?raw';
import { type Kernel, entryKernel as k } from '../runtime/pipelines.js';
import { convKernels, convUniformLayouts } from './conv_kernels.js';
import { BINARY_OPS, type BinaryOpName, type CompareOpName, MATH_FUNCTIONS, UNARY_OPS, type UnaryOpName } from './elementwise_ops.js';
import { indexKernels, indexLayouts } from './index_kernels.js';
import { layerKernels } from './layer_kernels.js';
import { inputReads, type Ranking, SHAPE_DIVISORS, withVariants } from './map_variants.js';
import { VEC4_BLOCK_SIDES, type Vec4BlockSide, type Vec4Layout, vec4BlockParts } from './matmul_vec4_kernels.js';
import { rowKernels } from './row_kernels.js';
import { SGD_PARAMS, sgdKernels } from './sgd_kernels.js';
import { ELEMENTS_PER_INVOCATION, MAP_HEADER, MATMUL_BLOCK, MATMUL_TILE_ELEMENTS, WORKGROUP_HEADER } from './shader_constants.js';
import { CAST_IDS, CAST_MAPS, COMPARE_MAPS, COMPARE_SCALAR_MAPS, type ElementType, OTHER_MAPS, type TypedMap, typedFunction } from './typed_maps.js';
import { fillTemplate, type UniformFieldType, UniformLayout, wgslConstants } from './wgsl.js';

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

/** A unary map's parameters: n, the scalar s, x's offset; the output shape and x's strides, padded to rank 8 (dims 0–3, 4–7). */
export const UNARY_PARAMS = new UniformLayout('Params', {
  n: 'u32',
  scalar: 'f32',
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
  const source = (ranking?: Ranking): string => {
    const reads = inputReads(ranking, inputs);
    return fillTemplate(elementwiseSrc, {
      CONSTANTS: MAP_HEADER,
      PARAMS: layout.wgsl,
      BINDINGS: [
        ...inputs.map((name, i) => `@group(0) @binding(${binding(i)}) var<storage, read> IN_${name}: array<${types.inputs[i] ?? 'f32'}>;`),
        `@group(0) @binding(${binding(inputs.length)}) var<storage, read_write> OUT: array<${types.output}>;`,
      ].join('\n'),
      FUNCTIONS: reads.functions + functions,
      LOADS: inputs.map((name) => `    let ${name} = IN_${name}[P.${name}_off + ${reads.at(name)}];`).join('\n'),
      EXPRESSION: expression,
    });
  };
  const bindings = [...inputs.map(() => 'read' as const), 'rw' as const];
  const make = (suffix: string, ranking?: Ranking): Kernel => ({
    ...k(`${family}${suffix}`, source(ranking), 'main', bindings, types.output === 'f32'),
    perInvocation: ELEMENTS_PER_INVOCATION,
  });
  // With divisor fields, a map has variants per rank and direct inputs (map_variants.ts); without,
  // one kernel peeling coordinates by hardware division.
  return 'div7' in layout.fields ? withVariants(inputs.length, make) : make('');
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

export * from './row_kernels.js';

// --- the rest -------------------------------------------------------------------------------

/** Adam's update, one float per invocation (T = f32 in shaders/adam.wgsl). */
export const adamKernel = k('adam', `${WORKGROUP_HEADER}\nalias T = f32;\n${adamSrc}`, 'main', ['rw', 'read', 'rw', 'rw']);
/**
 * The same update four floats at a time (T = vec4<f32>), for parameters whose size is a multiple
 * of 4: software adapters pay per load and store (the SGD update's vec4 twin halved its time on
 * SwiftShader); the arithmetic per float is the same.
 */
export const adamVec4Kernel = k('adam.vec4', `${WORKGROUP_HEADER}\nalias T = vec4<f32>;\n${adamSrc}`, 'main', ['rw', 'read', 'rw', 'rw']);

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
  ...rowKernels,
  ...sgdKernels,
  adamKernel,
  adamVec4Kernel,
  ...layerKernels,
  ...convKernels,
];
