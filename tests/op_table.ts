// The op table of the tests: for every op in src/ops/table.ts, how to draw its inputs (seeded
// random shapes: size 1, 0-d, empty (a dimension of 0), primes, just over a matmul tile, the MLP's
// own, and one case over a million elements) and how closely the GPU must match the float64
// reference. Typed over OpName, so a new op without an entry here does not compile. Cases whose
// reference is NaN (the mean of nothing, cross-entropy of an empty batch) are in
// tests/hostile/numerics.test.ts: the comparison here treats any NaN as a failure.

import { host } from '../src/ops/host.js';
import type { OpName } from '../src/ops/table.js';
import { type CaseInput, type Rng, randHost, randLabels } from './helpers.js';
import { batchNormCases } from './op_table_batch_norm.js';
import { adaptiveAvgPool2dCases, conv2dCases, pool2dCases } from './op_table_conv.js';

export interface OpCase {
  label: string;
  inputs: CaseInput[];
  attrs: unknown;
}

export interface OpSpec {
  /** Largest allowed ‖out − ref‖/‖ref‖ (0: exact). */
  tol: number;
  /** False for ops with an integer output (no gradient to check). */
  differentiable: boolean;
  cases(g: Rng): OpCase[];
}

// Sizes that stress a kernel's edges: 1, primes, a tile (32) and just over it, larger than a row of workgroups.
const EDGE_SIZES = [1, 2, 3, 7, 13, 31, 32, 33, 37, 61, 64, 65, 127, 129, 257];
const pick = (g: Rng, xs: readonly number[]): number => xs[g.int(xs.length)]!;
const f = (g: Rng, shape: number[], scale = 1, transposed = false): CaseInput => ({ value: randHost(g, shape, scale), transposed });

/** Keeps an input inside an op's domain (log of positives, a divisor away from 0), rounded to float32. */
type Domain = (v: number) => number;
const inDomain = (input: CaseInput, domain?: Domain): CaseInput =>
  domain ? { ...input, value: { ...input.value, data: input.value.data.map((v) => Math.fround(domain(v))) } } : input;
const positive: Domain = (v) => Math.abs(v) + 0.5;
const awayFromZero: Domain = (v) => Math.sign(v || 1) * (Math.abs(v) + 0.5);

function binaryCases(g: Rng, domainA?: Domain, domainB?: Domain): OpCase[] {
  return binaryCasesAnyDomain(g).map((c) => ({ ...c, inputs: [inDomain(c.inputs[0]!, domainA), inDomain(c.inputs[1]!, domainB)] }));
}

function binaryCasesAnyDomain(g: Rng): OpCase[] {
  const fixed: [string, CaseInput[]][] = [
    ['size 1', [f(g, [1]), f(g, [1])]],
    ['empty rows + bias', [f(g, [0, 3]), f(g, [3])]],
    ['scalar + matrix', [f(g, []), f(g, [4, 5])]],
    ['0-d + 0-d', [f(g, []), f(g, [])]],
    ['empty outer broadcast', [f(g, [0, 1]), f(g, [1, 4])]],
    ['empty column + column', [f(g, [2, 0]), f(g, [2, 1])]],
    ['primes', [f(g, [7, 13]), f(g, [7, 13])]],
    ['bias over a tile', [f(g, [33, 65]), f(g, [65])]],
    ['MLP bias [64,128]+[128]', [f(g, [64, 128]), f(g, [128])]],
    ['outer broadcast', [f(g, [5, 1]), f(g, [1, 6])]],
    ['transposed view', [f(g, [37, 31], 1, true), f(g, [37, 31])]],
    ['4-D broadcast', [f(g, [2, 3, 5, 7]), f(g, [3, 1, 7])]],
    ['over a million', [f(g, [1025, 1024]), f(g, [1024])]],
  ];
  const cases = fixed.map(([label, inputs]) => ({ label, inputs, attrs: {} }));
  while (cases.length < 22) {
    const r = pick(g, EDGE_SIZES);
    const c = pick(g, EDGE_SIZES);
    const kind = g.int(3);
    const b = kind === 0 ? [r, c] : kind === 1 ? [c] : [r, 1];
    cases.push({ label: `random ${r}x${c} with ${JSON.stringify(b)}`, inputs: [f(g, [r, c], 3, g.int(2) === 1), f(g, b, 3)], attrs: {} });
  }
  return cases;
}

function unaryCases(g: Rng, attrs: () => unknown, domain?: Domain): OpCase[] {
  return unaryCasesAnyDomain(g, attrs).map((c) => ({ ...c, inputs: [inDomain(c.inputs[0]!, domain)] }));
}

function unaryCasesAnyDomain(g: Rng, attrs: () => unknown): OpCase[] {
  const fixed: [string, number[], boolean][] = [
    ['size 1', [1], false],
    ['empty', [0, 5], false],
    ['scalar', [], false],
    ['empty 3-D', [2, 0, 3], false],
    ['primes', [13, 7], false],
    ['MLP hidden', [64, 128], false],
    ['transposed view', [33, 65], true],
    ['4-D', [2, 3, 5, 7], false],
    ['over a million', [1031, 1024], false],
  ];
  const cases = fixed.map(([label, shape, t]) => ({ label, inputs: [f(g, shape, 2, t)], attrs: attrs() }));
  while (cases.length < 22) {
    const shape = [pick(g, EDGE_SIZES), pick(g, EDGE_SIZES)];
    cases.push({ label: `random ${shape.join('x')}`, inputs: [f(g, shape, 2, g.int(2) === 1)], attrs: attrs() });
  }
  return cases;
}

function matmulCases(g: Rng): OpCase[] {
  const mm = (label: string, M: number, K: number, N: number, ta = false, tb = false): OpCase => ({
    label: `${label} ${M}x${K}·${K}x${N}${ta ? ' Aᵀ' : ''}${tb ? ' Bᵀ' : ''}`,
    inputs: [f(g, [M, K], 1, ta), f(g, [K, N], 1, tb)],
    attrs: {},
  });
  const cases = [
    mm('size 1', 1, 1, 1),
    mm('empty inner (zeros)', 4, 0, 3),
    mm('empty rows', 0, 5, 3),
    mm('empty columns', 3, 4, 0, true, false),
    mm('empty inner, transposed', 3, 0, 2, true, true),
    mm('primes', 7, 13, 17),
    mm('primes', 31, 37, 29, true, false),
    mm('tile', 32, 32, 32),
    mm('just over a tile', 33, 33, 33, false, true),
    mm('just over a tile', 65, 1, 33, true, true),
    mm('MLP fc1', 64, 784, 128),
    mm('MLP fc1 with Wᵀ', 64, 784, 128, false, true),
    mm('MLP fc2', 64, 128, 10, false, true),
    mm('MLP dW1 = Gᵀ·X', 128, 64, 784, true, false),
    mm('MLP dX = G·W', 64, 10, 128),
    mm('over a million outputs', 1024, 33, 1025),
    mm('long K', 3, 4099, 5),
  ];
  // PyTorch's other ranks: 1-D operands, and stacks of matrices whose batch dimensions broadcast.
  const nd = (label: string, a: number[], b: number[], ta = false, tb = false): OpCase => ({
    label: `${label} ${JSON.stringify(a)}${ta ? 'ᵀ' : ''}·${JSON.stringify(b)}${tb ? 'ᵀ' : ''}`,
    inputs: [f(g, a, 1, ta), f(g, b, 1, tb)],
    attrs: {},
  });
  cases.push(
    nd('dot', [7], [7]),
    nd('dot, empty', [0], [0]),
    nd('vector·matrix', [13], [13, 5], false, true),
    nd('matrix·vector', [33, 17], [17], true),
    nd('vector·batch', [5], [3, 5, 4]),
    nd('batch·vector', [2, 3, 4, 5], [5]),
    nd('batch 1', [1, 7, 13], [1, 13, 5]),
    nd('batch', [3, 7, 13], [3, 13, 5], true, false),
    nd('batch·matrix (broadcast)', [5, 33, 7], [7, 31]),
    nd('matrix·batch (broadcast)', [31, 7], [3, 7, 33], true, true),
    nd('broadcast batch [2,1]·[3]', [2, 1, 5, 7], [3, 7, 4]),
    nd('outer broadcast [2,1]·[1,3]', [2, 1, 5, 7], [1, 3, 7, 2], false, true),
    nd('attention scores Q·Kᵀ', [2, 4, 16, 8], [2, 4, 8, 16], false, true),
    nd('attention P·V', [2, 4, 16, 16], [2, 4, 16, 8]),
    nd('empty batch', [0, 3, 4], [0, 4, 5]),
    nd('empty broadcast batch', [2, 0, 3, 4], [1, 4, 5]),
    nd('empty inner, batched (zeros)', [3, 2, 0], [3, 0, 4]),
    nd('primes, batched, over a tile', [2, 37, 65], [2, 65, 33], true, true),
  );
  while (cases.length < 40) {
    const M = pick(g, EDGE_SIZES);
    const K = pick(g, EDGE_SIZES);
    const N = pick(g, EDGE_SIZES);
    cases.push(mm('random', M, K, N, g.int(2) === 1, g.int(2) === 1));
  }
  return cases;
}

