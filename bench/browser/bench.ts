// The benchmark page (npm run bench): webgrad, TensorFlow.js's WebGPU backend and jax-js in one page, on
// the adapter Chromium gives WebGPU. The workloads live in ../workloads.ts (shared with bench:node).

import * as jax from '@jax-js/jax';
import * as tf from '@tensorflow/tfjs';
import * as wg from '../../src/index.js';
import '@tensorflow/tfjs-backend-webgpu';
import { type BenchOptions, runSuite } from '../workloads.js';

const log = (line: string): void => {
  document.getElementById('log')!.textContent += `\n${line}`;
  console.log(line);
};

async function runBench(options: BenchOptions & { matmulVariant?: wg.MatmulVariant }): Promise<{ adapter: unknown; results: unknown }> {
  await wg.init();
  // webgrad's start-up autotune of its matmul (cached per adapter in a real page).
  // BENCH_MATMUL (a variant as JSON) fixes the kernel instead, for experiments.
  const tuning = options.matmulVariant ? { chosen: options.matmulVariant, timings: {}, shapes: [], reused: true } : await wg.tuneMatmul({ force: true });
  if (options.matmulVariant) (await import('../../src/runtime/runtime.js')).runtime().profile.matmul = options.matmulVariant;
  log(`matmul tuned: ${JSON.stringify(tuning)}`);
  await tf.setBackend('webgpu');
  await tf.ready();
  // jax-js on WebGPU (its default device is Wasm); it requests its own device on the same adapter.
  if (!(await jax.init('webgpu')).includes('webgpu')) throw new Error('jax-js could not start its WebGPU backend');
  jax.defaultDevice('webgpu');
  const digits = await wg.data.loadDigits(new URL('/digits.bin.gz', location.href));
  const names = options.gpt?.length ? await wg.data.loadNames(new URL('/names.txt.gz', location.href)) : undefined;
  const results = await runSuite(options, { tf, jax, digits, names, log });
  return { adapter: { ...wg.runtimeInfo().adapter, webgradMatmul: tuning.chosen }, results };
}

// Started from the URL (?options=<JSON>), so a dev-server reload simply starts it again.
const param = new URLSearchParams(location.search).get('options');
if (param) {
  runBench(JSON.parse(param) as BenchOptions)
    .then((r) => ((window as unknown as { benchResult: unknown }).benchResult = r))
    .catch((err: Error) => ((window as unknown as { benchResult: unknown }).benchResult = { error: `${err.message}\n${err.stack}` }));
}
log('ready');
