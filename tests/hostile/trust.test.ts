// Trust fixes: crossEntropy takes the same path whatever the label values (eager, captured, labels
// computed on the GPU), label checks read the view's own values, narrow's gradient never reads
// outside its slice, and replaced gradients and per-step int intermediates are released.
import { describe, expect, test } from 'vitest';
import { arange, captureStep, grad, memory, nn, optim, type Tensor, tensor, tidy, zeros } from '../../src/index.js';
import { Generator } from '../../src/random.js';
import { expectClose } from '../helpers.js';

/** float64 mean cross-entropy over the rows whose label is not ignoreIndex, and its gradient. */
function crossEntropy64(x: ArrayLike<number>, y: ArrayLike<number>, C: number, ignoreIndex = -100): { loss: number; grad: number[] } {
  const N = y.length;
  const kept = Array.from(y).filter((v) => v !== ignoreIndex).length;
  const grad = new Array<number>(N * C).fill(0);
  let total = 0;
  for (let i = 0; i < N; i++) {
    if (y[i] === ignoreIndex) continue;
    const row = Array.from({ length: C }, (_, c) => x[i * C + c]!);
    const m = Math.max(...row);
    const s = row.reduce((a, v) => a + Math.exp(v - m), 0);
    total += Math.log(s) - (row[y[i]!]! - m);
    for (let c = 0; c < C; c++) grad[i * C + c] = (Math.exp(row[c]! - m) / s - (c === y[i] ? 1 : 0)) / kept;
  }
  return { loss: total / kept, grad };
}

const C = 4;

function logits(seed: number, n: number): Float32Array {
  const g = new Generator(seed);
  return new Float32Array(n * C).map(() => g.uniform() * 4 - 2);
}

describe('crossEntropy: the same result eager and captured, for any labels', () => {
  // Batches of one shape; some with ignored (−100) labels, some without, in both orders.
  const batches: number[][] = [
    [0, 1, 2, 3, 1, 0],
    [2, 3, 0, 1, 2, 2],
    [0, -100, 2, -100, 3, 1],
    [1, 1, -100, 0, 2, 3],
    [3, 2, 1, 0, 1, 2],
    [-100, -100, -100, 1, 0, 2],
  ];

  for (const order of ['first recorded without ignored labels', 'first recorded with ignored labels'] as const) {
    test(order, async () => {
      const runs = order === 'first recorded with ignored labels' ? [...batches.slice(2), ...batches.slice(0, 2)] : batches;
      const make = (): { model: nn.Linear; opt: optim.SGD; body: (x: Tensor, y: Tensor) => Tensor } => {
        const model = new nn.Linear(3, C, { seed: 5 });
        const opt = new optim.SGD(model.parameters(), { lr: 0.5 });
        const body = (x: Tensor, y: Tensor): Tensor => {
          opt.zeroGrad();
          const loss = nn.functional.crossEntropy(model.forward(x), y);
          loss.backward();
          opt.step();
          return loss;
        };
        return { model, opt, body };
      };
      const eager = make();
      const captured = make();
      const step = captureStep(captured.body);
      for (let s = 0; s < runs.length * 2; s++) {
        const labels = runs[s % runs.length]!;
        const g = new Generator(100 + s);
        const xs = new Float32Array(labels.length * 3).map(() => g.uniform() * 2 - 1);
        const x = tensor(xs, { shape: [labels.length, 3] });
        const y = tensor(new Int32Array(labels), { dtype: 'int32' });
        // The eager step against float64: logits from the weights before the step.
        const w = await eager.model.weight.data();
        const b = await eager.model.bias!.data();
        const z = Array.from({ length: labels.length * C }, (_, k) => {
          const [i, c] = [Math.floor(k / C), k % C];
          return b[c]! + [0, 1, 2].reduce((a, j) => a + xs[i * 3 + j]! * w[c * 3 + j]!, 0);
        });
        const le = await eager.body(x, y).item();
        expectClose([le], [crossEntropy64(z, labels, C).loss], 1e-5, `eager loss at step ${s}`);
        const lc = await step(x, y).item();
        expect(lc, `captured loss at step ${s}`).toBe(le);
      }
      expect(step.replays).toBeGreaterThan(0);
      expect([...(await captured.model.weight.data())]).toEqual([...(await eager.model.weight.data())]);
      expect([...(await captured.model.bias!.data())]).toEqual([...(await eager.model.bias!.data())]);
    });
  }

  test('a −100 label computed on the GPU is ignored (loss and gradient), as one from the host', async () => {
    const labels = [2, -100, 0, 3, -100];
    const x = logits(7, labels.length);
    const hostLabels = tensor(new Int32Array(labels), { dtype: 'int32' });
    // indexSelect's result has no host copy of its values: nothing can check them before the kernel runs.
    const gpuLabels = hostLabels.indexSelect(0, arange(labels.length));
    const want = crossEntropy64(x, labels, C);
    for (const [what, y] of [
      ['host labels', hostLabels],
      ['GPU-made labels', gpuLabels],
    ] as const) {
      const z = tensor(x, { shape: [labels.length, C], requiresGrad: true });
      const loss = nn.functional.crossEntropy(z, y);
      loss.backward();
      expectClose([await loss.item()], [want.loss], 1e-5, `${what}: loss`);
      expectClose(await z.grad!.data(), want.grad, 1e-5, `${what}: gradient`);
    }
  });

  test('ignoreIndex a class, and every label ignored (NaN mean, zero gradient), on the fused path', async () => {
    const labels = [1, 2, 0, 1, 3];
    const x = logits(8, labels.length);
    const z = tensor(x, { shape: [labels.length, C], requiresGrad: true });
    const loss = nn.functional.crossEntropy(z, tensor(new Int32Array(labels), { dtype: 'int32' }), { ignoreIndex: 1 });
    loss.backward();
    const want = crossEntropy64(x, labels, C, 1);
    expectClose([await loss.item()], [want.loss], 1e-5, 'loss');
    expectClose(await z.grad!.data(), want.grad, 1e-5, 'gradient');
    const none = tensor(x.slice(0, 2 * C), { shape: [2, C], requiresGrad: true });
    const nanLoss = nn.functional.crossEntropy(none, tensor(new Int32Array([-100, -100]), { dtype: 'int32' }));
    nanLoss.backward();
    expect(await nanLoss.item()).toBeNaN();
    expect([...(await none.grad!.data())]).toEqual(new Array(2 * C).fill(0));
  });
});

