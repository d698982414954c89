// Comparisons eq ne lt le gt ge: a bool tensor (one 32-bit word, 0 or 1, per element), with
// broadcasting, against a tensor or a number; no gradient. Values are compared as float32: int32
// and bool operands are converted first (exact for integers up to 2^24 in magnitude). NaN
// compares unequal to everything, as in IEEE 754 and PyTorch.

import type { Tensor } from '../tensor.js';
import { broadcastOrThrow, recordMap } from './elementwise.js';
import { COMPARE_OPS, type CompareOpName } from './elementwise_ops.js';
import { host, hostBinary } from './host.js';
import { BINARY_PARAMS, compareKernels, compareScalarKernels, UNARY_PARAMS } from './kernels.js';
import type { OpDef } from './op.js';

export interface CompareAttrs {
  op: CompareOpName;
}

const HOST_COMPARE: Record<CompareOpName, (a: number, b: number) => boolean> = {
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
  gt: (a, b) => a > b,
  ge: (a, b) => a >= b,
};

/** Float32 values of t: t itself, or a converted copy (released by the caller). */
function asFloat(t: Tensor): Tensor {
  return t.dtype === 'float32' ? t : t.to('float32');
}

function checkName(op: string): asserts op is CompareOpName {
  if (!(op in COMPARE_OPS)) throw new Error(`internal: no comparison named ${op}.`);
}

export const compare: OpDef<CompareAttrs> = {
  forward: ([a, b], { op }) => {
    checkName(op);
    const shape = broadcastOrThrow(op, a!, b!);
    const [fa, fb] = [asFloat(a!), asFloat(b!)];
    const out = recordMap(
      op,
      compareKernels[op],
      BINARY_PARAMS,
      [
        ['a', fa],
        ['b', fb],
      ],
      shape,
      'bool',
    );
    for (const [f, t] of [
      [fa, a],
      [fb, b],
    ] as const)
      if (f !== t) f.dispose();
    return out;
  },
  vjp: () => [null, null],
  jvp: () => null,
  reference: ([a, b], { op }) => {
    const out = hostBinary(a!, b!, (x, y) => (HOST_COMPARE[op](Math.fround(x), Math.fround(y)) ? 1 : 0));
    return host(out.shape, out.data, 'bool');
  },
};

export const compareScalar: OpDef<CompareAttrs & { value: number }> = {
  forward: ([a], { op, value }) => {
    checkName(op);
    const fa = asFloat(a!);
    const out = recordMap(op, compareScalarKernels[op], UNARY_PARAMS, [['x', fa]], fa.shape, 'bool', value);
    if (fa !== a) fa.dispose();
    return out;
  },
  vjp: () => [null],
  jvp: () => null,
  reference: ([a], { op, value }) =>
    host(
      a!.shape,
      Array.from(a!.data, (x) => (HOST_COMPARE[op](Math.fround(x), Math.fround(value)) ? 1 : 0)),
      'bool',
    ),
};
