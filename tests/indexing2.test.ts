// The picking and cutting ops from the user's side: split/chunk sizes as PyTorch's, embedding /
// indexSelect / gather gradients with repeated indices (summed, in a fixed order), padding rows,
// indices computed on the GPU, cat/stack of int32 and bool, every bad argument refused clearly, and
// an embedding model's captured step replayed bit for bit against the eager one with no leaks.
import { describe, expect, test } from 'vitest';
import {
  arange,
  captureStep,
  cat,
  chunk,
  DTypeError,
  gather,
  indexSelect,
  memory,
  nn,
  optim,
  realize,
  ShapeError,
  split,
  stack,
  type Tensor,
  tensor,
  tidy,
  ValueError,
  zeros,
} from '../src/index.js';
import { expectClose, randHost, rng } from './helpers.js';

const values = async (t: Tensor): Promise<number[]> => Array.from(await t.data());
const ints = (v: number[], shape?: number[]): Tensor => tensor(new Int32Array(v), shape ? { shape } : {});
const floats = (shape: number[], seed: number): { t: Tensor; data: Float64Array } => {
  const h = randHost(rng(seed), shape);
  return { t: tensor(Float32Array.from(h.data), { shape, requiresGrad: true }), data: h.data };
};

describe('split and chunk cut the sizes PyTorch cuts, as views', () => {
  // [shape, call, dim, sizes along dim] — sizes as torch.split / torch.chunk return them.
  const rows: [number[], string, (t: Tensor) => Tensor[], number, number[]][] = [
    [[5], 'split(2)', (t) => split(t, 2), 0, [2, 2, 1]],
    [[6], 'split(3)', (t) => t.split(3), 0, [3, 3]],
    [[5], 'split(7)', (t) => t.split(7), 0, [5]],
    [[0], 'split(2)', (t) => t.split(2), 0, [0]],
    [[0], 'split(0)', (t) => t.split(0), 0, [0]],
    [[5], 'split([1, 0, 4])', (t) => t.split([1, 0, 4]), 0, [1, 0, 4]],
    [[2, 7], 'split(3, 1)', (t) => t.split(3, 1), 1, [3, 3, 1]],
    [[2, 7], 'split(3, -1)', (t) => split(t, 3, -1), 1, [3, 3, 1]],
    [[5], 'chunk(3)', (t) => chunk(t, 3), 0, [2, 2, 1]],
    [[6], 'chunk(4)', (t) => t.chunk(4), 0, [2, 2, 2]],
    [[0], 'chunk(3)', (t) => t.chunk(3), 0, [0, 0, 0]],
    [[4, 3], 'chunk(5)', (t) => t.chunk(5), 0, [1, 1, 1, 1]],
    [[2, 7], 'chunk(7, -1)', (t) => t.chunk(7, -1), 1, [1, 1, 1, 1, 1, 1, 1]],
    [[3, 13], 'chunk(2, 1)', (t) => chunk(t, 2, 1), 1, [7, 6]],
  ];
  test.each(rows)('%j %s', async (shape, _label, cut, dim, sizes) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Array.from({ length: n }, (_, i) => i * 1.5 - 3);
    const x = tensor(Float32Array.from(data), { shape });
    const pieces = cut(x);
    expect(pieces.map((p) => p.shape[dim])).toEqual(sizes);
    // Each piece holds the elements of its range along dim, read independently from the host data.
    const inner = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    const size = shape[dim]!;
    let start = 0;
    for (const [k, p] of pieces.entries()) {
      expect(p.shape.filter((_, d) => d !== dim)).toEqual(shape.filter((_, d) => d !== dim));
      const want = data.filter((_, i) => {
        const c = Math.floor(i / inner) % size;
        return c >= start && c < start + sizes[k]!;
      });
      expect(await values(p)).toEqual(want);
      start += sizes[k]!;
    }
  });

  test('the pieces are views: their gradients land in the input, each in its range', async () => {
    const x = tensor([1, 2, 3, 4, 5], { requiresGrad: true });
    const [a, b, c] = x.split(2);
    a!.mul(10).add(b!.mul(20)).sum().add(c!.mul(30).sum()).backward();
    expect(await values(x.grad!)).toEqual([10, 10, 20, 20, 30]);
  });
});

