// The op-table cases of conv2d and the 2-D pools (tests/op_table.ts lists them): odd shapes (size 1,
// empty batch, primes, just over a workgroup, LeNet's own), stride > kernel, dilation, groups
// (depthwise too), no bias, batch 1, 1×1 kernels, padding ≥ kernel / 2, PyTorch's asymmetric
// 'same' padding, ceilMode windows, and seeded random settings.

import { type CaseInput, type Rng, randHost } from './helpers.js';
import type { OpCase } from './op_table.js';

type Pair = [number, number];
const f = (g: Rng, shape: number[], transposed = false): CaseInput => ({ value: randHost(g, shape, 2), transposed });
const pick = (g: Rng, xs: readonly number[]): number => xs[g.int(xs.length)]!;

interface ConvSettings {
  stride?: Pair;
  padding?: [number, number, number, number];
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
  transposed?: boolean;
}

export function conv2dCases(g: Rng): OpCase[] {
  const c = (label: string, x: number[], w: number[], s: ConvSettings = {}): OpCase => {
    const attrs = { stride: s.stride ?? [1, 1], padding: s.padding ?? [0, 0, 0, 0], dilation: s.dilation ?? [1, 1], groups: s.groups ?? 1 };
    const inputs = [f(g, x, s.transposed), f(g, w)];
    if (s.bias !== false) inputs.push(f(g, [w[0]!]));
    return { label: `${label} x${JSON.stringify(x)} w${JSON.stringify(w)} ${JSON.stringify(attrs)}${s.bias === false ? ' no bias' : ''}`, inputs, attrs };
  };
  const cases = [
    c('size 1', [1, 1, 1, 1], [1, 1, 1, 1]),
    c('empty batch', [0, 3, 5, 5], [4, 3, 3, 3]),
    c('primes', [2, 3, 7, 11], [5, 3, 3, 3]),
    c('batch 1, no bias', [1, 2, 13, 7], [3, 2, 5, 3], { bias: false }),
    c('1×1 kernel', [2, 7, 5, 5], [3, 7, 1, 1]),
    c('stride > kernel', [2, 2, 11, 13], [3, 2, 2, 2], { stride: [3, 4] }),
    c('dilation', [1, 2, 11, 9], [2, 2, 3, 3], { dilation: [2, 3], bias: false }),
    c('groups 2', [2, 4, 7, 7], [6, 2, 3, 3], { groups: 2 }),
    c('depthwise', [2, 5, 9, 9], [5, 1, 3, 3], { groups: 5, padding: [1, 1, 1, 1] }),
    c('depthwise, multiplier 2', [1, 3, 8, 8], [6, 1, 3, 3], { groups: 3, bias: false }),
    c('padding ≥ kernel / 2', [1, 2, 5, 5], [2, 2, 3, 3], { padding: [2, 2, 2, 2] }),
    c('padding > kernel', [1, 1, 4, 4], [1, 1, 2, 2], { padding: [3, 3, 3, 3], bias: false }),
    c("'same' with an even kernel (one more at the end)", [1, 2, 6, 7], [3, 2, 4, 2], { padding: [1, 2, 0, 1] }),
    c('kernel as large as the padded input', [2, 1, 3, 3], [2, 1, 5, 5], { padding: [1, 1, 1, 1] }),
    c('everything at once', [2, 4, 13, 11], [4, 2, 3, 2], { stride: [2, 3], padding: [1, 1, 2, 2], dilation: [2, 1], groups: 2 }),
    c('transposed view input', [2, 3, 9, 11], [4, 3, 3, 3], { transposed: true }),
    c('a long row', [1, 1, 1, 257], [2, 1, 1, 3], { stride: [1, 2] }),
    c('just over a workgroup of channels', [1, 65, 3, 3], [3, 65, 3, 3], { padding: [1, 1, 1, 1] }),
    c('LeNet conv1 (batch 64)', [64, 1, 28, 28], [6, 1, 5, 5]),
    c('LeNet conv2 (batch 64)', [64, 6, 12, 12], [16, 6, 5, 5]),
  ];
  while (cases.length < 26) {
    const groups = pick(g, [1, 1, 2, 3]);
    const [kh, kw] = [pick(g, [1, 2, 3, 5]), pick(g, [1, 2, 3])];
    const stride: Pair = [pick(g, [1, 2, 3]), pick(g, [1, 2, 4])];
    const dilation: Pair = [pick(g, [1, 2]), pick(g, [1, 3])];
    const padding: [number, number, number, number] = [g.int(3), g.int(3), g.int(2), g.int(2)];
    // Sizes at least as large as the dilated kernel needs (beyond the padding).
    const H = Math.max(pick(g, [1, 2, 3, 7, 13]), dilation[0] * (kh - 1) + 1 - padding[0] - padding[1], 1);
    const W = Math.max(pick(g, [1, 2, 5, 11]), dilation[1] * (kw - 1) + 1 - padding[2] - padding[3], 1);
    const x = [pick(g, [1, 2, 3]), groups * pick(g, [1, 2]), H, W];
    cases.push(c('random', x, [groups * pick(g, [1, 2]), x[1]! / groups, kh, kw], { stride, padding, dilation, groups, bias: g.int(2) === 1 }));
  }
  // Products at least 64 long (C / groups · kH · kW): the forward and weight gradient run as
  // im2col + matmul (src/ops/conv_gemm.ts), not only the input gradient.
  cases.push(
    c('long products: stride, dilation, asymmetric padding', [3, 8, 13, 11], [5, 8, 3, 3], { stride: [2, 1], dilation: [1, 2], padding: [1, 2, 0, 1] }),
    c('long products: groups 2, no bias', [2, 16, 9, 10], [6, 8, 3, 3], { groups: 2, bias: false }),
    c('long products: stride > kernel', [2, 4, 11, 13], [4, 4, 4, 4], { stride: [5, 6] }),
    c('long products: transposed view input', [2, 9, 8, 8], [3, 9, 3, 3], { transposed: true }),
  );
  // Few weights over many output positions: the direct weight gradient sums parts of the output
  // rows (n, oh) apart and then adds the parts; the last part shorter, the taps' valid columns
  // cut by padding, stride and dilation.
  cases.push(
    c('weight gradient in parts: stride, dilation, asymmetric padding', [16, 2, 20, 19], [3, 2, 3, 3], {
      stride: [2, 1],
      padding: [1, 2, 2, 1],
      dilation: [1, 2],
    }),
    c('weight gradient in parts: groups 2', [9, 4, 15, 16], [4, 2, 3, 3], { groups: 2, padding: [1, 1, 1, 1], bias: false }),
    c('weight gradient in parts: padding > kernel, stride 2', [12, 1, 17, 17], [2, 1, 2, 2], { stride: [2, 2], padding: [3, 3, 3, 3] }),
  );
  return cases;
}

