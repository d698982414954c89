// The elementwise maps whose inputs or output are not all float32: comparisons (bool out), casts
// between float32, int32 and bool, where and its gradients (a bool input), and the raw 32-bit copy
// of int32 and bool views. Each is one WGSL function of its typed inputs and the scalar, declared
// once here: kernels.ts builds its standalone kernel from it, and the fusion pass
// (fused_maps.ts) calls the same function inside a fused kernel, so both compute the same bits.
//
// bool values are u32 0 or 1 in memory and in registers; int32 values are i32.

import { CAST_F32_TO_I32, COMPARE_OPS, type CompareOpName, ORDERED_FUNCTION } from './elementwise_ops.js';

/** WGSL element types of the storage arrays an elementwise kernel reads and writes. */
export type ElementType = 'f32' | 'i32' | 'u32';

/** A map of typed inputs: its WGSL function is `fn op_<id>(<inputs>, <scalar>: f32) -> <output>`. */
export interface TypedMap {
  /** Input names (as its parameter layout names them) and element types, in binding order. */
  inputs: readonly (readonly [string, ElementType])[];
  output: ElementType;
  /** A WGSL expression of the inputs and the scalar. */
  expression: string;
  /** WGSL helper functions the expression calls, each a separate snippet (shared ones are included once). */
  helpers: readonly string[];
}

/** The WGSL function of a typed map. */
export function typedFunction(id: string, map: TypedMap): string {
  const params = [...map.inputs.map(([name, type]) => `${name}: ${type}`), 's: f32'];
  return `fn op_${id}(${params.join(', ')}) -> ${map.output} { return ${map.expression}; }`;
}

const F = 'f32' as const;
const I = 'i32' as const;
const B = 'u32' as const;

const compares = (scalar: boolean): Record<CompareOpName, TypedMap> => {
  const out = {} as Record<CompareOpName, TypedMap>;
  for (const name of Object.keys(COMPARE_OPS) as CompareOpName[]) {
    // Against the scalar: the input x is the comparison's a, the scalar its b.
    out[name] = scalar
      ? {
          inputs: [['x', F]],
          output: B,
          expression: `select(0u, 1u, compare_${name}(x, s))`,
          helpers: [ORDERED_FUNCTION, `fn compare_${name}(a: f32, b: f32) -> bool { return ${COMPARE_OPS[name]}; }`],
        }
      : {
          inputs: [
            ['a', F],
            ['b', F],
          ],
          output: B,
          expression: `select(0u, 1u, ${COMPARE_OPS[name]})`,
          helpers: [ORDERED_FUNCTION],
        };
  }
  return out;
};

/** Comparisons of two float32 inputs, bool out (ids compare_<name>). */
export const COMPARE_MAPS = compares(false);
/** Comparisons of a float32 input against the scalar, bool out (ids compare_scalar_<name>). */
export const COMPARE_SCALAR_MAPS = compares(true);

/** Conversions by (from, to); see src/ops/cast.ts for the rules. */
export const CAST_MAPS = {
  'float32>int32': { inputs: [['x', F]], output: I, expression: 'f32_to_i32(x)', helpers: [CAST_F32_TO_I32] },
  // Not zero: ±0 alone are false (the sign bit shifted out); NaN is true.
  'float32>bool': { inputs: [['x', F]], output: B, expression: 'select(0u, 1u, (bitcast<u32>(x) << 1u) != 0u)', helpers: [] },
  'int32>float32': { inputs: [['x', I]], output: F, expression: 'f32(x)', helpers: [] },
  'int32>bool': { inputs: [['x', I]], output: B, expression: 'select(0u, 1u, x != 0)', helpers: [] },
  'bool>float32': { inputs: [['x', B]], output: F, expression: 'f32(x)', helpers: [] },
  'bool>int32': { inputs: [['x', B]], output: I, expression: 'i32(x)', helpers: [] },
} as const satisfies Record<string, TypedMap>;

/** The ids of the casts' functions. */
export const CAST_IDS: Readonly<Record<keyof typeof CAST_MAPS, string>> = {
  'float32>int32': 'cast_f2i',
  'float32>bool': 'cast_f2b',
  'int32>float32': 'cast_i2f',
  'int32>bool': 'cast_i2b',
  'bool>float32': 'cast_b2f',
  'bool>int32': 'cast_b2i',
};

/** where(cond, a, b) and its gradients, and the word copy. */
export const OTHER_MAPS = {
  where: {
    inputs: [
      ['c', B],
      ['a', F],
      ['b', F],
    ],
    output: F,
    expression: 'select(b, a, c != 0u)',
    helpers: [],
  },
  // where's gradient to a (g where cond, else 0) and to b (g where not cond); a is cond, b is g.
  where_grad_true: {
    inputs: [
      ['a', B],
      ['b', F],
    ],
    output: F,
    expression: 'select(0.0, b, a != 0u)',
    helpers: [],
  },
  where_grad_false: {
    inputs: [
      ['a', B],
      ['b', F],
    ],
    output: F,
    expression: 'select(b, 0.0, a != 0u)',
    helpers: [],
  },
  // Any 32-bit words (int32 and bool views made contiguous).
  copy_words: { inputs: [['x', B]], output: B, expression: 'x', helpers: [] },
} as const satisfies Record<string, TypedMap>;
