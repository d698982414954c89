// Hostile files and buffers: safetensors files that break the format's rules, checkpoints that
// must load whole or not at all, optimizer files whose settings must all be restored or refused,
// and application GPUBuffers that are unusual (no COPY_SRC), misused or destroyed.
import { describe, expect, test } from 'vitest';
import {
  captureStep,
  DisposedError,
  DTypeError,
  encodeSafetensors,
  fromGPUBuffer,
  getDevice,
  type HostArray,
  load,
  loadOptimizer,
  nn,
  optim,
  parseSafetensors,
  ShapeError,
  save,
  saveOptimizer,
  type Tensor,
  tensor,
  ValueError,
} from '../../src/index.js';

// ---------------------------------------------------------------------------------------------
// Building files by hand (independently of the reader under test).

const utf8 = new TextEncoder();

/** A safetensors file from a header (object or raw JSON text) and a byte buffer. */
function stFile(header: object | string, body: Uint8Array | number = 0): Uint8Array<ArrayBuffer> {
  const head = utf8.encode(typeof header === 'string' ? header : JSON.stringify(header));
  const data = typeof body === 'number' ? new Uint8Array(body) : body;
  const out = new Uint8Array(8 + head.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  out.set(data, 8 + head.length);
  return out;
}

const entry = (dtype: string, shape: number[], begin: number, end: number) => ({ dtype, shape, data_offsets: [begin, end] });
const f32Bytes = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

/** The header and byte buffer of a file, read by hand. */
// biome-ignore lint/suspicious/noExplicitAny: tests edit the JSON header freely, malformed on purpose
function split(bytes: Uint8Array): { header: Record<string, any>; body: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), body: bytes.slice(8 + n) };
}

/** A file rewritten with changed metadata and/or tensors. */
function rewrite(bytes: Uint8Array, change: { metadata?: (m: Record<string, string>) => void; tensors?: (t: Map<string, HostArray>) => void }): Uint8Array {
  const metadata = { ...split(bytes).header.__metadata__ };
  const tensors = parseSafetensors(bytes);
  change.metadata?.(metadata);
  change.tensors?.(tensors);
  return encodeSafetensors(tensors, metadata);
}

const bitsOf = async (ts: Tensor[]) => Promise.all(ts.map(async (t) => Array.from(new Uint32Array((await t.data()).slice().buffer))));

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error, none was thrown');
}

// ---------------------------------------------------------------------------------------------
// The safetensors reader: the format's rules.

const ab = f32Bytes([1, 2, 3, 4]);

