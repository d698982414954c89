// The op-table cases of batchNorm (tests/op_table.ts lists them): training mode (batch statistics)
// and evaluation mode (running statistics as inputs), with and without weight and bias, on
// [N, C], [N, C, L], [N, C, H, W] and 5-D inputs: one channel, empty batch, empty spatial dims, no
// channels, primes, channels of more elements than a workgroup, a large common offset, a
// transposed view. Training cases keep more than 2 values per channel in the gradient-checked
// first cases (with 2, the gradient is all cancellation in float32, as in PyTorch).

import { type CaseInput, type Rng, randHost } from './helpers.js';
import type { OpCase } from './op_table.js';

const pick = (g: Rng, xs: readonly number[]): number => xs[g.int(xs.length)]!;

export function batchNormCases(g: Rng): OpCase[] {
  const c = (label: string, shape: number[], training: boolean, weight: boolean, bias: boolean, eps = 1e-5, t = false, shift = 0): OpCase => {
    const C = shape[1]!;
    const x = randHost(g, shape, 2);
    if (shift) x.data = x.data.map((v) => Math.fround(v + shift));
    const channel = (positive = false): CaseInput => {
      const v = randHost(g, [C], 1);
      if (positive) v.data = v.data.map((u) => Math.fround(Math.abs(u) + 0.5));
      return { value: v };
    };
    const running = training ? [] : [channel(), channel(true)];
    return {
      label: `${label} ${JSON.stringify(shape)} ${training ? 'training' : 'eval'}${weight ? ' w' : ''}${bias ? ' b' : ''} eps ${eps}${t ? ' (transposed)' : ''}`,
      inputs: [{ value: x, transposed: t }, ...running, ...(weight ? [channel()] : []), ...(bias ? [channel()] : [])],
      attrs: { training, eps, weight, bias },
    };
  };
  const cases = [
    c('[N, C]', [5, 3], true, true, true),
    c('eval [N, C, L]', [2, 3, 4], false, true, true),
    c('no affine [N, C, H, W]', [2, 2, 2, 3], true, false, false),
    c('eval, no affine', [3, 2, 5], false, false, false),
    c('weight only', [3, 4, 3], true, true, false, 1e-3),
    c('bias only, transposed [N, C]', [6, 4], true, false, true, 1e-5, true),
    c('one channel', [7, 1], true, true, true),
    c('size 1, eval', [1, 1], false, true, true),
    c('empty batch', [0, 3, 2, 2], true, true, true),
    c('empty spatial dims', [2, 3, 0, 4], true, true, true),
    c('empty batch, eval', [0, 5], false, true, true),
    c('no channels', [4, 0, 3], true, true, true),
    c('primes', [3, 7, 5, 11], true, true, true),
    c('primes, eval', [3, 7, 5, 11], false, true, true),
    c('channels over a workgroup', [4, 3, 9, 7], true, true, true),
    c('large common offset', [8, 2, 5], true, true, true, 1e-5, false, 1e3),
    c('5-D', [2, 3, 2, 3, 2], true, true, true),
    c('eps 0', [4, 3, 3], true, false, false, 0),
    c('transposed, eval', [33, 65], false, true, true, 1e-5, true),
    c('CNN [64, 6, 12, 12]', [64, 6, 12, 12], true, true, true),
    c('over a million', [16, 4, 128, 129], true, true, true),
  ];
  while (cases.length < 26) {
    const shape = [pick(g, [2, 3, 7, 13]), pick(g, [1, 2, 5, 17, 65]), ...(g.int(2) ? [pick(g, [1, 3, 31, 33])] : [])];
    cases.push(c('random', shape, g.int(3) > 0, g.int(2) === 1, g.int(2) === 1, pick(g, [1e-5, 1e-3, 0.1]), shape.length === 2 && g.int(2) === 1));
  }
  return cases;
}
