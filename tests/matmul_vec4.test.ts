// The vectorised matmul (shaders/matmul_vec4.wgsl): where the register kernel's operands are
// aligned, it reads each one four floats at a time along its contiguous axis — rows of A or of a
// transposed A, rows of B or of a transposed B. Each case names the path it must take (which
// kernel, and along which axis each operand is read) and is checked against a float64 product
// computed here, outputs pre-filled with NaN (tests/setup.ts) so an unwritten element shows.
// Unaligned operands (K, an offset or a stride not a multiple of 4, M or N where that axis is
// vectorised) must fall back to the scalar kernel and stay right.
import { describe, expect, test } from 'vitest';
import { matmul, nn, type Tensor, tensor, tidy } from '../src/index.js';
import { blockSide, matmulLaunch, registerWorkgroup, SINGLE_PRODUCT, vec4Block } from '../src/ops/matmul_tuning.js';
import { VEC4_BLOCK_SIDES } from '../src/ops/matmul_vec4_kernels.js';
import type { MatmulVariant } from '../src/runtime/profile.js';
import { runtime } from '../src/runtime/runtime.js';
import { expectClose, rng } from './helpers.js';

/**
 * How an operand of logical shape [rows, cols] is stored: plain, transposed (stored [cols, rows] and
 * viewed back), or as the columns start..start+cols of wider rows (a narrowed view: offset `start`,
 * row stride `width`).
 */
type Storage = { kind: 'plain' } | { kind: 'transposed' } | { kind: 'narrowed'; start: number; width: number };
const plain: Storage = { kind: 'plain' };
const transposed: Storage = { kind: 'transposed' };

/** A random operand: the GPU tensor (a view as `storage` says) and its logical values, row-major. */
function operand(seed: number, rows: number, cols: number, storage: Storage): { t: Tensor; values: Float64Array } {
  const g = rng(seed);
  const values = new Float64Array(rows * cols).map(() => Math.fround(g.uniform() * 2 - 1));
  if (storage.kind === 'plain') return { t: tensor(Float32Array.from(values), { shape: [rows, cols] }), values };
  if (storage.kind === 'transposed') {
    const stored = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) stored[j * rows + i] = values[i * cols + j]!;
    return { t: tensor(stored, { shape: [cols, rows] }).transpose(), values };
  }
  const wide = new Float32Array(rows * storage.width).fill(Number.NaN); // NaN outside the view: a read past it shows
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) wide[i * storage.width + storage.start + j] = values[i * cols + j]!;
  return { t: tensor(wide, { shape: [rows, storage.width] }).narrow(1, storage.start, cols), values };
}

/** C = A·B in float64 from the logical values. */
function reference(a: Float64Array, b: Float64Array, M: number, K: number, N: number): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) c[i * N + j]! += a[i * K + k]! * b[k * N + j]!;
  return c;
}

/** The kernel family the launch picks, and the axes it reads A and B along ('' for the scalar kernel). */
function path(a: Tensor, b: Tensor, bias = false): string {
  const { kernel } = matmulLaunch(runtime(), a, b, { bias }, SINGLE_PRODUCT);
  const layout = /^matmul_vec4\.\d+x\d+\.a([km])b([nk])$/.exec(kernel.family);
  if (!layout) return kernel.family;
  return `matmul_vec4 A along ${layout[1]}, B along ${layout[2]}`;
}

const ON_REGISTER = { kernel: 'register', WG_X: 8, WG_Y: 8 } as const;

