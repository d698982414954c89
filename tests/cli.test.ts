// The main command, as a user runs it (the built dist/train.js; scripts/test.sh builds it first).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect, test } from 'vitest';
import { dropDawnNoise } from '../src/cli/dawn_noise.js';
import { Net } from '../src/cli/seed_net.js';
import { data, manualSeed, nn, optim, parseSafetensors } from '../src/index.js';

// What Dawn prints from native code when it enumerates a Vulkan adapter (lavapipe here): the
// programs filter it out of their stderr.
const DAWN_WARNING = /artificially reduced/;

function trainWithin(timeout: number, args: string[]) {
  expect(existsSync('dist/train.js'), 'dist/train.js is missing: run `npm run build:lib`').toBe(true);
  const r = spawnSync(process.execPath, ['dist/train.js', ...args], { encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const train = (...args: string[]) => trainWithin(120_000, args);

/** The four MNIST IDX files of the given images (pixel values in [0, 1]) and labels, in a new directory. */
function writeIdx(trainSet: data.Dataset, held: data.Dataset, counts: [number, number], side = 28): string {
  const dir = mkdtempSync(join(tmpdir(), 'webgrad-mnist-'));
  const idx = (dims: number[], bytes: Uint8Array): Uint8Array => {
    const out = new Uint8Array(4 + 4 * dims.length + bytes.length);
    const view = new DataView(out.buffer);
    out.set([0, 0, 8, dims.length]);
    dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
    out.set(bytes, 4 + 4 * dims.length);
    return out;
  };
  // Each image's 784 pixels, then zeros to fill side × side.
  const pixels = (ds: data.Dataset, n: number) => {
    const out = new Uint8Array(n * side * side);
    for (let i = 0; i < n; i++)
      out.set(
        Uint8Array.from(ds.images.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 255)),
        i * side * side,
      );
    return out;
  };
  const labels = (ds: data.Dataset, n: number) => Uint8Array.from(ds.labels.subarray(0, n));
  writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(idx([counts[0], side, side], pixels(trainSet, counts[0]))));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idx([counts[0]], labels(trainSet, counts[0])));
  writeFileSync(join(dir, 't10k-images-idx3-ubyte'), idx([counts[1], side, side], pixels(held, counts[1])));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(idx([counts[1]], labels(held, counts[1]))));
  return dir;
}

test('--json prints one object per epoch with the documented keys; --save writes a safetensors checkpoint', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'webgrad-save-')), 'net.safetensors');
  const r = train('--epochs', '1', '--lr', '0.1', '--batch', '64', '--json', '--save', file);
  expect(r.code, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  const epoch = JSON.parse(lines[0]!);
  expect(Object.keys(epoch).sort()).toEqual(['epoch', 'samples_per_s', 'test_acc', 'train_loss']);
  expect(epoch.epoch).toBe(1);
  expect(epoch.test_acc).toBeGreaterThan(0.8);
  expect(epoch.train_loss).toBeLessThan(1.5);
  expect(epoch.samples_per_s).toBeGreaterThan(0);
  expect(r.stderr).toMatch(/adapter/);
  expect(r.stderr).not.toMatch(DAWN_WARNING);
  const saved = parseSafetensors(new Uint8Array(readFileSync(file)));
  expect([...saved.entries()].map(([n, t]) => [n, t.shape])).toEqual([
    ['fc1.weight', [128, 784]],
    ['fc1.bias', [128]],
    ['fc2.weight', [10, 128]],
    ['fc2.bias', [10]],
  ]);
});

test.each([
  [['--batch', '0'], /--batch must be a positive integer/],
  [['--epochs', 'two'], /--epochs must be a number/],
  [['--lr', '-1'], /--lr must be positive/],
  [['--frobnicate'], /unknown option --frobnicate/],
  [['--data', '/nonexistent-dir'], /cannot read train-images-idx3-ubyte/],
  [['--model', 'resnet'], /--model must be 'mlp', 'cnn' or 'cnn-bn', got 'resnet'/],
  [['--model', 'cnn-bn', '--batch', 'sgd'], /--model cnn-bn normalises over the batch and needs batches of at least 2, got --batch sgd/],
  [['--model', 'cnn-bn', '--batch', '1'], /needs batches of at least 2, got --batch 1/],
  [['--optimizer', 'rmsprop'], /--optimizer must be 'sgd', 'adam' or 'adamw', got 'rmsprop'/],
  [['--optimizer', 'adam', '--momentum', '0.9'], /--momentum applies to --optimizer sgd only; Adam has no momentum setting/],
  [['--model', 'cnn', '--optimizer', 'adamw', '--momentum', '0'], /--momentum applies to --optimizer sgd only; AdamW has no momentum setting/],
])('bad arguments %j: a clear message and exit code 2', (args, message) => {
  const r = train(...args);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(message);
});

test('a file that is not MNIST: a clear message and exit code 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'webgrad-'));
  for (const name of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
    writeFileSync(join(dir, name), 'this is not an IDX file');
  }
  const r = train('--data', dir);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/train-images-idx3-ubyte: bad magic number/);
});

test('--data DIR trains on MNIST IDX files, gzip or plain', async () => {
  const { train: trainSet, test: held } = await data.loadDigits('assets/generated/digits.bin.gz');
  const dir = writeIdx(trainSet, held, [2000, 500]);
  const r = train('--data', dir, '--epochs', '2', '--lr', '0.1', '--json');
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/2000 train, 500 test/);
  const epochs = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
  expect(epochs[1].test_acc).toBeGreaterThan(0.75);
});

