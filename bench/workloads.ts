// The benchmark workloads, shared by the browser page (npm run bench) and Node (npm run
// bench:node): webgrad and TensorFlow.js's WebGPU backend on the same adapter, in the same run, on
// the same network, data, initial weights and plain SGD. Every measurement is checked for
// correctness before it is timed; warm-up runs are excluded; several repetitions give a median and
// a spread.

import type * as tfTypes from '@tensorflow/tfjs';
import * as wg from '../src/index.js';
import { runChainRow } from './chain_rows.js';
import { type CnnGptOptions, runCnnGptRows } from './cnn_gpt_rows.js';
import { jaxMatmul, jaxMlp } from './jax_workloads.js';
import { TF_SETTINGS } from './settings.js';

/**
 * webgrad's MLP runs as a captured step (its training API for loops); 'webgrad-eager' records every
 * step. TF.js runs in four settings — batches uploaded each step or sliced from the training set
 * resident on the GPU ('-resident'), each with its default and its tiled matmul ('-tiled') — and
 * the fastest counts. 'jax' is jax-js with the whole step under `jit(valueAndGrad)` (browser only).
 */
export type Lib = 'webgrad' | 'webgrad-eager' | 'webgrad-tidy' | 'tfjs' | 'tfjs-tiled' | 'tfjs-resident' | 'tfjs-resident-tiled' | 'jax';

export interface Measurement {
  kind: 'mlp' | 'matmul' | 'op-chain' | 'cnn' | 'gpt';
  label: string;
  lib: Lib;
  /** The unit's value per repetition (samples/s, GFLOP/s, µs per op). */
  values: number[];
  unit: string;
  median: number;
  min: number;
  max: number;
  check: string;
}

export function summary(values: number[]): { median: number; min: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]! };
}

let digits: wg.data.TrainTest;
let tf: typeof tfTypes;
let jax: typeof import('@jax-js/jax') | undefined;
// The TF.js module (the browser's, or Node's with navigator.gpu from Dawn), set by runSuite.

/**
 * Untimed steps at the start of every training run, for every library: webgrad's captured step
 * runs eagerly on its first call and records on its second, and TF.js sets up its optimizer's
 * state on its first — none of that is the steady state being measured.
 */
const WARMUP_STEPS = 2;

/** Initial weights shared by both libraries: W [out, in] as in PyTorch. */
function initialWeights(): Float32Array[] {
  const g = new wg.Generator(42);
  const u = (n: number, fanIn: number) => Float32Array.from({ length: n }, () => (g.uniform() * 2 - 1) / Math.sqrt(fanIn));
  return [u(128 * 784, 784), u(128, 784), u(10 * 128, 128), u(10, 128)];
}

function batchData(start: number, size: number): { x: Float32Array; y: Int32Array; onehot: Float32Array } {
  const { images, labels, count } = digits.train;
  const x = new Float32Array(size * 784);
  const y = new Int32Array(size);
  const onehot = new Float32Array(size * 10);
  for (let i = 0; i < size; i++) {
    const j = (start + i) % count;
    x.set(images.subarray(j * 784, (j + 1) * 784), i * 784);
    y[i] = labels[j]!;
    onehot[i * 10 + labels[j]!] = 1;
  }
  return { x, y, onehot };
}

// ---------- webgrad ----------
/**
 * At batch 1 the per-step host cost (a call, a submit, a fresh tensor) is a large share of a step,
 * so webgrad's captured step runs 50 steps per submit there (`captureStep(...).many`), over
 * batches uploaded 50 at a time; like every library here, only the first and last losses are read.
 */
const STEPS_PER_SUBMIT = 50;
const MANY_UP_TO_BATCH = 1;

function webgradModel() {
  const [w1, b1, w2, b2] = initialWeights();
  const model = new wg.nn.Sequential(new wg.nn.Linear(784, 128), new wg.nn.ReLU(), new wg.nn.Linear(128, 10));
  model.parameters().forEach((p, i) => p.write([w1, b1, w2, b2][i]!));
  const opt = new wg.optim.SGD(model.parameters(), { lr: 0.05 });
  const eagerStep = (X: wg.Tensor, Y: wg.Tensor): wg.Tensor => {
    opt.zeroGrad();
    const loss = wg.nn.functional.crossEntropy(model.forward(X), Y);
    loss.backward();
    opt.step();
    return loss;
  };
  return { model, eagerStep };
}

