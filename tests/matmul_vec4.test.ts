// The vectorised matmul (shaders/matmul_vec4.wgsl): where the register kernel's operands are
// aligned, it reads each one four floats at a time along its contiguous axis — rows of A or of a
// transposed A, rows of B or of a transposed B. Each case names the path it must take (which
// kernel, and along which axis each operand is read) and is checked against a float64 product
// computed here, outputs pre-filled with NaN (tests/setup.ts) so an unwritten element shows.
// Unaligned operands (K, an offset or a stride not a multiple of 4, M or N where that axis is
// vectorised) must fall back to the scalar kernel and stay right.
import { describe, expect, test } from 'vitest';
import { matmul, nn, type Tensor, tensor, tidy } from '../src/index.js';
import { matmulLaunch, SINGLE_PRODUCT } from '../src/ops/matmul_tuning.js';
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
  const { kernel, constants } = matmulLaunch(runtime(), a, b, { bias }, SINGLE_PRODUCT);
  if (kernel.family !== 'matmul_vec4') return kernel.family;
  return `matmul_vec4 A along ${constants.A_ALONG_K ? 'k' : 'm'}, B along ${constants.B_ALONG_N ? 'n' : 'k'}`;
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
