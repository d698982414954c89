// npm run bench:node — webgrad on Node + Dawn (the adapter Dawn picks: lavapipe here, a real GPU
// elsewhere) against the seed's PyTorch program on this machine's CPU (Debian's python3-torch),
// measured in the same run. TensorFlow.js is measured in the browser benchmark (npm run bench).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { init, runtimeInfo, nn, optim, data, tensor, sync, rand, type Tensor } from '../src/index.js';
import { report, type Measurement, type Target } from './report.js';

const QUICK = process.env.BENCH_QUICK === '1';
const repetitions = QUICK ? 2 : 5;
const mlpSpec = [
  { batch: 1, steps: QUICK ? 100 : 400 },
  { batch: 64, steps: QUICK ? 60 : 200 },
  { batch: 512, steps: QUICK ? 10 : 40 },
  { batch: 'full' as const, steps: QUICK ? 2 : 5 },
];
const matmulSpec = [
  { label: '256³', M: 256, K: 256, N: 256, reps: 20 },
  { label: '1024³', M: 1024, K: 1024, N: 1024, reps: 3 },
  { label: 'MLP fc1 64×784·784×128', M: 64, K: 784, N: 128, reps: 100 },
];

function summary(lib: string, kind: string, label: string, values: number[], unit: string, check: string): Measurement {
  const s = [...values].sort((a, b) => a - b);
  return { kind, label, lib, unit, values, median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]!, check };
}

async function webgradMlp(train: data.Dataset, batch: number, steps: number): Promise<{ rate: number; first: number; last: number }> {
  const model = new nn.Sequential(new nn.Linear(784, 128, { seed: 1 }), new nn.ReLU(), new nn.Linear(128, 10, { seed: 2 }));
  const opt = new optim.SGD(model.parameters(), { lr: 0.05 });
  const batches = Array.from({ length: 16 }, (_, s) => data.subset(train, Array.from({ length: batch }, (_, i) => (s * batch + i) % train.count)));
  let first: Tensor | null = null;
  let last: Tensor | null = null;
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) {
    const b = batches[s % batches.length]!;
    const x = tensor(b.images, { shape: [batch, 784] });
    const y = tensor(b.labels, { shape: [batch], dtype: 'int32' });
    opt.zeroGrad();
    const loss = nn.functional.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    if (s === 0) first = loss.keep();
    if (s === steps - 1) last = loss.keep();
    x.dispose();
    y.dispose();
  }
  const [a, b] = [await first!.item(), await last!.item()];
  const rate = (steps * batch) / ((performance.now() - t0) / 1000);
  model.parameters().forEach((p) => p.dispose());
  return { rate, first: a, last: b };
}

async function webgradMatmul(M: number, K: number, N: number, reps: number): Promise<number> {
  const a = rand([M, K], { seed: 1 }).keep();
  const b = rand([K, N], { seed: 2 }).keep();
  a.matmul(b).dispose();
  const out: Tensor[] = [];
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) out.push(a.matmul(b));
  await sync();
  const gflops = (2 * M * N * K * reps) / ((performance.now() - t0) / 1000) / 1e9;
  out.forEach((t) => t.dispose());
  return gflops;
}

async function main(): Promise<void> {
  const { train } = await data.loadDigits();
  await init();
  const results: Measurement[] = [];
  for (const { batch: b, steps } of mlpSpec) {
    const batch = b === 'full' ? train.count : b;
    const label = b === 'full' ? `full batch (${batch})` : `batch ${batch}`;
    const warm = await webgradMlp(train, batch, Math.min(steps, 20));
    if (!(warm.last < warm.first)) throw new Error(`webgrad ${label}: the loss did not fall`);
    const values: number[] = [];
    for (let r = 0; r < repetitions; r++) values.push((await webgradMlp(train, batch, steps)).rate);
    results.push(summary('webgrad', 'mlp', label, values, 'samples/s', `loss ${warm.first.toFixed(3)}→${warm.last.toFixed(3)}`));
  }
  for (const m of matmulSpec) {
    const values: number[] = [];
    await webgradMatmul(m.M, m.K, m.N, 1);
    for (let r = 0; r < repetitions; r++) values.push(await webgradMatmul(m.M, m.K, m.N, m.reps));
    results.push(summary('webgrad', 'matmul', m.label, values, 'GFLOP/s', 'see npm run bench:matmul for the checked kernel'));
  }
  const python = '/usr/bin/python3';
  let peer = 'pytorch-cpu';
  if (existsSync(python)) {
    try {
      const out = JSON.parse(execFileSync(python, ['bench/torch_peer.py', JSON.stringify({ repetitions, mlp: mlpSpec, matmul: matmulSpec })], { encoding: 'utf8' }));
      peer = `pytorch-cpu`;
      console.log(`peer: PyTorch ${out.torch} on the CPU, ${out.threads} thread(s)`);
      for (const { batch: b } of mlpSpec) {
        const label = b === 'full' ? `full batch (${train.count})` : `batch ${b}`;
        results.push(summary(peer, 'mlp', label, out.mlp[String(b)], 'samples/s', ''));
      }
      for (const m of matmulSpec) results.push(summary(peer, 'matmul', m.label, out.matmul[m.label], 'GFLOP/s', ''));
    } catch (err) {
      console.log(`PyTorch peer not measured: ${(err as Error).message.split('\n')[0]}`);
    }
  } else {
    console.log('PyTorch peer not measured: /usr/bin/python3 with python3-torch is not installed.');
  }
  const targets: Target[] = [{ kind: 'mlp', label: 'batch 64', ratio: 1 }];
  console.log(report('node', runtimeInfo().adapter, results, targets, [peer]));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