async function webgradMlp(batch: number, steps: number, captured: boolean): Promise<{ rate: number; losses: number[] }> {
  if (captured && batch <= MANY_UP_TO_BATCH) return webgradMlpMany(batch, steps);
  const { model, eagerStep } = webgradModel();
  const step = captured ? wg.captureStep(eagerStep) : eagerStep;
  const batches = Array.from({ length: Math.min(steps, 16) }, (_, s) => batchData(s * batch, batch));
  const losses: wg.Tensor[] = [];
  let t0 = performance.now();
  for (let s = -WARMUP_STEPS; s < steps; s++) {
    if (s === 0) {
      await wg.sync(); // the warm-up's GPU work is done before the clock starts
      t0 = performance.now();
    }
    const { x, y } = batches[(s + WARMUP_STEPS) % batches.length]!;
    const X = wg.tensor(x, { shape: [batch, 784] });
    const Y = wg.tensor(y, { shape: [batch], dtype: 'int32' });
    const loss = step(X, Y);
    if (s === 0 || s === steps - 1) losses.push(loss.keep());
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

/** The captured step, STEPS_PER_SUBMIT steps per call of many(), cycling through the same 16 batches as webgradMlp. */
async function webgradMlpMany(batch: number, steps: number): Promise<{ rate: number; losses: number[] }> {
  const { model, eagerStep } = webgradModel();
  const step = wg.captureStep(eagerStep);
  const batches = Array.from({ length: Math.min(steps, 16) }, (_, s) => batchData(s * batch, batch));
  // Steps [start, start + n) stacked on the host, outside the timed loop as webgradMlp's batches are.
  const chunk = (start: number, n: number) => {
    const x = new Float32Array(n * batch * 784);
    const y = new Int32Array(n * batch);
    for (let i = 0; i < n; i++) {
      const b = batches[(((start + i) % batches.length) + batches.length) % batches.length]!;
      x.set(b.x, i * batch * 784);
      y.set(b.y, i * batch);
    }
    return { x, y, n };
  };
  const perSubmit = Math.min(STEPS_PER_SUBMIT, steps);
  const chunks = Array.from({ length: Math.ceil(steps / perSubmit) }, (_, c) => chunk(c * perSubmit, Math.min(perSubmit, steps - c * perSubmit)));
  const run = ({ x, y, n }: { x: Float32Array; y: Int32Array; n: number }): wg.Tensor => {
    const X = wg.tensor(x, { shape: [n, batch, 784] });
    const Y = wg.tensor(y, { shape: [n, batch], dtype: 'int32' });
    const losses = step.many(X, Y);
    X.dispose();
    Y.dispose();
    return losses;
  };
  // Untimed: the first call warms up, records and replays the rest of its chunk.
  run(chunk(-perSubmit, perSubmit)).dispose();
  await wg.sync();
  const t0 = performance.now();
  const kept: wg.Tensor[] = [];
  chunks.forEach((c, i) => {
    const losses = run(c);
    if (i === 0 || i === chunks.length - 1) kept.push(losses);
    else losses.dispose();
  });
  const first = (await kept[0]!.data())[0]!;
  const lastLosses = await kept[kept.length - 1]!.data();
  const seconds = (performance.now() - t0) / 1000;
  kept.forEach((l) => l.dispose());
  step.dispose();
  model.parameters().forEach((p) => p.dispose());
  return { rate: (steps * batch) / seconds, losses: [first, lastLosses[lastLosses.length - 1]!] };
}

async function webgradMatmul(M: number, K: number, N: number, reps: number, check: boolean): Promise<{ gflops: number; err: number }> {
  const a = wg.rand([M, K], { seed: 1, low: -1, high: 1 }).keep();
  const b = wg.rand([K, N], { seed: 2, low: -1, high: 1 }).keep();
  let err = 0;
  if (check) err = await checkProduct(await a.data(), await b.data(), await a.matmul(b).data(), M, K, N);
  const out: wg.Tensor[] = [];
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) out.push(a.matmul(b));
  await wg.sync();
  const seconds = (performance.now() - t0) / 1000;
  out.forEach((t) => t.dispose());
  a.dispose();
  b.dispose();
  return { gflops: (2 * M * N * K * reps) / seconds / 1e9, err };
}

// ---------- TensorFlow.js ----------
async function tfMlp(batch: number, steps: number, resident: boolean): Promise<{ rate: number; losses: number[] }> {
  const [w1, b1, w2, b2] = initialWeights();
  // The resident setting uploads the training set once and slices each batch from it on the GPU.
  const all = resident ? batchData(0, digits.train.count) : undefined;
  const images = all ? tf.tensor2d(all.x, [digits.train.count, 784]) : undefined;
  const targets = all ? tf.tensor2d(all.onehot, [digits.train.count, 10]) : undefined;
  const sliceStart = (s: number) => ((s % 16) * batch) % Math.max(1, digits.train.count - batch + 1);
  const W1 = tf.variable(tf.tensor2d(w1!, [128, 784]));
  const B1 = tf.variable(tf.tensor1d(b1!));
  const W2 = tf.variable(tf.tensor2d(w2!, [10, 128]));
  const B2 = tf.variable(tf.tensor1d(b2!));
  const opt = tf.train.sgd(0.05);
  const batches = Array.from({ length: Math.min(steps, 16) }, (_, s) => batchData(s * batch, batch));
  const losses: tfTypes.Scalar[] = [];
  let t0 = performance.now();
  for (let s = -WARMUP_STEPS; s < steps; s++) {
    if (s === 0) {
      await W1.data(); // the warm-up's GPU work is done before the clock starts
      t0 = performance.now();
    }
    const { x, onehot } = batches[(s + WARMUP_STEPS) % batches.length]!;
    const start = sliceStart(s + WARMUP_STEPS);
    const X = images ? tf.slice(images, [start, 0], [batch, 784]) : tf.tensor2d(x, [batch, 784]);
    const Y = targets ? tf.slice(targets, [start, 0], [batch, 10]) : tf.tensor2d(onehot, [batch, 10]);
    const loss = opt.minimize(() => {
      const h = tf.relu(tf.add(tf.matMul(X, W1, false, true), B1));
      const logits = tf.add(tf.matMul(h, W2, false, true), B2);
      return tf.losses.softmaxCrossEntropy(Y, logits) as tfTypes.Scalar;
    }, true)!;
    if (s === 0 || s === steps - 1) losses.push(loss);
    else loss.dispose();
    X.dispose();
    Y.dispose();
  }
  const values = await Promise.all(losses.map(async (l) => (await l.data())[0]!));
  const seconds = (performance.now() - t0) / 1000;
  losses.forEach((l) => l.dispose());
  [W1, B1, W2, B2].forEach((v) => v.dispose());
  images?.dispose();
  targets?.dispose();
  opt.dispose();
  return { rate: (steps * batch) / seconds, losses: values };
}

async function tfMatmul(M: number, K: number, N: number, reps: number, check: boolean): Promise<{ gflops: number; err: number }> {
  const av = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i));
  const bv = Float32Array.from({ length: K * N }, (_, i) => Math.cos(i));
  const a = tf.tensor2d(av, [M, K]);
  const b = tf.tensor2d(bv, [K, N]);
  let err = 0;
  if (check) {
    const c = tf.matMul(a, b);
    err = await checkProduct(av, bv, (await c.data()) as Float32Array, M, K, N);
    c.dispose();
  }
  const out: tfTypes.Tensor[] = [];
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) out.push(tf.matMul(a, b));
  await out[out.length - 1]!.data();
  const seconds = (performance.now() - t0) / 1000;
  out.forEach((t) => t.dispose());
  a.dispose();
  b.dispose();
  return { gflops: (2 * M * N * K * reps) / seconds / 1e9, err };
}

