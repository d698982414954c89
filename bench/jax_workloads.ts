// jax-js (@jax-js/jax) versions of the benchmark workloads, browser only (jax-js has no WebGPU in
// Node). Each is written the way jax-js's own documentation trains: the whole SGD step is one
// `jit(valueAndGrad(...))` function, so jax-js fuses and records it. jax-js counts references: every
// function consumes its array arguments, so an array used twice is passed as `.ref` first.
import type * as jaxTypes from '@jax-js/jax';

type Jax = typeof jaxTypes;
type Arr = jaxTypes.Array;
// A type alias, not an interface: jax-js's tree types need an index signature.
type Params = { w1: Arr; b1: Arr; w2: Arr; b2: Arr };

/** [out, in] row-major (PyTorch's layout) → [in, out], so the jax-js model computes x·W. */
function transposed(w: Float32Array, out: number, inn: number): Float32Array {
  const t = new Float32Array(w.length);
  for (let o = 0; o < out; o++) for (let i = 0; i < inn; i++) t[i * out + o] = w[o * inn + i]!;
  return t;
}

export async function jaxMlp(
  jax: Jax,
  weights: Float32Array[],
  batches: { x: Float32Array; onehot: Float32Array }[],
  batch: number,
  steps: number,
  warmup: number,
  lr: number,
): Promise<{ rate: number; losses: number[] }> {
  const np = jax.numpy;
  const [w1, b1, w2, b2] = weights as [Float32Array, Float32Array, Float32Array, Float32Array];
  let params: Params = {
    w1: np.array(transposed(w1, 128, 784)).reshape([784, 128]),
    b1: np.array(b1),
    w2: np.array(transposed(w2, 10, 128)).reshape([128, 10]),
    b2: np.array(b2),
  };
  // Mean cross-entropy with one-hot targets, as TF.js's softmaxCrossEntropy.
  const lossOf = (p: Params, x: Arr, y: Arr): Arr => {
    const h = jax.nn.relu(np.matmul(x, p.w1).add(p.b1));
    const logits = np.matmul(h, p.w2).add(p.b2);
    return jax.nn
      .logSoftmax(logits, -1)
      .mul(y)
      .sum()
      .mul(-1 / batch);
  };
  const step = jax.jit((p: Params, x: Arr, y: Arr): [Arr, Params] => {
    const [loss, grads] = jax.valueAndGrad(lossOf)(jax.tree.ref(p), x, y);
    const next = jax.tree.map((w: Arr, g: Arr) => w.sub(g.mul(lr)), p, grads) as Params;
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
    const X = np.array(x).reshape([batch, 784]);
    const Y = np.array(onehot).reshape([batch, 10]);
    const [loss, next] = step(params, X, Y);
    params = next;
    // jax-js's MNIST demo reads the loss back now and then, not every step; read the first and last.
    if (s === 0 || s === steps - 1) losses.push(loss);
    else loss.dispose();
  }
  const values: number[] = [];
  for (const l of losses) values.push((await l.data())[0]!);
  const seconds = (performance.now() - t0) / 1000;
  jax.tree.dispose(params);
  step.dispose();
  return { rate: (steps * batch) / seconds, losses: values };
}

export async function jaxMatmul(
  jax: Jax,
  M: number,
  K: number,
  N: number,
  reps: number,
  check: (a: ArrayLike<number>, b: ArrayLike<number>, c: ArrayLike<number>) => Promise<number>,
  doCheck: boolean,
): Promise<{ gflops: number; err: number }> {
  const np = jax.numpy;
  const av = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i));
  const bv = Float32Array.from({ length: K * N }, (_, i) => Math.cos(i));
  const a = np.array(av).reshape([M, K]);
  const b = np.array(bv).reshape([K, N]);
  const product = jax.jit((x: Arr, y: Arr) => np.matmul(x, y));
  let err = 0;
  if (doCheck) err = await check(av, bv, await product(a.ref, b.ref).data());
  const out: Arr[] = [];
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) out.push(product(a.ref, b.ref));
  await jax.blockUntilReady(out);
  const seconds = (performance.now() - t0) / 1000;
  jax.tree.dispose(out);
  a.dispose();
  b.dispose();
  product.dispose();
  return { gflops: (2 * M * N * K * reps) / seconds / 1e9, err };
}

/** Ordinary eager code: each op is dispatched as written (no jit), as the other libraries' chains. */
export async function jaxChain(jax: Jax, length: number): Promise<{ usPerOp: number; value: number }> {
  const np = jax.numpy;
  const x = np.ones([256]);
  const t0 = performance.now();
  let y: Arr = x;
  for (let i = 0; i < length; i++) y = i % 2 === 0 ? y.add(1) : y.mul(0.5);
  const v = (await y.data())[0]!;
  const us = ((performance.now() - t0) * 1000) / length;
  return { usPerOp: us, value: v };
}
