// npm run bench:matmul — matmul GFLOP/s on the adapter in use, at square sizes and at the shapes of
// the 784-128-10 MLP's training step (forward and backward, with transposed operands read in place).
// Each shape is checked against a float64 CPU product on sampled entries before it is timed.

import { runsBehindDawnNoiseFilter } from '../src/cli/dawn_noise.js';
import { init, rand, runtimeInfo, sync, type Tensor } from '../src/index.js';

interface Shape {
  label: string;
  M: number;
  K: number;
  N: number;
  transA?: boolean;
  transB?: boolean;
}

const shapes: Shape[] = [
  { label: '256³', M: 256, K: 256, N: 256 },
  { label: '512³', M: 512, K: 512, N: 512 },
  { label: '1024³', M: 1024, K: 1024, N: 1024 },
  { label: 'fc1 fwd  X·W1ᵀ', M: 64, K: 784, N: 128, transB: true },
  { label: 'fc2 fwd  H·W2ᵀ', M: 64, K: 128, N: 10, transB: true },
  { label: 'fc2 dW   Gᵀ·H', M: 10, K: 64, N: 128, transA: true },
  { label: 'fc2 dH   G·W2', M: 64, K: 10, N: 128 },
  { label: 'fc1 dW   Gᵀ·X', M: 128, K: 64, N: 784, transA: true },
];

function operand(rows: number, cols: number, transposed: boolean | undefined, seed: number): Tensor {
  return transposed ? rand([cols, rows], { seed, low: -1, high: 1 }).keep().transpose() : rand([rows, cols], { seed, low: -1, high: 1 }).keep();
}

async function check(a: Tensor, b: Tensor, c: Tensor): Promise<number> {
  const [av, bv, cv] = await Promise.all([a.data(), b.data(), c.data()]);
  const [M, K] = a.shape as [number, number];
  const N = b.shape[1]!;
  let worst = 0;
  for (let s = 0; s < 64; s++) {
    const i = (s * 7919) % M;
    const j = (s * 104729) % N;
    let ref = 0;
    let mag = 0;
    for (let k = 0; k < K; k++) {
      ref += av[i * K + k]! * bv[k * N + j]!;
      mag += Math.abs(av[i * K + k]! * bv[k * N + j]!);
    }
    worst = Math.max(worst, Math.abs(cv[i * N + j]! - ref) / Math.max(mag, 1e-30));
  }
  return worst;
}

async function main(): Promise<void> {
  await init();
  const info = runtimeInfo();
  console.log(`adapter: ${info.adapter.vendor} / ${info.adapter.architecture} / ${info.adapter.description || info.adapter.device}`);
  console.log('shape              M×K·K×N            GFLOP/s (median)   min–max        ms/matmul  reps');
  for (const s of shapes) {
    const a = operand(s.M, s.K, s.transA, 1);
    const b = operand(s.K, s.N, s.transB, 2);
    const c = a.matmul(b);
    const err = await check(a, b, c);
    c.dispose();
    if (!(err < 1e-5)) throw new Error(`${s.label}: result differs from the CPU product (relative error ${err})`);
    const flops = 2 * s.M * s.N * s.K;
    // Enough repetitions per timed batch for ~0.2 GFLOP of work, at least 3.
    const reps = Math.max(3, Math.min(500, Math.round(2e8 / flops)));
    const run = async (): Promise<number> => {
      const t0 = performance.now();
      // Results stay referenced until the GPU is done: the scheduler drops work nobody can read.
      const results: Tensor[] = [];
      for (let r = 0; r < reps; r++) results.push(a.matmul(b));
      await sync();
      const seconds = (performance.now() - t0) / 1000;
      for (const t of results) t.dispose();
      return seconds;
    };
    await run(); // warm-up: pipelines, buffers
    const times: number[] = [];
    for (let i = 0; i < 5; i++) times.push(await run());
    times.sort((x, y) => x - y);
    const gflops = times.map((t) => (flops * reps) / t / 1e9);
    const median = gflops[2]!;
    console.log(
      `${s.label.padEnd(18)} ${`${s.M}×${s.K}·${s.K}×${s.N}`.padEnd(18)} ${median.toFixed(2).padStart(10)}        ` +
        `${Math.min(...gflops).toFixed(2)}–${Math.max(...gflops).toFixed(2)}`.padEnd(15) +
        `${((times[2]! / reps) * 1000).toFixed(3).padStart(9)}  ${reps}`,
    );
  }
}

if (runsBehindDawnNoiseFilter())
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
