// Batch normalisation and module buffers from the user's side (the op table checks batchNorm's
// values, gradients and forward mode on its seeded shapes): nn.BatchNorm2d against PyTorch over
// three training steps and an eval step (tests/fixtures/make_batchnorm_reference.py), PyTorch's
// state_dict crossing both ways (int64 num_batches_tracked), buffers kept from optimizers, a
// captured step equal to the eager one bit for bit (running statistics included) without leaks,
// and bad arguments refused with nothing changed.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import {
  captureStep,
  DTypeError,
  encodeSafetensors,
  load,
  memory,
  nn,
  optim,
  parseSafetensors,
  ShapeError,
  save,
  type Tensor,
  tensor,
  ValueError,
  zeros,
} from '../src/index.js';
import { expectClose, randHost, rng } from './helpers.js';

const { batchNorm } = nn.functional;
const values = async (t: Tensor): Promise<number[]> => Array.from(await t.data());
const bytesOf = (path: string): Uint8Array => new Uint8Array(readFileSync(path));
const fixture = parseSafetensors(bytesOf('tests/fixtures/batchnorm_reference.safetensors'));
const ref = (name: string): Float32Array => fixture.get(name)!.data as Float32Array;
const fromFixture = (name: string): Tensor => tensor(ref(name), { shape: [...fixture.get(name)!.shape] });

/** A BatchNorm2d(3) with the fixture's weight and bias. */
function fixtureLayer(): nn.BatchNorm2d {
  const bn = new nn.BatchNorm2d(3);
  bn.weight!.write(ref('weight'));
  bn.bias!.write(ref('bias'));
  return bn;
}