function linearCases(g: Rng): OpCase[] {
  const lin = (label: string, M: number, K: number, N: number, bias: boolean, activation: 'none' | 'relu', tx = false): OpCase => ({
    label: `${label} [${M}, ${K}]·[${N}, ${K}]ᵀ${bias ? ' + b' : ''} ${activation}${tx ? ' (x transposed)' : ''}`,
    inputs: [f(g, [M, K], 1, tx), f(g, [N, K]), ...(bias ? [f(g, [N])] : [])],
    attrs: { activation },
  });
  const cases = [
    lin('size 1', 1, 1, 1, true, 'relu'),
    lin('no input features (the bias broadcast)', 4, 0, 3, true, 'none'),
    lin('empty batch', 0, 5, 3, true, 'relu'),
    lin('no input features', 2, 0, 5, true, 'relu'),
    lin('no input features, no bias', 3, 0, 2, false, 'none'),
    lin('primes', 7, 13, 17, true, 'none'),
    lin('no bias', 31, 37, 29, false, 'relu'),
    lin('no bias', 5, 3, 2, false, 'none'),
    lin('just over a tile', 33, 33, 33, true, 'relu', true),
    lin('MLP fc1', 64, 784, 128, true, 'relu'),
    lin('MLP fc2', 64, 128, 10, true, 'none'),
    lin('over a million outputs', 1024, 17, 1025, true, 'relu'),
  ];
  // [*, in] inputs as PyTorch's: a 1-D input, and leading dimensions (contiguous or not) flattened into rows.
  const linNd = (label: string, x: number[], N: number, bias: boolean, activation: 'none' | 'relu', tx = false): OpCase => ({
    label: `${label} ${JSON.stringify(x)}${tx ? 'ᵀ' : ''} → ${N}${bias ? ' + b' : ''} ${activation}`,
    inputs: [f(g, x, 1, tx), f(g, [N, x.at(-1)!]), ...(bias ? [f(g, [N])] : [])],
    attrs: { activation },
  });
  cases.push(
    linNd('1-D input', [13], 7, true, 'relu'),
    linNd('3-D input', [2, 5, 13], 7, true, 'none'),
    linNd('4-D input, no bias', [2, 3, 4, 33], 5, false, 'relu'),
    linNd('3-D input, transposed matrices', [3, 7, 5], 4, true, 'relu', true),
    linNd('empty leading dimension', [0, 3, 5], 4, true, 'none'),
  );
  while (cases.length < 22) {
    cases.push(lin('random', pick(g, EDGE_SIZES), pick(g, EDGE_SIZES), pick(g, EDGE_SIZES), g.int(4) > 0, g.int(2) ? 'relu' : 'none', g.int(2) === 1));
  }
  return cases;
}

/** For sum and mean; `overEmpty` adds the reductions over an empty axis (sum only: the mean is NaN). */
function reduceCases(g: Rng, overEmpty: boolean): OpCase[] {
  const r = (label: string, shape: number[], axis: number | number[] | null, keepdim = false, t = false): OpCase => ({
    label: `${label} ${JSON.stringify(shape)} axis ${axis}${keepdim ? ' keepdim' : ''}${t ? ' (transposed)' : ''}`,
    inputs: [f(g, shape, 1, t)],
    attrs: { axis, keepdim },
  });
  const cases = [
    r('size 1', [1], null),
    r('empty, along the other axis', [0, 3], 1),
    r('0-d', [], null),
    r('0-d, axis -1', [], -1, true),
    ...(overEmpty ? [r('empty, over all', [0, 3], null), r('empty, over the empty axis', [0, 3], 0, true), r('empty, middle axis', [2, 0, 3], 1)] : []),
    r('empty, keepdim', [3, 0], 0, true),
    r('0-d, axis 0', [], 0),
    r('size 1', [1, 1], 0, true),
    r('primes', [7, 13], null),
    r('primes', [7, 13], 1),
    r('bias gradient (column sum)', [64, 128], 0),
    r('column sum of a long batch', [8000, 10], 0),
    r('row sum', [64, 10], -1, true),
    r('transposed', [33, 65], 0, false, true),
    r('3-D middle axis', [3, 5, 7], 1),
    r('over a million, all', [1024, 1031], null),
    r('over a million, column sums', [1031, 1024], 0),
    r('a million, one row', [1, 1048583], 1),
    // Several dims: adjacent ones are one pass, others one pass each; an empty list is all of them.
    r('dims 0 and 2 of 4-D', [2, 3, 5, 7], [0, 2]),
    r('adjacent dims, negative', [2, 3, 5, 7], [-1, -2], true),
    r('first and last', [3, 4, 5], [2, 0], true),
    r('every dim listed', [3, 4, 5], [0, 1, 2]),
    r('empty list (all)', [4, 6], []),
    r('0-d, dims [-1]', [], [-1]),
    r('long non-adjacent dims', [64, 33, 129], [0, 2]),
    ...(overEmpty ? [r('empty, dims 0 and 2', [3, 0, 5], [0, 2], true)] : [r('empty outputs, dims 0 and 2', [3, 0, 5], [0, 2])]),
  ];
  while (cases.length < 22) {
    const shape = [pick(g, EDGE_SIZES), pick(g, EDGE_SIZES)];
    const axis = [null, 0, 1][g.int(3)]!;
    cases.push(r('random', shape, axis, g.int(2) === 1, g.int(2) === 1));
  }
  return cases;
}

function crossEntropyCases(g: Rng): OpCase[] {
  const ce = (label: string, N: number, C: number, scale = 3): OpCase => ({
    label: `${label} [${N}, ${C}]`,
    inputs: [f(g, [N, C], scale), { value: randLabels(g, N, C) }],
    attrs: { ignoreIndex: -100 },
  });
  // Every `every`-th label set to ignoreIndex (−100, or a class): those rows add nothing to the mean.
  const ignoring = (label: string, N: number, C: number, every: number, ignoreIndex = -100): OpCase => {
    const labels = randLabels(g, N, C);
    for (let i = 0; i < N; i += every) labels.data[i] = ignoreIndex;
    return { label: `${label} [${N}, ${C}]`, inputs: [f(g, [N, C], 3), { value: labels }], attrs: { ignoreIndex } };
  };
  const cases = [
    ce('size 1', 1, 1),
    ce('primes', 7, 13),
    ce('MLP batch', 64, 10),
    ce('just over a workgroup', 257, 10),
    ce('full batch', 8000, 10),
    ce('many classes', 3, 1000),
    ce('large logits', 16, 10, 50),
    ce('over a million', 1000, 1049),
    ignoring('some labels -100', 37, 5, 3),
    ignoring('ignoreIndex a class', 65, 7, 4, 2),
  ];
  while (cases.length < 20) cases.push(ce('random', pick(g, EDGE_SIZES), pick(g, [1, 2, 3, 10, 33, 100])));
  return cases;
}

/** x + shift, rounded to float32 (so GPU and reference start from the same numbers). */
function offset(x: ReturnType<typeof randHost>, shift: number): CaseInput {
  return { value: { ...x, data: x.data.map((v) => Math.fround(v + shift)) } };
}