describe('gradients with repeated indices are summed, in index order', () => {
  test('embedding: each row of the weight gets the float32 sum, in token order, of the upstream rows that picked it', async () => {
    const V = 5;
    const D = 3;
    const ids = [3, 1, 3, 3, 0, 1, 3, 4, 4, 3, 0, 3];
    const w = floats([V, D], 1);
    const up = randHost(rng(2), [3, 4, D]);
    const out = nn.functional.embedding(ints(ids, [3, 4]), w.t);
    expect(out.shape).toEqual([3, 4, D]);
    const got = await values(out);
    ids.forEach((v, t) => {
      for (let e = 0; e < D; e++) expect(got[t * D + e]).toBe(Math.fround(w.data[v * D + e]!));
    });
    out
      .mul(tensor(Float32Array.from(up.data), { shape: up.shape }))
      .sum()
      .backward();
    const want = new Array<number>(V * D).fill(0);
    ids.forEach((v, t) => {
      for (let e = 0; e < D; e++) want[v * D + e] = Math.fround(want[v * D + e]! + Math.fround(up.data[t * D + e]!));
    });
    expect(await values(w.t.grad!)).toEqual(want);
  });

  test('indexSelect and gather: picked twice, the gradient is the float64 sum of both upstream values', async () => {
    const x = floats([4, 3], 3);
    const sel = indexSelect(x.t, 0, ints([2, 0, 2, 2]));
    sel
      .mul(
        tensor([
          [1, 2, 3],
          [4, 5, 6],
          [7, 8, 9],
          [10, 11, 12],
        ]),
      )
      .sum()
      .backward();
    expect(await values(x.t.grad!)).toEqual([4, 5, 6, 0, 0, 0, 1 + 7 + 10, 2 + 8 + 11, 3 + 9 + 12, 0, 0, 0]);

    const y = floats([2, 3], 4);
    const picked = gather(y.t, 1, ints([0, 0, 2, 1, 1, 1, 1, 1], [2, 4]));
    expectClose(
      await values(picked),
      [0, 0, 2, 1, 4, 4, 4, 4].map((i) => y.data[i]!),
      1e-7,
    );
    picked
      .mul(
        tensor([
          [1, 2, 3, 4],
          [5, 6, 7, 8],
        ]),
      )
      .sum()
      .backward();
    expect(await values(y.t.grad!)).toEqual([1 + 2, 4, 3, 0, 5 + 6 + 7 + 8, 0]);
  });

  test('paddingIdx: the padding row is read as it is and gets no gradient; nn.Embedding starts it at zero', async () => {
    const w = floats([4, 2], 5);
    const out = nn.functional.embedding(ints([1, 3, 1]), w.t, { paddingIdx: -3 });
    expect(await values(out)).toEqual([1, 3, 1].flatMap((v) => [Math.fround(w.data[v * 2]!), Math.fround(w.data[v * 2 + 1]!)]));
    out.sum().backward();
    expect(await values(w.t.grad!)).toEqual([0, 0, 0, 0, 0, 0, 1, 1]);

    const layer = new nn.Embedding(300, 40, { paddingIdx: 7, seed: 3 });
    expect(layer.namedParameters().map(([name, p]) => [name, p.shape])).toEqual([['weight', [300, 40]]]);
    const table = await values(layer.weight);
    expect(table.slice(7 * 40, 8 * 40)).toEqual(new Array(40).fill(0));
    // N(0, 1) as PyTorch's: 11,960 draws, mean and variance within a few standard errors.
    const drawn = table.filter((_, i) => Math.floor(i / 40) !== 7);
    const mean = drawn.reduce((a, b) => a + b, 0) / drawn.length;
    const variance = drawn.reduce((a, b) => a + (b - mean) ** 2, 0) / drawn.length;
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(variance - 1)).toBeLessThan(0.06);
  });
});