test.each(['mlp', 'cnn'])('--model %s with images that are not 28×28: a clear message and exit code 2, before any training', async (model) => {
  const { train: trainSet, test: held } = await data.loadDigits('assets/generated/digits.bin.gz');
  const r = train('--model', model, '--data', writeIdx(trainSet, held, [64, 16], 32), '--epochs', '1');
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(new RegExp(`--data: the training images have 1024 pixels each; --model ${model} takes 28×28 \\(784\\)`));
  expect(r.stdout).toBe('');
});

test('--optimizer adam trains the MLP with lr 0.001 by default', () => {
  const r = train('--optimizer', 'adam', '--epochs', '1', '--json');
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/model mlp, batch 64, adam lr 0.001, 1 epochs/);
  expect(JSON.parse(r.stdout).test_acc).toBeGreaterThan(0.85);
});

test('--model cnn trains LeNet (SGD, lr 0.05, momentum 0.9 by default) and learns; --save writes its PyTorch state_dict', async () => {
  // 2,000 of the digits keep this test short (LeNet's direct convolutions are slow on a software
  // adapter); the full 3-epoch accuracy against PyTorch's is in the README.
  const { train: trainSet, test: held } = await data.loadDigits('assets/generated/digits.bin.gz');
  const file = join(mkdtempSync(join(tmpdir(), 'webgrad-save-')), 'lenet.safetensors');
  const r = trainWithin(600_000, ['--model', 'cnn', '--data', writeIdx(trainSet, held, [2000, 500]), '--epochs', '1', '--json', '--save', file]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/model cnn, batch 64, sgd lr 0.05, momentum 0.9, 1 epochs/);
  const epoch = JSON.parse(r.stdout);
  expect(epoch.test_acc).toBeGreaterThan(0.3); // far above chance (0.1) after 31 updates; 0.498 measured
  expect(epoch.samples_per_s).toBeGreaterThan(0);
  const saved = parseSafetensors(new Uint8Array(readFileSync(file)));
  expect([...saved.entries()].map(([n, t]) => [n, t.shape])).toEqual([
    ['conv1.weight', [6, 1, 5, 5]],
    ['conv1.bias', [6]],
    ['conv2.weight', [16, 6, 5, 5]],
    ['conv2.bias', [16]],
    ['fc1.weight', [120, 400]],
    ['fc1.bias', [120]],
    ['fc2.weight', [10, 120]],
    ['fc2.bias', [10]],
  ]);
}, 600_000);

test('npm run gradients: forward mode matches reverse mode; finite differences come close, at P-times the cost', () => {
  expect(existsSync('dist/gradients.js'), 'dist/gradients.js is missing: run `npm run build:lib`').toBe(true);
  const r = spawnSync(process.execPath, ['dist/gradients.js', '--samples', '8', '--json'], { encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).not.toMatch(DAWN_WARNING);
  const out = JSON.parse(r.stdout);
  expect(out.parameters).toBe(101_770);
  const [reverse, forwardMode, central, forward] = out.rows;
  expect(reverse.method).toBe('reverse-mode');
  expect(forwardMode.maxRelError).toBeLessThan(1e-4);
  expect(central.maxRelError).toBeLessThan(0.2);
  expect(forward.maxRelError).toBeLessThan(0.2);
  expect(central.passesForAll).toBe('203,540 forward');
});

const uniformWarning = 'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\n';
const storageWarning = 'Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 500000 to 16 to fit dynamic offset allocation limit.\n';
test.each([
  ['both warnings, then a line', `${uniformWarning}${storageWarning}webgrad: adapter x\n`, 'webgrad: adapter x\n'],
  ['a warning between lines', `a\n${uniformWarning}b\n`, 'a\nb\n'],
  ['a progress bar without a newline', '\repoch 1 [##....] 2/10 ', '\repoch 1 [##....] 2/10 '],
  ['another Dawn warning', 'Warning: something else.\n', 'Warning: something else.\n'],
  [
    'a warning about another limit',
    'Warning: maxBufferSize artificially reduced from 1 to 0 to fit dynamic offset allocation limit.\n',
    'Warning: maxBufferSize artificially reduced from 1 to 0 to fit dynamic offset allocation limit.\n',
  ],
])("the stderr filter drops only Dawn's dynamic-buffer warnings: %s", (_, text, kept) => {
  expect(dropDawnNoise(text)).toBe(kept);
});

test('--batch sgd (50 steps per submit) trains exactly as one eager step per sample, in the same order', async () => {
  const { train: trainSet, test: held } = await data.loadDigits('assets/generated/digits.bin.gz');
  // 130 samples: two calls of 50 steps and one of 30.
  const dir = writeIdx(trainSet, held, [130, 20]);
  const file = join(mkdtempSync(join(tmpdir(), 'webgrad-save-')), 'net.safetensors');
  const r = train('--data', dir, '--batch', 'sgd', '--epochs', '1', '--seed', '3', '--json', '--save', file);
  expect(r.code, r.stderr).toBe(0);
  const { train: samples } = await data.loadMnist(dir);
  manualSeed(3);
  const net = new Net();
  const opt = new optim.SGD(net.parameters(), { lr: 0.01 });
  for (const [x, y] of new data.DataLoader(samples, { batchSize: 1, shuffle: true, seed: 3 })) {
    opt.zeroGrad();
    nn.functional.crossEntropy(net.forward(x), y).backward();
    opt.step();
  }
  const saved = parseSafetensors(new Uint8Array(readFileSync(file)));
  for (const [name, p] of net.stateDict()) {
    // Bit for bit, counted (a diff of 100,000 numbers would take minutes to print).
    const want = new Uint32Array(Float32Array.from(await p.data()).buffer);
    const got = new Uint32Array(Float32Array.from(saved.get(name)!.data).buffer);
    expect(got.length, name).toBe(want.length);
    expect(want.filter((bits, i) => bits !== got[i]).length, `${name}: elements that differ`).toBe(0);
  }
});
