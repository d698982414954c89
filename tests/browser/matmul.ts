// Runs matmuls through webgrad's public API in the page's own WebGPU and hands inputs and outputs
// to the Playwright test, which checks them against a float64 reference.
import { init, rand, randn, runtimeInfo } from '../../src/index.js';

declare global {
  interface Window {
    matmulResult?: { adapter: unknown; cases: { M: number; K: number; N: number; transB: boolean; a: number[]; b: number[]; c: number[] }[] };
    matmulError?: string;
    seededValues?: { rand: number[]; randn: number[] };
  }
}

async function run(): Promise<void> {
  await init();
  const cases = [];
  for (const [M, K, N, transB] of [
    [1, 1, 1, false],
    [33, 65, 17, false],
    [64, 784, 128, true],
  ] as const) {
    const a = rand([M, K], { seed: M, low: -1, high: 1 });
    const stored = transB ? rand([N, K], { seed: N, low: -1, high: 1 }) : rand([K, N], { seed: N, low: -1, high: 1 });
    const b = transB ? stored.transpose() : stored;
    const c = a.matmul(b);
    // b's logical values (a view reads them transposed).
    const bValues = transB ? Array.from(await b.reshape([K, N]).data()) : Array.from(await b.data());
    cases.push({ M, K, N, transB, a: Array.from(await a.data()), b: bValues, c: Array.from(await c.data()) });
  }
  window.seededValues = { rand: Array.from(await rand([64], { seed: 5 }).data()), randn: Array.from(await randn([64], { seed: 6 }).data()) };
  window.matmulResult = { adapter: runtimeInfo().adapter, cases };
  document.getElementById('out')!.textContent = 'done';
}

run().catch((err: Error) => {
  window.matmulError = String(err?.message ?? err);
  document.getElementById('out')!.textContent = window.matmulError;
});