type Case = [label: string, M: number, K: number, N: number, a: Storage, b: Storage, expected: string];
const cases: Case[] = [
  ['A and B row-major', 8, 16, 12, plain, plain, 'matmul_vec4 A along k, B along n'],
  ['Aᵀ·B (weight gradient)', 8, 16, 12, transposed, plain, 'matmul_vec4 A along m, B along n'],
  ['A·Bᵀ (a Linear layer, input gradient)', 8, 16, 12, plain, transposed, 'matmul_vec4 A along k, B along k'],
  ['Aᵀ·Bᵀ', 8, 16, 12, transposed, transposed, 'matmul_vec4 A along m, B along k'],
  ['M not a multiple of 4 (rows clamped)', 5, 8, 4, plain, plain, 'matmul_vec4 A along k, B along n'],
  ['N not a multiple of 4 with Bᵀ (columns clamped)', 4, 8, 7, plain, transposed, 'matmul_vec4 A along k, B along k'],
  ['M and N ragged, over a workgroup', 37, 12, 41, plain, transposed, 'matmul_vec4 A along k, B along k'],
  ['one row, one column', 1, 4, 1, plain, plain, 'matmul_vec4 A along k, B along k'],
  ['the MLP fc1 at batch 64', 64, 784, 128, plain, transposed, 'matmul_vec4 A along k, B along k'],
  ['the MLP dW1 = Gᵀ·X', 128, 64, 784, transposed, plain, 'matmul_vec4 A along m, B along n'],
  ['an aligned narrowed view', 8, 12, 8, { kind: 'narrowed', start: 4, width: 20 }, plain, 'matmul_vec4 A along k, B along n'],
  ['K not a multiple of 4', 8, 6, 8, plain, plain, 'matmul'],
  ['N not a multiple of 4 with B row-major', 8, 8, 6, plain, plain, 'matmul'],
  ['M not a multiple of 4 with Aᵀ', 6, 8, 8, transposed, plain, 'matmul'],
  ['an offset not a multiple of 4', 8, 8, 8, { kind: 'narrowed', start: 1, width: 12 }, plain, 'matmul'],
  ['a row stride not a multiple of 4', 8, 8, 8, { kind: 'narrowed', start: 0, width: 10 }, plain, 'matmul'],
  ['size 1 everywhere', 1, 1, 1, plain, plain, 'matmul'],
];

describe('the register kernel reads aligned operands as vec4s, unaligned ones as scalars, and both match float64', () => {
  test.each(cases)('%s: %i×%i·%i', async (_label, M, K, N, aStorage, bStorage, expected) => {
    const rt = runtime();
    const before = rt.profile.matmul;
    rt.profile.matmul = { ...ON_REGISTER };
    try {
      const a = operand(1, M, K, aStorage);
      const b = operand(2, K, N, bStorage);
      expect(path(a.t, b.t)).toBe(expected);
      const out = await tidy(() => a.t.matmul(b.t)).data();
      expectClose(out, reference(a.values, b.values, M, K, N), 1e-6, expected);
    } finally {
      rt.profile.matmul = before;
    }
  });
});

test('batched products with aligned batch strides (own, broadcast, attention-shaped) match float64', async () => {
  const rt = runtime();
  const before = rt.profile.matmul;
  rt.profile.matmul = { ...ON_REGISTER };
  try {
    const g = rng(9);
    const random = (shape: number[]) => {
      const values = new Float64Array(shape.reduce((x, y) => x * y, 1)).map(() => Math.fround(g.uniform() * 2 - 1));
      return { t: tensor(Float32Array.from(values), { shape }), values, shape };
    };
    // [2, 3, 8, 12]·[3, 12, 4] (B broadcast over the outer batch), and Q·Kᵀ of [2, 4, 16, 8] heads.
    for (const [aShape, bShape, transposeB] of [
      [[2, 3, 8, 12], [3, 12, 4], false],
      [[2, 4, 16, 8], [2, 4, 16, 8], true],
    ] as const) {
      const a = random([...aShape]);
      const b = random([...bShape]);
      const bt = transposeB ? b.t.transpose(-2, -1) : b.t;
      const [M, K] = aShape.slice(-2) as [number, number];
      const N = bt.shape.at(-1)!;
      const out = await tidy(() => matmul(a.t, bt)).data();
      const batches = out.length / (M * N);
      const ref = new Float64Array(out.length);
      const bBatches = b.values.length / (K * N);
      for (let p = 0; p < batches; p++) {
        const bo = (p % bBatches) * K * N;
        for (let i = 0; i < M; i++)
          for (let j = 0; j < N; j++)
            for (let k = 0; k < K; k++) {
              const bv = transposeB ? b.values[bo + j * K + k]! : b.values[bo + k * N + j]!;
              ref[p * M * N + i * N + j]! += a.values[p * M * K + i * K + k]! * bv;
            }
      }
      expectClose(out, ref, 1e-6, `${JSON.stringify(aShape)}·${JSON.stringify(bShape)}${transposeB ? 'ᵀ' : ''}`);
    }
  } finally {
    rt.profile.matmul = before;
  }
});

