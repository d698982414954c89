// batchNorm: PyTorch's F.batch_norm on [N, C, *] as a pure function. Each channel is shifted by a
// mean and divided by sqrt(variance + eps), then times weight[c] and plus bias[c] when given.
// Training mode uses the batch's statistics (biased variance); evaluation mode uses the running
// mean and variance passed as inputs. Inputs: [x, runningMean, runningVar] in evaluation mode or
// [x] in training mode, then weight? and bias? (attrs say which are there). Updating the running
// statistics is not part of the op: recordRunningUpdate() does it in place after it (see
// nn.functional.batchNorm), so the op stays a function the generic tests can check.
// Kernels: shaders/batch_norm.wgsl — per-channel statistics, then one elementwise normalisation;
// backward is one per-channel reduction (Σ g·x̂ and Σ g, which are also dweight and dbias) and one
// elementwise dx.

import { describeValue } from '../arguments.js';
import { fmtShape, ShapeError, ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { filled, grid1d, output, requireFloat } from './common.js';
import { type HostTensor, host, hostNumel } from './host.js';
import {
  BATCH_NORM_PARAMS,
  batchNormChannelGradsKernel,
  batchNormCountKernel,
  batchNormInputGradKernel,
  batchNormKernel,
  batchNormRunningStatsKernel,
  batchNormStatsKernel,
  batchNormUpdateKernel,
} from './layer_kernels.js';
import type { OpDef } from './op.js';
import { denseInput } from './reshape.js';

export interface BatchNormAttrs {
  /** Normalise with the batch's statistics (true) or with the running ones given as inputs 1 and 2. */
  training: boolean;
  eps: number;
  /** Whether a weight follows the statistics. */
  weight: boolean;
  /** Whether the last input is a bias. */
  bias: boolean;
}

const OP = 'batchNorm';

interface Parts {
  x: Tensor;
  rm: Tensor | undefined;
  rv: Tensor | undefined;
  w: Tensor | undefined;
  b: Tensor | undefined;
}

function parts<T>(inputs: readonly T[], attrs: BatchNormAttrs): { x: T; rm: T | undefined; rv: T | undefined; w: T | undefined; b: T | undefined } {
  let at = attrs.training ? 1 : 3;
  const w = attrs.weight ? inputs[at++] : undefined;
  const b = attrs.bias ? inputs[at] : undefined;
  return { x: inputs[0]!, rm: attrs.training ? undefined : inputs[1], rv: attrs.training ? undefined : inputs[2], w, b };
}

/** The layout [N, C, inner] of x. */
export function batchNormLayout(shape: readonly number[]): { N: number; C: number; inner: number } {
  if (shape.length < 2) throw new ShapeError(`${OP}: the input must be [N, C, *] (2 or more dimensions), got ${fmtShape(shape)}.`);
  return { N: shape[0]!, C: shape[1]!, inner: hostNumel(shape.slice(2)) };
}

function check(p: Parts, attrs: BatchNormAttrs): { N: number; C: number; inner: number } {
  requireFloat(OP, p.x, 'the input');
  const layout = batchNormLayout(p.x.shape);
  const { eps, training } = attrs;
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) throw new ValueError(`${OP}: eps must be a finite number ≥ 0, got ${describeValue(eps)}.`);
  if (typeof training !== 'boolean') throw new ValueError(`${OP}: training must be a boolean, got ${describeValue(training)}.`);
  for (const [t, what] of [
    [p.rm, 'running mean'],
    [p.rv, 'running variance'],
    [p.w, 'weight'],
    [p.b, 'bias'],
  ] as const) {
    if (!t) continue;
    requireFloat(OP, t, `the ${what}`);
    if (t.ndim !== 1 || t.shape[0] !== layout.C) {
      throw new ShapeError(
        `${OP}: the ${what} must have shape [${layout.C}] (the input's channels, dim 1 of ${fmtShape(p.x.shape)}), got ${fmtShape(t.shape)}.`,
      );
    }
  }
  // As PyTorch: the variance of a single value per channel is not a statistic.
  if (training && layout.N * layout.inner === 1) {
    throw new ValueError(`${OP}: expected more than 1 value per channel when training, got an input of shape ${fmtShape(p.x.shape)}.`);
  }
  return layout;
}