describe('label checks read the values of the labels given, not of the storage behind a view', () => {
  // Storage [0, 1, 7, 2]: 7 is out of range for 3 classes, but the first two labels are fine.
  const storage = (): Tensor => tensor(new Int32Array([0, 1, 7, 2]), { dtype: 'int32' });
  const x = logits(11, 2).subarray(0, 2 * 3);
  const want = crossEntropy64(x, [0, 1], 3).loss;

  const views: [string, (y: Tensor) => Tensor][] = [
    ['narrow', (y) => y.narrow(0, 0, 2)],
    ['split', (y) => y.split(2)[0]!],
  ];
  for (const [what, view] of views) {
    test(`crossEntropy and nllLoss accept a ${what} holding only valid labels`, async () => {
      const z = tensor(x, { shape: [2, 3] });
      expectClose([await nn.functional.crossEntropy(z, view(storage())).item()], [want], 1e-5, 'crossEntropy');
      expectClose([await nn.functional.nllLoss(z.logSoftmax(1), view(storage())).item()], [want], 1e-5, 'nllLoss');
      expectClose([await nn.functional.crossEntropy(z, view(storage()), { reduction: 'sum' }).item()], [2 * want], 1e-5, 'sum');
    });
  }

  test('inside a captured step too, where the step narrows its labels argument', async () => {
    const model = new nn.Linear(3, 3, { seed: 2 });
    const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
    const step = captureStep((input: Tensor, y: Tensor) => {
      opt.zeroGrad();
      const loss = nn.functional.crossEntropy(model.forward(input), y.narrow(0, 0, 2));
      loss.backward();
      opt.step();
      return loss;
    });
    const input = tensor(x, { shape: [2, 3] });
    for (let s = 0; s < 4; s++) expect(await step(input, storage()).item()).toBeGreaterThan(0);
    expect(step.replays).toBeGreaterThan(0);
  });

  test('a view of the whole storage (reshape, transpose) is still checked', () => {
    const z = tensor(logits(12, 4).subarray(0, 4 * 3), { shape: [4, 3] });
    expect(() => nn.functional.crossEntropy(z, storage().reshape([4]))).toThrow(/label 7 is outside \[0, 3\)/);
    // [N, C, d] logits with [N, d] labels: a transposed view, every element of its storage.
    const z3 = tensor(logits(13, 3).subarray(0, 12), { shape: [2, 3, 2] });
    expect(() => nn.functional.crossEntropy(z3, storage().reshape([2, 2]).transpose(0, 1))).toThrow(/label 7 is outside \[0, 3\)/);
  });
});