const malformed: [string, () => Uint8Array, RegExp][] = [
  [
    'overlapping data_offsets',
    () => stFile({ a: entry('F32', [2], 0, 8), b: entry('F32', [2], 4, 12) }, 12),
    /weights: tensor 'b' at data_offsets \[4, 12\] overlaps tensor 'a', which ends at 8/,
  ],
  [
    'the same bytes for two tensors',
    () => stFile({ a: entry('F32', [2], 0, 8), b: entry('F32', [2], 0, 8) }, 8),
    /weights: tensor 'b' at data_offsets \[0, 8\] overlaps tensor 'a'/,
  ],
  [
    'a gap between tensors',
    () => stFile({ a: entry('F32', [2], 0, 8), b: entry('F32', [2], 12, 20) }, 20),
    /weights: tensor 'b' at data_offsets \[12, 20\] leaves a gap of 4 bytes after tensor 'a'/,
  ],
  [
    'a gap before the first tensor',
    () => stFile({ a: entry('F32', [2], 4, 12) }, 12),
    /weights: tensor 'a' .* leaves a gap of 4 bytes after the start of the byte buffer/,
  ],
  [
    'data_offsets out of order (end before begin)',
    () => stFile({ a: entry('F32', [0], 8, 0) }, 8),
    /weights: tensor 'a' has data_offsets \[8, 0\] out of order/,
  ],
  [
    'trailing bytes after the last tensor',
    () => stFile({ a: entry('F32', [2], 0, 8) }, 12),
    /weights: 4 trailing bytes after the last tensor \('a', ending at 8\)/,
  ],
  ['bytes but no tensors', () => stFile({}, 4), /weights: 4 trailing bytes after the header \(the file has no tensors\)/],
  [
    'a tensor name twice',
    () => stFile(`{"a":${JSON.stringify(entry('F32', [1], 0, 4))},"a":${JSON.stringify(entry('F32', [1], 4, 8))}}`, 8),
    /weights: the header has the key 'a' twice/,
  ],
  [
    'a name twice, once escaped',
    () => stFile(`{"a":${JSON.stringify(entry('F32', [1], 0, 4))},"\\u0061":${JSON.stringify(entry('F32', [1], 4, 8))}}`, 8),
    /key 'a' twice/,
  ],
  ['a field twice inside an entry', () => stFile('{"a":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}}', 4), /key 'dtype' twice/],
  ['a metadata key twice', () => stFile('{"__metadata__":{"lr":"1","lr":"2"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4), /key 'lr' twice/],
  ['a dtype webgrad does not read', () => stFile({ a: entry('F16', [2], 0, 4) }, 4), /weights: tensor 'a' has dtype "F16"; webgrad reads F32, I32 and I64/],
  [
    'bytes that do not match dtype and shape',
    () => stFile({ a: entry('I32', [3], 0, 8) }, 8),
    /weights: tensor 'a' of dtype I32 and shape \[3\] needs 12 bytes, but its data_offsets \[0, 8\] hold 8/,
  ],
  ['a negative size in the shape', () => stFile({ a: entry('F32', [-1], 0, 0) }), /weights: tensor 'a' has an invalid shape \[-1\]/],
  [
    'data_offsets with three numbers',
    () => stFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4, 8] } }, 4),
    /weights: tensor 'a' has invalid data_offsets \[0,4,8\]/,
  ],
  ['an entry that is not an object', () => stFile({ a: 5 }), /weights: tensor 'a' must be described by an object/],
  ['a header that is an array', () => stFile('[]'), /weights: the header must be a JSON object starting with '\{'/],
  ['a header that is null', () => stFile('null'), /weights: the header must be a JSON object/],
  ['a header that is a number', () => stFile('5'), /weights: the header must be a JSON object/],
  [
    'a metadata value that is a number',
    () => stFile({ __metadata__: { lr: 0.1 }, a: entry('F32', [1], 0, 4) }, 4),
    /weights: __metadata__ value 'lr' is 0.1; the format allows only strings/,
  ],
  ['metadata that is not an object', () => stFile({ __metadata__: 'pt', a: entry('F32', [1], 0, 4) }, 4), /weights: __metadata__ must be an object of strings/],
  [
    'a header length over the format’s limit',
    () => {
      const b = new Uint8Array(16);
      new DataView(b.buffer).setBigUint64(0, 100_000_001n, true);
      return b;
    },
    /weights: a header of 100000001 bytes is over the format's limit of 100000000 bytes/,
  ],
];

describe('safetensors reader', () => {
  test.each(malformed)('%s is a ValueError naming the file role and the tensor', (_label, make, message) => {
    const err = thrown(() => parseSafetensors(make(), 'weights'));
    expect(err).toBeInstanceOf(ValueError);
    expect(err.message).toMatch(message);
  });

  test('a header that is not UTF-8 is refused as such', () => {
    const head = new Uint8Array([0x7b, 0xff, 0x7d]);
    const bytes = new Uint8Array(8 + head.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(head.length), true);
    bytes.set(head, 8);
    expect(() => parseSafetensors(bytes, 'weights')).toThrow(/weights: the header is not valid UTF-8/);
  });

  test('valid files the format allows (also as an ArrayBuffer): any key order, empty tensors, scalars, padding, metadata', () => {
    // The header's key order is free (the reference reader sorts by offset).
    const swapped = parseSafetensors(stFile({ b: entry('F32', [2], 8, 16), a: entry('F32', [2], 0, 8) }, ab));
    expect(Array.from(swapped.get('a')!.data)).toEqual([1, 2]);
    expect(Array.from(swapped.get('b')!.data)).toEqual([3, 4]);
    // Empty tensors take no bytes, wherever they sit; a scalar has shape [].
    const header = `${JSON.stringify({ __metadata__: { format: 'pt' }, e: entry('F32', [0, 3], 4, 4), s: entry('I32', [], 0, 4), z: entry('F32', [0], 4, 4) })}    `;
    const file = parseSafetensors(stFile(header, new Uint8Array(Int32Array.of(-7).buffer)).buffer);
    expect(file.get('s')).toEqual({ dtype: 'I32', shape: [], data: Int32Array.of(-7) });
    expect(file.get('e')!.data.length).toBe(0);
    expect([...file.keys()]).toEqual(['e', 's', 'z']);
  });
});

