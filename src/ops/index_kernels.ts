// The kernels of the indexing ops (gather, indexSelect, embedding) and of assembling pieces (cat,
// stack, narrow's gradient): the elementwise template (shaders/elementwise.wgsl) with loads of
// their own, since the element they read depends on an index read first (or on the piece it is
// in). The gradient of a gather is a scatter-add written so that each output element sums its
// contributions itself, in a fixed order: no atomics, the same bits on every run.

import elementwiseSrc from '../../shaders/elementwise.wgsl?raw';
import type { Kernel } from '../runtime/pipelines.js';
import type { ElementType } from './kernels.js';
import { inputReads, type Ranking, SHAPE_DIVISORS, withVariants } from './map_variants.js';
import { ELEMENTS_PER_INVOCATION, MAP_HEADER } from './shader_constants.js';
import { fillTemplate, type UniformFieldType, UniformLayout } from './wgsl.js';

/**
 * The gather kernels' parameters: for output element i (of the shape in shape0/1), the index is
 * read at i_off + offset_of(i, i_strides); the source at x_off + offset_of(i, x_strides) +
 * index · step, where x_strides omit the gathered dimension and step is its stride; size is that
 * dimension's length (an index outside [0, size) reads nothing). zero is always 0 (for a NaN).
 */
export const GATHER_PARAMS = new UniformLayout('Params', {
  n: 'u32',
  scalar: 'f32',
  x_off: 'u32',
  i_off: 'u32',
  size: 'u32',
  step: 'u32',
  zero: 'u32',
  shape0: 'vec4<u32>',
  shape1: 'vec4<u32>',
  x_strides0: 'vec4<u32>',
  x_strides1: 'vec4<u32>',
  i_strides0: 'vec4<u32>',
  i_strides1: 'vec4<u32>',
  ...SHAPE_DIVISORS,
});

/**
 * The scatter-add's parameters: output element i (contiguous, of the shape in shape0/1) has
 * coordinate v = (i / inner) % size along the scattered dimension and sums, in order j = 0…len−1,
 * g[g_off + offset_of(i, g_strides) + j · g_step] over the j whose index
 * idx[i_off + offset_of(i, i_strides) + j · i_step] equals v; v = skip sums nothing.
 */
export const SCATTER_ADD_PARAMS = new UniformLayout('Params', {
  n: 'u32',
  scalar: 'f32',
  g_off: 'u32',
  i_off: 'u32',
  inner: 'u32',
  size: 'u32',
  len: 'u32',
  g_step: 'u32',
  i_step: 'u32',
  skip: 'i32',
  shape0: 'vec4<u32>',
  shape1: 'vec4<u32>',
  g_strides0: 'vec4<u32>',
  g_strides1: 'vec4<u32>',
  i_strides0: 'vec4<u32>',
  i_strides1: 'vec4<u32>',
  ...SHAPE_DIVISORS,
});

/**
 * A kernel on the elementwise template whose loads are its own (bindings: the named inputs, then
 * OUT): `loads(at)` writes them, `at(name)` being input `name`'s offset of element i (from its
 * own offset), compiled per rank and direct inputs as the elementwise maps are (map_variants.ts).
 */
function indexedKernel(
  family: string,
  layout: UniformLayout<Record<string, UniformFieldType>>,
  inputs: readonly [string, ElementType][],
  output: ElementType,
  loads: (at: (name: string) => string) => string,
  expression: string,
): Kernel {
  const names = inputs.map(([name]) => name);
  const make = (suffix: string, ranking: Ranking): Kernel => {
    const reads = inputReads(ranking, names);
    const source = fillTemplate(elementwiseSrc, {
      CONSTANTS: MAP_HEADER,
      PARAMS: layout.wgsl,
      BINDINGS: [
        ...inputs.map(([name, type], i) => `@group(0) @binding(${i + 1}) var<storage, read> IN_${name}: array<${type}>;`),
        `@group(0) @binding(${inputs.length + 1}) var<storage, read_write> OUT: array<${output}>;`,
      ].join('\n'),
      FUNCTIONS: reads.functions,
      LOADS: loads(reads.at),
      EXPRESSION: expression,
    });
    return {
      family: `${family}${suffix}`,
      source,
      entry: 'main',
      bindings: [...inputs.map(() => 'read' as const), 'rw'],
      floatOutputs: output === 'f32',
      perInvocation: ELEMENTS_PER_INVOCATION,
    };
  };
  return withVariants(inputs.length, make);
}

const gatherLoads = (at: (name: string) => string): string =>
  [
    `  let idx = IN_i[P.i_off + ${at('i')}];`,
    '  let inside = idx >= 0 && u32(idx) < P.size;',
    `  let x = IN_x[P.x_off + ${at('x')} + select(0u, u32(idx), inside) * P.step];`,
  ].join('\n');

/** Gather of float32 values; an index out of range gives NaN (WGSL has no NaN constant: P.zero keeps it at run time). */
export const gatherKernel = indexedKernel(
  'indexed.gather',
  GATHER_PARAMS,
  [
    ['x', 'f32'],
    ['i', 'i32'],
  ],
  'f32',
  gatherLoads,
  'select(bitcast<f32>(0x7fc00000u | P.zero), x, inside)',
);

/** Gather of 32-bit words (int32, bool); an index out of range gives 0. */
export const gatherWordsKernel = indexedKernel(
  'indexed.gather_words',
  GATHER_PARAMS,
  [
    ['x', 'u32'],
    ['i', 'i32'],
  ],
  'u32',
  gatherLoads,
  'select(0u, x, inside)',
);

