// norm: the vector p-norm of all elements, along one dim or over a list of dims, for p = 2 (the
// default), 1 or Infinity, as torch.linalg.vector_norm. The norm of nothing is 0. Gradients as
// PyTorch's: 0 at a zero vector for p = 2, sign(x) (0 at 0) for p = 1, and for ∞ split evenly
// among the entries whose |x| is the max.

import { describeValue } from '../arguments.js';
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { filled, grid1d, output, Params, requireFloat } from './common.js';
import { type HostTensor, host } from './host.js';
import { normBackwardKernel, normKernel } from './kernels.js';
import type { OpDef } from './op.js';
import { fromRows, hostGroups, type ReduceDims, reduceDims, reducedShape, rowLayout, rowsInput } from './reduce.js';
import { denseInput } from './reshape.js';

export interface NormAttrs {
  p: number;
  axis: ReduceDims;
  keepdim: boolean;
}

/** The kernel's code for p: 1, 2, or 0 for ∞. */
function pCode(p: number): number {
  if (p === 1 || p === 2) return p;
  if (p === Infinity) return 0;
  throw new ValueError(`norm: p must be 1, 2 or Infinity, got ${describeValue(p)}.`);
}

function record(x: Tensor, g: Tensor | null, { p, axis, keepdim }: NormAttrs): Tensor {
  const code = pCode(p);
  const rows = rowLayout('norm', x.shape, axis);
  const { outer, R, inner } = rows;
  const shape = g ? x.shape : reducedShape(x.shape, rows.dims, keepdim);
  if (R === 0) return filled(x.runtime, shape, 0, 'float32', 'norm');
  const out = output(x.runtime, shape, 'float32', g ? 'norm backward' : 'norm');
  if (outer * inner === 0) return out;
  const src = rowsInput('norm', x, rows);
  const grad = g ? denseInput('norm', g) : null;
  x.runtime.scheduler.record({
    kernel: grad ? normBackwardKernel : normKernel,
    params: new Params().u(outer, R, inner, code).done(),
    storages: grad ? [src.storage, grad.storage, out.storage] : [src.storage, out.storage],
    workgroups: grid1d(outer * inner),
  });
  if (src !== x) src.dispose();
  if (grad && grad !== g) grad.dispose();
  // The gradient is written in the rows' order; the norm itself has the kept dims' order either way.
  return g ? fromRows(out, x, rows) : out;
}

function reference(x: HostTensor, { p, axis, keepdim }: NormAttrs): HostTensor {
  const { shape, groups } = hostGroups(x, reduceDims('norm', axis, x.shape.length), keepdim);
  const out = host(shape);
  groups.forEach((values, i) => {
    const row = values.map(Math.abs);
    out.data[i] = p === 1 ? row.reduce((a, b) => a + b, 0) : p === 2 ? Math.sqrt(row.reduce((a, b) => a + b * b, 0)) : Math.max(0, ...row);
  });
  return out;
}

export const norm: OpDef<NormAttrs> = {
  forward: ([x], attrs) => {
    requireFloat('norm', x!, 'the input');
    return record(x!, null, attrs);
  },
  vjp: (g, { inputs: [x], attrs }) => [record(x!, g, attrs)],
  jvp: ([tx], { inputs: [x], attrs }) => {
    if (!tx) return null;
    const ones = filled(x!.runtime, reducedShape(x!.shape, reduceDims('norm', attrs.axis, x!.ndim), false), 1, 'float32', 'norm');
    const slope = record(x!, ones, attrs);
    ones.dispose();
    return slope.mul(tx).sum(attrs.axis, attrs.keepdim);
  },
  reference: ([x], attrs) => reference(x!, attrs),
};
