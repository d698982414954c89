// The eager op-chain row of the benchmarks: 200 small elementwise ops on 256 floats, each library
// as its users write it (webgrad eagerly, and in tidy() as TF.js's chain is written; TF.js in
// tf.tidy; jax-js op by op), every chain's value checked.

import type * as tfTypes from '@tensorflow/tfjs';
import * as wg from '../src/index.js';
import { jaxChain } from './jax_workloads.js';
import type { Lib } from './workloads.js';

/** Untimed op chains before timing, and chains averaged per repetition (every library alike). */
const CHAIN_WARMUP = 5;
const CHAINS_PER_REPETITION = 10;

/**
 * The chain as eager code writes it (intermediates dropped, released when the garbage collector
 * finalises them), or in tidy() as TF.js's chain is written (intermediates released when it returns).
 */
async function webgradChain(length: number, inTidy = false): Promise<{ usPerOp: number; value: number }> {
  const x = wg.tensor(new Float32Array(256).fill(1)).keep();
  const t0 = performance.now();
  const chain = () => {
    let y = x;
    for (let i = 0; i < length; i++) y = i % 2 === 0 ? y.add(1) : y.mul(0.5);
    return y;
  };
  const y = inTidy ? wg.tidy(chain) : chain();
  const v = (await y.data())[0]!;
  const us = ((performance.now() - t0) * 1000) / length;
  if (inTidy) y.dispose();
  x.dispose();
  return { usPerOp: us, value: v };
}

async function tfChain(tf: typeof tfTypes, length: number): Promise<{ usPerOp: number; value: number }> {
  const x = tf.ones([256]);
  const t0 = performance.now();
  const y = tf.tidy(() => {
    let t: tfTypes.Tensor = x;
    for (let i = 0; i < length; i++) t = i % 2 === 0 ? tf.add(t, 1) : tf.mul(t, 0.5);
    return t;
  });
  const v = (await y.data())[0]!;
  const us = ((performance.now() - t0) * 1000) / length;
  y.dispose();
  x.dispose();
  return { usPerOp: us, value: v };
}

/** Measures the chain of `length` ops for each selected library, `repetitions` times. */
export async function runChainRow(
  length: number,
  repetitions: number,
  env: {
    tf: typeof tfTypes;
    jax?: typeof import('@jax-js/jax');
    selected: (lib: Lib) => boolean;
    useTiled: (lib: Lib) => void;
    record: (kind: 'op-chain', label: string, lib: Lib, values: number[], unit: string, check: string) => void;
  },
): Promise<void> {
  const { tf, jax, selected, useTiled, record } = env;
  if (length === 0) return;
  for (const lib of (['webgrad', 'webgrad-tidy', 'tfjs', 'jax'] as Lib[]).filter((l) => selected(l) || (l === 'webgrad-tidy' && selected('webgrad')))) {
    useTiled(lib);
    const run = lib.startsWith('webgrad')
      ? (n: number) => webgradChain(n, lib === 'webgrad-tidy')
      : lib === 'jax'
        ? (n: number) => jaxChain(jax!, n)
        : (n: number) => tfChain(tf, n);
    const expected = (() => {
      let v = 1;
      for (let i = 0; i < length; i++) v = i % 2 === 0 ? v + 1 : v * 0.5;
      return v;
    })();
    // Every chain's value is checked. Untimed chains first (each library's JIT and caches warm
    // up), then each repetition is the mean of CHAINS_PER_REPETITION chains, the same for every library.
    const chainOnce = async (): Promise<number> => {
      const out = await run(length);
      if (Math.abs(out.value - expected) > 1e-5 * Math.abs(expected)) throw new Error(`${lib} op chain: ${out.value} ≠ ${expected}`);
      return out.usPerOp;
    };
    for (let w = 0; w < CHAIN_WARMUP; w++) await chainOnce();
    const values: number[] = [];
    for (let r = 0; r < repetitions; r++) {
      let total = 0;
      for (let c = 0; c < CHAINS_PER_REPETITION; c++) total += await chainOnce();
      values.push(total / CHAINS_PER_REPETITION);
    }
    record(
      'op-chain',
      `${length} small ops`,
      lib,
      values,
      'µs/op',
      `checked; mean of ${CHAINS_PER_REPETITION} chains per repetition after ${CHAIN_WARMUP} untimed`,
    );
  }
}
