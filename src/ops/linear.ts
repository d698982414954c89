// linear: y = act(x · Wᵀ + b) with W of shape [out, in] as in PyTorch, act = none | relu; x is
// [*, in] (any leading dimensions, flattened into rows for the kernel; a 1-D x gives a 1-D y). One
// dispatch: the bias add and the ReLU run in the matmul's epilogue, also while gradients are being
// recorded. Its gradient gives dW as Gᵀ·x directly in W's layout (no transposed copy). An empty
// batch gives an empty result; no input features give act(b) in every row (x · Wᵀ is zeros).

import { fmtShape, ShapeError } from '../errors.js';
import { numel, Tensor } from '../tensor.js';
import { output, requireFloat } from './common.js';
import { recordUnary, sumToShape, UnaryOp } from './elementwise.js';
import { host } from './host.js';
import { recordMatmul } from './matmul.js';
import { matmulLaunch } from './matmul_tuning.js';
import type { OpDef } from './op.js';
import { reluBackward } from './relu.js';
import { denseInput } from './reshape.js';

export interface LinearAttrs {
  activation: 'none' | 'relu';
}

function validate(x: Tensor, w: Tensor, b: Tensor | undefined): void {
  requireFloat('linear', x, 'the input');
  requireFloat('linear', w, 'the weight');
  if (x.ndim < 1 || w.ndim !== 2) {
    throw new ShapeError(`linear: input must have at least 1 dimension and the weight 2, got ${fmtShape(x.shape)} and ${fmtShape(w.shape)}.`);
  }
  if (x.shape.at(-1) !== w.shape[1]) {
    throw new ShapeError(`linear: input ${fmtShape(x.shape)} has ${x.shape.at(-1)} features but the weight ${fmtShape(w.shape)} expects ${w.shape[1]}.`);
  }
  if (b) {
    requireFloat('linear', b, 'the bias');
    if (b.ndim !== 1 || b.shape[0] !== w.shape[0])
      throw new ShapeError(`linear: bias ${fmtShape(b.shape)} does not match the weight's ${w.shape[0]} outputs (expected [${w.shape[0]}]).`);
  }
}

/** x as the [rows, in] matrix the kernel reads: itself when 2-D, else a view (or a copy when its leading dimensions do not flatten). */
function asRows(x: Tensor): Tensor {
  if (x.ndim === 2) return x;
  const K = x.shape.at(-1)!;
  const rows = numel(x.shape.slice(0, -1));
  const base = x.ndim === 1 || isRowMajor(x) ? x : recordUnary('linear', UnaryOp.copy, x);
  const view = new Tensor(x.runtime, base.storage, [rows, K], 'float32', [K * base.strides.at(-1)!, base.strides.at(-1)!], base.offset);
  if (base !== x) base.dispose();
  return view;
}

/** Whether x's leading dimensions lie row-major with rows of `in` elements (its last stride may be anything). */
function isRowMajor(x: Tensor): boolean {
  let expected = x.shape.at(-1)! * x.strides.at(-1)!;
  for (let d = x.ndim - 2; d >= 0; d--) {
    if (x.shape[d] !== 1 && x.strides[d] !== expected) return false;
    expected *= x.shape[d]!;
  }
  return x.strides.at(-1) !== 0;
}

export const linear: OpDef<LinearAttrs> = {
  forward: ([x, w, b], attrs) => {
    validate(x!, w!, b);
    if (x!.ndim === 2) return linear2d(x!, w!, b, attrs);
    const rows = asRows(x!);
    const y = linear2d(rows, w!, b, attrs);
    rows.dispose();
    const shaped = new Tensor(y.runtime, y.storage, [...x!.shape.slice(0, -1), w!.shape[0]!], 'float32');
    y.dispose();
    return shaped;
  },
  vjp: (g, { inputs: [x, w, b], output: y, attrs }) => {
    // y > 0 exactly where the pre-activation is > 0, so the ReLU mask comes from the output.
    const gz = attrs.activation === 'relu' ? reluBackward(y, g) : g;
    const K = w!.shape[1]!;
    const N = w!.shape[0]!;
    // dW = Gᵀ·X over every row: both flattened to 2-D ([*, out] and [*, in]).
    const flat = (t: Tensor, cols: number): Tensor => (t.ndim === 2 ? t : t.reshape([-1, cols]));
    return [
      x!.requiresGrad ? gz.matmul(w!) : null,
      w!.requiresGrad ? flat(gz, N).transpose().matmul(flat(x!, K)) : null,
      b?.requiresGrad ? sumToShape(gz, [N]) : null,
    ];
  },
  jvp: ([tx, tw, tb], { inputs: [x, w], output: y, attrs }) => {
    const parts = [tx ? tx.matmul(w!.transpose()) : null, tw ? x!.matmul(tw.transpose()) : null];
    let t: Tensor | null = null;
    for (const p of parts) if (p) t = t ? t.add(p) : p;
    if (tb) t = t ? t.add(tb) : tb.expand(y.shape);
    if (!t) return null;
    return attrs.activation === 'relu' ? reluBackward(y, t) : t;
  },
  reference: ([x, w, b], { activation }) => {
    const K = x!.shape.at(-1)!;
    const M = numel(x!.shape.slice(0, -1));
    const N = w!.shape[0]!;
    const out = host([...x!.shape.slice(0, -1), N]);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = b ? b.data[j]! : 0;
        for (let k = 0; k < K; k++) s += x!.data[i * K + k]! * w!.data[j * K + k]!;
        // The kernels keep NaN through the ReLU (NaN <= 0 is false), so the reference does too.
        out.data[i * N + j] = activation === 'relu' && !Number.isNaN(s) ? Math.max(s, 0) : s;
      }
    }
    return out;
  },
};

/** The 2-D case: x [M, in] (any strides) · Wᵀ + b, one dispatch. */
function linear2d(x: Tensor, w: Tensor, b: Tensor | undefined, { activation }: LinearAttrs): Tensor {
  // Wᵀ as a view made here (not through the op table: it is part of this op, not of the graph).
  const wT = new Tensor(w.runtime, w.storage, [w.shape[1]!, w.shape[0]!], 'float32', [w.strides[1]!, w.strides[0]!], w.offset);
  if (!b) {
    const y = recordMatmul(x, wT);
    wT.dispose();
    if (activation === 'none') return y;
    const r = recordUnary('linear', UnaryOp.relu, y);
    y.dispose();
    return r;
  }
  const [M, K] = x.shape as [number, number];
  const N = w.shape[0]!;
  const rt = x.runtime;
  if (K === 0 && M * N > 0) {
    wT.dispose();
    // The bias broadcast over the rows, as a view read by the copy (or relu) kernel.
    const rows = new Tensor(rt, b.storage, [M, N], 'float32', [0, b.strides[0]!], b.offset);
    const y = recordUnary('linear', activation === 'relu' ? UnaryOp.relu : UnaryOp.copy, rows);
    rows.dispose();
    return y;
  }
  const out = output(rt, [M, N], 'float32', 'linear');
  if (M * N === 0) {
    wT.dispose();
    return out;
  }
  const bias = denseInput('linear', b);
  rt.scheduler.record({
    ...matmulLaunch(rt, x, wT, { bias: true, relu: activation === 'relu' }),
    storages: [x.storage, w.storage, bias.storage, out.storage],
  });
  if (bias !== b) bias.dispose();
  wT.dispose();
  return out;
}