test('indices computed on the GPU outside the range read NaN (0 for int32 sources) and add no gradient', async () => {
  const w = floats([3, 2], 6);
  const ids = tensor([2, 7, -1, 0]).int(); // made by a kernel: no host copy to check
  const out = nn.functional.embedding(ids, w.t);
  const got = await values(out);
  expect(got.slice(0, 2)).toEqual([Math.fround(w.data[4]!), Math.fround(w.data[5]!)]);
  expect(got.slice(2, 6).every(Number.isNaN)).toBe(true);
  expect(got.slice(6)).toEqual([Math.fround(w.data[0]!), Math.fround(w.data[1]!)]);
  nn.functional.embedding(ids, w.t).sum().backward();
  expect(await values(w.t.grad!)).toEqual([1, 1, 0, 0, 1, 1]);
  expect(await values(ints([5, 6, 7]).gather(0, tensor([2, 3, 0]).int()))).toEqual([7, 0, 5]);
  expect(await values(ints([5, 6, 7]).indexSelect(0, tensor([-4, 1]).int()))).toEqual([0, 6]);
});

describe('cat and stack of int32 and bool', () => {
  test('int32 values beyond float32 integers are joined exactly', async () => {
    const a = ints([2 ** 31 - 1, -(2 ** 31), 16_777_217, -16_777_219], [2, 2]);
    const b = ints([7, -8], [2, 1]);
    const y = cat([a, b], 1);
    expect(y.dtype).toBe('int32');
    expect(await values(y)).toEqual([2 ** 31 - 1, -(2 ** 31), 7, 16_777_217, -16_777_219, -8]);
    const s = stack([a, a], 1);
    expect(s.shape).toEqual([2, 2, 2]);
    expect(await values(s)).toEqual([2 ** 31 - 1, -(2 ** 31), 2 ** 31 - 1, -(2 ** 31), 16_777_217, -16_777_219, 16_777_217, -16_777_219]);
  });

  test('bool stays bool; mixed dtypes promote as in PyTorch (bool < int32 < float32)', async () => {
    const t = tensor([1, -2, 3]).gt(0);
    const f = tensor([0.5, 0, -0]).gt(0);
    const bools = cat([t, f]);
    expect(bools.dtype).toBe('bool');
    expect(await values(bools)).toEqual([1, 0, 1, 1, 0, 0]);
    expect(stack([t, f], -1).dtype).toBe('bool');
    expect(await values(stack([t, f], -1))).toEqual([1, 1, 0, 0, 1, 0]);
    const mixed = cat([t, ints([-5])]);
    expect(mixed.dtype).toBe('int32');
    expect(await values(mixed)).toEqual([1, 0, 1, -5]);
    const promoted = cat([ints([3]), tensor([1.5]), t]);
    expect(promoted.dtype).toBe('float32');
    expect(await values(promoted)).toEqual([3, 1.5, 1, 0, 1]);
  });

  test('float pieces are copied bit for bit: −0 stays −0', async () => {
    const y = await values(cat([tensor([-0, 1]), tensor([-0])]));
    expect(y.map((v) => Object.is(v, -0))).toEqual([true, false, true]);
  });

  test('a float input joined with an int32 one gets its gradient; the int32 one none', async () => {
    const x = tensor([1, 2], { requiresGrad: true });
    cat([ints([4]), x])
      .mul(tensor([5, 6, 7]))
      .sum()
      .backward();
    expect(await values(x.grad!)).toEqual([6, 7]);
  });
});

