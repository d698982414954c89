// npm run bench:node — on Node + Dawn (the adapter Dawn picks: lavapipe here, a real GPU elsewhere):
// webgrad against TensorFlow.js's WebGPU backend on the same adapter (Dawn's navigator.gpu), and
// against the seed's PyTorch program on this machine's CPU (Debian's python3-torch) — all in one run.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type * as tfTypes from '@tensorflow/tfjs';
import { runsBehindDawnNoiseFilter } from '../src/cli/dawn_noise.js';
import { data, init, runtimeInfo, tuneMatmul } from '../src/index.js';
import { lenetWeights, webgradLenet } from './cnn_workloads.js';
import { report, type Target } from './report.js';
import { TF_SETTINGS } from './settings.js';
import { type BenchOptions, type Measurement, runSuite, summary } from './workloads.js';

const QUICK = process.env.BENCH_QUICK === '1';
const options: BenchOptions = {
  repetitions: QUICK ? 2 : 5,
  mlp: [
    { batch: 1, steps: QUICK ? 100 : 400 },
    { batch: 64, steps: QUICK ? 60 : 200 },
    { batch: 512, steps: QUICK ? 10 : 40 },
    { batch: 'full', steps: QUICK ? 2 : 5 },
  ],
  matmul: [
    { label: '256³', M: 256, K: 256, N: 256, reps: 20 },
    { label: '512³', M: 512, K: 512, N: 512, reps: 6 },
    { label: '1024³', M: 1024, K: 1024, N: 1024, reps: 3 },
    ...(QUICK ? [] : [{ label: '2048³', M: 2048, K: 2048, N: 2048, reps: 1 }]),
    { label: 'MLP fc1 64×784·784×128', M: 64, K: 784, N: 128, reps: 100 },
    { label: 'MLP fc2 64×128·128×10', M: 64, K: 128, N: 10, reps: 300 },
  ],
  chain: 200,
  // Issue 17's CNN row (LeNet at batch 64), against TF.js on Dawn and PyTorch on the CPU.
  cnn: [{ batch: 64, steps: QUICK ? 10 : 40 }],
};
// BENCH_ONLY=cnn: only the CNN row (the names-GPT row has no peer in Node: jax-js has no WebGPU here).
if ((process.env.BENCH_ONLY ?? '').split(',').includes('cnn')) Object.assign(options, { mlp: [], matmul: [], chain: 0 });
// BENCH_ONLY=chain: only the eager op-chain row; =mlp: only the MLP rows.
if (process.env.BENCH_ONLY === 'chain') Object.assign(options, { mlp: [], matmul: [], cnn: [] });
if (process.env.BENCH_ONLY === 'mlp') Object.assign(options, { matmul: [], chain: 0, cnn: [] });
// For experiments: BENCH_LIBS=webgrad,webgrad-eager measures only those libraries.
if (process.env.BENCH_LIBS) options.libs = process.env.BENCH_LIBS.split(',') as BenchOptions['libs'];

/** TensorFlow.js with its WebGPU backend on Dawn: it finds the GPU where a browser has it. */
async function loadTf(): Promise<typeof tfTypes> {
  const { create, globals } = (await import('webgpu')) as { create: (o: string[]) => GPU; globals: object };
  Object.assign(globalThis, globals);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]), userAgent: 'node' }, configurable: true });
  const tf = (await import('@tensorflow/tfjs')) as typeof tfTypes;
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('TensorFlow.js could not start its WebGPU backend on Dawn');
  await tf.ready();
  return tf;
}