interface PoolSettings {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number | null;
  transposed?: boolean;
}

/** maxPool2d's cases (with dilation) or avgPool2d's (with countIncludePad and divisorOverride). */
export function pool2dCases(g: Rng, kind: 'max' | 'avg'): OpCase[] {
  const c = (label: string, x: number[], kernelSize: Pair, s: PoolSettings = {}): OpCase => {
    const common = { kernelSize, stride: s.stride ?? kernelSize, padding: s.padding ?? [0, 0], ceilMode: s.ceilMode ?? false };
    const attrs =
      kind === 'max'
        ? { ...common, dilation: s.dilation ?? [1, 1] }
        : { ...common, countIncludePad: s.countIncludePad ?? true, divisorOverride: s.divisorOverride ?? null };
    return { label: `${label} ${JSON.stringify(x)} ${JSON.stringify(attrs)}`, inputs: [f(g, x, s.transposed)], attrs };
  };
  const dilation = (d: Pair): PoolSettings => (kind === 'max' ? { dilation: d } : { countIncludePad: false });
  const cases = [
    c('size 1', [1, 1, 1, 1], [1, 1]),
    c('empty batch', [0, 2, 4, 4], [2, 2]),
    c('primes', [2, 3, 7, 11], [3, 3], { stride: [2, 2] }),
    c('stride > kernel', [1, 2, 13, 11], [2, 2], { stride: [3, 3] }),
    c('padding', [2, 2, 5, 5], [3, 3], { stride: [1, 1], padding: [1, 1] }),
    c('padding, not counted', [2, 2, 5, 6], [3, 2], { stride: [2, 1], padding: [1, 1], countIncludePad: false }),
    c('dilation (max) or excluded padding (avg)', [1, 2, 9, 9], [3, 3], { stride: [1, 1], padding: [1, 0], ...dilation([2, 2]) }),
    c('ceilMode, a partial last window', [1, 2, 7, 7], [2, 2], { ceilMode: true }),
    c('ceilMode, a window starting in the right padding is dropped', [1, 1, 5, 5], [2, 2], { padding: [1, 1], ceilMode: true }),
    c('ceilMode with padding, not counted', [2, 1, 6, 8], [3, 3], { stride: [2, 2], padding: [1, 1], ceilMode: true, countIncludePad: false }),
    c('rectangular window', [2, 1, 8, 9], [2, 3], { stride: [1, 2] }),
    c('transposed view input', [1, 2, 9, 7], [2, 2], { transposed: true }),
    c('1×1 window, stride 2', [2, 3, 5, 4], [1, 1], { stride: [2, 2] }),
    c('window = the whole input', [2, 3, 5, 5], [5, 5]),
    c('ceilMode, padding, dilation (max) / divisor (avg)', [1, 1, 10, 10], [3, 3], {
      stride: [2, 2],
      padding: [1, 1],
      ceilMode: true,
      ...(kind === 'max' ? { dilation: [2, 2] } : { divisorOverride: 4 }),
    }),
    c('a long row', [1, 1, 1, 257], [1, 3], { stride: [1, 2] }),
    c('LeNet pool1 (batch 64)', [64, 6, 24, 24], [2, 2]),
    c('LeNet pool2 (batch 64)', [64, 16, 8, 8], [2, 2]),
  ];
  while (cases.length < 24) {
    const k: Pair = [pick(g, [1, 2, 3, 4]), pick(g, [1, 2, 3])];
    const d: Pair = kind === 'max' ? [pick(g, [1, 2]), pick(g, [1, 3])] : [1, 1];
    // No padding along a dilated axis: its taps could all fall in the padding (a window with no input).
    const padding: Pair = [d[0] > 1 ? 0 : g.int(Math.floor(k[0] / 2) + 1), d[1] > 1 ? 0 : g.int(Math.floor(k[1] / 2) + 1)];
    const H = Math.max(pick(g, [1, 2, 3, 7, 13]), d[0] * (k[0] - 1) + 1 - 2 * padding[0], 1);
    const W = Math.max(pick(g, [1, 2, 5, 11]), d[1] * (k[1] - 1) + 1 - 2 * padding[1], 1);
    cases.push(
      c('random', [pick(g, [1, 2]), pick(g, [1, 3]), H, W], k, {
        stride: [pick(g, [1, 2, 3]), pick(g, [1, 2])],
        padding,
        ceilMode: g.int(2) === 1,
        dilation: d,
        countIncludePad: g.int(2) === 1,
        divisorOverride: g.int(4) === 0 ? 3 : null,
      }),
    );
  }
  return cases;
}