const f = (shape: number[]): Tensor => zeros(shape);
const errors: [string, () => unknown, new (...args: never[]) => Error, RegExp][] = [
  ['gather float index', () => gather(f([3, 4]), 1, tensor([[1]])), DTypeError, /gather: index must be int32, got float32 \(shape \[1, 1\]\)/],
  ['gather rank mismatch', () => f([3, 4]).gather(0, ints([1])), ShapeError, /gather: index \[1\] must have as many dimensions as input \[3, 4\]/],
  [
    'gather index larger apart from dim',
    () => f([3, 4]).gather(0, ints([1, 1, 1, 1, 1], [1, 5])),
    ShapeError,
    /gather: size does not match at dimension 1: index \[1, 5\] must be no larger than input \[3, 4\] apart from dimension 0/,
  ],
  ['gather index too large', () => f([3, 4]).gather(1, ints([4], [1, 1])), ValueError, /gather: index 4 is out of bounds for dimension 1 with size 4/],
  ['gather negative index', () => f([3, 4]).gather(1, ints([-1], [1, 1])), ValueError, /gather: index -1 is out of bounds for dimension 1 with size 4/],
  ['gather bad dim', () => f([3, 4]).gather(2, ints([0], [1, 1])), ShapeError, /gather: axis 2 is out of range/],
  ['gather index not a tensor', () => f([3]).gather(0, [0] as never), ValueError, /gather: argument 'index' must be a Tensor/],
  [
    'indexSelect 2-D index',
    () => indexSelect(f([3, 4]), 0, ints([1], [1, 1])),
    ShapeError,
    /indexSelect: index must be a vector \(0-d or 1-D\), got shape \[1, 1\]/,
  ],
  ['indexSelect out of range', () => f([3, 4]).indexSelect(0, ints([0, 3])), ValueError, /indexSelect: index 3 is out of range for dimension 0 of size 3/],
  ['indexSelect float index', () => f([3, 4]).indexSelect(0, tensor([0])), DTypeError, /indexSelect: index must be int32/],
  ['indexSelect bad dim', () => f([3, 4]).indexSelect(-3, ints([0])), ShapeError, /indexSelect: axis -3 is out of range/],
  [
    'embedding 1-D weight',
    () => nn.functional.embedding(ints([1]), f([3])),
    ShapeError,
    /embedding: weight must be 2-D \[numEmbeddings, embeddingDim\], got \[3\]/,
  ],
  ['embedding float indices', () => nn.functional.embedding(tensor([1]), f([3, 4])), DTypeError, /embedding: indices must be int32, got float32/],
  [
    'embedding index out of range',
    () => nn.functional.embedding(ints([0, 5]), f([3, 4])),
    ValueError,
    /embedding: index 5 is out of range for numEmbeddings 3/,
  ],
  [
    'embedding paddingIdx outside',
    () => nn.functional.embedding(ints([0]), f([3, 4]), { paddingIdx: 3 }),
    ValueError,
    /embedding: paddingIdx 3 must be an integer within \[-3, 3\)/,
  ],
  ['Embedding of no rows', () => new nn.Embedding(0, 4), ShapeError, /Embedding\(0, 4\): sizes must be positive integers/],
  [
    'Embedding paddingIdx outside',
    () => new nn.Embedding(3, 4, { paddingIdx: -4 }),
    ValueError,
    /Embedding\(3, 4\): paddingIdx must be an integer within \[-3, 3\), got the number -4/,
  ],
  ['split 0-d', () => split(f([]), 1), ShapeError, /split: expected a tensor with at least 1 dimension, got a 0-d tensor/],
  [
    'split sizes not summing',
    () => f([5]).split([2, 2]),
    ShapeError,
    /split: split sizes \[2, 2\] must sum exactly to 5, the size of dimension 0 of \[5\], got 4/,
  ],
  ['split size 0', () => f([5]).split(0), ValueError, /split: splitSize can only be 0 if dimension 0 is empty, but it has size 5/],
  ['split negative size', () => f([5]).split(-1), ValueError, /split: splitSize must be a non-negative integer or an array of them, got the number -1/],
  ['split bad dim', () => f([5]).split(1, 1), ShapeError, /split: dimension 1 is out of range for a tensor with 1 dimensions/],
  ['chunk 0', () => chunk(f([5]), 0), ValueError, /chunk: chunks must be a positive integer, got the number 0/],
  ['chunk 0-d', () => f([]).chunk(2), ShapeError, /chunk: expected a tensor with at least 1 dimension/],
];

test.each(errors)('%s is refused clearly', (_label, run, error, message) => {
  expect(run).toThrow(error);
  expect(run).toThrow(message);
});

test('a refused embedding leaves the weight and its gradient as they were', async () => {
  const layer = new nn.Embedding(3, 2, { seed: 1 });
  const before = await values(layer.weight);
  expect(() => layer.forward(ints([1, 3]))).toThrow(ValueError);
  expect(layer.weight.grad).toBeNull();
  expect(await values(layer.weight)).toEqual(before);
});