/** The gradient of a gather: a scatter-add with one invocation per element it writes, summing in a fixed order (deterministic, no atomics). */
export const scatterAddKernel = indexedKernel(
  'indexed.scatter_add',
  SCATTER_ADD_PARAMS,
  [
    ['g', 'f32'],
    ['i', 'i32'],
  ],
  'f32',
  (at) =>
    [
      '  let v = i32((i / P.inner) % P.size);',
      `  let g_base = P.g_off + ${at('g')};`,
      `  let i_base = P.i_off + ${at('i')};`,
      '  var acc = 0.0;',
      '  if (v != P.skip) {',
      '    for (var j = 0u; j < P.len; j = j + 1u) {',
      '      if (IN_i[i_base + j * P.i_step] == v) { acc = acc + IN_g[g_base + j * P.g_step]; }',
      '    }',
      '  }',
    ].join('\n'),
  'acc',
);

/** Pieces one assembling dispatch places at most (with the output: five storage bindings). */
export const MAX_ASSEMBLED = 4;

/**
 * The parameters of assembling `count` pieces along one dimension (cat, stack, narrow's gradient,
 * src/ops/assemble.ts): output element i has coordinate c = (i / inner) % size along it and takes
 * piece k's element where start_k ≤ c < start_k + len_k, zero where no piece covers c. Each piece
 * is read through strides whose offset is shifted back by start_k (u32 arithmetic wraps).
 */
export function assembleLayout(count: number): UniformLayout<Record<string, UniformFieldType>> {
  const fields: Record<string, UniformFieldType> = { n: 'u32', scalar: 'f32', inner: 'u32', size: 'u32' };
  for (let k = 0; k < count; k++) Object.assign(fields, { [`g${k}_off`]: 'u32', [`start${k}`]: 'u32', [`len${k}`]: 'u32' });
  Object.assign(fields, { shape0: 'vec4<u32>', shape1: 'vec4<u32>' });
  for (let k = 0; k < count; k++) Object.assign(fields, { [`g${k}_strides0`]: 'vec4<u32>', [`g${k}_strides1`]: 'vec4<u32>' });
  return new UniformLayout('Params', { ...fields, ...SHAPE_DIVISORS });
}

/** Per piece count (1…MAX_ASSEMBLED): its layout. */
export const ASSEMBLE_PARAMS = Array.from({ length: MAX_ASSEMBLED }, (_, k) => assembleLayout(k + 1));

/**
 * One offset computation per element whatever the piece count (software adapters run every branch
 * under a mask, so a branch per piece would cost a piece's offset each): the piece k covering the
 * element is found first, its strides selected, and each piece's load reads index 0 unless it is k.
 */
const assembleKernel = (count: number, type: ElementType, expression: string): Kernel =>
  indexedKernel(
    `indexed.assemble${count}_${type === 'u32' ? 'words' : 'sum'}`,
    ASSEMBLE_PARAMS[count - 1]!,
    Array.from({ length: count }, (_, k): [string, ElementType] => [`g${k}`, type]),
    type,
    (at) => {
      const pieces = Array.from({ length: count }, (_, k) => k);
      const pick = (field: (k: number) => string): string => pieces.slice(1).reduce((acc, k) => `select(${acc}, ${field(k)}, k == ${k}u)`, field(0));
      // A direct piece reads at offset + i; a strided one through the selected piece's strides.
      const strided = pieces.find((k) => at(`g${k}`) !== 'i');
      const offset = strided === undefined ? 'i' : at(`g${strided}`).replace(new RegExp(`P\\.g${strided}_strides([01])`, 'g'), 'strides$1');
      return [
        '  let c = (i / P.inner) % P.size;',
        `  var k = ${count}u;`,
        ...pieces.map((k) => `  k = select(k, ${k}u, c >= P.start${k} && c < P.start${k} + P.len${k});`),
        `  let strides0 = ${pick((k) => `P.g${k}_strides0`)};`,
        `  let strides1 = ${pick((k) => `P.g${k}_strides1`)};`,
        `  let off = ${offset};`,
        `  let base = ${pick((k) => `P.g${k}_off`)};`,
        // Outside its slice a piece's shifted offsets point nowhere: it reads element 0 instead.
        ...pieces.map((k) => `  let v${k} = IN_g${k}[select(0u, base + off, k == ${k}u)];`),
        `  var v = ${type === 'f32' ? '0.0' : '0u'};`,
        ...pieces.map((k) => `  v = select(v, v${k}, k == ${k}u);`),
      ].join('\n');
    },
    expression,
  );

/**
 * Assembling kernels by piece count − 1: copying 32-bit words (any dtype here; float32 bits exactly,
 * −0 and NaN payloads too), and summing float32 pieces into zeros (value + 0: −0 becomes +0, as
 * adding zero-padded gradients gives).
 */
export const assembleKernels = {
  words: Array.from({ length: MAX_ASSEMBLED }, (_, k) => assembleKernel(k + 1, 'u32', 'v')),
  f32Sum: Array.from({ length: MAX_ASSEMBLED }, (_, k) => assembleKernel(k + 1, 'f32', 'v + P.scalar')),
} as const;

/** For the lists of every kernel and uniform layout in kernels.ts. */
export const indexKernels: readonly Kernel[] = [gatherKernel, gatherWordsKernel, scatterAddKernel, ...assembleKernels.words, ...assembleKernels.f32Sum];
export const indexLayouts: readonly UniformLayout<Record<string, UniformFieldType>>[] = [GATHER_PARAMS, SCATTER_ADD_PARAMS, ...ASSEMBLE_PARAMS];
