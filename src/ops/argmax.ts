// argmax: index of the largest value along the last axis, as int32 (ties: the first; NaN is the
// largest). It has no gradient: its output is an integer.
import type { OpDef } from './op.js';
import { ShapeError, fmtShape } from '../errors.js';
import { argmaxKernel } from './kernels.js';
import { Params, grid1d, normAxis, output, requireFloat } from './common.js';
import { recordUnary, UnaryOp } from './elementwise.js';
import { host } from './host.js';

export const argmax: OpDef<{ axis: number }> = {
  forward: ([x], { axis }) => {
    requireFloat('argmax', x!, 'the input');
    const a = normAxis('argmax', axis, x!.ndim);
    if (a !== x!.ndim - 1) throw new ShapeError(`argmax: only the last axis is supported (got axis ${axis} of shape ${fmtShape(x!.shape)}).`);
    const C = x!.shape[a]!;
    if (C === 0) throw new ShapeError(`argmax: the axis is empty (shape ${fmtShape(x!.shape)}).`);
    const rows = x!.size / C;
    const rt = x!.runtime;
    const out = output(rt, x!.shape.slice(0, -1), 'int32', 'argmax');
    if (rows === 0) return out;
    const src = x!.isContiguous && x!.offset === 0 ? x! : recordUnary('argmax', UnaryOp.copy, x!);
    rt.scheduler.record({
      kernel: argmaxKernel,
      params: new Params().u(rows, C).done(),
      storages: [src.storage, out.storage],
      workgroups: grid1d(rows),
    });
    if (src !== x) src.dispose();
    return out;
  },
  vjp: () => [null],
  jvp: () => null,
  reference: ([x]) => {
    const C = x!.shape[x!.shape.length - 1]!;
    const rows = x!.data.length / C;
    const out = host(x!.shape.slice(0, -1), undefined, 'int32');
    for (let r = 0; r < rows; r++) {
      let best = 0;
      for (let c = 1; c < C; c++) {
        const v = x!.data[r * C + c]!;
        const b = x!.data[r * C + best]!;
        if (!Number.isNaN(b) && (v > b || Number.isNaN(v))) best = c;
      }
      out.data[r] = best;
    }
    return out;
  },
};