/** Largest error of sampled entries against a float64 product, relative to the entry's magnitude. */
async function checkProduct(a: ArrayLike<number>, b: ArrayLike<number>, c: ArrayLike<number>, M: number, K: number, N: number): Promise<number> {
  let worst = 0;
  for (let s = 0; s < 32; s++) {
    const i = (s * 7919) % M;
    const j = (s * 104729) % N;
    let ref = 0;
    let mag = 0;
    for (let k = 0; k < K; k++) {
      ref += a[i * K + k]! * b[k * N + j]!;
      mag += Math.abs(a[i * K + k]! * b[k * N + j]!);
    }
    worst = Math.max(worst, Math.abs(c[i * N + j]! - ref) / Math.max(mag, 1e-30));
  }
  return worst;
}

export interface BenchOptions extends CnnGptOptions {
  repetitions: number;
  mlp: { batch: number | 'full'; steps: number }[];
  matmul: { label: string; M: number; K: number; N: number; reps: number }[];
  /** Length of the small-op chain (0: not measured). */
  chain: number;
  /** Only these libraries (default: all). */
  libs?: Lib[];
}

/**
 * Runs every workload for webgrad and TensorFlow.js. webgrad must be initialised and TF.js's
 * WebGPU backend ready (on the same adapter) before the call.
 */
