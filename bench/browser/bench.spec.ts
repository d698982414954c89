// npm run bench — webgrad vs TensorFlow.js 4.22 WebGPU and jax-js in headless Chromium, same adapter, same run.
import { test } from '@playwright/test';
import { type Measurement, report, type Target } from '../report.js';
import { TF_SETTINGS } from '../settings.js';

const QUICK = process.env.BENCH_QUICK === '1';

test('webgrad vs TensorFlow.js and jax-js (WebGPU), same page', async ({ page }) => {
  page.on('console', (msg) => {
    if (msg.type() === 'error') console.log(`[page error] ${msg.text()}`);
    // BENCH_LOG=1: every line the page logs, as it goes (a long run shows its progress).
    else if (process.env.BENCH_LOG === '1') console.log(`[page] ${msg.text()}`);
  });
  const options = {
    repetitions: QUICK ? 2 : 5,
    mlp: [
      { batch: 1, steps: QUICK ? 30 : 200 },
      { batch: 64, steps: QUICK ? 20 : 100 },
      { batch: 512, steps: QUICK ? 4 : 20 },
      { batch: 'full' as const, steps: QUICK ? 1 : 3 },
    ],
    matmul: [
      { label: '256³', M: 256, K: 256, N: 256, reps: 10 },
      { label: '512³', M: 512, K: 512, N: 512, reps: 4 },
      { label: '1024³', M: 1024, K: 1024, N: 1024, reps: 2 },
      ...(QUICK ? [] : [{ label: '2048³', M: 2048, K: 2048, N: 2048, reps: 1 }]),
      { label: 'MLP fc1 64×784·784×128', M: 64, K: 784, N: 128, reps: 50 },
      { label: 'MLP fc2 64×128·128×10', M: 64, K: 128, N: 10, reps: 200 },
    ],
    chain: 200,
    // Issue 17's CNN row (LeNet, samples/s) and issue 16's names-GPT row (steps/s): bench/cnn_gpt_rows.ts.
    cnn: [{ batch: 64, steps: QUICK ? 10 : 40 }],
    gpt: [{ batch: 32, steps: QUICK ? 10 : 40 }],
    // For experiments: BENCH_ONLY=mlp-batch-1, =mlp-batch-64, =mlp-full, =matmul, =chain, =cnn, =gpt (or cnn,gpt) measures only those rows, =core all but cnn and gpt; BENCH_MATMUL fixes the kernel.
    ...(process.env.BENCH_MATMUL ? { matmulVariant: JSON.parse(process.env.BENCH_MATMUL) } : {}),
    ...(process.env.BENCH_LIBS ? { libs: process.env.BENCH_LIBS.split(',') } : {}),
  };
  if (process.env.BENCH_ONLY === 'mlp-batch-1' || process.env.BENCH_ONLY === 'mlp-batch-64') {
    options.mlp = [process.env.BENCH_ONLY === 'mlp-batch-1' ? { batch: 1, steps: 100 } : { batch: 64, steps: 60 }];
    options.matmul = [];
    options.chain = 0;
    options.cnn = [];
    options.gpt = [];
  }
  if (process.env.BENCH_ONLY === 'mlp-full') {
    options.mlp = [{ batch: 'full', steps: 3 }];
    options.matmul = [];
    options.chain = 0;
    options.cnn = [];
    options.gpt = [];
  }
  if (process.env.BENCH_ONLY === 'matmul') {
    options.mlp = [];
    options.chain = 0;
    options.cnn = [];
    options.gpt = [];
    // The full-batch MLP's dominant product too (its forward at 8,000 rows).
    options.matmul.push({ label: 'MLP full fc1 8000×784·784×128', M: 8000, K: 784, N: 128, reps: 1 });
  }
  // BENCH_ONLY=chain: only the eager op-chain row.
  if (process.env.BENCH_ONLY === 'chain') {
    options.mlp = [];
    options.matmul = [];
    options.cnn = [];
    options.gpt = [];
  }
  // BENCH_ONLY=core: the MLP, matmul and op-chain rows without the (slow) CNN and GPT rows.
  if (process.env.BENCH_ONLY === 'core') {
    options.cnn = [];
    options.gpt = [];
  }
  // BENCH_ONLY=cnn,gpt (or either): only those new rows.
  const only = (process.env.BENCH_ONLY ?? '').split(',');
  if (only.includes('cnn') || only.includes('gpt')) {
    options.mlp = [];
    options.matmul = [];
    options.chain = 0;
    if (!only.includes('cnn')) options.cnn = [];
    if (!only.includes('gpt')) options.gpt = [];
  }
  await page.goto(`/bench/browser/bench.html?options=${encodeURIComponent(JSON.stringify(options))}`);
  await page.waitForFunction(() => 'benchResult' in window, undefined, { timeout: 3_500_000, polling: 1000 });
  const out = (await page.evaluate(() => (window as unknown as { benchResult: unknown }).benchResult)) as {
    adapter: unknown;
    results: Measurement[];
    error?: string;
  };
  if (out.error) throw new Error(`the benchmark page failed: ${out.error}`);
  // Issue 16's targets: against TF.js's best of four settings and jax-js's jit(valueAndGrad).
  const targets: Target[] = [
    { kind: 'mlp', label: 'batch 1', ratio: 15, group: 'TF.js' },
    { kind: 'mlp', label: 'batch 64', ratio: 5, group: 'TF.js' },
    { kind: 'op-chain', label: '200 small ops', ratio: 4, group: 'TF.js' },
    { kind: 'mlp', label: 'batch 1', ratio: 3, group: 'jax-js' },
    { kind: 'mlp', label: 'batch 64', ratio: 2, group: 'jax-js' },
    { kind: 'mlp', label: 'full batch (8000)', ratio: 1.5, group: 'jax-js' },
    { kind: 'matmul', label: '1024³', ratio: 1.3, group: 'jax-js' },
    // Issue 17: LeNet training at batch 64; issue 16: the names GPT against jax-js.
    { kind: 'cnn', label: 'LeNet batch 64', ratio: 3, group: 'TF.js' },
    { kind: 'cnn', label: 'LeNet batch 64', ratio: 1.5, group: 'jax-js' },
    { kind: 'gpt', label: 'NamesGPT batch 32', ratio: 2, group: 'jax-js' },
  ];
  const groups = [
    { name: 'TF.js', libs: [...TF_SETTINGS] },
    { name: 'jax-js', libs: ['jax'] },
  ];
  console.log(`\n${report('browser', out.adapter, out.results, targets, groups, ['webgrad-eager', 'webgrad-tidy'])}`);
  console.log("(µs/op: a ratio of 4× means a quarter of the peer's time per op)");
});