// ---------------------------------------------------------------------------------------------
// load(): atomic, and given bytes in the forms people have them.

const makeNet = () => new nn.Sequential(new nn.Linear(3, 2, { seed: 1 }), new nn.ReLU(), new nn.Linear(2, 1, { seed: 2 }));
/** A valid checkpoint for makeNet(), by hand: 0.weight [2, 3], 0.bias [2], 2.weight [1, 2], 2.bias [1]. */
function netFile(): { header: Record<string, unknown>; body: Uint8Array } {
  const values = Array.from({ length: 11 }, (_, i) => i + 0.5);
  return {
    header: {
      '0.weight': entry('F32', [2, 3], 0, 24),
      '0.bias': entry('F32', [2], 24, 32),
      '2.weight': entry('F32', [1, 2], 32, 40),
      '2.bias': entry('F32', [1], 40, 44),
    },
    body: f32Bytes(values),
  };
}

describe('load', () => {
  const badFiles: [string, () => Uint8Array, new (...a: never[]) => Error, RegExp][] = [
    [
      'the last tensor overlapping the one before',
      () => {
        const { header, body } = netFile();
        header['2.bias'] = entry('F32', [1], 36, 40);
        return stFile(header, body.slice(0, 40));
      },
      ValueError,
      /load: tensor '2.bias' at data_offsets \[36, 40\] overlaps tensor '2.weight'/,
    ],
    [
      'a tensor name twice',
      () => {
        const { header, body } = netFile();
        const text = JSON.stringify(header).replace('"2.bias"', '"0.bias"');
        return stFile(text, body);
      },
      ValueError,
      /load: the header has the key '0.bias' twice/,
    ],
    [
      'trailing bytes',
      () => {
        const { header, body } = netFile();
        return stFile(header, Uint8Array.from([...body, 0, 0, 0, 0]));
      },
      ValueError,
      /load: 4 trailing bytes/,
    ],
    [
      'one tensor of the wrong shape',
      () => {
        const { header, body } = netFile();
        header['2.weight'] = entry('F32', [2, 1], 32, 40);
        return stFile(header, body);
      },
      ValueError,
      /2.weight has shape \[2, 1\], expected \[1, 2\]/,
    ],
    [
      'one tensor of the wrong dtype',
      () => {
        const { header, body } = netFile();
        header['2.bias'] = entry('I32', [1], 40, 44);
        return stFile(header, body);
      },
      ValueError,
      /2.bias has dtype I32, expected F32/,
    ],
  ];

  test.each(badFiles)('a file with %s changes no parameter', async (_label, make, error, message) => {
    const model = makeNet();
    const before = await bitsOf(model.parameters());
    const err = thrown(() => load(model, make()));
    expect(err).toBeInstanceOf(error);
    expect(err.message).toMatch(message);
    expect(await bitsOf(model.parameters())).toEqual(before);
  });

  test('a parameter that cannot be written (released) is refused before any other changes', async () => {
    const model = makeNet();
    const [first, , , last] = model.parameters();
    const before = await bitsOf([first!]);
    last!.dispose();
    const { header, body } = netFile();
    expect(() => load(model, stFile(header, body))).toThrow(DisposedError);
    expect(await bitsOf([first!])).toEqual(before);
  });

  test('accepts a Uint8Array (also a Node Buffer or a view into a larger buffer) and an ArrayBuffer', async () => {
    const { header, body } = netFile();
    const bytes = stFile(header, body);
    const expected = Array.from({ length: 11 }, (_, i) => i + 0.5);
    const padded = new Uint8Array(bytes.length + 5);
    padded.set(bytes, 5);
    for (const given of [bytes, Buffer.from(bytes), padded.subarray(5), bytes.buffer.slice(0)]) {
      const model = makeNet();
      load(model, given as Uint8Array);
      const values = (await Promise.all(model.parameters().map((p) => p.data()))).flatMap((d) => Array.from(d));
      expect(values).toEqual(expected);
    }
  });

  test.each([
    ['a Promise (save() not awaited)', () => save(makeNet()), /load: expected the file's bytes as a Uint8Array or an ArrayBuffer, got a Promise \(.*await/],
    ['a string', () => 'model.safetensors', /got the string 'model.safetensors'/],
    ['a Float32Array', () => new Float32Array(4), /got a Float32Array/],
    ['null', () => null, /got null/],
  ])('refuses %s with a clear error', (_label, given, message) => {
    const err = thrown(() => load(makeNet(), given() as unknown as Uint8Array));
    expect(err).toBeInstanceOf(ValueError);
    expect(err.message).toMatch(message);
  });
});

// ---------------------------------------------------------------------------------------------
// Optimizer files: every setting restored or refused, nothing changed on error, a kind by name.

const net6 = (seed: number) => new nn.Sequential(new nn.Linear(6, 5, { seed }), new nn.ReLU(), new nn.Linear(5, 3, { seed: seed + 1 }));

function batch(): [Tensor, Tensor] {
  const x = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i * 1.7) * 2);
  return [tensor(x, { shape: [4, 6] }).keep(), tensor(Int32Array.of(0, 2, 1, 2)).keep()];
}