export async function runSuite(
  options: BenchOptions,
  env: { tf: typeof tfTypes; jax?: typeof import('@jax-js/jax'); digits: wg.data.TrainTest; names?: wg.data.NamesSplit; log: (line: string) => void },
): Promise<Measurement[]> {
  tf = env.tf;
  jax = env.jax;
  digits = env.digits;
  const log = env.log;
  const selected = (lib: Lib): boolean => (!options.libs || options.libs.includes(lib)) && (lib !== 'jax' || !!jax);
  const results: Measurement[] = [];
  const record = (kind: Measurement['kind'], label: string, lib: Lib, values: number[], unit: string, check: string) => {
    const m: Measurement = { kind, label, lib, values, unit, ...summary(values), check };
    results.push(m);
    log(`${kind} ${label} ${lib}: median ${m.median.toFixed(2)} ${unit} (${m.min.toFixed(2)}–${m.max.toFixed(2)}) ${check}`);
  };
  const libs: Lib[] = ['webgrad', 'tfjs', 'tfjs-tiled', 'jax'];
  const useTiled = (lib: Lib) => tf.env().set('WEBGPU_MATMUL_PROGRAM_TYPE', lib.endsWith('-tiled') ? 3 : -1);

  for (const { batch: b, steps } of options.mlp) {
    const batch = b === 'full' ? digits.train.count : b;
    const label = b === 'full' ? `full batch (${batch})` : `batch ${batch}`;
    for (const lib of (['webgrad', 'webgrad-eager', ...TF_SETTINGS, 'jax'] as Lib[]).filter(selected)) {
      useTiled(lib);
      const run = (b: number, n: number) => {
        if (lib === 'webgrad' || lib === 'webgrad-eager') return webgradMlp(b, n, lib === 'webgrad');
        if (lib === 'jax') {
          const batches = Array.from({ length: Math.min(n, 16) }, (_, s) => batchData(s * b, b));
          return jaxMlp(jax!, initialWeights(), batches, b, n, WARMUP_STEPS, 0.05);
        }
        return tfMlp(b, n, lib.startsWith('tfjs-resident'));
      };
      // Correctness first: the loss falls over the run (both start from the same weights).
      const warm = await run(batch, Math.max(3, Math.min(steps, 20)));
      if (!(warm.losses[1]! < warm.losses[0]!)) throw new Error(`${lib} ${label}: the loss did not fall (${warm.losses})`);
      const values: number[] = [];
      for (let r = 0; r < options.repetitions; r++) values.push((await run(batch, steps)).rate);
      record('mlp', label, lib, values, 'samples/s', `loss ${warm.losses[0]!.toFixed(3)}→${warm.losses[1]!.toFixed(3)}`);
    }
  }
  for (const m of options.matmul) {
    for (const lib of libs.filter(selected)) {
      useTiled(lib);
      const run =
        lib === 'webgrad'
          ? webgradMatmul
          : lib === 'jax'
            ? (M: number, K: number, N: number, reps: number, check: boolean) =>
                jaxMatmul(jax!, M, K, N, reps, (a, b, c) => checkProduct(a, b, c, M, K, N), check)
            : tfMatmul;
      const { err } = await run(m.M, m.K, m.N, 1, true);
      if (!(err < 1e-4)) throw new Error(`${lib} matmul ${m.label}: wrong result (relative error ${err})`);
      const values: number[] = [];
      for (let r = 0; r < options.repetitions; r++) values.push((await run(m.M, m.K, m.N, m.reps, false)).gflops);
      record('matmul', m.label, lib, values, 'GFLOP/s', `checked, error ${err.toExponential(1)}`);
    }
  }
  // The eager op-chain row: bench/chain_rows.ts.
  await runChainRow(options.chain, options.repetitions, { tf, jax, selected, useTiled, record });
  // The CNN (LeNet) and names-GPT rows: bench/cnn_gpt_rows.ts.
  await runCnnGptRows(options, { tf, jax, digits, names: env.names, selected, useTiled, batchData, warmup: WARMUP_STEPS, record });
  return results;
}
