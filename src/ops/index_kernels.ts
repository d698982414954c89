// The kernels of the indexing ops (gather, indexSelect, embedding) and of narrow's gradient: the
// elementwise template (shaders/elementwise.wgsl) with loads of their own, since the element they
// read depends on an index read first (or, for narrow, on being inside the slice). The gradient is a scatter-add written so that each output element sums its
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

/**
 * Placing a piece into a joined tensor (cat, stack): output element i takes g where its coordinate
 * (i / inner) % size along the joined dimension is in start..start+len, else the partial result p.
 * g is read through strides whose offset is shifted back by start (u32 arithmetic wraps).
 */
export const PLACE_PARAMS = new UniformLayout('Params', {
  n: 'u32',
  scalar: 'f32',
  g_off: 'u32',
  p_off: 'u32',
  inner: 'u32',
  size: 'u32',
  start: 'u32',
  len: 'u32',
  shape0: 'vec4<u32>',
  shape1: 'vec4<u32>',
  g_strides0: 'vec4<u32>',
  g_strides1: 'vec4<u32>',
  p_strides0: 'vec4<u32>',
  p_strides1: 'vec4<u32>',
  ...SHAPE_DIVISORS,
});

const placeKernel = (type: ElementType): Kernel =>
  indexedKernel(
    `indexed.place_${type}`,
    PLACE_PARAMS,
    [
      ['g', type],
      ['p', type],
    ],
    type,
    (at) =>
      [
        '  let c = (i / P.inner) % P.size;',
        '  let inside = c >= P.start && c < P.start + P.len;',
        // The piece is read only inside its slice: outside, its shifted offsets point nowhere.
        `  let g = IN_g[select(0u, P.g_off + ${at('g')}, inside)];`,
        `  let p = IN_p[P.p_off + ${at('p')}];`,
      ].join('\n'),
    'select(p, g, inside)',
  );

/** One kernel for float32 pieces, one for 32-bit words (int32, bool): both copy bits, so −0 and NaN payloads survive. */
export const placeKernels = { f32: placeKernel('f32'), u32: placeKernel('u32') } as const;

/** For the lists of every kernel and uniform layout in kernels.ts. */
/** narrow's gradient: g placed back at start..start+len of one dimension of the input's shape, zeros elsewhere. */
export const NARROW_GRAD_PARAMS = new UniformLayout('Params', {
  n: 'u32',
  scalar: 'f32',
  g_off: 'u32',
  inner: 'u32',
  size: 'u32',
  start: 'u32',
  len: 'u32',
  shape0: 'vec4<u32>',
  shape1: 'vec4<u32>',
  g_strides0: 'vec4<u32>',
  g_strides1: 'vec4<u32>',
  ...SHAPE_DIVISORS,
});

/**
 * The kernel of NARROW_GRAD_PARAMS: g is read through strides whose offset is shifted back by start
 * (u32 arithmetic wraps), and only inside the slice: outside it that offset points before or past g.
 */
export const narrowGradKernel = indexedKernel(
  'elementwise.narrow_grad',
  NARROW_GRAD_PARAMS,
  [['g', 'f32']],
  'f32',
  (at) => ['  let c = (i / P.inner) % P.size;', '  var g = 0.0;', `  if (c >= P.start && c < P.start + P.len) { g = IN_g[P.g_off + ${at('g')}]; }`].join('\n'),
  'g',
);

export const indexKernels: readonly Kernel[] = [gatherKernel, gatherWordsKernel, scatterAddKernel, placeKernels.f32, placeKernels.u32, narrowGradKernel];
export const indexLayouts: readonly UniformLayout<Record<string, UniformFieldType>>[] = [GATHER_PARAMS, SCATTER_ADD_PARAMS, PLACE_PARAMS];