const params = (N: number, C: number, inner: number, attrs: BatchNormAttrs, momentum = 0): Uint32Array<ArrayBuffer> =>
  BATCH_NORM_PARAMS.pack({ N, C, inner, flags: (attrs.weight ? 1 : 0) | (attrs.bias ? 2 : 0) | (attrs.training ? 4 : 0), eps: attrs.eps, momentum });

/** Per channel [mean, rstd, biased variance], from the batch (x) or from the running statistics. */
function channelStats(x: Tensor, rm: Tensor | undefined, rv: Tensor | undefined, N: number, C: number, inner: number, attrs: BatchNormAttrs): Tensor {
  const rt = x.runtime;
  const stats = output(rt, [C, 3], 'float32', OP);
  if (C === 0) return stats;
  if (rm && rv) {
    const [m, v] = [denseInput(OP, rm), denseInput(OP, rv)];
    rt.scheduler.record({
      kernel: batchNormRunningStatsKernel,
      params: params(N, C, inner, attrs),
      storages: [m.storage, v.storage, stats.storage],
      workgroups: grid1d(C),
    });
    if (m !== rm) m.dispose();
    if (v !== rv) v.dispose();
  } else {
    const xd = denseInput(OP, x);
    rt.scheduler.record({ kernel: batchNormStatsKernel, params: params(N, C, inner, attrs), storages: [xd.storage, stats.storage], workgroups: grid1d(C, 1) });
    if (xd !== x) xd.dispose();
  }
  return stats;
}

/** dweight and dbias: per channel Σ g·x̂ and Σ g. */
function channelSums(x: Tensor, g: Tensor, stats: Tensor, N: number, C: number, inner: number, attrs: BatchNormAttrs): [Tensor, Tensor] {
  const rt = x.runtime;
  const dw = output(rt, [C], 'float32', `${OP} backward`);
  const db = output(rt, [C], 'float32', `${OP} backward`);
  if (C > 0) {
    const [xd, gd] = [denseInput(OP, x), denseInput(OP, g)];
    rt.scheduler.record({
      kernel: batchNormChannelGradsKernel,
      params: params(N, C, inner, attrs),
      storages: [xd.storage, gd.storage, stats.storage, dw.storage, db.storage],
      workgroups: grid1d(C, 1),
    });
    if (xd !== x) xd.dispose();
    if (gd !== g) gd.dispose();
  }
  return [dw, db];
}