/** For softmax, logSoftmax and logsumexp (`withKeepdim`): rows along any dim, huge logits, empty dims. */
function softmaxCases(g: Rng, withKeepdim: boolean): OpCase[] {
  const c = (label: string, shape: number[], dim: number, scale = 2, t = false): OpCase => {
    const keepdim = withKeepdim && g.int(2) === 1;
    return {
      label: `${label} ${JSON.stringify(shape)} dim ${dim}${keepdim ? ' keepdim' : ''}${t ? ' (transposed)' : ''}`,
      inputs: [f(g, shape, scale, t)],
      attrs: withKeepdim ? { dim, keepdim } : { dim },
    };
  };
  const cases = [
    c('size 1', [1], 0),
    c('0-d', [], -1),
    c('0-d, dim 0', [], 0),
    c('empty batch', [0, 5], 1),
    c('empty middle', [2, 0, 3], -1),
    c('primes, rows', [7, 13], -1),
    c('primes, columns', [7, 13], 0),
    c('transposed rows', [33, 65], 1, 2, true),
    c('MLP logits', [64, 10], -1),
    c('3-D middle dim', [3, 5, 7], 1),
    c('4-D first dim', [2, 3, 5, 7], 0),
    // Far from 0 but close to each other: exact only relative to the row max (a gradient can be checked).
    { ...c('large logits', [16, 10], -1, 3), inputs: [offset(randHost(g, [16, 10], 3), 1e4)] },
    c('many classes', [3, 1031], -1),
    c('over a million', [1031, 1024], -1),
    c('just over a workgroup of rows', [257, 3], 1),
  ];
  while (cases.length < 22) {
    const shape = [pick(g, EDGE_SIZES), pick(g, EDGE_SIZES)];
    cases.push(c('random', shape, g.int(4) - 2, 3, g.int(2) === 1));
  }
  return cases;
}

function viewCases(g: Rng, make: (shape: number[]) => unknown, shapes: number[][]): OpCase[] {
  const cases: OpCase[] = shapes.map((shape) => ({ label: JSON.stringify(shape), inputs: [f(g, shape)], attrs: make(shape) }));
  while (cases.length < 20) {
    const shape = [pick(g, EDGE_SIZES), pick(g, EDGE_SIZES)];
    cases.push({ label: `random ${shape.join('x')}`, inputs: [f(g, shape, 1, g.int(2) === 1)], attrs: make(shape) });
  }
  return cases;
}

/** A seeded shape of the given rank, from small sizes (0 and 1 included) so rank 6 stays small. */
function smallShape(g: Rng, rank: number): number[] {
  return Array.from({ length: rank }, () => pick(g, [0, 1, 1, 2, 3, 5]));
}

