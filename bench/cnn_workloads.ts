// The CNN row (issue 17): LeNet training at batch 64 — conv 5×5 (6, padding 2) → ReLU → max pool 2 →
// conv 5×5 (16) → ReLU → max pool 2 → linear 120 → ReLU → linear 10 — in webgrad (models.LeNet, a
// captured step), TF.js (tf.conv2d ops on NHWC, its native layout) and jax-js (jit(valueAndGrad)
// with lax.convGeneralDilated). Every library starts from webgrad's initial weights (re-laid out for
// TF.js), sees the same batches and takes plain SGD steps; the first loss must agree across the
// libraries and the loss must fall before any run is timed.
import type * as jaxTypes from '@jax-js/jax';
import type * as tfTypes from '@tensorflow/tfjs';
import * as wg from '../src/index.js';

type Jax = typeof jaxTypes;
type Arr = jaxTypes.Array;

/** One batch as host arrays: images [batch, 784], labels, and one-hot targets [batch, 10]. */
export interface DigitBatch {
  x: Float32Array;
  y: Int32Array;
  onehot: Float32Array;
}

/** A training run's speed and its losses: at the first warm-up step, the first timed step and the last. */
export interface TrainRun {
  rate: number;
  losses: number[];
}

const LR = 0.05;

/** webgrad's LeNet initial weights (seed 0), in its parameter order: conv1.weight [6,1,5,5], conv1.bias, conv2.weight [16,6,5,5], conv2.bias, fc1.weight [120,400], fc1.bias, fc2.weight [10,120], fc2.bias. */
export async function lenetWeights(): Promise<Float32Array[]> {
  const model = new wg.models.LeNet({}, { seed: 0 });
  const weights = await Promise.all(model.parameters().map(async (p) => Float32Array.from(await p.data())));
  model.parameters().forEach((p) => p.dispose());
  return weights;
}

/** Permutes a row-major array of `shape` by `perm` (the result's axis i is the input's axis perm[i]). */
export function permuted(data: Float32Array, shape: number[], perm: number[]): Float32Array {
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float32Array(data.length);
  const index = new Array<number>(outShape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < perm.length; i++) src += index[i]! * inStrides[perm[i]!]!;
    out[o] = data[src]!;
    for (let i = outShape.length - 1; i >= 0; i--) {
      if (++index[i]! < outShape[i]!) break;
      index[i] = 0;
    }
  }
  return out;
}

// ---------- webgrad ----------
export async function webgradLenet(
  weights: Float32Array[],
  batches: DigitBatch[],
  batch: number,
  steps: number,
  warmup: number,
  captured: boolean,
): Promise<TrainRun> {
  const model = new wg.models.LeNet({}, { seed: 0 });
  model.parameters().forEach((p, i) => p.write(weights[i]!));
  const opt = new wg.optim.SGD(model.parameters(), { lr: LR });
  const eagerStep = (X: wg.Tensor, Y: wg.Tensor): wg.Tensor => {
    opt.zeroGrad();
    const loss = wg.nn.functional.crossEntropy(model.forward(X), Y);
    loss.backward();
    opt.step();
    return loss;
  };
  const step = captured ? wg.captureStep(eagerStep) : eagerStep;
  const losses: wg.Tensor[] = [];
  let t0 = performance.now();
  for (let s = -warmup; s < steps; s++) {
    if (s === 0) {
      await wg.sync(); // the warm-up's GPU work is done before the clock starts
      t0 = performance.now();
    }
    const { x, y } = batches[(s + warmup) % batches.length]!;
    const X = wg.tensor(x, { shape: [batch, 784] });
    const Y = wg.tensor(y, { shape: [batch], dtype: 'int32' });
    const loss = step(X, Y);
    if (s === -warmup || s === 0 || s === steps - 1) losses.push(loss.keep());
    else if (captured) loss.dispose();
    X.dispose();
    Y.dispose();
  }
  const values = await Promise.all(losses.map((l) => l.item()));
  const seconds = (performance.now() - t0) / 1000;
  losses.forEach((l) => l.dispose());
  if (captured) (step as wg.CapturedStep<[wg.Tensor, wg.Tensor], wg.Tensor>).dispose();
  model.parameters().forEach((p) => p.dispose());
  return { rate: (steps * batch) / seconds, losses: values };
}