test('nn.BatchNorm2d has PyTorch parameters and buffers, in state_dict order; optimizers see only the parameters', async () => {
  const bn = new nn.BatchNorm2d(4);
  expect(bn.stateDict().map(([name, t]) => [name, t.shape, t.dtype])).toEqual([
    ['weight', [4], 'float32'],
    ['bias', [4], 'float32'],
    ['running_mean', [4], 'float32'],
    ['running_var', [4], 'float32'],
    ['num_batches_tracked', [], 'int32'],
  ]);
  expect(await values(bn.weight!)).toEqual([1, 1, 1, 1]);
  expect(await values(bn.bias!)).toEqual([0, 0, 0, 0]);
  expect(await values(bn.runningMean!)).toEqual([0, 0, 0, 0]);
  expect(await values(bn.runningVar!)).toEqual([1, 1, 1, 1]);
  expect(await bn.numBatchesTracked!.item()).toBe(0);
  expect(bn.parameters()).toEqual([bn.weight, bn.bias]);
  expect(bn.namedBuffers().map(([name]) => name)).toEqual(['running_mean', 'running_var', 'num_batches_tracked']);
  expect(bn.buffers()).toEqual([bn.runningMean, bn.runningVar, bn.numBatchesTracked]);

  // Nested: each module's parameters, then its buffers, then its children (PyTorch's order).
  const net = new nn.Sequential(new nn.Conv2d(1, 2, 3, { seed: 0 }), new nn.BatchNorm2d(2), new nn.ReLU());
  expect(net.stateDict().map(([name]) => name)).toEqual([
    '0.weight',
    '0.bias',
    '1.weight',
    '1.bias',
    '1.running_mean',
    '1.running_var',
    '1.num_batches_tracked',
  ]);
  expect(net.namedParameters().map(([name]) => name)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
  expect(new optim.SGD(net.parameters(), { lr: 0.1 }).params).toHaveLength(4);

  // Without affine or running statistics there is nothing of them to list.
  expect(new nn.BatchNorm2d(3, { affine: false }).stateDict().map(([n]) => n)).toEqual(['running_mean', 'running_var', 'num_batches_tracked']);
  expect(new nn.BatchNorm2d(3, { trackRunningStats: false }).stateDict().map(([n]) => n)).toEqual(['weight', 'bias']);
});

test('BatchNorm2d matches PyTorch over three training steps (outputs, gradients, running statistics) and in eval', async () => {
  const bn = fixtureLayer();
  for (let k = 0; k < 3; k++) {
    bn.zeroGrad();
    const x = fromFixture(`x${k}`);
    x.requiresGrad = true;
    const y = bn.forward(x);
    y.backward(fromFixture(`g${k}`));
    expectClose(await y.data(), ref(`y${k}`), 1e-5, `y${k}`);
    expectClose(await x.grad!.data(), ref(`dx${k}`), 1e-4, `dx${k}`);
    expectClose(await bn.weight!.grad!.data(), ref(`dweight${k}`), 1e-5, `dweight${k}`);
    expectClose(await bn.bias!.grad!.data(), ref(`dbias${k}`), 1e-5, `dbias${k}`);
  }
  expectClose(await bn.runningMean!.data(), ref('running_mean'), 1e-6, 'running_mean');
  expectClose(await bn.runningVar!.data(), ref('running_var'), 1e-6, 'running_var');
  expect(await bn.numBatchesTracked!.item()).toBe(3);

  bn.eval();
  const x = fromFixture('x_eval');
  x.requiresGrad = true;
  const y = bn.forward(x);
  y.backward(fromFixture('g_eval'));
  expectClose(await y.data(), ref('y_eval'), 1e-5, 'y_eval');
  expectClose(await x.grad!.data(), ref('dx_eval'), 1e-5, 'dx_eval');
  // Evaluation reads the running statistics and changes none of them.
  expect(await bn.numBatchesTracked!.item()).toBe(3);
  expectClose(await bn.runningMean!.data(), ref('running_mean'), 1e-6, 'running_mean after eval');
});

test("PyTorch's state_dict (int64 num_batches_tracked) loads into BatchNorm2d; webgrad's file reads back with PyTorch's dtypes", async () => {
  const bytes = bytesOf('tests/fixtures/batchnorm_state.safetensors');
  expect(parseSafetensors(bytes).get('num_batches_tracked')!.dtype).toBe('I64');
  const bn = new nn.BatchNorm2d(3);
  load(bn, bytes);
  expect(await values(bn.runningMean!)).toEqual(Array.from(ref('running_mean')));
  expect(await values(bn.runningVar!)).toEqual(Array.from(ref('running_var')));
  expect(await values(bn.weight!)).toEqual(Array.from(ref('weight')));
  expect(await bn.numBatchesTracked!.item()).toBe(3);
  // Loaded statistics drive eval exactly as PyTorch's did.
  bn.eval();
  expectClose(await bn.forward(fromFixture('x_eval')).data(), ref('y_eval'), 1e-5, 'y_eval from the loaded state');

  const saved = parseSafetensors(await save(bn));
  expect([...saved].map(([name, t]) => [name, t.dtype, t.shape])).toEqual([
    ['weight', 'F32', [3]],
    ['bias', 'F32', [3]],
    ['running_mean', 'F32', [3]],
    ['running_var', 'F32', [3]],
    ['num_batches_tracked', 'I64', []],
  ]);
  // Byte for byte, the int64 count is PyTorch's little-endian 3.
  const file = await save(bn);
  const headerLength = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + headerLength))) as Record<string, { data_offsets: [number, number] }>;
  const [begin] = header.num_batches_tracked!.data_offsets;
  expect(new DataView(file.buffer, file.byteOffset + 8 + headerLength + begin, 8).getBigInt64(0, true)).toBe(3n);
  // And back: a fresh layer loads webgrad's own file.
  const again = new nn.BatchNorm2d(3);
  load(again, file);
  expect(await values(again.runningVar!)).toEqual(await values(bn.runningVar!));
  expect(await again.numBatchesTracked!.item()).toBe(3);
});