export const batchNorm: OpDef<BatchNormAttrs> = {
  forward: (inputs, attrs, ctx) => {
    const p = parts(inputs, attrs);
    if (!attrs.training && (!p.rm || !p.rv)) throw new ValueError(`${OP}: evaluation mode needs the running mean and variance.`);
    const { N, C, inner } = check(p, attrs);
    const rt = p.x.runtime;
    const y = output(rt, p.x.shape, 'float32', OP);
    const stats = channelStats(p.x, p.rm, p.rv, N, C, inner, attrs);
    if (y.size > 0) {
      const [xd, wd, bd] = [p.x, p.w, p.b].map((t) => t && denseInput(OP, t));
      rt.scheduler.record({
        kernel: batchNormKernel,
        params: params(N, C, inner, attrs),
        // An absent weight or bias binds x in its place (the kernel does not read it).
        storages: [xd!.storage, (wd ?? xd!).storage, (bd ?? xd!).storage, stats.storage, y.storage],
        workgroups: grid1d(y.size),
      });
      [xd, wd, bd].forEach((t, i) => t && t !== [p.x, p.w, p.b][i] && t.dispose());
    }
    if (ctx.recording) ctx.save(stats);
    else stats.dispose();
    return y;
  },
  vjp: (g, { inputs, attrs, saved: [stats] }) => {
    const p = parts(inputs, attrs);
    const { N, C, inner } = batchNormLayout(p.x.shape);
    const rt = p.x.runtime;
    const needSums = attrs.training || p.w?.requiresGrad || p.b?.requiresGrad || p.rm?.requiresGrad || p.rv?.requiresGrad;
    const [sumGX, sumG] = needSums ? channelSums(p.x, g, stats!, N, C, inner, attrs) : [null, null];
    let dx: Tensor | null = null;
    if (p.x.requiresGrad) {
      dx = output(rt, p.x.shape, 'float32', `${OP} backward`);
      if (dx.size > 0) {
        const [xd, gd, wd] = [p.x, g, p.w].map((t) => t && denseInput(OP, t));
        // Without the sums (evaluation mode), x stands in for them: the kernel does not read them.
        const [s1, s0] = [sumGX ?? xd!, sumG ?? xd!];
        rt.scheduler.record({
          kernel: batchNormInputGradKernel,
          params: params(N, C, inner, attrs),
          storages: [xd!.storage, (wd ?? xd!).storage, gd!.storage, stats!.storage, s1.storage, s0.storage, dx.storage],
          workgroups: grid1d(dx.size),
        });
        [xd, gd, wd].forEach((t, i) => t && t !== [p.x, g, p.w][i] && t.dispose());
      }
    }
    // Evaluation mode: y = (x − rm)·rstd·w + b with rstd = (rv + eps)^(−1/2), so
    // d rm = −w·rstd·Σg and d rv = −½·w·rstd²·Σ g·x̂.
    let drm: Tensor | null = null;
    let drv: Tensor | null = null;
    if (!attrs.training && (p.rm?.requiresGrad || p.rv?.requiresGrad)) {
      const rstd = stats!.narrow(1, 1, 1).reshape([C]);
      const wr = p.w ? rstd.mul(p.w) : rstd;
      if (p.rm?.requiresGrad) drm = wr.mul(sumG!).neg();
      if (p.rv?.requiresGrad) drv = wr.mul(rstd).mul(sumGX!).mul(-0.5);
    }
    const dw = p.w?.requiresGrad ? sumGX : null;
    const db = p.b?.requiresGrad ? sumG : null;
    if (sumGX && sumGX !== dw) sumGX.dispose();
    if (sumG && sumG !== db) sumG.dispose();
    const out: (Tensor | null)[] = attrs.training ? [dx] : [dx, drm, drv];
    if (attrs.weight) out.push(dw);
    if (attrs.bias) out.push(db);
    return out;
  },
  // Composed from other ops, on x viewed as [N, C, inner] with statistics over dims 0 and 2.
  // Training: dx̂ = rstd·(t − mean(t) − x̂·mean(t·x̂)); evaluation: dx̂ = (t − t_rm)·rstd − ½·x̂·rstd²·t_rv.
  // The output's tangent is dx̂·w + x̂·tw + tb.
  jvp: (tangents, { inputs, attrs }) => {
    const p = parts(inputs, attrs);
    const t = parts(tangents, attrs);
    if (!t.x && !t.rm && !t.rv && !t.w && !t.b) return null;
    const { N, C, inner } = batchNormLayout(p.x.shape);
    if (p.x.size === 0) return filled(p.x.runtime, p.x.shape, 0, 'float32', OP);
    const shape3 = [N, C, inner];
    const perChannel = (v: Tensor): Tensor => v.reshape([1, C, 1]);
    const x3 = p.x.reshape(shape3);
    const channelMean = (v: Tensor): Tensor => v.mean([0, 2], true);
    const centered = attrs.training ? x3.sub(channelMean(x3)) : x3.sub(perChannel(p.rm!));
    const rstd = attrs.training ? centered.square().mean([0, 2], true).add(attrs.eps).rsqrt() : perChannel(p.rv!).add(attrs.eps).rsqrt();
    const xhat = centered.mul(rstd);
    let dxhat: Tensor | null = null;
    const plusHat = (v: Tensor): void => {
      dxhat = dxhat ? dxhat.add(v) : v;
    };
    if (t.x) {
      const tx = t.x.reshape(shape3);
      plusHat(attrs.training ? rstd.mul(tx.sub(channelMean(tx)).sub(xhat.mul(channelMean(tx.mul(xhat))))) : tx.mul(rstd));
    }
    if (t.rm) plusHat(perChannel(t.rm).mul(rstd).neg());
    if (t.rv) plusHat(xhat.mul(rstd.square()).mul(perChannel(t.rv)).mul(-0.5));
    let out: Tensor | null = dxhat ? (p.w ? (dxhat as Tensor).mul(perChannel(p.w)) : dxhat) : null;
    const plus = (v: Tensor): void => {
      out = out ? out.add(v) : v;
    };
    if (t.w) plus(xhat.mul(perChannel(t.w)));
    if (t.b) plus(perChannel(t.b).expand(shape3));
    return (out as unknown as Tensor).reshape(p.x.shape);
  },
  reference: (inputs, attrs) => {
    const p = parts(inputs, attrs);
    const { N, C, inner } = batchNormLayout(p.x.shape);
    const out: HostTensor = host(p.x.shape);
    const M = N * inner;
    for (let c = 0; c < C; c++) {
      const at = (k: number): number => (Math.floor(k / inner) * C + c) * inner + (k % inner);
      let mean: number;
      let variance: number;
      if (attrs.training) {
        mean = 0;
        for (let k = 0; k < M; k++) mean += p.x.data[at(k)]!;
        mean /= M;
        variance = 0;
        for (let k = 0; k < M; k++) variance += (p.x.data[at(k)]! - mean) ** 2;
        variance /= M;
      } else {
        mean = p.rm!.data[c]!;
        variance = p.rv!.data[c]!;
      }
      const rstd = 1 / Math.sqrt(variance + attrs.eps);
      for (let k = 0; k < M; k++) {
        out.data[at(k)] = (p.x.data[at(k)]! - mean) * rstd * (p.w ? p.w.data[c]! : 1) + (p.b ? p.b.data[c]! : 0);
      }
    }
    return out;
  },
};