export function adaptiveAvgPool2dCases(g: Rng): OpCase[] {
  const c = (label: string, x: number[], outputSize: Pair): OpCase => ({
    label: `${label} ${JSON.stringify(x)} → ${JSON.stringify(outputSize)}`,
    inputs: [f(g, x)],
    attrs: { outputSize },
  });
  const cases = [
    c('size 1', [1, 1, 1, 1], [1, 1]),
    c('empty batch', [0, 2, 5, 5], [2, 2]),
    c('global', [2, 4, 6, 6], [1, 1]),
    c('identity', [1, 2, 4, 4], [4, 4]),
    c('uneven windows', [1, 2, 7, 7], [3, 3]),
    c('primes', [2, 3, 5, 11], [2, 4]),
    c('larger than the input (overlapping windows)', [1, 1, 3, 3], [5, 7]),
    c('one axis', [2, 1, 1, 13], [1, 5]),
    c('LeNet-style head (batch 64)', [64, 16, 5, 5], [1, 1]),
    c('ResNet head', [2, 33, 7, 7], [1, 1]),
    c('just over a workgroup', [1, 3, 33, 33], [7, 5]),
  ];
  while (cases.length < 22) {
    const x = [pick(g, [1, 2]), pick(g, [1, 3]), pick(g, [1, 2, 5, 7, 13]), pick(g, [1, 3, 8, 11])];
    cases.push(c('random', x, [pick(g, [1, 2, 3, 4, 7]), pick(g, [1, 2, 5, 6])]));
  }
  return cases;
}