function train(model: nn.Module, opt: optim.Optimizer, [x, y]: [Tensor, Tensor], steps: number): void {
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    nn.functional.crossEntropy(model.forward(x), y).backward();
    opt.step();
  }
}

type Make = (p: Tensor[]) => optim.Optimizer;
const restoreCases: [string, Make, Make][] = [
  [
    'SGD: momentum 0.9, dampening 0.1, weight decay into SGD made with momentum 0',
    (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }),
    (p) => new optim.SGD(p, { lr: 0.3 }),
  ],
  [
    'SGD: nesterov into SGD made without it',
    (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.001 }),
    (p) => new optim.SGD(p, { lr: 0.3, momentum: 0.1, dampening: 0.5 }),
  ],
  [
    'Adam: betas, eps, weight decay into a default Adam',
    (p) => new optim.Adam(p, { lr: 0.01, betas: [0.8, 0.95], eps: 1e-4, weightDecay: 0.02 }),
    (p) => new optim.Adam(p),
  ],
  [
    'AdamW: betas, eps, weight decay into a default AdamW',
    (p) => new optim.AdamW(p, { lr: 0.02, betas: [0.7, 0.9], eps: 1e-3, weightDecay: 0.1 }),
    (p) => new optim.AdamW(p),
  ],
];