test('a Linear layer (x·Wᵀ + b, then ReLU) takes the vec4 path with its epilogue and matches float64', async () => {
  const rt = runtime();
  const before = rt.profile.matmul;
  rt.profile.matmul = { ...ON_REGISTER };
  try {
    const [M, K, N] = [9, 16, 12];
    const x = operand(3, M, K, plain);
    const w = operand(4, N, K, plain); // [out, in], read transposed in place
    const bias = operand(5, 1, N, plain);
    expect(path(x.t, w.t.transpose(), true)).toBe('matmul_vec4 A along k, B along k');
    const out = await tidy(() => nn.functional.linear(x.t, w.t, bias.t.reshape([N]), { activation: 'relu' })).data();
    const ref = new Float64Array(M * N);
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = bias.values[j]!;
        for (let k = 0; k < K; k++) s += x.values[i * K + k]! * w.values[j * K + k]!;
        ref[i * N + j] = Math.max(s, 0);
      }
    expectClose(out, ref, 1e-6, 'linear');
  } finally {
    rt.profile.matmul = before;
  }
});

describe('larger register blocks (rows × columns per invocation) give the same results, bit for bit, as 4×4', () => {
  // Every block the kernel is generated for, on shapes aligned and ragged against each block
  // (1 row; rows and columns past the last whole block).
  // Sides of 4 and 8 here: a side of 16 is the same generated code with four groups instead of two,
  // and compiles for seconds on lavapipe (profile.ts, largestRegisterBlock); the browser test
  // (tests/browser/matmul.ts) runs 16-blocks, SwiftShader's default, on every layout.
  const sides = VEC4_BLOCK_SIDES.filter((side) => side <= 8);
  const layouts: [string, Storage, Storage][] = [
    ['A, B row-major', plain, plain],
    ['Aᵀ·B', transposed, plain],
    ['A·Bᵀ', plain, transposed],
    ['Aᵀ·Bᵀ', transposed, transposed],
  ];
  const shapes: [number, number, number][] = [
    [1, 8, 4],
    [20, 12, 36],
    [64, 32, 16],
    [6, 8, 30], // 8-row and 8-column blocks with clamped last rows/columns (A and Bᵀ read along k)
    [16, 4, 8],
  ];
  test.each(layouts)('%s', async (_label, aStorage, bStorage) => {
    const rt = runtime();
    const before = rt.profile.matmul;
    const families = new Set<string>();
    const blocks = sides.flatMap((m) => sides.map((n) => [m, n] as const));
    try {
      for (const [M, K, N] of shapes) {
        // A read along m needs M % 4 = 0, B read along n needs N % 4 = 0: skip what would fall back.
        if ((aStorage.kind === 'transposed' && M % 4) || (bStorage.kind === 'plain' && N % 4)) continue;
        const a = operand(M + K, M, K, aStorage);
        const b = operand(N + 7, K, N, bStorage);
        const ref = reference(a.values, b.values, M, K, N);
        rt.profile.matmul = { ...ON_REGISTER };
        const base = await tidy(() => a.t.matmul(b.t)).data();
        expectClose(base, ref, 1e-6, `4×4, ${M}×${K}·${K}×${N}`);
        for (const [BLOCK_M, BLOCK_N] of blocks) {
          // One-invocation workgroups, so these small products still span two workgroups and keep their blocks.
          const variant: MatmulVariant = { kernel: 'register', WG_X: 1 as 4, WG_Y: 1 as 4, BLOCK_M, BLOCK_N };
          rt.profile.matmul = variant;
          const { kernel } = matmulLaunch(rt, a.t, b.t, { bias: false }, SINGLE_PRODUCT);
          expect(kernel.family).toMatch(`matmul_vec4.${vec4Block(M, N, variant).join('x')}.`);
          families.add(kernel.family.split('.')[1]!);
          const out = await tidy(() => a.t.matmul(b.t)).data();
          expect(Array.from(out), `blocks ≤ ${BLOCK_M}×${BLOCK_N}, ${M}×${K}·${K}×${N}`).toEqual(Array.from(base));
        }
        a.t.dispose();
        b.t.dispose();
      }
      // Every block the sides allow did run (the shapes do not all fall back to 4×4).
      expect([...families].sort()).toEqual(blocks.map(([m, n]) => `${m}x${n}`).sort());
    } finally {
      rt.profile.matmul = before;
    }
  });

  test('a batched product and a Linear epilogue with 8×8 blocks match float64', async () => {
    const rt = runtime();
    const before = rt.profile.matmul;
    rt.profile.matmul = { ...ON_REGISTER, BLOCK_M: 8, BLOCK_N: 8 };
    try {
      // [3, 24, 20]·[3, 20, 40]: per-batch operand bases with 8×8 blocks.
      const g = rng(21);
      const [P, M, K, N] = [3, 24, 20, 40];
      const av = new Float64Array(P * M * K).map(() => Math.fround(g.uniform() * 2 - 1));
      const bv = new Float64Array(P * K * N).map(() => Math.fround(g.uniform() * 2 - 1));
      const out = await tidy(() => matmul(tensor(Float32Array.from(av), { shape: [P, M, K] }), tensor(Float32Array.from(bv), { shape: [P, K, N] }))).data();
      const ref = new Float64Array(P * M * N);
      for (let p = 0; p < P; p++)
        for (let i = 0; i < M; i++)
          for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) ref[p * M * N + i * N + j]! += av[p * M * K + i * K + k]! * bv[p * K * N + k * N + j]!;
      expectClose(out, ref, 1e-6, 'batched, 8×8 blocks');
      // A Linear layer with ReLU: x [16, 16] · Wᵀ ([24, 16] read transposed) + bias.
      const x = operand(31, 16, 16, plain);
      const w = operand(32, 24, 16, plain);
      const bias = operand(33, 1, 24, plain);
      expect(path(x.t, w.t.transpose(), true)).toBe('matmul_vec4 A along k, B along k');
      const lin = await tidy(() => nn.functional.linear(x.t, w.t, bias.t.reshape([24]), { activation: 'relu' })).data();
      const lref = new Float64Array(16 * 24);
      for (let i = 0; i < 16; i++)
        for (let j = 0; j < 24; j++) {
          let s = bias.values[j]!;
          for (let k = 0; k < 16; k++) s += x.values[i * 16 + k]! * w.values[j * 16 + k]!;
          lref[i * 24 + j] = Math.max(s, 0);
        }
      expectClose(lin, lref, 1e-6, 'linear, 8×8 blocks');
    } finally {
      rt.profile.matmul = before;
    }
  });
});

