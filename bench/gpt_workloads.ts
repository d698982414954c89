// The names-GPT row (issue 16): steps/s of training webgrad's models.NamesGPT (2 blocks, width 64,
// 4 heads, context 16) at batch 32 with AdamW (lr 1e-3, weight decay 0.01) and gradients clipped to
// norm 1, as `npm run train:names` trains it — against the same model written in jax-js (embeddings
// as one-hot matmuls, layer norm, causal attention with an additive mask, erf GELU, clipping and
// AdamW by hand) under one jit(valueAndGrad). Both start from webgrad's initial weights and see the
// same batches; the first loss must agree and the loss must fall before any run is timed.
import type * as jaxTypes from '@jax-js/jax';
import * as wg from '../src/index.js';
import type { TrainRun } from './cnn_workloads.js';

type Jax = typeof jaxTypes;
type Arr = jaxTypes.Array;
type Params = Record<string, Arr>;

const LR = 1e-3;
const WEIGHT_DECAY = 0.01;
const BETAS = [0.9, 0.999] as const;
const EPS = 1e-8;
const MAX_NORM = 1;

/** One batch of name windows: int32 tokens and targets [batch, context] (targets −100 on padding). */
export interface NameBatch {
  x: Int32Array;
  y: Int32Array;
}

/** The same batches for every library: drawn with webgrad's seeded NameBatches (seed 0), as train:names draws them. */
export function nameBatches(names: wg.data.NamesSplit, batch: number, count: number): NameBatch[] {
  const draw = new wg.data.NameBatches(names.train, batch, wg.models.NAMES_GPT_DEFAULTS.context, new wg.Generator(0));
  return Array.from({ length: count }, () => {
    const { x, y } = draw.nextHost();
    return { x, y };
  });
}

/** NamesGPT's initial weights (seed 0) by parameter name, with their shapes. */
export async function gptWeights(): Promise<{ name: string; shape: number[]; data: Float32Array }[]> {
  const model = new wg.models.NamesGPT({ vocabSize: wg.data.NAMES_VOCABULARY.length }, { seed: 0 });
  const named = model.namedParameters();
  const out = await Promise.all(named.map(async ([name, p]) => ({ name, shape: [...p.shape], data: Float32Array.from(await p.data()) })));
  model.parameters().forEach((p) => p.dispose());
  return out;
}

// ---------- webgrad ----------
export async function webgradGpt(batches: NameBatch[], batch: number, steps: number, warmup: number, captured: boolean): Promise<TrainRun> {
  const model = new wg.models.NamesGPT({ vocabSize: wg.data.NAMES_VOCABULARY.length }, { seed: 0 });
  const { context } = model.config;
  const optimizer = new wg.optim.AdamW(model.parameters(), { lr: LR, weightDecay: WEIGHT_DECAY });
  const eagerStep = (x: wg.Tensor, y: wg.Tensor): wg.Tensor => {
    optimizer.zeroGrad();
    const loss = wg.models.NamesGPT.loss(model.forward(x), y);
    loss.backward();
    wg.nn.utils.clipGradNorm(model.parameters(), MAX_NORM);
    optimizer.step();
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
    const X = wg.tensor(x, { shape: [batch, context], dtype: 'int32' });
    const Y = wg.tensor(y, { shape: [batch, context], dtype: 'int32' });
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
  optimizer.zeroGrad();
  model.parameters().forEach((p) => p.dispose());
  return { rate: steps / seconds, losses: values };
}

// ---------- jax-js ----------
/** Targets as one-hot rows [batch·context, vocab], all zeros where the target is padding (−100). */
function oneHotTargets(y: Int32Array, vocab: number): Float32Array {
  const out = new Float32Array(y.length * vocab);
  y.forEach((t, i) => {
    if (t >= 0) out[i * vocab + t] = 1;
  });
  return out;
}

/** Linear layers' weights are [out, in] in webgrad; jax-js's model computes x·W, so they are stored [in, out]. */
const isLinearWeight = (name: string, shape: number[]) => shape.length === 2 && name.endsWith('.weight') && !name.startsWith('wte') && !name.startsWith('wpe');

function transposed(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c]!;
  return t;
}

