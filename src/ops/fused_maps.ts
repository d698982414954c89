// The elementwise kernels the fusion pass (src/runtime/fusion.ts) can compose, each described by
// its parameter layout, its typed inputs and output, and the WGSL function its own kernel calls:
// a fused kernel calls the very same function, so fused and unfused results are the same bits.

import type { Kernel } from '../runtime/pipelines.js';
import { BINARY_OPS, MATH_FUNCTIONS, UNARY_OPS } from './elementwise_ops.js';
import { BINARY_PARAMS, binaryFunction, binaryKernels, typedKernels, UNARY_PARAMS, unaryFunction, unaryKernels } from './kernels.js';
import { type ElementType, typedFunction } from './typed_maps.js';
import type { UniformFieldType, UniformLayout } from './wgsl.js';

/** A fusable map as the fusion pass sees a recorded dispatch of it. */
export interface MapInfo {
  /** Names its WGSL function (op_<id>) and identifies it in a fused kernel's structure. */
  id: string;
  /** The input names of its parameter layout ('x'; 'a' and 'b'; 'c', 'a' and 'b'), in binding order. */
  inputs: readonly string[];
  /** Each input's element type. */
  types: readonly ElementType[];
  output: ElementType;
  layout: UniformLayout<Record<string, UniformFieldType>>;
  /** Its WGSL function: `fn op_<id>(inputs…, scalar: f32) -> output`. */
  fn: string;
  /** WGSL helper functions the function calls (a fused kernel includes each once). */
  helpers: readonly string[];
}

const fusable = new Map<Kernel, MapInfo>();
const mathHelpers = (expression: string): string[] => (expression.includes('m_') ? [MATH_FUNCTIONS] : []);
for (const [id, kernel] of Object.entries(unaryKernels)) {
  const expression = UNARY_OPS[id as keyof typeof UNARY_OPS];
  fusable.set(kernel, {
    id,
    inputs: ['x'],
    types: ['f32'],
    output: 'f32',
    layout: UNARY_PARAMS,
    fn: unaryFunction(id, expression),
    helpers: mathHelpers(expression),
  });
}
for (const [id, kernel] of Object.entries(binaryKernels)) {
  const expression = BINARY_OPS[id as keyof typeof BINARY_OPS];
  const fn = binaryFunction(id, expression);
  fusable.set(kernel, { id, inputs: ['a', 'b'], types: ['f32', 'f32'], output: 'f32', layout: BINARY_PARAMS, fn, helpers: mathHelpers(expression) });
}
for (const { kernel, id, map, layout } of typedKernels) {
  fusable.set(kernel, {
    id,
    inputs: map.inputs.map(([name]) => name),
    types: map.inputs.map(([, type]) => type),
    output: map.output,
    layout,
    fn: typedFunction(id, map),
    helpers: map.helpers,
  });
}

/** The map a kernel (or a variant of it: Kernel.base) computes, when it is one fusion can compose. */
export function mapInfo(kernel: Kernel): MapInfo | undefined {
  return fusable.get(kernel) ?? (kernel.base && fusable.get(kernel.base));
}