test('vec4Block halves a block while the product has fewer blocks than a workgroup needs lanes', () => {
  const v = (rows: number, cols: number): MatmulVariant => ({ kernel: 'register', WG_X: 8, WG_Y: 8, BLOCK_M: rows as 16, BLOCK_N: cols as 16 });
  expect(vec4Block(1024, 1024, v(16, 16))).toEqual([16, 16]);
  expect(vec4Block(784, 128, v(16, 16))).toEqual([16, 16]); // the full batch's weight gradient
  expect(vec4Block(64, 128, v(16, 16))).toEqual([16, 16]); // the MLP's fc1 at batch 64: 32 blocks
  expect(vec4Block(64, 128, v(8, 16))).toEqual([8, 16]); // the variant's largest block
  expect(vec4Block(16, 16, v(16, 16))).toEqual([4, 4]); // attention's per-head products: as small as it goes
  expect(vec4Block(32, 32, v(16, 16))).toEqual([8, 8]);
  expect(vec4Block(1, 128, v(16, 16))).toEqual([4, 8]); // batch 1: one row of 16 blocks
  expect(vec4Block(10, 10, v(16, 16))).toEqual([4, 4]);
});

test('registerWorkgroup narrows the workgroup where one would cover the product with lanes to spare, and splits it for two workgroups', () => {
  const v = (WG_X: number, WG_Y: number): MatmulVariant => ({ kernel: 'register', WG_X: WG_X as 8, WG_Y: WG_Y as 8, BLOCK_M: 16, BLOCK_N: 16 });
  expect(registerWorkgroup(1024, 1024, 16, 16, v(8, 8))).toEqual([8, 8]); // big: the variant's
  expect(registerWorkgroup(16, 16, 4, 4, v(8, 8))).toEqual([4, 4]); // attention's per-head products: one workgroup of 16 lanes each
  expect(registerWorkgroup(16, 16, 4, 4, v(8, 8), 96)).toEqual([4, 4]);
  expect(registerWorkgroup(1, 128, 4, 8, v(8, 8))).toEqual([8, 1]); // batch 1: one row of blocks (16 lanes is the floor)
  expect(registerWorkgroup(6, 25, 4, 4, v(16, 4))).toEqual([8, 2]); // LeNet's conv1 per image: 7 column blocks, 2 row blocks
  expect(registerWorkgroup(64, 128, 16, 16, v(8, 8))).toEqual([4, 4]); // the MLP's fc1 at batch 64: 8 × 4 blocks, split in two workgroups
  expect(registerWorkgroup(64, 128, 16, 16, v(8, 8), 2)).toEqual([8, 4]); // two products: two workgroups already
  expect(registerWorkgroup(150, 100, 4, 4, v(8, 8))).toEqual([8, 8]);
  expect(registerWorkgroup(1, 1, 4, 4, v(8, 8))).toEqual([1, 1]);
});