/** The seed's PyTorch program on the CPU, when python3-torch is installed. */
async function torchPeer(train: data.Dataset): Promise<Measurement[]> {
  const python = '/usr/bin/python3';
  if (!existsSync(python)) {
    console.log('PyTorch peer not measured: /usr/bin/python3 with python3-torch is not installed.');
    return [];
  }
  try {
    // The CNN rows start from webgrad's LeNet weights, given on stdin.
    const weights = options.cnn?.length ? await lenetWeights() : [];
    const input = JSON.stringify({ lenet: weights.map((w) => Array.from(w)) });
    const out = JSON.parse(execFileSync(python, ['bench/torch_peer.py', JSON.stringify(options)], { encoding: 'utf8', input, maxBuffer: 1 << 26 }));
    console.log(`PyTorch peer: PyTorch ${out.torch} on the CPU, ${out.threads} thread(s)`);
    const results: Measurement[] = [];
    for (const { batch: b } of options.mlp) {
      const label = b === 'full' ? `full batch (${train.count})` : `batch ${b}`;
      const values = out.mlp[String(b)] as number[];
      results.push({ kind: 'mlp', label, lib: 'pytorch-cpu' as Measurement['lib'], unit: 'samples/s', values, ...summary(values), check: '' });
    }
    for (const m of options.matmul) {
      const values = out.matmul[m.label] as number[];
      results.push({ kind: 'matmul', label: m.label, lib: 'pytorch-cpu' as Measurement['lib'], unit: 'GFLOP/s', values, ...summary(values), check: '' });
    }
    for (const { batch, steps } of options.cnn ?? []) {
      const { rates, losses } = out.cnn[String(batch)] as { rates: number[]; losses: number[] };
      // The checking run trained on the first batch only; webgrad's, from the same weights, must agree
      // within 1e-3 (first loss) and 1e-2 (last), as the other libraries' (bench/cnn_gpt_rows.ts).
      const ours = (await webgradLenet(weights, [batchOf(train, 0, batch)], batch, Math.max(3, Math.min(steps, 20)), 2, false)).losses;
      const differences = [0, 2].map((i) => Math.abs(losses[i]! - ours[i]!) / Math.abs(ours[i]!)) as [number, number];
      if (!(differences[0] <= 1e-3 && differences[1] <= 1e-2 && losses[2]! < losses[0]!)) {
        console.log(`PyTorch CNN row not counted: its losses on one batch ${losses[0]}→${losses[2]}, webgrad's ${ours[0]}→${ours[2]}`);
        continue;
      }
      const check = `one batch: loss ${losses[0]!.toPrecision(6)}→${losses[2]!.toPrecision(6)} (Δ ${differences.map((d) => d.toExponential(1)).join(' / ')} vs webgrad)`;
      results.push({
        kind: 'cnn',
        label: `LeNet batch ${batch}`,
        lib: 'pytorch-cpu' as Measurement['lib'],
        unit: 'samples/s',
        values: rates,
        ...summary(rates),
        check,
      });
    }
    return results;
  } catch (err) {
    console.log(`PyTorch peer not measured: ${(err as Error).message.split('\n')[0]}`);
    return [];
  }
}

async function main(): Promise<void> {
  const digits = await data.loadDigits();
  await init();
  const tuning = await tuneMatmul({ force: true });
  console.log(`matmul tuned: ${JSON.stringify(tuning)}`);
  const tf = await loadTf();
  const results = await runSuite(options, { tf, digits, log: (line) => console.log(line) });
  results.push(...(await torchPeer(digits.train)));
  // Issue 16's targets for Node: against the seed's PyTorch program on the CPU, and TF.js's eager ops.
  const targets: Target[] = [
    { kind: 'mlp', label: 'batch 1', ratio: 1, group: 'PyTorch CPU' },
    { kind: 'mlp', label: 'batch 64', ratio: 1.5, group: 'PyTorch CPU' },
    { kind: 'matmul', label: '1024³', ratio: 1, group: 'PyTorch CPU' },
    { kind: 'op-chain', label: `${options.chain} small ops`, ratio: 4, group: 'TF.js' },
  ];
  const groups = [
    { name: 'TF.js', libs: [...TF_SETTINGS] },
    { name: 'PyTorch CPU', libs: ['pytorch-cpu'] },
  ];
  console.log(`\n${report('node', { ...runtimeInfo().adapter, webgradMatmul: tuning.chosen }, results, targets, groups, ['webgrad-eager', 'webgrad-tidy'])}`);
  console.log("(µs/op: a ratio of 4× means a quarter of the peer's time per op)");
}

/** Images and labels start…start+size of a data set (one-hot targets unused here). */
function batchOf(set: data.Dataset, start: number, size: number): { x: Float32Array; y: Int32Array; onehot: Float32Array } {
  const x = set.images.slice(start * 784, (start + size) * 784);
  const y = Int32Array.from(set.labels.subarray(start, start + size));
  return { x, y, onehot: new Float32Array(size * 10) };
}

if (runsBehindDawnNoiseFilter())
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