test('a checkpoint without the buffers, or with a count beyond int32, is refused whole', async () => {
  const bn = new nn.BatchNorm2d(3);
  const onlyParams = encodeSafetensors([
    ['weight', { dtype: 'F32', shape: [3], data: new Float32Array([2, 2, 2]) }],
    ['bias', { dtype: 'F32', shape: [3], data: new Float32Array(3) }],
  ]);
  expect(() => load(bn, onlyParams)).toThrow(/missing running_mean \[3\]; missing running_var \[3\]; missing num_batches_tracked \[\]/);
  expect(await values(bn.weight!)).toEqual([1, 1, 1]);

  // An I64 count of 2^40: the reader refuses it (webgrad keeps integers as int32).
  const state = parseSafetensors(bytesOf('tests/fixtures/batchnorm_state.safetensors'));
  const raw = bytesOf('tests/fixtures/batchnorm_state.safetensors');
  const headerLength = Number(new DataView(raw.buffer, raw.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(raw.subarray(8, 8 + headerLength))) as Record<string, { data_offsets: [number, number] }>;
  const big = raw.slice();
  new DataView(big.buffer).setBigInt64(8 + headerLength + header.num_batches_tracked!.data_offsets[0], 2n ** 40n, true);
  expect(() => load(bn, big)).toThrow(/load: tensor 'num_batches_tracked' \(I64\) holds 1099511627776 at element 0, outside the int32 range/);
  expect(state.size).toBe(5);
  expect(await values(bn.runningVar!)).toEqual([1, 1, 1]);

  // A float count is a dtype mismatch.
  const floatCount = encodeSafetensors(
    [...state].map(([n, t]) => [n, n === 'num_batches_tracked' ? { dtype: 'F32', shape: [], data: new Float32Array([3]) } : t]),
  );
  expect(() => load(bn, floatCount)).toThrow(/num_batches_tracked has dtype F32, expected I32 or I64/);
});

test('functional batchNorm: training updates the running statistics in place with the unbiased variance; eval uses them', async () => {
  const g = rng(5);
  const [N, C, L] = [5, 3, 4];
  const x = randHost(g, [N, C, L], 3);
  const rm0 = [0.5, -1, 2];
  const rv0 = [1, 2, 0.5];
  const rm = tensor(rm0);
  const rv = tensor(rv0);
  const momentum = 0.3;
  batchNorm(tensor(Float32Array.from(x.data), { shape: [N, C, L] }), rm, rv, null, null, true, momentum);
  // Float64 statistics per channel.
  const wantMean: number[] = [];
  const wantVar: number[] = [];
  for (let c = 0; c < C; c++) {
    const vals: number[] = [];
    for (let n = 0; n < N; n++) for (let l = 0; l < L; l++) vals.push(x.data[(n * C + c) * L + l]!);
    const mean = vals.reduce((s, v) => s + v, 0) / vals.length;
    const unbiased = vals.reduce((s, v) => s + (v - mean) ** 2, 0) / (vals.length - 1);
    wantMean.push((1 - momentum) * rm0[c]! + momentum * mean);
    wantVar.push((1 - momentum) * rv0[c]! + momentum * unbiased);
  }
  expectClose(await rm.data(), wantMean, 1e-6, 'running mean');
  expectClose(await rv.data(), wantVar, 1e-6, 'running var');

  // Eval: (x − rm)/sqrt(rv + eps), nothing updated.
  const y = batchNorm(tensor(Float32Array.from(x.data), { shape: [N, C, L] }), rm, rv, null, null, false, momentum, 1e-3);
  const rmNow = await values(rm);
  const rvNow = await values(rv);
  const want = Array.from(x.data, (v, i) => {
    const c = Math.floor(i / L) % C;
    return (v - rmNow[c]!) / Math.sqrt(rvNow[c]! + 1e-3);
  });
  expectClose(await y.data(), want, 1e-6, 'eval output');
  expectClose(await rm.data(), wantMean, 1e-6, 'running mean after eval');
});

test('train()/eval() switch BatchNorm1d; without running statistics the batch is used in eval too', async () => {
  const g = rng(6);
  const x = () => tensor(Float32Array.from(randHost(g, [6, 4], 2).data), { shape: [6, 4] });
  const bn = new nn.BatchNorm1d(4, { momentum: 0.5 });
  const batch = x();
  const trained = await values(bn.forward(batch));
  // Normalised by the batch: each column has mean ≈ 0.
  for (let c = 0; c < 4; c++) expect(Math.abs([0, 1, 2, 3, 4, 5].reduce((s, r) => s + trained[r * 4 + c]!, 0))).toBeLessThan(1e-5);
  bn.eval();
  const evaluated = await values(bn.forward(batch));
  expect(evaluated).not.toEqual(trained);
  expect(await bn.numBatchesTracked!.item()).toBe(1);

  const free = new nn.BatchNorm1d(4, { trackRunningStats: false });
  free.eval();
  expect(free.runningMean).toBeNull();
  const y = await values(free.forward(batch));
  expectClose(y, trained, 1e-6, 'eval without running statistics');
});

test('a captured step with BatchNorm2d equals the eager step bit for bit, running statistics included, without leaking', async () => {
  class Net extends nn.Module {
    conv = new nn.Conv2d(2, 3, 3, { seed: 4 });
    bn = new nn.BatchNorm2d(3, { momentum: 0.2 });
    fc = new nn.Linear(3 * 5 * 5, 2, { seed: 5 });
    forward(x: Tensor): Tensor {
      return this.fc.forward(this.bn.forward(this.conv.forward(x)).relu().flatten(1));
    }
  }
  const make = () => {
    const net = new Net();
    const opt = new optim.SGD(net.parameters(), { lr: 0.05, momentum: 0.9 });
    const step = (x: Tensor): Tensor => {
      opt.zeroGrad();
      const loss = net.forward(x).square().mean();
      loss.backward();
      opt.step();
      return loss;
    };
    return { net, step };
  };
  const g = rng(9);
  const inputs = Array.from({ length: 6 }, () => tensor(Float32Array.from(randHost(g, [4, 2, 7, 7], 2).data), { shape: [4, 2, 7, 7] }));
  const eager = make();
  const want: number[] = [];
  for (const x of inputs) want.push(await eager.step(x).item());
  const captured = make();
  const step = captureStep(captured.step);
  const got: number[] = [];
  for (const x of inputs) got.push(await step(x).item());
  expect(got).toEqual(want);
  expect(step.replays).toBe(4);
  for (const [[name, a], [, b]] of eager.net.stateDict().map((e, i) => [e, captured.net.stateDict()[i]!] as const)) {
    expect(await values(b), name).toEqual(await values(a));
  }
  expect(await captured.net.bn.numBatchesTracked!.item()).toBe(6);
  // Eval after the captured steps uses the replayed statistics.
  captured.net.eval();
  eager.net.eval();
  expect(await values(captured.net.forward(inputs[0]!))).toEqual(await values(eager.net.forward(inputs[0]!)));
  captured.net.train();

  const before = memory();
  for (let s = 0; s < 5; s++) step(inputs[1]!).dispose();
  expect(memory().liveTensors).toBe(before.liveTensors);
  expect(memory().liveBuffers).toBe(before.liveBuffers);
  expect(await captured.net.bn.numBatchesTracked!.item()).toBe(11);
  step.dispose();
});

describe('bad arguments are refused with a clear error, and change nothing', () => {
  const rows: [string, () => unknown, new (...a: never[]) => Error, RegExp][] = [
    [
      'BatchNorm2d on a 3-D input',
      () => new nn.BatchNorm2d(3).forward(zeros([2, 3, 4])),
      ValueError,
      /BatchNorm2d: expected a 4-D input \[N, C, H, W\], got shape \[2, 3, 4\]/,
    ],
    [
      'BatchNorm1d on a 4-D input',
      () => new nn.BatchNorm1d(3).forward(zeros([2, 3, 4, 4])),
      ValueError,
      /BatchNorm1d: expected a 2-D or 3-D input, got shape \[2, 3, 4, 4\]/,
    ],
    [
      'wrong channel count',
      () => new nn.BatchNorm2d(3).forward(zeros([2, 4, 2, 2])),
      ShapeError,
      /batchNorm: the running mean must have shape \[4\] .*got \[3\]/,
    ],
    [
      'one value per channel in training',
      () => new nn.BatchNorm2d(3).forward(zeros([1, 3, 1, 1])),
      ValueError,
      /batchNorm: expected more than 1 value per channel when training, got an input of shape \[1, 3, 1, 1\]/,
    ],
    [
      'eval without running statistics',
      () => batchNorm(zeros([2, 3]), null, null),
      ValueError,
      /batchNorm: evaluation mode \(training = false\) needs the running mean and variance/,
    ],
    [
      'only one running statistic',
      () => batchNorm(zeros([2, 3]), zeros([3]), null, null, null, true),
      ValueError,
      /give both the running mean and the running variance, or neither/,
    ],
    [
      'a running mean that is a view',
      () => batchNorm(zeros([2, 3]), zeros([6]).narrow(0, 1, 3), zeros([3]), null, null, true),
      ValueError,
      /the running mean is updated in place and must not be a view/,
    ],
    [
      'running var of the wrong size',
      () => batchNorm(zeros([2, 3]), zeros([3]), zeros([2]), null, null, true),
      ShapeError,
      /the running variance must have shape \[3\]/,
    ],
    [
      'one tensor as both running statistics',
      () => {
        const both = zeros([3]);
        return batchNorm(zeros([2, 3]), both, both, null, null, true);
      },
      ValueError,
      /the running mean and the running variance must be different tensors/,
    ],
    ['an int32 input', () => batchNorm(zeros([2, 3]).int(), null, null, null, null, true), DTypeError, /batchNorm: the input must be float32, got int32/],
    [
      'a 1-D input',
      () => batchNorm(zeros([3]), null, null, null, null, true),
      ShapeError,
      /batchNorm: the input must be \[N, C, \*\] \(2 or more dimensions\), got \[3\]/,
    ],
    [
      'momentum NaN',
      () => batchNorm(zeros([2, 3]), zeros([3]), zeros([3]), null, null, true, Number.NaN),
      ValueError,
      /batchNorm: momentum must be a finite number, got the number NaN/,
    ],
    ['negative eps', () => new nn.BatchNorm2d(3, { eps: -1 }), ValueError, /BatchNorm2d: eps must be a finite number ≥ 0, got the number -1/],
    ['numFeatures 0', () => new nn.BatchNorm2d(0), ValueError, /BatchNorm2d: numFeatures must be a positive integer, got the number 0/],
    [
      'momentum null',
      () => new nn.BatchNorm2d(3, { momentum: null as unknown as number }),
      ValueError,
      /momentum must be a finite number, got null \(a cumulative average/,
    ],
    [
      'registerBuffer over a parameter',
      () => new nn.Linear(2, 2).registerBuffer('weight', zeros([2])),
      ValueError,
      /registerBuffer: 'weight' is already a field of Linear/,
    ],
    [
      'registerBuffer with a parameter',
      () => new nn.ReLU().registerBuffer('w', new nn.Linear(2, 2).weight),
      ValueError,
      /registerBuffer: the buffer 'w' is a parameter/,
    ],
    [
      'registerBuffer with a dotted name',
      () => new nn.ReLU().registerBuffer('a.b', zeros([2])),
      ValueError,
      /registerBuffer: the name must be a non-empty string without '\.'/,
    ],
  ];
  test.each(rows)('%s', (_label, call, type, message) => {
    expect(call).toThrow(type);
    expect(call).toThrow(message);
  });

  test('a refused forward leaves the running statistics and the count as they were', async () => {
    const bn = new nn.BatchNorm2d(3);
    bn.forward(tensor(Float32Array.from(randHost(rng(2), [2, 3, 2, 2], 1).data), { shape: [2, 3, 2, 2] }));
    const before = [await values(bn.runningMean!), await values(bn.runningVar!), await bn.numBatchesTracked!.item()];
    expect(() => bn.forward(zeros([2, 4, 2, 2]))).toThrow(ShapeError);
    expect(() => bn.forward(zeros([1, 3, 1, 1]))).toThrow(ValueError);
    expect([await values(bn.runningMean!), await values(bn.runningVar!), await bn.numBatchesTracked!.item()]).toEqual(before);
  });
});

test('registerBuffer on a user module: saved, loaded, not trained', async () => {
  class Scaled extends nn.Module {
    fc = new nn.Linear(2, 2, { seed: 1 });
    constructor() {
      super();
      this.registerBuffer('scale', tensor([2, 3]));
    }
    forward(x: Tensor): Tensor {
      return this.fc.forward(x).mul((this as unknown as { scale: Tensor }).scale);
    }
  }
  const m = new Scaled();
  expect(m.stateDict().map(([n]) => n)).toEqual(['scale', 'fc.weight', 'fc.bias']);
  expect(m.parameters()).toHaveLength(2);
  const other = new Scaled();
  (other as unknown as { scale: Tensor }).scale.write([5, 7]);
  load(m, await save(other));
  expect(await values((m as unknown as { scale: Tensor }).scale)).toEqual([5, 7]);
});
