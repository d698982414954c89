// Forward-mode AD: tangents pushed through the same op table as reverse mode. While fn runs,
// every op's jvp rule turns its inputs' tangents into its output's tangent.

import { noGrad, withApplyHook } from './autograd.js';
import { zerosLike } from './creation.js';
import { fmtShape, ShapeError } from './errors.js';
import { ops } from './ops/table.js';
import type { Tensor } from './tensor.js';

/** What jvp() returns: the function's value and its directional derivative. */
export interface JvpResult {
  /** fn(...primals). */
  output: Tensor;
  /** J · tangents: the directional derivative of the output. */
  tangent: Tensor;
}

/**
 * Forward-mode AD: evaluates fn at `primals` and its derivative along `tangents` (one per primal,
 * same shape; null for a zero tangent) in one pass.
 *
 * ```ts
 * const x = tensor([1, 2, 3]);
 * const { output, tangent } = jvp((x) => x.mul(x).sum(), [x], [ones([3])]);
 * await tangent.item(); // 2·(1 + 2 + 3) = 12
 * ```
 */
export function jvp(fn: (...inputs: Tensor[]) => Tensor, primals: readonly Tensor[], tangents: readonly (Tensor | null)[]): JvpResult {
  if (tangents.length !== primals.length) {
    throw new ShapeError(`jvp: ${primals.length} primals but ${tangents.length} tangents.`);
  }
  const tangentOf = new Map<Tensor, Tensor>();
  primals.forEach((p, i) => {
    const t = tangents[i];
    if (!t) return;
    if (t.shape.join(',') !== p.shape.join(',')) {
      throw new ShapeError(`jvp: tangent ${i} has shape ${fmtShape(t.shape)}, its primal ${fmtShape(p.shape)}.`);
    }
    tangentOf.set(p, t);
  });
  const output = withApplyHook(
    (name, inputs, attrs, out) => {
      const ts = inputs.map((x) => tangentOf.get(x) ?? null);
      if (ts.every((t) => t === null)) return;
      const t = noGrad(() => ops[name].jvp(ts, { inputs, output: out, attrs: attrs as never }));
      if (t) tangentOf.set(out, t);
    },
    () => fn(...primals),
  );
  const tangent = tangentOf.get(output) ?? zerosLike(output);
  return { output, tangent };
}