describe("narrow's gradient reads the upstream gradient only inside the slice", () => {
  // The upstream gradient is a view into a storage of NaN: the value at (r, c) of the view is r·10 + c
  // + 1, everything around it NaN. Outside the slice x.grad must be exactly 0, inside the view's values.
  const cases: [string, number[], number, number, number][] = [
    // label, x's shape, dim, start, length
    ['middle columns', [5, 8], 1, 4, 3],
    ['first columns', [5, 8], 1, 0, 2],
    ['last columns', [5, 8], 1, 5, 3],
    ['rows', [6, 4], 0, 2, 3],
    ['one element of a 3-D tensor', [3, 2, 4], 2, 3, 1],
  ];
  for (const [label, shape, dim, start, length] of cases) {
    test(label, async () => {
      const sliced = [...shape];
      sliced[dim] = length;
      // The view sits in the middle of a storage two larger along every dimension.
      const outer = sliced.map((n) => n + 2);
      const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
      const stored = new Float32Array(size(outer)).fill(Number.NaN);
      const index = (i: number, s: number[]): number[] => s.map((_, d) => Math.floor(i / size(s.slice(d + 1))) % s[d]!);
      const flat = (idx: number[], s: number[]): number => idx.reduce((a, v, d) => a * s[d]! + v, 0);
      for (let i = 0; i < size(sliced); i++) {
        const idx = index(i, sliced);
        stored[
          flat(
            idx.map((v) => v + 1),
            outer,
          )
        ] = i + 1;
      }
      let g = tensor(stored, { shape: outer });
      sliced.forEach((n, d) => {
        g = g.narrow(d, 1, n);
      });
      const x = tensor(new Float32Array(size(shape)), { shape, requiresGrad: true });
      x.narrow(dim, start, length).backward(g);
      const want = Array.from({ length: size(shape) }, (_, i) => {
        const idx = index(i, shape);
        if (idx[dim]! < start || idx[dim]! >= start + length) return 0;
        idx[dim] = idx[dim]! - start;
        return flat(idx, sliced) + 1;
      });
      expect([...(await x.grad!.data())]).toEqual(want);
    });
  }
});

describe('a replaced gradient is released: the tensor owns its .grad', () => {
  test('t.grad = null and t.grad = other release the old gradient; memory stays flat without gc', async () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    tidy(() => x.mul(3).sum().backward());
    const first = x.grad!;
    x.grad = null;
    expect(first.isDisposed).toBe(true);
    tidy(() => x.mul(3).sum().backward());
    const second = x.grad!;
    const third = zeros([3]);
    x.grad = third;
    expect(second.isDisposed).toBe(true);
    x.grad = third; // the same tensor again: still the gradient, live
    expect(third.isDisposed).toBe(false);
    const backwardAndClear = (i: number): void => {
      tidy(() => x.mul(i).sum().backward());
      x.grad = null;
    };
    backwardAndClear(0);
    const before = memory();
    for (let i = 1; i < 50; i++) backwardAndClear(i);
    const after = memory();
    expect([after.liveTensors, after.liveBuffers]).toEqual([before.liveTensors, before.liveBuffers]);
  });

  test('a gradient the caller kept (keep()) survives being replaced, and grad() still returns live gradients', async () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    tidy(() => x.mul(2).sum().backward());
    const kept = x.grad!.keep();
    x.grad = null;
    expect([...(await kept.data())]).toEqual([2, 2, 2]);
    kept.dispose();
    const [dx] = grad((t: Tensor) => t.square().sum())(tensor([1, -2]));
    expect([...(await dx!.data())]).toEqual([2, -4]);
  });

  test('an optimizer step leaves an assigned view gradient in place and live', async () => {
    const p = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { requiresGrad: true },
    );
    const g = tensor([
      [1, 0],
      [0, 1],
    ]).transpose(0, 1);
    p.grad = g;
    new optim.SGD([p], { lr: 1 }).step();
    expect(p.grad).toBe(g);
    expect([...(await g.data())]).toEqual([1, 0, 0, 1]);
    expect([...(await p.data())]).toEqual([0, 2, 3, 3]);
  });
});