export async function jaxGpt(
  jax: Jax,
  weights: { name: string; shape: number[]; data: Float32Array }[],
  batches: NameBatch[],
  batch: number,
  steps: number,
  warmup: number,
): Promise<TrainRun> {
  const np = jax.numpy;
  const { vocabSize, context: T, dModel: D, heads: H, layers } = { ...wg.models.NAMES_GPT_DEFAULTS, vocabSize: wg.data.NAMES_VOCABULARY.length };
  const V = vocabSize;
  const headDim = D / H;
  const toArr = ({ name, shape, data }: { name: string; shape: number[]; data: Float32Array }): Arr =>
    isLinearWeight(name, shape) ? np.array(transposed(data, shape[0]!, shape[1]!)).reshape([shape[1]!, shape[0]!]) : np.array(data).reshape(shape);
  let params: Params = Object.fromEntries(weights.map((w) => [w.name, toArr(w)]));
  let expAvg: Params = Object.fromEntries(weights.map((w) => [w.name, np.zeros(params[w.name]!.shape)]));
  let expAvgSq: Params = Object.fromEntries(weights.map((w) => [w.name, np.zeros(params[w.name]!.shape)]));

  // Every parameter is used once in the forward pass, so the jax-js ownership rules hold without .ref.
  const linear = (x: Arr, p: Params, name: string, bias = true): Arr => {
    const y = np.matmul(x, p[`${name}.weight`]!);
    return bias ? y.add(p[`${name}.bias`]!) : y;
  };
  const layerNorm = (x: Arr, p: Params, name: string): Arr => {
    const centred = x.ref.sub(x.mean(-1, { keepdims: true }));
    const variance = np.square(centred.ref).mean(-1, { keepdims: true });
    return centred
      .div(np.sqrt(variance.add(1e-5)))
      .mul(p[`${name}.weight`]!)
      .add(p[`${name}.bias`]!);
  };
  const attention = (x: Arr, p: Params, name: string): Arr => {
    const qkv = linear(x, p, `${name}.qkv`).reshape([batch, T, 3, H, headDim]).transpose([2, 0, 3, 1, 4]);
    const [q, k, v] = np.split(qkv, 3, 0).map((a) => a.reshape([batch, H, T, headDim])) as [Arr, Arr, Arr];
    // Future positions get −1e9 before the softmax: exp underflows to exactly 0 there.
    const future = np.tri(T).sub(1).mul(1e9);
    const scores = np
      .matmul(q, k.transpose([0, 1, 3, 2]))
      .mul(1 / Math.sqrt(headDim))
      .add(future);
    const y = np.matmul(jax.nn.softmax(scores, -1), v).transpose([0, 2, 1, 3]).reshape([batch, T, D]);
    return linear(y, p, `${name}.proj`);
  };
  const lossOf = (p: Params, x: Arr, y: Arr): Arr => {
    let h = np.matmul(jax.nn.oneHot(x, V), p['wte.weight']!).add(p['wpe.weight']!);
    for (let l = 0; l < layers; l++) {
      const b = `blocks.${l}`;
      h = h.ref.add(attention(layerNorm(h, p, `${b}.ln1`), p, `${b}.attn`));
      const hidden = jax.nn.gelu(linear(layerNorm(h.ref, p, `${b}.ln2`), p, `${b}.mlp.fc`), { approximate: false });
      h = h.add(linear(hidden, p, `${b}.mlp.proj`));
    }
    const logits = linear(layerNorm(h, p, 'lnf'), p, 'head', false);
    // Mean over the targets that are not padding (their one-hot rows are zero).
    return jax.nn.logSoftmax(logits, -1).mul(y.ref).sum().div(y.sum()).mul(-1);
  };
  const names = weights.map((w) => w.name);
  const step = jax.jit((p: Params, m: Params, v: Params, x: Arr, y: Arr, correction1: Arr, correction2: Arr): [Arr, Params, Params, Params] => {
    const [loss, grads] = jax.valueAndGrad(lossOf)(jax.tree.ref(p), x, y);
    // clipGradNorm(1): scale every gradient by min(1, maxNorm / (‖g‖ + 1e-6)).
    const total = np.sqrt(names.map((n) => np.square(grads[n]!.ref).sum()).reduce((a, b) => a.add(b)));
    const scale = np.minimum(np.reciprocal(total.add(1e-6)).mul(MAX_NORM), 1);
    const nextP: Params = {};
    const nextM: Params = {};
    const nextV: Params = {};
    for (const n of names) {
      const g = grads[n]!.mul(scale.ref);
      nextM[n] = m[n]!.mul(BETAS[0]).add(g.ref.mul(1 - BETAS[0]));
      nextV[n] = v[n]!.mul(BETAS[1]).add(np.square(g).mul(1 - BETAS[1]));
      // PyTorch's AdamW: decoupled decay, then the bias-corrected Adam step.
      const denom = np.sqrt(nextV[n]!.ref.mul(correction2.ref)).add(EPS);
      nextP[n] = p[n]!.mul(1 - LR * WEIGHT_DECAY).sub(nextM[n]!.ref.mul(correction1.ref).div(denom).mul(LR));
    }
    scale.dispose();
    correction1.dispose();
    correction2.dispose();
    return [loss, nextP, nextM, nextV];
  });
  const prepared = batches.map(({ x, y }) => ({ x, y: oneHotTargets(y, V) }));
  const losses: Arr[] = [];
  let t0 = performance.now();
  for (let s = -warmup; s < steps; s++) {
    if (s === 0) {
      await jax.blockUntilReady(params); // the warm-up's GPU work is done before the clock starts
      t0 = performance.now();
    }
    const t = s + warmup + 1; // Adam's step count
    const { x, y } = prepared[(s + warmup) % prepared.length]!;
    const [loss, p, m, v] = step(
      params,
      expAvg,
      expAvgSq,
      np.array(x, { shape: [batch, T], dtype: np.int32 }),
      np.array(y).reshape([batch, T, V]),
      np.array([1 / (1 - BETAS[0] ** t)]),
      np.array([1 / (1 - BETAS[1] ** t)]),
    );
    params = p;
    expAvg = m;
    expAvgSq = v;
    if (s === -warmup || s === 0 || s === steps - 1) losses.push(loss);
    else loss.dispose();
  }
  const values: number[] = [];
  for (const l of losses) values.push((await l.data())[0]!);
  const seconds = (performance.now() - t0) / 1000;
  jax.tree.dispose([params, expAvg, expAvgSq]);
  step.dispose();
  return { rate: steps / seconds, losses: values };
}
