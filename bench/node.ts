// npm run bench:node — on Node + Dawn (the adapter Dawn picks: lavapipe here, a real GPU elsewhere):
// webgrad against TensorFlow.js's WebGPU backend on the same adapter (Dawn's navigator.gpu), and
// against the seed's PyTorch program on this machine's CPU (Debian's python3-torch) — all in one run.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type * as tfTypes from '@tensorflow/tfjs';
import { runsBehindDawnNoiseFilter } from '../src/cli/dawn_noise.js';
import { data, init, runtimeInfo, tuneMatmul } from '../src/index.js';
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
};

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
function torchPeer(train: data.Dataset): Measurement[] {
  const python = '/usr/bin/python3';
  if (!existsSync(python)) {
    console.log('PyTorch peer not measured: /usr/bin/python3 with python3-torch is not installed.');
    return [];
  }
  try {
    const out = JSON.parse(execFileSync(python, ['bench/torch_peer.py', JSON.stringify(options)], { encoding: 'utf8' }));
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
  results.push(...torchPeer(digits.train));
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
  console.log(`\n${report('node', { ...runtimeInfo().adapter, webgradMatmul: tuning.chosen }, results, targets, groups, ['webgrad-eager'])}`);
  console.log("(µs/op: a ratio of 4× means a quarter of the peer's time per op)");
}

if (runsBehindDawnNoiseFilter())
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