/**
 * Records the in-place update of the running statistics from x's batch statistics (PyTorch's:
 * rm ← (1 − momentum)·rm + momentum·mean, rv ← (1 − momentum)·rv + momentum·unbiased variance).
 * Both must be contiguous float32 [C] tensors (checked by the caller). The statistics are computed
 * by the same kernel the op uses, so they equal the ones it normalised with. Nothing happens for an
 * empty batch, as in PyTorch. Replays of a captured step repeat the update.
 */
export function recordRunningUpdate(x: Tensor, rm: Tensor, rv: Tensor, momentum: number, eps: number): void {
  const { N, C, inner } = batchNormLayout(x.shape);
  if (C === 0 || N * inner === 0) return;
  const attrs: BatchNormAttrs = { training: true, eps, weight: false, bias: false };
  const stats = channelStats(x, undefined, undefined, N, C, inner, attrs);
  x.runtime.scheduler.record({
    kernel: batchNormUpdateKernel,
    params: params(N, C, inner, attrs, momentum),
    storages: [stats.storage, rm.storage, rv.storage],
    workgroups: grid1d(C),
  });
  stats.dispose();
  // In-place writes, as PyTorch counts them: a graph that saved the old values refuses backward.
  rm.storage.version++;
  rv.storage.version++;
}

/** Records count ← count + 1 on an int32 scalar tensor (num_batches_tracked), on the GPU. */
export function recordBatchCount(count: Tensor): void {
  count.runtime.scheduler.record({
    kernel: batchNormCountKernel,
    params: BATCH_NORM_PARAMS.pack({ N: 0, C: 0, inner: 0, flags: 0, eps: 0, momentum: 0 }),
    storages: [count.storage],
    workgroups: [1, 1, 1],
  });
  count.storage.version++;
}
