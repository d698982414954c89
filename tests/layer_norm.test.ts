// layerNorm and nn.LayerNorm from the user's side (the op table checks the values, gradients and
// forward mode on its seeded shapes): PyTorch's parameter names and initial values, the layer
// against a float64 computation written here, dweight and dbias against their float64 sums, a
// captured step that replays what the eager step computes, and bad arguments refused clearly.
import { describe, expect, test } from 'vitest';
import { captureStep, DTypeError, memory, nn, optim, ShapeError, type Tensor, tensor, ValueError, zeros } from '../src/index.js';
import { expectClose, randHost, rng } from './helpers.js';

const { layerNorm } = nn.functional;
const values = async (t: Tensor): Promise<number[]> => Array.from(await t.data());

/** Float64 layer norm of rows of n, and x̂ (the normalised rows). */
function reference(x: ArrayLike<number>, n: number, w: ArrayLike<number>, b: ArrayLike<number>, eps: number): { y: number[]; xhat: number[] } {
  const y: number[] = [];
  const xhat: number[] = [];
  for (let r = 0; r < x.length / n; r++) {
    const row = Array.from({ length: n }, (_, j) => x[r * n + j]!);
    const mean = row.reduce((s, v) => s + v, 0) / n;
    const sd = Math.sqrt(row.reduce((s, v) => s + (v - mean) ** 2, 0) / n + eps);
    row.forEach((v, j) => {
      xhat.push((v - mean) / sd);
      y.push(((v - mean) / sd) * w[j]! + b[j]!);
    });
  }
  return { y, xhat };
}

test('nn.LayerNorm has weight (ones) and bias (zeros) of normalizedShape, as PyTorch', async () => {
  const ln = new nn.LayerNorm([3, 4]);
  expect(ln.namedParameters().map(([name, p]) => [name, p.shape])).toEqual([
    ['weight', [3, 4]],
    ['bias', [3, 4]],
  ]);
  expect(await values(ln.weight!)).toEqual(new Array(12).fill(1));
  expect(await values(ln.bias!)).toEqual(new Array(12).fill(0));
  expect(new nn.LayerNorm(5, { elementwiseAffine: false }).parameters()).toEqual([]);
  expect(new nn.LayerNorm(5, { bias: false }).namedParameters().map(([name]) => name)).toEqual(['weight']);
  expect(new nn.LayerNorm(5).normalizedShape).toEqual([5]);
});

test('the layer and the function match a float64 layer norm; dweight and dbias are Σ g·x̂ and Σ g over rows', async () => {
  const g = rng(4);
  const [B, T, D] = [3, 5, 24];
  const x = randHost(g, [B, T, D], 3);
  const w = randHost(g, [D]);
  const b = randHost(g, [D]);
  const u = randHost(g, [B, T, D]);
  const ln = new nn.LayerNorm(D, { eps: 1e-3 });
  const wt = tensor(Float32Array.from(w.data), { requiresGrad: true });
  const bt = tensor(Float32Array.from(b.data), { requiresGrad: true });
  const xt = tensor(Float32Array.from(x.data), { shape: [B, T, D] });
  const y = layerNorm(xt, [D], wt, bt, 1e-3);
  const ref = reference(x.data, D, w.data, b.data, 1e-3);
  expectClose(await y.data(), ref.y, 1e-5, 'y');
  // The layer with its initial weight 1 and bias 0 is x̂.
  expectClose(await ln.forward(xt).data(), ref.xhat, 1e-5, 'layer');
  y.backward(tensor(Float32Array.from(u.data), { shape: [B, T, D] }));
  const dw = new Array(D).fill(0);
  const db = new Array(D).fill(0);
  u.data.forEach((gv, i) => {
    dw[i % D] += gv * ref.xhat[i]!;
    db[i % D] += gv;
  });
  expectClose(await wt.grad!.data(), dw, 1e-5, 'dweight');
  expectClose(await bt.grad!.data(), db, 1e-5, 'dbias');
});

test('a captured step with LayerNorm replays what the eager step computes, without leaking', async () => {
  const make = () => {
    const ln = new nn.LayerNorm(16);
    const fc = new nn.Linear(16, 4, { seed: 3 });
    const opt = new optim.SGD([...ln.parameters(), ...fc.parameters()], { lr: 0.05 });
    return (x: Tensor): Tensor => {
      opt.zeroGrad();
      const loss = fc.forward(ln.forward(x)).square().mean();
      loss.backward();
      opt.step();
      return loss;
    };
  };
  const g = rng(8);
  const inputs = Array.from({ length: 6 }, () => tensor(Float32Array.from(randHost(g, [8, 16], 2).data), { shape: [8, 16] }));
  const eager = make();
  const want: number[] = [];
  for (const x of inputs) want.push(await eager(x).item());
  const captured = captureStep(make());
  const got: number[] = [];
  for (const x of inputs) got.push(await captured(x).item());
  expect(got).toEqual(want);
  expect(captured.replays).toBe(4);
  const before = memory();
  for (let s = 0; s < 5; s++) captured(inputs[0]!).dispose();
  expect(memory().liveTensors).toBe(before.liveTensors);
  expect(memory().liveBuffers).toBe(before.liveBuffers);
  captured.dispose();
});

describe('bad arguments are refused with a clear error', () => {
  const rows: [string, () => unknown, new (...a: never[]) => Error, RegExp][] = [
    ['shape mismatch', () => layerNorm(zeros([2, 4]), [3]), ShapeError, /layerNorm: normalizedShape \[3\] expects an input of shape \[\*, 3\], got \[2, 4\]/],
    [
      'more dims than the input',
      () => layerNorm(zeros([4]), [2, 4]),
      ShapeError,
      /layerNorm: normalizedShape \[2, 4\] expects an input of shape \[\*, 2, 4\], got \[4\]/,
    ],
    ['empty normalizedShape', () => layerNorm(zeros([2, 4]), []), ShapeError, /layerNorm: normalizedShape must be a non-empty list of sizes ≥ 0, got/],
    [
      'weight of the wrong shape',
      () => layerNorm(zeros([2, 4]), [4], zeros([3])),
      ShapeError,
      /layerNorm: the weight must have shape normalizedShape \[4\], got \[3\]/,
    ],
    [
      'bias of the wrong shape',
      () => layerNorm(zeros([2, 4]), [4], null, zeros([4, 1])),
      ShapeError,
      /layerNorm: the bias must have shape normalizedShape \[4\], got \[4, 1\]/,
    ],
    ['negative eps', () => layerNorm(zeros([2, 4]), [4], null, null, -1), ValueError, /layerNorm: eps must be a finite number ≥ 0, got the number -1/],
    ['int32 input', () => layerNorm(tensor([1, 2], { dtype: 'int32' }), [2]), DTypeError, /layerNorm: the input must be float32, got int32/],
    ['LayerNorm([])', () => new nn.LayerNorm([]), ShapeError, /LayerNorm: normalizedShape must be a size or a non-empty list of sizes ≥ 0/],
    ['LayerNorm with NaN eps', () => new nn.LayerNorm(4, { eps: Number.NaN }), ValueError, /LayerNorm: eps must be a finite number ≥ 0, got the number NaN/],
    [
      'LayerNorm on the wrong width',
      () => new nn.LayerNorm(4).forward(zeros([2, 5])),
      ShapeError,
      /layerNorm: normalizedShape \[4\] expects an input of shape \[\*, 4\], got \[2, 5\]/,
    ],
  ];
  test.each(rows)('%s', (_label, call, type, message) => {
    expect(call).toThrow(type);
    expect(call).toThrow(message);
  });
});