test('a product narrower than its workgroup is launched in a narrower one, and stays right', async () => {
  const rt = runtime();
  const before = rt.profile.matmul;
  rt.profile.matmul = { kernel: 'register', WG_X: 8, WG_Y: 8 };
  try {
    const g = rng(3);
    const [M, K, N] = [6, 9, 25];
    const a = Float32Array.from({ length: M * K }, () => g.uniform() - 0.5);
    const b = Float32Array.from({ length: K * N }, () => g.uniform() - 0.5);
    const [ta, tb] = [tensor(a, { shape: [M, K] }), tensor(b, { shape: [K, N] })];
    const launch = matmulLaunch(rt, ta, tb, { bias: false });
    expect([launch.constants.WG_X, launch.constants.WG_Y]).toEqual([8, 2]);
    expect(launch.workgroups).toEqual([1, 1, 1]);
    const product = ta.matmul(tb);
    const out = await product.data();
    for (const t of [ta, tb, product]) t.dispose();
    const ref = new Float64Array(M * N);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) ref[i * N + j]! += a[i * K + k]! * b[k * N + j]!;
    expectClose(out, ref, 1e-5, 'narrow product');
  } finally {
    rt.profile.matmul = before;
  }
});

test('blockSide: the largest side that pads no more than 4 does', () => {
  expect([1, 4, 10, 12, 16, 20, 24, 32, 36, 64, 784, 128].map((n) => blockSide(n, 16))).toEqual([4, 4, 4, 4, 16, 4, 8, 16, 4, 16, 16, 16]);
  expect(blockSide(128, 8)).toBe(8);
  expect(blockSide(128, 4)).toBe(4);
});