/** A small model that uses all three: token and position embeddings, indexSelect, gather. */
class Tiny extends nn.Module {
  tok = new nn.Embedding(11, 8, { seed: 1, paddingIdx: 0 });
  pos = new nn.Embedding(6, 8, { seed: 2 });
  head = new nn.Linear(8, 11, { seed: 3 });
  forward(ids: Tensor): Tensor {
    const x = this.tok.forward(ids).add(this.pos.forward(arange(ids.shape[1]!)));
    return this.head.forward(x).reshape([-1, 11]);
  }
}

function lossOf(model: Tiny, ids: Tensor, order: Tensor, targets: Tensor): Tensor {
  const logits = model.forward(ids).indexSelect(0, order);
  const y = targets.indexSelect(0, order);
  return nn.functional.crossEntropy(logits, y).sub(
    logits
      .gather(1, y.reshape([-1, 1]))
      .mean()
      .mul(0.1),
  );
}

function batch(s: number): [Tensor, Tensor, Tensor] {
  const g = rng(100 + s);
  const ids = ints(
    Array.from({ length: 4 * 6 }, () => g.int(11)),
    [4, 6],
  );
  const order = ints(Array.from({ length: 30 }, () => g.int(24)));
  const targets = ints(Array.from({ length: 24 }, () => g.int(11)));
  return [ids, order, targets];
}

describe('inside captureStep', () => {
  test('replays match the eager steps bit for bit, every replay re-checks host indices, and memory stays flat', async () => {
    const eagerModel = new Tiny();
    const capturedModel = new Tiny();
    const eagerOpt = new optim.Adam(eagerModel.parameters(), { lr: 0.01 });
    const capturedOpt = new optim.Adam(capturedModel.parameters(), { lr: 0.01 });
    const eagerStep = (ids: Tensor, order: Tensor, targets: Tensor): Tensor => {
      eagerOpt.zeroGrad();
      const loss = lossOf(eagerModel, ids, order, targets);
      loss.backward();
      eagerOpt.step();
      return loss;
    };
    const step = captureStep((ids: Tensor, order: Tensor, targets: Tensor) => {
      capturedOpt.zeroGrad();
      const loss = lossOf(capturedModel, ids, order, targets);
      loss.backward();
      capturedOpt.step();
      return loss;
    });
    const eagerLosses: number[] = [];
    for (let s = 0; s < 12; s++) eagerLosses.push(await eagerStep(...batch(s)).item());
    let mem = memory();
    for (let s = 0; s < 12; s++) {
      const b = batch(s);
      const loss = step(...b);
      expect(await loss.item(), `step ${s}`).toBe(eagerLosses[s]);
      loss.dispose();
      for (const t of b) t.dispose();
      if (s === 5) mem = memory();
    }
    expect(step.replays).toBeGreaterThan(8);
    expect(memory()).toEqual(mem);
    const weights = async (m: Tiny) => Promise.all(m.parameters().map(values));
    expect(await weights(capturedModel)).toEqual(await weights(eagerModel));

    const [ids, order] = batch(0);
    const before = await weights(capturedModel);
    expect(() => step(ints(new Array(24).fill(11), [4, 6]), order, batch(0)[2])).toThrow(/embedding: index 11 is out of range for numEmbeddings 11/);
    expect(() => step(ids, ints(new Array(30).fill(24)), batch(0)[2])).toThrow(/indexSelect: index 24 is out of range/);
    expect(await weights(capturedModel)).toEqual(before);
    step.dispose();
  });

  test('eager use leaks nothing: tidy returns memory to where it was', async () => {
    const w = tensor(
      Float32Array.from({ length: 12 }, (_, i) => i),
      { shape: [4, 3], requiresGrad: true },
    ).keep();
    const ids = ints([3, 0, 3]).keep();
    const run = () =>
      tidy(() => {
        const out = nn.functional
          .embedding(ids, w)
          .sum()
          .add(w.gather(1, ints([2, 1, 0, 2], [4, 1])).sum())
          .add(w.indexSelect(1, ints([2, 0, 2])).sum());
        out.backward();
        w.grad?.dispose();
        w.grad = null;
      });
    run();
    const live = () => {
      realize(); // disposed tensors give their buffers back once the work that reads them is encoded
      return { tensors: memory().liveTensors, buffers: memory().liveBuffers };
    };
    const before = live();
    for (let k = 0; k < 5; k++) run();
    expect(live()).toEqual(before);
  });
});
