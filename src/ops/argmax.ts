// argmax and argmin: index of the largest (smallest) value along one axis (any; the last by
// default), as int32. Ties give the first index; NaN wins over any number (the first NaN), as in
// PyTorch. A 0-d tensor gives 0 (axis 0 or -1); an empty axis is an error, an empty batch gives an
// empty result. No gradient: the output is an integer.

import { fmtShape, ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { numel } from '../tensor.js';
import { filled, grid1d, normAxis, output, Params, requireFloat } from './common.js';
import { host, hostNumel } from './host.js';
import { argmaxKernel } from './kernels.js';
import type { OpDef } from './op.js';
import { denseInput } from './reshape.js';

type Which = 'argmax' | 'argmin';

/** The axis as a non-negative index; a 0-d tensor takes 0 or -1, as in PyTorch. */
function argAxis(op: Which, axis: number, ndim: number): number {
  return normAxis(op, ndim === 0 && axis === -1 ? 0 : axis, ndim);
}

function argExtremum(op: Which): OpDef<{ axis: number }> {
  const smallest = op === 'argmin';
  return {
    forward: ([x], { axis }) => {
      requireFloat(op, x!, 'the input');
      const a = argAxis(op, axis, x!.ndim);
      const rt = x!.runtime;
      if (x!.ndim === 0) return filled(rt, [], 0, 'int32', op);
      const R = x!.shape[a]!;
      if (R === 0) throw new ShapeError(`${op}: the axis is empty (shape ${fmtShape(x!.shape)}): axis ${axis} has no values to compare.`);
      const outer = numel(x!.shape.slice(0, a));
      const inner = numel(x!.shape.slice(a + 1));
      const out = output(
        rt,
        x!.shape.filter((_, d) => d !== a),
        'int32',
        op,
      );
      if (outer * inner === 0) return out;
      const src: Tensor = denseInput(op, x!);
      rt.scheduler.record({
        kernel: argmaxKernel,
        params: new Params().u(outer, R, inner, smallest ? 1 : 0).done(),
        storages: [src.storage, out.storage],
        workgroups: grid1d(outer * inner),
      });
      if (src !== x) src.dispose();
      return out;
    },
    vjp: () => [null],
    jvp: () => null,
    reference: ([x], { axis }) => {
      const shape = x!.shape;
      if (shape.length === 0) return host([], [0], 'int32');
      const a = argAxis(op, axis, shape.length);
      const outer = hostNumel(shape.slice(0, a));
      const R = shape[a]!;
      const inner = hostNumel(shape.slice(a + 1));
      const out = host(
        shape.filter((_, d) => d !== a),
        undefined,
        'int32',
      );
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < inner; j++) {
          const at = (r: number): number => x!.data[(o * R + r) * inner + j]!;
          let best = 0;
          for (let r = 1; r < R && !Number.isNaN(at(best)); r++) {
            if (Number.isNaN(at(r)) || (smallest ? at(r) < at(best) : at(r) > at(best))) best = r;
          }
          out.data[o * inner + j] = best;
        }
      }
      return out;
    },
  };
}

export const argmax = argExtremum('argmax');
export const argmin = argExtremum('argmin');