// ---------- TensorFlow.js ----------
/**
 * TF.js's LeNet with tf.conv2d / tf.maxPool on NHWC images and HWIO filters. fc1's input order is
 * NHWC's (h, w, c) where webgrad flattens (c, h, w), so fc1's weight is permuted to match. The
 * resident setting uploads every batch once and slices each step's from it on the GPU.
 */
export async function tfLenet(
  tf: typeof tfTypes,
  weights: Float32Array[],
  batches: DigitBatch[],
  batch: number,
  steps: number,
  warmup: number,
  resident: boolean,
): Promise<TrainRun> {
  const [c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b] = weights as [
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  const vars = [
    tf.tensor4d(permuted(c1w, [6, 1, 5, 5], [2, 3, 1, 0]), [5, 5, 1, 6]),
    tf.tensor1d(c1b),
    tf.tensor4d(permuted(c2w, [16, 6, 5, 5], [2, 3, 1, 0]), [5, 5, 6, 16]),
    tf.tensor1d(c2b),
    // [120, (c 16, h 5, w 5)] → [(h, w, c), 120]
    tf.tensor2d(permuted(f1w, [120, 16, 5, 5], [2, 3, 1, 0]), [400, 120]),
    tf.tensor1d(f1b),
    tf.tensor2d(permuted(f2w, [10, 120], [1, 0]), [120, 10]),
    tf.tensor1d(f2b),
  ].map((t) => tf.variable(t));
  const [C1w, C1b, C2w, C2b, F1w, F1b, F2w, F2b] = vars as [tfTypes.Variable, ...tfTypes.Variable[]] as tfTypes.Variable<tfTypes.Rank>[];
  const allImages = resident ? tf.tensor4d(concat(batches.map((b) => b.x)), [batches.length * batch, 28, 28, 1]) : undefined;
  const allTargets = resident ? tf.tensor2d(concat(batches.map((b) => b.onehot)), [batches.length * batch, 10]) : undefined;
  const opt = tf.train.sgd(LR);
  const losses: tfTypes.Scalar[] = [];
  let t0 = performance.now();
  for (let s = -warmup; s < steps; s++) {
    if (s === 0) {
      await C1w!.data(); // the warm-up's GPU work is done before the clock starts
      t0 = performance.now();
    }
    const i = (s + warmup) % batches.length;
    const X = allImages ? tf.slice(allImages, [i * batch, 0, 0, 0], [batch, 28, 28, 1]) : tf.tensor4d(batches[i]!.x, [batch, 28, 28, 1]);
    const Y = allTargets ? tf.slice(allTargets, [i * batch, 0], [batch, 10]) : tf.tensor2d(batches[i]!.onehot, [batch, 10]);
    const loss = opt.minimize(() => {
      const conv = (x: tfTypes.Tensor4D, w: tfTypes.Variable, b: tfTypes.Variable, pad: 'same' | 'valid') =>
        tf.maxPool(tf.relu(tf.add(tf.conv2d(x, w as tfTypes.Tensor4D, 1, pad), b)) as tfTypes.Tensor4D, 2, 2, 'valid') as tfTypes.Tensor4D;
      const h = conv(conv(X as tfTypes.Tensor4D, C1w!, C1b!, 'same'), C2w!, C2b!, 'valid').reshape([batch, 400]);
      const hidden = tf.relu(tf.add(tf.matMul(h, F1w as tfTypes.Tensor2D), F1b!));
      const logits = tf.add(tf.matMul(hidden, F2w as tfTypes.Tensor2D), F2b!);
      return tf.losses.softmaxCrossEntropy(Y, logits) as tfTypes.Scalar;
    }, true)!;
    if (s === -warmup || s === 0 || s === steps - 1) losses.push(loss);
    else loss.dispose();
    X.dispose();
    Y.dispose();
  }
  const values = await Promise.all(losses.map(async (l) => (await l.data())[0]!));
  const seconds = (performance.now() - t0) / 1000;
  losses.forEach((l) => l.dispose());
  vars.forEach((v) => v.dispose());
  allImages?.dispose();
  allTargets?.dispose();
  opt.dispose();
  return { rate: (steps * batch) / seconds, losses: values };
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---------- jax-js ----------
type LeNetParams = { c1w: Arr; c1b: Arr; c2w: Arr; c2b: Arr; f1w: Arr; f1b: Arr; f2w: Arr; f2b: Arr };

/** jax-js's LeNet: NCHW / OIHW as webgrad (lax.convGeneralDilated), 2×2 max pooling as a reshape and a max. */
export async function jaxLenet(jax: Jax, weights: Float32Array[], batches: DigitBatch[], batch: number, steps: number, warmup: number): Promise<TrainRun> {
  const np = jax.numpy;
  const [c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b] = weights as [
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  let params: LeNetParams = {
    c1w: np.array(c1w).reshape([6, 1, 5, 5]),
    c1b: np.array(c1b),
    c2w: np.array(c2w).reshape([16, 6, 5, 5]),
    c2b: np.array(c2b),
    f1w: np.array(permuted(f1w, [120, 400], [1, 0])).reshape([400, 120]),
    f1b: np.array(f1b),
    f2w: np.array(permuted(f2w, [10, 120], [1, 0])).reshape([120, 10]),
    f2b: np.array(f2b),
  };
  // Non-overlapping 2×2 windows: [N, C, H, W] → [N, C, H/2, 2, W/2, 2] → max over the window axes.
  const pool = (x: Arr): Arr => {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    return x.reshape([n, c, h / 2, 2, w / 2, 2]).max([3, 5]);
  };
  const convBlock = (x: Arr, w: Arr, b: Arr, pad: number): Arr => {
    const out = jax.lax.convGeneralDilated(
      x,
      w,
      [1, 1],
      [
        [pad, pad],
        [pad, pad],
      ],
    );
    return pool(jax.nn.relu(out.add(b.reshape([1, -1, 1, 1]))));
  };
  const lossOf = (p: LeNetParams, x: Arr, y: Arr): Arr => {
    const h = convBlock(convBlock(x, p.c1w, p.c1b, 2), p.c2w, p.c2b, 0).reshape([batch, 400]);
    const hidden = jax.nn.relu(np.matmul(h, p.f1w).add(p.f1b));
    const logits = np.matmul(hidden, p.f2w).add(p.f2b);
    return jax.nn
      .logSoftmax(logits, -1)
      .mul(y)
      .sum()
      .mul(-1 / batch);
  };
  const step = jax.jit((p: LeNetParams, x: Arr, y: Arr): [Arr, LeNetParams] => {
    const [loss, grads] = jax.valueAndGrad(lossOf)(jax.tree.ref(p), x, y);
    const next = jax.tree.map((w: Arr, g: Arr) => w.sub(g.mul(LR)), p, grads) as LeNetParams;
    return [loss, next];
  });
  const losses: Arr[] = [];
  let t0 = performance.now();
  for (let s = -warmup; s < steps; s++) {
    if (s === 0) {
      await jax.blockUntilReady(params); // the warm-up's GPU work is done before the clock starts
      t0 = performance.now();
    }
    const { x, onehot } = batches[(s + warmup) % batches.length]!;
    const [loss, next] = step(params, np.array(x).reshape([batch, 1, 28, 28]), np.array(onehot).reshape([batch, 10]));
    params = next;
    if (s === -warmup || s === 0 || s === steps - 1) losses.push(loss);
    else loss.dispose();
  }
  const values: number[] = [];
  for (const l of losses) values.push((await l.data())[0]!);
  const seconds = (performance.now() - t0) / 1000;
  jax.tree.dispose(params);
  step.dispose();
  return { rate: (steps * batch) / seconds, losses: values };
}
