// Runs matmuls through webgrad's public API in the page's own WebGPU and hands inputs and outputs
// to the Playwright test, which checks them against a float64 reference. The cases cover the
// scalar kernel (unaligned operands) and the vectorised one on each way of reading A and B, with
// shapes ragged against its largest blocks (16×16 per invocation: SwiftShader's default, whose
// compile is too slow on lavapipe to sweep there), and a Linear layer's bias + ReLU epilogue.
import { init, nn, rand, randn, runtimeInfo, type Tensor } from '../../src/index.js';
import { matmulLaunch, SINGLE_PRODUCT } from '../../src/ops/matmul_tuning.js';
import { runtime } from '../../src/runtime/runtime.js';

interface Case {
  M: number;
  K: number;
  N: number;
  a: number[];
  b: number[];
  c: number[];
  /** The kernel that ran (its family names the block and layout). */
  family: string;
  /** Linear cases: the bias added before the ReLU. */
  bias?: number[];
}

declare global {
  interface Window {
    matmulResult?: { adapter: unknown; cases: Case[] };
    matmulError?: string;
    seededValues?: { rand: number[]; randn: number[] };
  }
}

/** A random [rows, cols] operand, stored transposed (and viewed back) when `transposed`. */
function operand(rows: number, cols: number, seed: number, transposed: boolean): Tensor {
  return transposed ? rand([cols, rows], { seed, low: -1, high: 1 }).transpose() : rand([rows, cols], { seed, low: -1, high: 1 });
}

/** The logical values of a (possibly transposed) view, row-major. */
const values = async (t: Tensor): Promise<number[]> => Array.from(await t.reshape([t.size]).data());

async function run(): Promise<void> {
  await init();
  const cases: Case[] = [];
  for (const [M, K, N, transA, transB] of [
    [1, 1, 1, false, false],
    [33, 65, 17, false, false],
    [64, 784, 128, false, true],
    // 16×16 blocks need 16 of them in the product (matmul_tuning.ts, vec4Block): 64 rows and
    // columns at least; these are larger, so the workgroups also go unsplit (registerWorkgroup).
    [160, 16, 128, false, false],
    [144, 12, 128, true, false],
    [142, 20, 126, false, true],
    [256, 8, 128, true, true],
  ] as const) {
    const a = operand(M, K, M + 1, transA);
    const b = operand(K, N, N + 2, transB);
    const { kernel } = matmulLaunch(runtime(), a, b, { bias: false }, SINGLE_PRODUCT);
    const c = a.matmul(b);
    cases.push({ M, K, N, a: await values(a), b: await values(b), c: Array.from(await c.data()), family: kernel.family });
  }
  // A Linear layer with ReLU: x [142, 16]·Wᵀ (W [126, 16] read transposed) + bias, ragged 16×16 blocks.
  const x = operand(142, 16, 7, false);
  const w = operand(126, 16, 8, false);
  const bias = rand([126], { seed: 9, low: -1, high: 1 });
  const { kernel } = matmulLaunch(runtime(), x, w.transpose(), { bias: true, relu: true }, SINGLE_PRODUCT);
  const y = nn.functional.linear(x, w, bias, { activation: 'relu' });
  cases.push({
    M: 142,
    K: 16,
    N: 126,
    a: await values(x),
    b: await values(w.transpose()),
    c: Array.from(await y.data()),
    family: kernel.family,
    bias: await values(bias),
  });
  window.seededValues = { rand: Array.from(await rand([64], { seed: 5 }).data()), randn: Array.from(await randn([64], { seed: 6 }).data()) };
  window.matmulResult = { adapter: runtimeInfo().adapter, cases };
  document.getElementById('out')!.textContent = 'done';
}

run().catch((err: Error) => {
  window.matmulError = String(err?.message ?? err);
  document.getElementById('out')!.textContent = window.matmulError;
});