/** A seeded permutation of 0..n-1. */
function shuffled(g: Rng, n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = g.int(i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

function permuteCases(g: Rng): OpCase[] {
  const fixed: [number[], number[], boolean][] = [
    [[], [], false],
    [[1], [0], false],
    [[0, 3], [1, 0], false],
    [[7, 13], [-1, -2], false],
    [[33, 65], [1, 0], true],
    [[2, 3, 5], [2, 0, 1], false],
    [[2, 1, 3, 1, 5, 2], [5, 3, 1, 0, 2, 4], false],
    [[3, 2, 0, 2, 1, 2], [1, 2, 3, 4, 5, 0], false],
    [[2, 2, 2, 2, 2, 2, 2, 2], [7, 6, 5, 4, 3, 2, 1, 0], false],
  ];
  const cases: OpCase[] = fixed.map(([shape, dims, t]) => ({
    label: `${JSON.stringify(shape)} dims ${JSON.stringify(dims)}`,
    inputs: [f(g, shape, 1, t)],
    attrs: { dims },
  }));
  while (cases.length < 22) {
    const rank = 1 + g.int(6);
    const shape = rank === 2 ? [pick(g, EDGE_SIZES), pick(g, EDGE_SIZES)] : smallShape(g, rank);
    const dims = shuffled(g, rank);
    cases.push({
      label: `random ${JSON.stringify(shape)} dims ${JSON.stringify(dims)}`,
      inputs: [f(g, shape, 1, rank === 2 && g.int(2) === 1)],
      attrs: { dims },
    });
  }
  return cases;
}

function narrowCases(g: Rng): OpCase[] {
  const n = (shape: number[], dim: number, start: number, length: number, t = false): OpCase => ({
    label: `${JSON.stringify(shape)} dim ${dim} start ${start} length ${length}${t ? ' (transposed)' : ''}`,
    inputs: [f(g, shape, 1, t)],
    attrs: { dim, start, length },
  });
  const cases = [
    n([1], 0, 0, 1),
    n([5], 0, 2, 0),
    n([0, 3], 1, 1, 2),
    n([4, 0], 0, 1, 2),
    n([7, 13], 1, 3, 5),
    n([7, 13], -1, -4, 4),
    n([33, 65], 0, 32, 1, true),
    n([33, 65], 1, 0, 33, true),
    n([64, 128], 0, 10, 33),
    n([2, 3, 5, 1, 2, 3], 2, 1, 3),
    n([2, 3, 5, 1, 2, 3], 5, 2, 1),
    n([2, 3, 5, 1, 2, 3], 0, 1, 1),
  ];
  while (cases.length < 22) {
    const rank = 1 + g.int(6);
    const shape = rank === 2 ? [pick(g, EDGE_SIZES), pick(g, EDGE_SIZES)] : smallShape(g, rank).map((s) => s + 1);
    const dim = g.int(rank);
    const start = g.int(shape[dim]! + 1);
    cases.push(n(shape, dim, start, g.int(shape[dim]! - start + 1), rank === 2 && g.int(2) === 1));
  }
  return cases;
}

/** tril/triu: square, wide and tall matrices, batches, empty dims, diagonals past either edge. */
function triangularCases(g: Rng): OpCase[] {
  const t = (shape: number[], diagonal: number, tr = false): OpCase => ({
    label: `${JSON.stringify(shape)} diagonal ${diagonal}${tr ? ' (transposed)' : ''}`,
    inputs: [f(g, shape, 1, tr)],
    attrs: { diagonal },
  });
  const cases = [
    t([1, 1], 0),
    t([0, 3], 0),
    t([3, 0], 1),
    t([2, 0, 4], -1),
    t([7, 13], 0),
    t([13, 7], -2),
    t([7, 13], 20),
    t([7, 13], -20),
    t([33, 65], 3, true),
    t([64, 128], -1),
    t([2, 3, 5, 7], 1),
    t([2, 1, 3, 1, 4, 5], 0),
  ];
  while (cases.length < 22) {
    const r = pick(g, EDGE_SIZES);
    const c = pick(g, EDGE_SIZES);
    const batch = g.int(2) ? [] : [1 + g.int(3)];
    cases.push(t([...batch, r, c], g.int(9) - 4, batch.length === 0 && g.int(2) === 1));
  }
  return cases;
}

/** maskedFill: the mask broadcasting against the input and the input against the mask. */
function maskedFillCases(g: Rng): OpCase[] {
  const m = (x: number[], mask: number[], value: number, tr = false): OpCase => ({
    label: `${JSON.stringify(x)}${tr ? ' (transposed)' : ''} mask ${JSON.stringify(mask)} value ${value}`,
    inputs: [f(g, x, 1, tr), valuesOf(g, mask, 'bool')],
    attrs: { value },
  });
  const cases = [
    m([], [], 2),
    m([1], [1], -1),
    m([0, 3], [3], 5),
    m([3], [0, 3], 5),
    m([7, 13], [7, 13], 0),
    m([7, 13], [13], -3.5),
    m([7, 13], [], 1),
    m([5, 1], [1, 6], 4),
    m([33, 65], [33, 65], 7, true),
    m([64, 128], [64, 1], -1e4),
    m([2, 3, 1, 7], [3, 5, 1], 0.25),
    m([1, 2, 1, 4, 1, 3], [2, 1, 3, 1, 2, 3], -2),
  ];
  while (cases.length < 22) {
    const r = pick(g, EDGE_SIZES);
    const c = pick(g, EDGE_SIZES);
    const kind = g.int(3);
    const mask = kind === 0 ? [r, c] : kind === 1 ? [c] : [r, 1];
    cases.push(m([r, c], mask, g.int(9) - 4, g.int(2) === 1));
  }
  return cases;
}

/** cat: two to four inputs, empty pieces, a transposed piece, negative dims, over a tile. */
function catCases(g: Rng): OpCase[] {
  const c = (shapes: number[][], dim: number, tr = false): OpCase => ({
    label: `${shapes.map((s) => JSON.stringify(s)).join(' + ')} dim ${dim}${tr ? ' (first transposed)' : ''}`,
    inputs: shapes.map((s, i) => f(g, s, 1, tr && i === 0)),
    attrs: { dim },
  });
  const cases = [
    c([[1]], 0),
    c([[1], [1]], 0),
    c([[0], [3]], 0),
    c(
      [
        [2, 0],
        [2, 0],
      ],
      1,
    ),
    c(
      [
        [0, 3],
        [0, 3],
      ],
      0,
    ),
    c(
      [
        [7, 13],
        [5, 13],
      ],
      0,
    ),
    c(
      [
        [7, 13],
        [7, 2],
        [7, 1],
      ],
      -1,
    ),
    c(
      [
        [33, 65],
        [33, 65],
      ],
      1,
      true,
    ),
    c(
      [
        [64, 128],
        [1, 128],
      ],
      0,
    ),
    c(
      [
        [2, 3, 5],
        [2, 1, 5],
        [2, 0, 5],
        [2, 4, 5],
      ],
      1,
    ),
    c(
      [
        [2, 1, 3, 1, 2, 3],
        [2, 1, 3, 1, 2, 2],
      ],
      5,
    ),
    c(
      [
        [3, 4],
        [3, 4],
      ],
      -2,
    ),
  ];
  while (cases.length < 22) {
    const k = 1 + g.int(3);
    const r = pick(g, EDGE_SIZES);
    const dim = g.int(2);
    const shapes = Array.from({ length: k }, () => (dim === 0 ? [pick(g, EDGE_SIZES), r] : [r, pick(g, EDGE_SIZES)]));
    const tr = shapes.length > 0 && shapes[0]!.length === 2 && g.int(2) === 1;
    cases.push(c(shapes, dim, tr));
  }
  return cases;
}

/** stack: one to four equal shapes, a new first, middle or last dimension. */
function stackCases(g: Rng): OpCase[] {
  const st = (shape: number[], k: number, dim: number, tr = false): OpCase => ({
    label: `${k} x ${JSON.stringify(shape)} dim ${dim}${tr ? ' (transposed)' : ''}`,
    inputs: Array.from({ length: k }, () => f(g, shape, 1, tr)),
    attrs: { dim },
  });
  const cases = [
    st([], 1, 0),
    st([], 3, -1),
    st([1], 2, 1),
    st([0], 2, 0),
    st([2, 0], 3, 1),
    st([7, 13], 2, 0),
    st([7, 13], 3, 2),
    st([7, 13], 2, -2),
    st([33, 65], 2, 1, true),
    st([64, 128], 2, 0),
    st([2, 3, 5, 1, 2], 4, 3),
    st([5], 4, -1),
  ];
  while (cases.length < 22) {
    const shape = [pick(g, EDGE_SIZES), pick(g, EDGE_SIZES)];
    cases.push(st(shape, 1 + g.int(3), g.int(3), g.int(2) === 1));
  }
  return cases;
}

/** oneHot: labels of rank 0 to 3 (empty included), numClasses given or inferred (-1). */
function oneHotCases(g: Rng): OpCase[] {
  const o = (shape: number[], classes: number, numClasses: number): OpCase => {
    const labels = host(shape, undefined, 'int32');
    for (let i = 0; i < labels.data.length; i++) labels.data[i] = g.int(classes);
    return { label: `${JSON.stringify(shape)} labels < ${classes}, numClasses ${numClasses}`, inputs: [{ value: labels }], attrs: { numClasses } };
  };
  const cases = [
    o([], 3, 3),
    o([], 5, -1),
    o([1], 1, 1),
    o([1], 1, -1),
    o([0], 4, 4),
    o([2, 0], 3, 0),
    o([7], 13, 13),
    o([7, 13], 5, -1),
    o([64], 10, 10),
    o([33], 65, 70),
    o([2, 3, 5], 7, 7),
    o([1025], 1024, 1024),
  ];
  while (cases.length < 22) {
    const classes = pick(g, EDGE_SIZES);
    cases.push(o([pick(g, EDGE_SIZES)], classes, g.int(2) ? -1 : classes + g.int(3)));
  }
  return cases;
}

/** int32 indices in [0, size) of a shape (seeded). */
function indexHost(g: Rng, shape: number[], size: number): CaseInput {
  const t = host(shape, undefined, 'int32');
  for (let i = 0; i < t.data.length; i++) t.data[i] = g.int(size);
  return { value: t };
}

/** embedding: indices of rank 0 to 3 (empty included) into tables from 1 row to over a tile, padding rows no index picks. */
function embeddingCases(g: Rng): OpCase[] {
  const e = (shape: number[], V: number, D: number, paddingIdx: number | null = null, tr = false): OpCase => ({
    label: `indices ${JSON.stringify(shape)} into [${V}, ${D}]${paddingIdx === null ? '' : ` padding ${paddingIdx}`}${tr ? ' (weight transposed)' : ''}`,
    // With a padding row, indices avoid it: its gradient is zero by definition, not by differentiation.
    inputs: [paddingIdx === null ? indexHost(g, shape, V) : indexHost(g, shape, V - 1), f(g, [V, D], 1, tr)],
    attrs: { paddingIdx },
  });
  const cases = [
    e([], 1, 1),
    e([1], 1, 1),
    e([0], 3, 4),
    e([2, 0], 5, 3),
    e([3], 4, 0),
    e([7], 13, 5),
    e([13, 7], 28, 64),
    e([32, 16], 28, 64),
    e([33], 65, 33),
    e([2, 3, 5], 7, 3),
    e([5], 6, 4, 5),
    e([5], 6, 4, -1),
    e([9], 31, 37, null, true),
    e([1, 1, 1], 2, 129),
  ];
  while (cases.length < 22) cases.push(e([pick(g, EDGE_SIZES)], pick(g, EDGE_SIZES), pick(g, EDGE_SIZES), null, g.int(3) === 0));
  return cases;
}

/** indexSelect: each dimension of ranks 0 to 4, repeated and empty index vectors, 0-d indices, transposed inputs. */
function indexSelectCases(g: Rng): OpCase[] {
  const s = (shape: number[], dim: number, count: number | null, tr = false): OpCase => {
    const d = dim < 0 ? dim + Math.max(shape.length, 1) : dim;
    const size = shape.length ? shape[d]! : 1;
    return {
      label: `${JSON.stringify(shape)} dim ${dim}, ${count === null ? '0-d index' : `${count} indices`}${tr ? ' (transposed)' : ''}`,
      inputs: [f(g, shape, 1, tr), indexHost(g, count === null ? [] : [count], size)],
      attrs: { dim },
    };
  };
  const cases = [
    s([], 0, 1),
    s([], -1, null),
    s([1], 0, 1),
    s([1], 0, 5),
    s([4], 0, 0),
    s([0, 3], 1, 2),
    s([3, 0], 0, 4),
    s([7, 13], 0, 7),
    s([7, 13], 1, 20),
    s([7, 13], -1, null),
    s([33, 65], 1, 33, true),
    s([65, 33], 0, 65, true),
    s([2, 3, 5], 1, 4),
    s([2, 3, 5, 4], 3, 9),
    s([64, 128], 0, 64),
  ];
  while (cases.length < 22) {
    const shape = [pick(g, EDGE_SIZES), pick(g, EDGE_SIZES)];
    cases.push(s(shape, g.int(2), pick(g, EDGE_SIZES), g.int(2) === 1));
  }
  return cases;
}

/** gather: index as large as the input or smaller apart from dim, along each dimension, 0-d, empty, transposed inputs. */
function gatherCases(g: Rng): OpCase[] {
  const c = (shape: number[], dim: number, indexShape: number[], tr = false): OpCase => {
    const d = dim < 0 ? dim + Math.max(shape.length, 1) : dim;
    return {
      label: `${JSON.stringify(shape)} dim ${dim} index ${JSON.stringify(indexShape)}${tr ? ' (transposed)' : ''}`,
      inputs: [f(g, shape, 1, tr), indexHost(g, indexShape, shape.length ? shape[d]! : 1)],
      attrs: { dim },
    };
  };
  const cases = [
    c([], 0, []),
    c([1], 0, [1]),
    c([1], 0, [6]),
    c([4], 0, [0]),
    c([3, 0], 0, [5, 0]),
    c([0, 3], 1, [0, 2]),
    c([3, 4], 1, [3, 0]),
    c([7, 13], 0, [7, 13]),
    c([7, 13], 1, [7, 29]),
    c([7, 13], -1, [2, 5]),
    c([33, 65], 0, [40, 65], true),
    c([33, 65], 1, [33, 3], true),
    c([2, 3, 5], 1, [2, 6, 5]),
    c([2, 3, 5], 2, [1, 2, 4]),
    c([64, 10], 1, [64, 1]),
  ];
  while (cases.length < 22) {
    const shape = [pick(g, EDGE_SIZES), pick(g, EDGE_SIZES)];
    const dim = g.int(2);
    const indexShape = shape.map((n, k) => (k === dim ? pick(g, EDGE_SIZES) : 1 + g.int(n)));
    cases.push(c(shape, dim, indexShape, g.int(2) === 1));
  }
  return cases;
}

/** For argmax and argmin: the last axis of many shapes, then other axes, 0-d, size 1 and empty batches. */
function argCases(g: Rng): OpCase[] {
  return [
    ...[[1, 1], [1, 10], [7, 13], [64, 10], [257, 3], [100_003, 11], ...Array.from({ length: 16 }, () => [pick(g, EDGE_SIZES), pick(g, EDGE_SIZES)])].map(
      (shape) => ({ label: JSON.stringify(shape), inputs: [f(g, shape, 1, g.int(3) === 0)], attrs: { axis: -1 } }),
    ),
    // Other axes, 0-d (the index is 0), size 1 and an empty batch (an empty result).
    ...(
      [
        [[7, 13], 0],
        [[33, 65], 0],
        [[3, 5, 7], 1],
        [[3, 5, 7], -3],
        [[100_003, 3], 0],
        [[], -1],
        [[], 0],
        [[1], 0],
        [[0, 5], -1],
        [[4, 0, 3], 2],
      ] as const
    ).map(([shape, axis]) => ({
      label: `${JSON.stringify(shape)} axis ${axis}`,
      inputs: [f(g, [...shape], 1, shape.length === 2 && g.int(2) === 0)],
      attrs: { axis },
    })),
  ];
}

/** For max and min (values): one dim or all, keepdim, 0-d, empty batches, long rows. */
function extremumCases(g: Rng): OpCase[] {
  const c = (label: string, shape: number[], axis: number | null, keepdim = false, t = false): OpCase => ({
    label: `${label} ${JSON.stringify(shape)} axis ${axis}${keepdim ? ' keepdim' : ''}${t ? ' (transposed)' : ''}`,
    inputs: [f(g, shape, 2, t)],
    attrs: { axis, keepdim },
  });
  const cases = [
    c('size 1', [1], null),
    c('0-d', [], null),
    c('0-d, axis -1', [], -1, true),
    c('empty batch', [0, 5], 1),
    c('empty batch, keepdim', [4, 0, 3], 2, true),
    c('primes, all', [7, 13], null),
    c('primes, rows', [7, 13], -1),
    c('primes, columns', [7, 13], 0, true),
    c('transposed', [33, 65], 1, false, true),
    c('3-D middle', [3, 5, 7], 1),
    c('4-D first', [2, 3, 5, 7], 0),
    c('MLP logits', [64, 10], 1),
    c('over a million, rows', [1031, 1024], 1),
    c('a long column', [100_003, 3], 0),
  ];
  while (cases.length < 22) {
    const shape = [pick(g, EDGE_SIZES), pick(g, EDGE_SIZES)];
    cases.push(c('random', shape, [null, 0, 1, -1][g.int(4)]!, g.int(2) === 1, g.int(2) === 1));
  }
  return cases;
}

/** Values of the given dtype: floats from a few integers (so comparisons tie), ints, or 0/1 bools. */
function valuesOf(g: Rng, shape: number[], dtype: 'float32' | 'int32' | 'bool', special = false): CaseInput {
  const t = host(shape, undefined, dtype);
  const specials = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0.5, -0.5, 2.75, -2.75, 3e9, -3e9, 16777217, 1e-30];
  for (let i = 0; i < t.data.length; i++) {
    if (dtype === 'bool') t.data[i] = g.int(2);
    else if (dtype === 'int32') t.data[i] = g.int(7) - 3;
    else t.data[i] = special ? Math.fround(specials[g.int(specials.length)]!) : Math.fround(g.int(5) - 2 + (g.int(3) === 0 ? g.uniform() : 0));
  }
  return { value: t };
}

/** Pairs of broadcastable shapes up to rank 6, with size-1, empty and prime dims. */
const BROADCAST_SHAPES: [number[], number[]][] = [
  [[], []],
  [[1], [1]],
  [[0, 3], [3]],
  [
    [7, 13],
    [7, 13],
  ],
  [
    [5, 1],
    [1, 6],
  ],
  [[33, 65], [65]],
  [
    [2, 3, 1, 7],
    [3, 5, 1],
  ],
  [
    [2, 1, 3, 1, 2, 3],
    [1, 2, 1, 4, 1, 3],
  ],
  [
    [3, 0, 1, 2, 1, 2],
    [1, 2, 5, 2],
  ],
];

const COMPARES = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
const DTYPE_NAMES = ['float32', 'int32', 'bool'] as const;

function castCases(g: Rng): OpCase[] {
  const cases: OpCase[] = [];
  DTYPE_NAMES.forEach((from) => {
    DTYPE_NAMES.forEach((to) => {
      const shape = from === 'float32' ? [37, 31] : smallShape(g, 1 + g.int(6));
      cases.push({ label: `${from} → ${to} ${JSON.stringify(shape)}`, inputs: [valuesOf(g, shape, from, from === 'float32')], attrs: { dtype: to } });
    });
  });
  const more: [number[], 'float32' | 'int32' | 'bool', 'float32' | 'int32' | 'bool'][] = [
    [[], 'float32', 'int32'],
    [[0, 5], 'float32', 'bool'],
    [[1], 'bool', 'float32'],
    [[2, 3, 1, 5, 2, 3], 'float32', 'int32'],
    [[3, 2, 1, 1, 2, 7], 'int32', 'float32'],
  ];
  for (const [shape, from, to] of more)
    cases.push({ label: `${from} → ${to} ${JSON.stringify(shape)}`, inputs: [valuesOf(g, shape, from, true)], attrs: { dtype: to } });
  // A transposed float view, converted through its strides.
  while (cases.length < 22)
    cases.push({ label: 'transposed float32 → int32', inputs: [{ ...valuesOf(g, [13, 7], 'float32', true), transposed: true }], attrs: { dtype: 'int32' } });
  return cases;
}

function compareCases(g: Rng): OpCase[] {
  const cases: OpCase[] = BROADCAST_SHAPES.map(([a, b], i) => ({
    label: `${COMPARES[i % 6]} ${JSON.stringify(a)} with ${JSON.stringify(b)}`,
    inputs: [valuesOf(g, a, 'float32'), valuesOf(g, b, 'float32')],
    attrs: { op: COMPARES[i % 6] },
  }));
  for (const op of COMPARES) {
    cases.push({ label: `${op} with NaN and infinities`, inputs: [valuesOf(g, [4, 9], 'float32', true), valuesOf(g, [9], 'float32', true)], attrs: { op } });
    cases.push({ label: `${op} int32 with float32`, inputs: [valuesOf(g, [3, 4], 'int32'), valuesOf(g, [4], 'float32')], attrs: { op } });
  }
  while (cases.length < 24) {
    const [a, b] = BROADCAST_SHAPES[g.int(BROADCAST_SHAPES.length)]!;
    const op = COMPARES[g.int(6)]!;
    cases.push({
      label: `random ${op} ${JSON.stringify(a)} with ${JSON.stringify(b)}`,
      inputs: [valuesOf(g, b, 'bool'), valuesOf(g, a, 'float32')],
      attrs: { op },
    });
  }
  return cases;
}

function compareScalarCases(g: Rng): OpCase[] {
  const cases: OpCase[] = [];
  const shapes = [[], [1], [0, 4], [7, 13], [33, 65], [2, 3, 1, 5, 2, 3], [4, 9]];
  shapes.forEach((shape, i) => {
    for (const op of [COMPARES[i % 6]!, COMPARES[(i + 3) % 6]!, COMPARES[(i + 1) % 6]!]) {
      cases.push({
        label: `${op} ${JSON.stringify(shape)}`,
        inputs: [valuesOf(g, shape, i === 6 ? 'float32' : 'float32', i === 6)],
        attrs: { op, value: g.int(5) - 2 },
      });
    }
  });
  cases.push({ label: 'gt NaN', inputs: [valuesOf(g, [5], 'float32', true)], attrs: { op: 'gt', value: Number.NaN } });
  cases.push({ label: 'eq int32', inputs: [valuesOf(g, [6, 5], 'int32')], attrs: { op: 'eq', value: 1 } });
  return cases;
}

function whereCases(g: Rng): OpCase[] {
  const w = (c: number[], a: number[], b: number[], ta = false): OpCase => ({
    label: `cond ${JSON.stringify(c)}, ${JSON.stringify(a)}${ta ? ' (transposed)' : ''}, ${JSON.stringify(b)}`,
    inputs: [valuesOf(g, c, 'bool'), f(g, a, 1, ta), f(g, b)],
    attrs: {},
  });
  const cases = [
    w([], [], []),
    w([1], [1], [1]),
    w([0, 3], [3], [0, 1]),
    w([7, 13], [7, 13], [7, 13]),
    w([7, 13], [13], []),
    w([5, 1], [1, 6], [5, 6]),
    w([33, 65], [33, 65], [65], true),
    w([2, 3, 1, 7], [3, 5, 1], [7]),
    w([2, 1, 3, 1, 2, 3], [1, 2, 1, 4, 1, 3], [3]),
    w([1, 2, 1, 2, 1, 2], [2, 1, 2, 1, 2, 1], [1, 1, 1, 1, 1, 1]),
    w([3, 0, 1, 2, 1, 2], [1, 2, 5, 2], []),
  ];
  while (cases.length < 22) {
    const [a, b] = BROADCAST_SHAPES[g.int(BROADCAST_SHAPES.length)]!;
    cases.push(g.int(2) ? w(a, b, a) : w(b, a, b));
  }
  return cases;
}

/**
 * For var and std: one dim or all, both corrections. Rows of one element only for var: the std of
 * a row without spread is sqrt at 0, whose gradient is NaN (as in PyTorch).
 */
function varianceCases(g: Rng, rowsOfOne: boolean): OpCase[] {
  const c = (label: string, shape: number[], axis: number | number[] | null, correction = 1, keepdim = false, t = false): OpCase => ({
    label: `${label} ${JSON.stringify(shape)} axis ${axis} correction ${correction}${keepdim ? ' keepdim' : ''}${t ? ' (transposed)' : ''}`,
    inputs: [f(g, shape, 2, t)],
    attrs: { axis, correction, keepdim },
  });
  const cases = [
    ...(rowsOfOne ? [c('size 1, biased', [1], null, 0), c('0-d, biased', [], null, 0), c('rows of 1, biased', [5, 1], 1, 0, true)] : []),
    c('size-1 dim', [1, 4], 1, 0, true),
    c('pair', [2], null),
    c('empty batch', [0, 5], 1),
    c('empty batch, keepdim', [4, 0, 3], 2, 1, true),
    c('primes, all', [7, 13], null),
    c('primes, rows', [7, 13], -1, 0),
    c('primes, columns', [7, 13], 0, 1, true),
    c('transposed', [33, 65], 1, 1, false, true),
    c('3-D middle', [3, 5, 7], 1),
    c('4-D first', [2, 3, 5, 7], 0),
    c('MLP features', [64, 128], 0),
    c('over a million, rows', [1031, 1024], 1),
    c('a long column', [100_003, 3], 0),
  ];
  while (cases.length < 22) {
    const shape = [pick(g, EDGE_SIZES) + 1, pick(g, EDGE_SIZES) + 1];
    cases.push(c('random', shape, [null, 0, 1, -1][g.int(4)]!, g.int(2), g.int(2) === 1, g.int(2) === 1));
  }
  // Lists of dims (after the random cases, so their seeds stay as they were): non-adjacent dims
  // read through a reordering copy, adjacent ones as rows; an empty list is every dim.
  cases.push(
    c('dims 0 and 2', [3, 4, 5], [0, 2]),
    c('negative dims, keepdim', [2, 3, 5, 7], [-1, -3], 0, true),
    c('adjacent dims', [2, 3, 5, 7], [1, 2], 1, false, false),
    c('empty list (all)', [4, 6], []),
    c('size-1 dims listed', [1, 4, 1, 3], [0, 2, 3], 0, true),
    c('empty kept dim', [4, 0, 3], [0, 2]),
    c('transposed, both dims', [13, 7], [1, 0], 1, false, true),
    c('rank 6', [2, 1, 3, 1, 5, 2], [0, 2, 4], 1, true),
    c('over a million, short rows', [3, 1031, 2, 173], [0, 2]),
  );
  return cases;
}

/** For nllLoss: [N, C] and [N, C, d…] inputs, every reduction, ignored labels and label smoothing. */
function nllLossCases(g: Rng): OpCase[] {
  const c = (label: string, shape: number[], reduction: string, ignoreIndex = -100, labelSmoothing = 0, ignoredShare = 0): OpCase => {
    const labelShape = [shape[0]!, ...shape.slice(2)];
    const labels = randLabels(
      g,
      labelShape.reduce((a, b) => a * b, 1),
      shape[1]!,
    );
    labels.shape = labelShape;
    // Keep at least the first label, so a mean is never over nothing (NaN: tested on its own).
    labels.data.forEach((_, i) => {
      if (i > 0 && g.uniform() < ignoredShare) labels.data[i] = ignoreIndex;
    });
    return {
      label: `${label} ${JSON.stringify(shape)} ${reduction}${ignoredShare ? ` ignoring ${ignoreIndex}` : ''}${labelSmoothing ? ` smoothing ${labelSmoothing}` : ''}`,
      inputs: [f(g, shape, 3), { value: labels }],
      attrs: { ignoreIndex, labelSmoothing, reduction },
    };
  };
  const cases = [
    c('size 1', [1, 1], 'mean'),
    c('one class, smoothing', [3, 1], 'sum', -100, 0.2),
    c('empty batch, none', [0, 4], 'none'),
    c('empty batch, sum', [0, 4], 'sum'),
    c('empty spatial dim, none', [2, 3, 0], 'none'),
    c('primes', [7, 13], 'mean'),
    c('primes, ignored labels', [7, 13], 'mean', -100, 0, 0.4),
    c('ignoreIndex 3 is a class', [9, 5], 'sum', 3, 0, 0.3),
    c('smoothing and ignored labels', [31, 10], 'mean', -1, 0.1, 0.3),
    c('segmentation-like [N, C, H, W]', [2, 3, 5, 7], 'mean', -100, 0.05, 0.2),
    c('sequence [N, C, T]', [4, 11, 16], 'none', -100, 0, 0.2),
    c('MLP batch', [64, 10], 'mean'),
    c('just over a workgroup', [257, 10], 'sum', -100, 0.3, 0.1),
    c('full batch', [8000, 10], 'mean', -100, 0, 0.1),
    c('over a million', [1000, 1049], 'mean', -100, 0.1),
  ];
  while (cases.length < 22) {
    const shape = [pick(g, EDGE_SIZES), pick(g, [1, 2, 3, 10, 33])];
    cases.push(c('random', shape, ['mean', 'sum', 'none'][g.int(3)]!, -100, [0, 0.1][g.int(2)]!, [0, 0.3][g.int(2)]!));
  }
  return cases;
}

/** For norm: p = 2, 1 and ∞, one dim or all (no zeros or ties: the gradient is checked by differences). */
function normCases(g: Rng): OpCase[] {
  const c = (label: string, shape: number[], p: number, axis: number | number[] | null, keepdim = false, t = false): OpCase => ({
    label: `${label} ${JSON.stringify(shape)} p ${p} axis ${axis}${keepdim ? ' keepdim' : ''}${t ? ' (transposed)' : ''}`,
    inputs: [f(g, shape, 2, t)],
    attrs: { p, axis, keepdim },
  });
  const cases = [
    c('size 1', [1], 2, null),
    c('0-d', [], 1, null),
    c('0-d, ∞', [], Infinity, -1, true),
    c('empty rows', [3, 0], 2, 1),
    c('empty batch', [0, 4], Infinity, 1, true),
    c('primes, all', [7, 13], 2, null),
    c('primes, rows, p 1', [7, 13], 1, -1),
    c('primes, columns, ∞', [7, 13], Infinity, 0, true),
    c('transposed', [33, 65], 2, 1, false, true),
    c('3-D middle', [3, 5, 7], 1, 1),
    c('4-D first', [2, 3, 5, 7], Infinity, 0),
    c('over a million, rows', [1031, 1024], 2, 1),
    c('a long column', [100_003, 3], 1, 0),
  ];
  while (cases.length < 22) {
    const shape = [pick(g, EDGE_SIZES), pick(g, EDGE_SIZES)];
    cases.push(c('random', shape, [1, 2, Infinity][g.int(3)]!, [null, 0, 1, -1][g.int(4)]!, g.int(2) === 1, g.int(2) === 1));
  }
  // Lists of dims, after the random cases so their seeds stay as they were.
  cases.push(
    c('dims 0 and 2', [3, 4, 5], 2, [0, 2]),
    c('negative dims, keepdim', [2, 3, 5, 7], 1, [-1, -3], true),
    c('empty list (all)', [4, 6], Infinity, []),
    c('size-1 dims listed', [1, 4, 1, 3], 2, [0, 2, 3], true),
    c('a listed dim empty (0)', [3, 0, 2], 2, [1, 2]),
    c('empty kept dim', [4, 0, 3], Infinity, [0, 2]),
    c('transposed, both dims', [13, 7], 1, [1, 0], false, true),
    c('rank 6', [2, 1, 3, 1, 5, 2], Infinity, [0, 2, 4], true),
    c('over a million, short rows', [3, 1031, 2, 173], 2, [0, 2]),
  );
  return cases;
}

/** logsumexp over lists of dims (appended to the one-dim cases; none empty: that is −inf). */
function logsumexpListCases(g: Rng): OpCase[] {
  const c = (label: string, shape: number[], dim: number[], keepdim = false, t = false): OpCase => ({
    label: `${label} ${JSON.stringify(shape)} dims ${JSON.stringify(dim)}${keepdim ? ' keepdim' : ''}${t ? ' (transposed)' : ''}`,
    inputs: [f(g, shape, 3, t)],
    attrs: { dim, keepdim },
  });
  return [
    c('dims 0 and 2', [3, 4, 5], [0, 2]),
    c('negative dims, keepdim', [2, 3, 5, 7], [-1, -3], true),
    c('adjacent dims', [2, 3, 5, 7], [1, 2]),
    c('empty list (all)', [4, 6], []),
    c('0-d, dims [-1]', [], [-1], true),
    c('size-1 dims listed', [1, 4, 1, 3], [0, 2, 3], true),
    c('empty kept dim', [4, 0, 3], [0, 2]),
    c('transposed, both dims', [13, 7], [1, 0], false, true),
    c('rank 6', [2, 1, 3, 1, 5, 2], [0, 2, 4], true),
    c('over a million, short rows', [3, 1031, 2, 173], [0, 2]),
  ];
}

/** amax and amin: one dim, lists of dims (adjacent or not, negative, every one, none = all), 0-d, empty kept dims. */
function amaxCases(g: Rng): OpCase[] {
  const c = (label: string, shape: number[], axis: number | number[] | null, keepdim = false, t = false): OpCase => ({
    label: `${label} ${JSON.stringify(shape)} dims ${JSON.stringify(axis)}${keepdim ? ' keepdim' : ''}${t ? ' (transposed)' : ''}`,
    inputs: [f(g, shape, 2, t)],
    attrs: { axis, keepdim },
  });
  const cases = [
    c('size 1', [1], null),
    c('0-d, dims [-1]', [], [-1], true),
    c('dims 0 and 2 of 4-D', [2, 3, 5, 7], [0, 2]),
    c('adjacent dims, negative', [2, 3, 5, 7], [-1, -2], true),
    c('first and last', [3, 4, 5], [2, 0], true),
    c('empty list (all)', [4, 6], []),
    c('one dim', [7, 13], 1),
    c('0-d', [], null),
    c('size-1 dims listed', [1, 5, 1], [0, 2]),
    c('empty kept dim', [0, 5, 3], [1, 2]),
    c('empty kept dim, keepdim', [4, 0, 3], [0, 2], true),
    c('every dim listed', [3, 4, 5], [0, 1, 2]),
    c('primes, transposed', [33, 65], [1, 0], false, true),
    c('transposed, one dim', [37, 31], 0, true, true),
    c('rank 6', [2, 1, 3, 1, 5, 2], [1, 3, 5]),
    c('long non-adjacent dims', [64, 33, 129], [0, 2]),
    c('over a million, short rows', [3, 1031, 2, 173], [0, 2]),
  ];
  while (cases.length < 22) {
    const shape = [pick(g, EDGE_SIZES), pick(g, EDGE_SIZES), 1 + g.int(3)];
    cases.push(c('random', shape, [[0, 2], [2, 0], [0], [1, 2], []][g.int(5)]!, g.int(2) === 1));
  }
  return cases;
}

/**
 * For layerNorm: normalizedShape of 1 to 3 dims, with and without weight and bias, rows of one
 * element (the output is the bias), a large common offset (variance from two passes), empty dims.
 * The first cases are small: the gradient tests take them.
 */
function layerNormCases(g: Rng): OpCase[] {
  const c = (label: string, shape: number[], k: number, weight: boolean, bias: boolean, eps = 1e-5, t = false, shift = 0): OpCase => {
    const normalizedShape = shape.slice(shape.length - k);
    const x = randHost(g, shape, 2);
    return {
      label: `${label} ${JSON.stringify(shape)} over ${JSON.stringify(normalizedShape)}${weight ? ' w' : ''}${bias ? ' b' : ''} eps ${eps}${t ? ' (transposed)' : ''}`,
      inputs: [shift ? offset(x, shift) : { value: x, transposed: t }, ...(weight ? [f(g, normalizedShape)] : []), ...(bias ? [f(g, normalizedShape)] : [])],
      attrs: { normalizedShape, eps, weight, bias },
    };
  };
  const cases = [
    c('rows', [5, 7], 1, true, true),
    c('no affine', [3, 13], 1, false, false),
    c('weight only, 2 dims', [2, 3, 5], 2, true, false, 1e-3),
    c('bias only, transposed', [6, 4], 1, false, true, 1e-5, true),
    c('size 1', [1], 1, true, true),
    c('rows of one element', [4, 1], 1, true, true),
    c('1-D', [37], 1, true, false),
    c('empty batch', [0, 5], 1, true, true),
    c('empty rows', [3, 0], 1, true, true),
    c('eps 0', [4, 9], 1, false, false, 0),
    c('3 dims normalised', [2, 3, 4, 5], 3, true, true),
    c('transposed', [33, 65], 1, true, true, 1e-5, true),
    c('GPT [B, T, d]', [4, 16, 64], 1, true, true),
    c('large common offset', [16, 10], 1, true, true, 1e-5, false, 1e3),
    c('rows over a workgroup', [3, 1031], 1, true, true),
    c('many rows', [257, 3], 1, true, true),
    // Rows of up to 128 run one invocation per row, longer ones one workgroup per row.
    c('narrow rows at the limit', [300, 128], 1, true, true),
    c('just past the narrow limit', [5, 129], 1, true, false),
    c('over a million', [1031, 1024], 1, true, true),
  ];
  // Rows of two elements are left out of the random draws: their gradient is ≈ eps/variance, all
  // cancellation in float32 (as in PyTorch), so a relative comparison would only measure rounding.
  const sizes = EDGE_SIZES.filter((n) => n !== 2);
  while (cases.length < 24) {
    const shape = [pick(g, EDGE_SIZES), pick(g, sizes)];
    cases.push(c('random', shape, 1 + g.int(2), g.int(2) === 1, g.int(2) === 1, pick(g, [1e-5, 1e-3, 0.1]), g.int(2) === 1));
  }
  return cases;
}

export const opTable: { [K in OpName]: OpSpec } = {
  matmul: { tol: 1e-4, differentiable: true, cases: matmulCases },
  linear: { tol: 1e-4, differentiable: true, cases: linearCases },
  add: { tol: 1e-5, differentiable: true, cases: binaryCases },
  sub: { tol: 1e-5, differentiable: true, cases: binaryCases },
  mul: { tol: 1e-5, differentiable: true, cases: binaryCases },
  scale: { tol: 1e-5, differentiable: true, cases: (g) => unaryCases(g, () => ({ factor: Math.fround(g.uniform() * 4 - 2) })) },
  addScalar: { tol: 1e-5, differentiable: true, cases: (g) => unaryCases(g, () => ({ value: Math.fround(g.uniform() * 6 - 3) })) },
  relu: { tol: 1e-5, differentiable: true, cases: (g) => unaryCases(g, () => ({})) },
  sum: { tol: 1e-4, differentiable: true, cases: (g) => reduceCases(g, true) },
  mean: { tol: 1e-4, differentiable: true, cases: (g) => reduceCases(g, false) },
  argmax: { tol: 0, differentiable: false, cases: argCases },
  argmin: { tol: 0, differentiable: false, cases: argCases },
  max: { tol: 0, differentiable: true, cases: extremumCases },
  min: { tol: 0, differentiable: true, cases: extremumCases },
  transpose: {
    tol: 0,
    differentiable: true,
    cases: (g) =>
      viewCases(g, () => ({ dim0: 0, dim1: 1 }), [
        [1, 1],
        [0, 3],
        [3, 5],
        [4, 0],
        [64, 128],
      ]),
  },
  reshape: {
    tol: 0,
    differentiable: true,
    cases: (g) =>
      viewCases(g, (s) => ({ shape: [s[1]!, -1], forceCopy: false }), [
        [1, 1],
        [0, 3],
        [6, 4],
        [64, 784],
      ]),
  },
  expand: {
    tol: 0,
    differentiable: true,
    cases: (g) =>
      viewCases(g, (s) => ({ shape: [3, s[0]!, s[1]!] }), [
        [1, 1],
        [0, 1],
        [1, 5],
        [1, 0],
        [4, 1],
      ]),
  },
  crossEntropy: { tol: 1e-4, differentiable: true, cases: crossEntropyCases },
  permute: { tol: 0, differentiable: true, cases: permuteCases },
  narrow: { tol: 0, differentiable: true, cases: narrowCases },
  // Conversions to int32 and bool carry no gradient; float32 → float32 is the identity (tests/tensors_nd.test.ts).
  to: { tol: 0, differentiable: false, cases: castCases },
  compare: { tol: 0, differentiable: false, cases: compareCases },
  compareScalar: { tol: 0, differentiable: false, cases: compareScalarCases },
  where: { tol: 0, differentiable: true, cases: whereCases },
  div: { tol: 1e-5, differentiable: true, cases: (g) => binaryCases(g, undefined, awayFromZero) },
  divScalar: { tol: 1e-5, differentiable: true, cases: (g) => unaryCases(g, () => ({ value: awayFromZero(Math.fround(g.uniform() * 4 - 2)) })) },
  pow: { tol: 2e-5, differentiable: true, cases: (g) => binaryCases(g, positive) },
  powScalar: {
    tol: 2e-5,
    differentiable: true,
    cases: (g) => [
      ...unaryCases(g, () => ({ exponent: pick(g, [2, 3, 0.5, -1.5, 1, 0, 2.7]) }), positive),
      // Integer exponents of negative bases.
      ...unaryCases(g, () => ({ exponent: pick(g, [2, 3, -1, -2]) }), awayFromZero).slice(4, 8),
    ],
  },
  maximum: { tol: 0, differentiable: true, cases: (g) => binaryCases(g) },
  minimum: { tol: 0, differentiable: true, cases: (g) => binaryCases(g) },
  abs: { tol: 0, differentiable: true, cases: (g) => unaryCases(g, () => ({})) },
  exp: { tol: 1e-5, differentiable: true, cases: (g) => unaryCases(g, () => ({})) },
  log: { tol: 1e-5, differentiable: true, cases: (g) => unaryCases(g, () => ({}), positive) },
  log1p: {
    tol: 1e-5,
    differentiable: true,
    cases: (g) =>
      unaryCases(
        g,
        () => ({}),
        (v) => Math.abs(v) - 0.5,
      ),
  },
  sqrt: { tol: 1e-5, differentiable: true, cases: (g) => unaryCases(g, () => ({}), positive) },
  rsqrt: { tol: 1e-5, differentiable: true, cases: (g) => unaryCases(g, () => ({}), positive) },
  square: { tol: 1e-5, differentiable: true, cases: (g) => unaryCases(g, () => ({})) },
  sin: { tol: 1e-5, differentiable: true, cases: (g) => unaryCases(g, () => ({})) },
  cos: { tol: 1e-5, differentiable: true, cases: (g) => unaryCases(g, () => ({})) },
  tanh: { tol: 1e-5, differentiable: true, cases: (g) => unaryCases(g, () => ({})) },
  sigmoid: { tol: 1e-5, differentiable: true, cases: (g) => unaryCases(g, () => ({})) },
  silu: { tol: 1e-5, differentiable: true, cases: (g) => unaryCases(g, () => ({})) },
  gelu: { tol: 1e-5, differentiable: true, cases: (g) => unaryCases(g, () => ({ approximate: g.int(2) ? 'tanh' : 'none' })) },
  softplus: { tol: 1e-5, differentiable: true, cases: (g) => unaryCases(g, () => ({ threshold: pick(g, [20, 1, 0.5]) })) },
  clamp: {
    tol: 0,
    differentiable: true,
    cases: (g) =>
      unaryCases(g, () => {
        const k = g.int(3);
        return { min: k === 1 ? null : -0.5, max: k === 2 ? null : 0.7 };
      }),
  },
  softmax: { tol: 1e-5, differentiable: true, cases: (g) => softmaxCases(g, false) },
  logSoftmax: { tol: 1e-5, differentiable: true, cases: (g) => softmaxCases(g, false) },
  logsumexp: { tol: 1e-5, differentiable: true, cases: (g) => [...softmaxCases(g, true), ...logsumexpListCases(g)] },
  var: { tol: 1e-4, differentiable: true, cases: (g) => varianceCases(g, true) },
  std: { tol: 1e-4, differentiable: true, cases: (g) => varianceCases(g, false) },
  nllLoss: { tol: 1e-4, differentiable: true, cases: nllLossCases },
  norm: { tol: 1e-4, differentiable: true, cases: normCases },
  tril: { tol: 0, differentiable: true, cases: triangularCases },
  triu: { tol: 0, differentiable: true, cases: triangularCases },
  maskedFill: { tol: 0, differentiable: true, cases: maskedFillCases },
  cat: { tol: 0, differentiable: true, cases: catCases },
  stack: { tol: 0, differentiable: true, cases: stackCases },
  oneHot: { tol: 0, differentiable: false, cases: oneHotCases },
  layerNorm: { tol: 1e-4, differentiable: true, cases: layerNormCases },
  amax: { tol: 0, differentiable: true, cases: amaxCases },
  amin: { tol: 0, differentiable: true, cases: amaxCases },
  embedding: { tol: 0, differentiable: true, cases: embeddingCases },
  indexSelect: { tol: 0, differentiable: true, cases: indexSelectCases },
  gather: { tol: 0, differentiable: true, cases: gatherCases },
  conv2d: { tol: 1e-4, differentiable: true, cases: conv2dCases },
  maxPool2d: { tol: 0, differentiable: true, cases: (g) => pool2dCases(g, 'max') },
  avgPool2d: { tol: 1e-5, differentiable: true, cases: (g) => pool2dCases(g, 'avg') },
  adaptiveAvgPool2d: { tol: 1e-5, differentiable: true, cases: adaptiveAvgPool2dCases },
  batchNorm: { tol: 1e-4, differentiable: true, cases: batchNormCases },
};