describe('optimizer files', () => {
  test.each(restoreCases)('%s: settings restored, training continues bit for bit', async (_label, original, other) => {
    const data = batch();
    const a = net6(1);
    const optA = original(a.parameters());
    train(a, optA, data, 2);
    const weights = await save(a);
    const state = await saveOptimizer(optA);
    train(a, optA, data, 3);

    const b = net6(7);
    const optB = other(b.parameters());
    load(b, weights);
    loadOptimizer(optB, state);
    expect(optB.options).toEqual(optA.options);
    train(b, optB, data, 3);
    expect(await bitsOf(b.parameters())).toEqual(await bitsOf(a.parameters()));
  });

  test('state that exists is overwritten in place (the same tensors), so captured steps keep their buffers', async () => {
    const data = batch();
    const a = net6(1);
    const sgdA = new optim.SGD(a.parameters(), { lr: 0.05, momentum: 0.9 });
    train(a, sgdA, data, 2);
    const sgdB = new optim.SGD(a.parameters(), { lr: 0.05, momentum: 0.5 });
    train(a, sgdB, data, 1);
    const buffers = a.parameters().map((p) => sgdB.momentumBuffer(p));
    loadOptimizer(sgdB, await saveOptimizer(sgdA));
    a.parameters().forEach((p, i) => expect(sgdB.momentumBuffer(p)).toBe(buffers[i]));
    expect(await bitsOf(buffers as Tensor[])).toEqual(await bitsOf(a.parameters().map((p) => sgdA.momentumBuffer(p)!)));

    const adamA = new optim.Adam(a.parameters(), { lr: 0.01 });
    train(a, adamA, data, 3);
    const adamB = new optim.Adam(a.parameters());
    train(a, adamB, data, 1);
    const moments = a.parameters().map((p) => adamB.moments(p)!);
    const tensors = moments.map((m) => [m.expAvg, m.expAvgSq]);
    loadOptimizer(adamB, await saveOptimizer(adamA));
    a.parameters().forEach((p, i) => {
      expect(adamB.moments(p)).toBe(moments[i]);
      expect([adamB.moments(p)!.expAvg, adamB.moments(p)!.expAvgSq]).toEqual(tensors[i]);
      expect(adamB.moments(p)!.step).toBe(3);
    });
  });

  test.each([
    ['SGD with momentum', (p: Tensor[]) => new optim.SGD(p, { lr: 0.05, momentum: 0.9 })],
    ['Adam', (p: Tensor[]) => new optim.Adam(p, { lr: 0.01 })],
  ] as [string, Make][])('%s: a captured step keeps replaying correctly after load and loadOptimizer', async (_label, make) => {
    const data = batch();
    const a = net6(1);
    const optA = make(a.parameters());
    train(a, optA, data, 2);
    const weights = await save(a);
    const state = await saveOptimizer(optA);
    train(a, optA, data, 3);

    const b = net6(7);
    const optB = make(b.parameters());
    const step = captureStep((x: Tensor, y: Tensor) => {
      optB.zeroGrad();
      const loss = nn.functional.crossEntropy(b.forward(x), y);
      loss.backward();
      optB.step();
      return loss;
    });
    for (let s = 0; s < 3; s++) step(...data);
    expect(step.replays).toBe(1);
    load(b, weights);
    loadOptimizer(optB, state);
    for (let s = 0; s < 3; s++) step(...data);
    expect(step.replays).toBe(4);
    expect(await bitsOf(b.parameters())).toEqual(await bitsOf(a.parameters()));
    step.dispose();
  });

  test('a setting the file lacks keeps its current value (documented choice)', async () => {
    const p = [tensor([1, 2], { requiresGrad: true })];
    const saved = await saveOptimizer(new optim.SGD(p, { lr: 0.5, momentum: 0.9, weightDecay: 0.05 }));
    const opt = new optim.SGD(p, { lr: 0.1, momentum: 0.3, dampening: 0.2 });
    loadOptimizer(
      opt,
      rewrite(saved, {
        metadata: (m) => {
          delete m.momentum;
          delete m.dampening;
        },
      }),
    );
    expect(opt.options).toEqual({ lr: 0.5, momentum: 0.3, dampening: 0.2, nesterov: false, weightDecay: 0.05 });
  });

  type Mutation = { metadata?: (m: Record<string, string>) => void; tensors?: (t: Map<string, HostArray>) => void };
  const set = (values: Record<string, string>): Mutation => ({ metadata: (m) => Object.assign(m, values) });
  const sgdInvalid: [string, Mutation, RegExp][] = [
    ['a negative lr', set({ lr: '-1' }), /loadOptimizer\(SGD\): the file's lr is "-1"; it must be a finite number ≥ 0/],
    ['lr NaN', set({ lr: 'NaN' }), /the file's lr is "NaN"/],
    ['an empty lr', set({ lr: '' }), /the file's lr is ""/],
    ['a hexadecimal lr', set({ lr: '0x10' }), /the file's lr is "0x10"/],
    ['infinite momentum', set({ momentum: 'Infinity' }), /the file's momentum is "Infinity"; it must be a finite number ≥ 0/],
    ['negative momentum', set({ momentum: '-0.5' }), /the file's momentum is "-0.5"/],
    ['dampening that is not a number', set({ dampening: 'abc' }), /the file's dampening is "abc"; it must be a finite number ≥ 0/],
    ['negative dampening', set({ dampening: '-0.1' }), /the file's dampening is "-0.1"/],
    ['nesterov that is not true/false', set({ nesterov: 'yes' }), /the file's nesterov is "yes"; it must be 'true' or 'false'/],
    [
      'nesterov with dampening',
      set({ nesterov: 'true', dampening: '0.5' }),
      /nesterov momentum needs momentum > 0 and dampening 0 \(the file gives momentum 0.9, dampening 0.5\)/,
    ],
    ['nesterov without momentum', set({ nesterov: 'true', momentum: '0' }), /nesterov momentum needs momentum > 0/],
    ['negative weight decay', set({ weight_decay: '-1' }), /the file's weight_decay is "-1"/],
    ['a setting SGD does not have', set({ maximize: 'true' }), /the file sets 'maximize', which this optimizer does not have/],
    ['another optimizer kind', set({ optimizer: 'Adam' }), /loadOptimizer: the file holds Adam state, not SGD's/],
    [
      'no optimizer kind',
      {
        metadata: (m) => {
          delete m.optimizer;
        },
      },
      /the file holds no optimizer state/,
    ],
    [
      'a momentum buffer of the wrong shape',
      { tensors: (t) => t.set('state.0.momentum_buffer', { dtype: 'F32', shape: [6, 5], data: new Float32Array(30) }) },
      /state.0.momentum_buffer has shape \[6, 5\], expected \[5, 6\]/,
    ],
    [
      'a momentum buffer of the wrong dtype',
      { tensors: (t) => t.set('state.1.momentum_buffer', { dtype: 'I32', shape: [5], data: new Int32Array(5) }) },
      /state.1.momentum_buffer has dtype I32/,
    ],
    [
      'state for a parameter it does not have',
      { tensors: (t) => t.set('state.9.momentum_buffer', { dtype: 'F32', shape: [1], data: new Float32Array(1) }) },
      /unexpected state.9.momentum_buffer/,
    ],
  ];

  test.each(sgdInvalid)('SGD: %s is refused and nothing changes', async (_label, mutation, message) => {
    const data = batch();
    const model = net6(1);
    const source = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
    train(model, source, data, 1);
    const file = rewrite(await saveOptimizer(source), mutation);
    const target = new optim.SGD(model.parameters(), { lr: 0.2, momentum: 0.4, dampening: 0.1, weightDecay: 0.003 });
    train(model, target, data, 1);
    const options = structuredClone(target.options);
    const buffers = model.parameters().map((p) => target.momentumBuffer(p)!);
    const before = await bitsOf(buffers);
    const err = thrown(() => loadOptimizer(target, file));
    expect(err).toBeInstanceOf(ValueError);
    expect(err.message).toMatch(message);
    expect(target.options).toEqual(options);
    model.parameters().forEach((p, i) => expect(target.momentumBuffer(p)).toBe(buffers[i]));
    expect(await bitsOf(buffers)).toEqual(before);
  });

  const setStep = (value: number): Mutation => ({ tensors: (t) => t.set('state.1.step', { dtype: 'F32', shape: [], data: Float32Array.of(value) }) });
  const adamInvalid: [string, Mutation, RegExp][] = [
    ['beta1 of 1', set({ beta1: '1' }), /loadOptimizer\(Adam\): the file's beta1 is "1"; it must be in \[0, 1\)/],
    ['a negative beta2', set({ beta2: '-0.1' }), /the file's beta2 is "-0.1"; it must be in \[0, 1\)/],
    ['a negative eps', set({ eps: '-1' }), /the file's eps is "-1"/],
    ['an infinite lr', set({ lr: 'Infinity' }), /the file's lr is "Infinity"/],
    ['a setting Adam does not have (SGD’s momentum)', set({ momentum: '0.9' }), /the file sets 'momentum', which this optimizer does not have/],
    ['a step count of 0', setStep(0), /state.1.step is 0; a step count must be an integer ≥ 1/],
    ['a fractional step count', setStep(1.5), /state.1.step is 1.5; a step count must be an integer ≥ 1/],
    ['a NaN step count', setStep(NaN), /state.1.step is NaN/],
    ['moments without their step count', { tensors: (t) => t.delete('state.2.step') }, /unexpected state.2.exp_avg/],
    ['a step count without its moments', { tensors: (t) => t.delete('state.0.exp_avg_sq') }, /missing state.0.exp_avg_sq \[5, 6\]/],
    ['AdamW state into Adam', set({ optimizer: 'AdamW' }), /the file holds AdamW state, not Adam's/],
  ];

  test.each(adamInvalid)('Adam: %s is refused and nothing changes', async (_label, mutation, message) => {
    const data = batch();
    const model = net6(1);
    const source = new optim.Adam(model.parameters(), { lr: 0.01 });
    train(model, source, data, 2);
    const file = rewrite(await saveOptimizer(source), mutation);
    const target = new optim.Adam(model.parameters(), { lr: 0.002, betas: [0.5, 0.6], eps: 1e-6, weightDecay: 0.01 });
    train(model, target, data, 1);
    const options = structuredClone(target.options);
    const moments = model.parameters().map((p) => target.moments(p)!);
    const before = await bitsOf(moments.flatMap((m) => [m.expAvg, m.expAvgSq]));
    const err = thrown(() => loadOptimizer(target, file));
    expect(err).toBeInstanceOf(ValueError);
    expect(err.message).toMatch(message);
    expect(target.options).toEqual(options);
    model.parameters().forEach((p, i) => {
      expect(target.moments(p)).toBe(moments[i]);
      expect(target.moments(p)!.step).toBe(1);
    });
    expect(await bitsOf(moments.flatMap((m) => [m.expAvg, m.expAvgSq]))).toEqual(before);
  });

  test('the kind is a name, not the class name: subclasses and renamed (minified) classes write it', async () => {
    class Foo extends optim.SGD {}
    const e = class extends optim.Adam {}; // what a minifier leaves of `class Adam`
    const p = [tensor([1, 2, 3], { requiresGrad: true })];
    const foo = new Foo(p, { lr: 0.1, momentum: 0.5 });
    expect(foo.kind).toBe('SGD');
    expect(new e(p).kind).toBe('Adam');
    expect(new optim.AdamW(p).kind).toBe('AdamW');
    p[0]!.sum().backward();
    foo.step();
    const fooFile = await saveOptimizer(foo);
    expect(split(fooFile).header.__metadata__.optimizer).toBe('SGD');
    expect(split(await saveOptimizer(new e(p))).header.__metadata__.optimizer).toBe('Adam');
    // A subclass's file loads into the optimizer it extends, and the other way round.
    const plain = new optim.SGD(p, { lr: 1 });
    loadOptimizer(plain, fooFile);
    expect(plain.options).toEqual(foo.options);
    expect(Array.from(await plain.momentumBuffer(p[0]!)!.data())).toEqual([1, 1, 1]);
    loadOptimizer(new Foo(p, { lr: 1 }), await saveOptimizer(plain));
    // Files from before kinds existed named the class: a subclass's file still loads into it.
    loadOptimizer(
      new Foo(p, { lr: 1 }),
      rewrite(fooFile, {
        metadata: (m) => {
          m.optimizer = 'Foo';
        },
      }),
    );
    // Error messages use the kind too.
    expect(() => new e(p, { betas: [1, 0.5] })).toThrow(/^Adam: invalid beta1 1/);
    expect(() => new (class extends optim.AdamW {})(p, { eps: -1 })).toThrow(/^AdamW: invalid eps -1/);
    expect(() => (foo.lr = -1)).toThrow(/^SGD: invalid learning rate -1/);
  });
});

// ---------------------------------------------------------------------------------------------
// fromGPUBuffer: unusual, misused and destroyed buffers.

describe('fromGPUBuffer', () => {
  const STORAGE = () => GPUBufferUsage.STORAGE;

  test('a buffer without COPY_SRC reads back its exact bits, float32 and int32', async () => {
    const device = getDevice();
    const floatBits = Uint32Array.of(0x3fc00000, 0xc0000000, 0x00000007, 0x80000000, 0x7f800000, 0x7fc00001);
    const ints = Int32Array.of(0, 1, -1, 7, 2147483647, -2147483648);
    const buffer = (words: ArrayBufferView<ArrayBuffer>) => {
      const b = device.createBuffer({ size: 24, usage: STORAGE() | GPUBufferUsage.COPY_DST });
      device.queue.writeBuffer(b, 0, words);
      return b;
    };
    const f = fromGPUBuffer(buffer(floatBits), [2, 3]);
    expect(Array.from(new Uint32Array((await f.data()).slice().buffer))).toEqual(Array.from(floatBits));
    const i = fromGPUBuffer(buffer(ints), [6], { dtype: 'int32' });
    expect(Array.from(await i.data())).toEqual(Array.from(ints));
    expect(await i.toArray()).toEqual(Array.from(ints));
  });

  test('reading a tensor whose buffer was destroyed is a ValueError naming its shape, not zeros', async () => {
    const device = getDevice();
    const buffer = device.createBuffer({ size: 24, usage: STORAGE() | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(buffer, 0, Float32Array.of(1, 2, 3, 4, 5, 6));
    const t = fromGPUBuffer(buffer, [2, 3]);
    expect(Array.from(await t.data())).toEqual([1, 2, 3, 4, 5, 6]);
    const derived = t.mul(2);
    buffer.destroy();
    // The work that reads the buffer (recorded before it was destroyed) fails, and so does a copy of it.
    await expect(derived.data()).rejects.toThrow(ValueError);
    await expect(t.data()).rejects.toThrow(/data: reading a tensor of shape \[2, 3\] failed: WebGPU rejected the work/);
    // Other tensors read as before.
    expect(
      Array.from(
        await tensor([1, 2])
          .add(tensor([3, 4]))
          .data(),
      ),
    ).toEqual([4, 6]);
  });

  test('writing from the host into a buffer without COPY_DST is a clear error', () => {
    const t = fromGPUBuffer(getDevice().createBuffer({ size: 16, usage: STORAGE() }), [4]);
    expect(() => t.write([1, 2, 3, 4])).toThrow(/write\(\): the tensor of shape \[4\] wraps an application buffer without COPY_DST usage/);
  });

  const cases: [string, () => unknown, new (...a: never[]) => Error, RegExp][] = [
    [
      'a buffer without STORAGE usage',
      () => fromGPUBuffer(getDevice().createBuffer({ size: 16, usage: GPUBufferUsage.COPY_SRC }), [4]),
      ValueError,
      /fromGPUBuffer: the buffer lacks STORAGE usage/,
    ],
    [
      'a buffer too small for the shape',
      () => fromGPUBuffer(getDevice().createBuffer({ size: 16, usage: STORAGE() }), [5]),
      ValueError,
      /fromGPUBuffer: a buffer of 16 bytes is too small for shape \[5\] \(20 bytes\)/,
    ],
    [
      'a mapped buffer',
      () => {
        const b = getDevice().createBuffer({ size: 16, usage: STORAGE(), mappedAtCreation: true });
        try {
          return fromGPUBuffer(b, [4]);
        } finally {
          b.unmap();
        }
      },
      ValueError,
      /fromGPUBuffer: the buffer is mapped; unmap\(\) it first/,
    ],
    [
      'a negative size',
      () => fromGPUBuffer(getDevice().createBuffer({ size: 16, usage: STORAGE() }), [-1, 4]),
      ShapeError,
      /fromGPUBuffer: invalid shape \[-1, 4\]: sizes must be integers ≥ 0/,
    ],
    ['a fractional size', () => fromGPUBuffer(getDevice().createBuffer({ size: 16, usage: STORAGE() }), [1.5]), ShapeError, /invalid shape \[1.5\]/],
    ['a NaN size', () => fromGPUBuffer(getDevice().createBuffer({ size: 16, usage: STORAGE() }), [NaN]), ShapeError, /invalid shape \[NaN\]/],
    [
      'a shape that is not an array',
      () => fromGPUBuffer(getDevice().createBuffer({ size: 16, usage: STORAGE() }), 4 as unknown as number[]),
      ShapeError,
      /invalid shape the number 4/,
    ],
    [
      'an unsupported dtype',
      () => fromGPUBuffer(getDevice().createBuffer({ size: 16, usage: STORAGE() }), [4], { dtype: 'float16' as 'float32' }),
      DTypeError,
      /fromGPUBuffer: dtype "float16" is not supported/,
    ],
    ['null instead of a buffer', () => fromGPUBuffer(null as unknown as GPUBuffer, [4]), ValueError, /fromGPUBuffer: expected a GPUBuffer, got null/],
    [
      'a typed array instead of a buffer',
      () => fromGPUBuffer(new Float32Array(4) as unknown as GPUBuffer, [4]),
      ValueError,
      /expected a GPUBuffer, got a Float32Array/,
    ],
    ['a tensor instead of a buffer', () => fromGPUBuffer(tensor([1, 2]) as unknown as GPUBuffer, [2]), ValueError, /expected a GPUBuffer, got/],
  ];

  test.each(cases)('%s is refused at wrap time', (_label, run, error, message) => {
    const err = thrown(run);
    expect(err).toBeInstanceOf(error);
    expect(err.message).toMatch(message);
  });
});

describe('checkpoints of a model with a shared layer', () => {
  test("list the shared parameters under every name, as PyTorch's state_dict does, and load back", async () => {
    const shared = new nn.Linear(3, 3, { seed: 4 });
    const model = new nn.Sequential(shared, new nn.ReLU(), shared);
    const bytes = await save(model);
    const names = [...parseSafetensors(bytes).keys()];
    expect(names).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    const other = new nn.Linear(3, 3, { seed: 5 });
    const copy = new nn.Sequential(other, new nn.ReLU(), other);
    load(copy, bytes);
    expect([...(await other.weight.data())]).toEqual([...(await shared.weight.data())]);
    // The optimizer still sees each parameter once.
    expect(model.parameters()).toHaveLength(2);
  });
});
