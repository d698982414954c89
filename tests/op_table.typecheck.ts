// A type-level test, checked by `npm run typecheck` (it has no runtime part): the op table's
// guarantee that an op missing a rule does not compile. Each @ts-expect-error must meet an error;
// if OpDef stopped requiring a rule, the directive would go unused and the typecheck would fail.

import { add } from '../src/ops/add.js';
import type { OpDef } from '../src/ops/op.js';
import type { OpAttrs, OpName, ops } from '../src/ops/table.js';

type NoAttrs = Record<string, never>;
const { forward, vjp, jvp, reference } = add;

export const complete: OpDef<NoAttrs> = { forward, vjp, jvp, reference };
// @ts-expect-error an op without a forward rule
export const withoutForward: OpDef<NoAttrs> = { vjp, jvp, reference };
// @ts-expect-error an op without a reverse-mode (vjp) rule
export const withoutVjp: OpDef<NoAttrs> = { forward, jvp, reference };
// @ts-expect-error an op without a forward-mode (jvp) rule
export const withoutJvp: OpDef<NoAttrs> = { forward, vjp, reference };
// @ts-expect-error an op without a CPU reference
export const withoutReference: OpDef<NoAttrs> = { forward, vjp, jvp };

// The table holds a complete OpDef for every op name: exactly this type, not a partial or wider one.
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
export const tableHasEveryOp: Equals<typeof ops, { readonly [K in OpName]: OpDef<OpAttrs[K]> }> = true;
