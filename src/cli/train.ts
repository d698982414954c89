// npm run train — trains the 784-128-10 MLP (or, with --model cnn, LeNet; cnn-bn, LeNetBN) on the GPU in Node, the
// way the reference PyTorch MNIST program does: zeroGrad / forward / loss / backward / step, as a
// captured step (recorded once, replayed on the GPU every batch). Uses only the public API.

import { accessSync, constants, type Stats, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { captureStep, data, init, manualSeed, models, nn, noGrad, optim, runtimeInfo, save, type Tensor, tidy, WebgradError } from '../index.js';
import { parseArgs, UsageError } from './args.js';
import { runsBehindDawnNoiseFilter, stderrIsTerminal } from './dawn_noise.js';
import { Net } from './seed_net.js';

const USAGE = `usage: npm run train -- [--model mlp|cnn|cnn-bn] [--data DIR] [--epochs N] [--lr X] [--batch B|full|sgd|minibatch]
                         [--optimizer sgd|adam|adamw] [--momentum M] [--seed S] [--save FILE] [--json]
  --model M     'mlp': the 784-128-10 MLP (default); 'cnn': LeNet (two 5×5 convolutions, each with ReLU
                and 2×2 max pooling, then linear 400-120, ReLU, linear 120-10); 'cnn-bn': LeNet with
                BatchNorm after each convolution and after the hidden linear layer (before the ReLU);
                evaluated with the running statistics; batches of at least 2
  --data DIR    MNIST IDX files (train-images-idx3-ubyte, ... each may end in .gz; 28×28 images); default: the embedded digits
  --epochs N    passes over the training set (default 5)
  --lr X        learning rate (default for SGD: 0.01 with mlp, as in the PyTorch program, 0.05 with cnn and cnn-bn;
                for Adam and AdamW: 0.001)
  --batch B     batch size: a number, 'full' (one update per epoch), 'sgd' (1) or 'minibatch' (64); default 64
  --optimizer O 'sgd' (default), 'adam' or 'adamw' (PyTorch's betas 0.9, 0.999; AdamW's weight decay 0.01)
  --momentum M  SGD momentum (default 0 with mlp, 0.9 with cnn and cnn-bn); SGD only
  --seed S      seed for the initial weights and the shuffling (default 0)
  --save FILE   write the trained weights as safetensors (PyTorch state_dict names)
  --json        one JSON object per epoch: {"epoch", "train_loss", "test_acc", "samples_per_s"}`;

type ModelName = 'mlp' | 'cnn' | 'cnn-bn';
type OptimizerName = 'sgd' | 'adam' | 'adamw';

/** The value of a --name option that takes one of a few words. */
function choice<T extends string>(name: string, value: unknown, choices: readonly T[]): T {
  if (value === undefined) return choices[0]!;
  if (!choices.includes(value as T)) {
    const quoted = choices.map((c) => `'${c}'`);
    throw new UsageError(`--${name} must be ${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}, got '${String(value)}'`);
  }
  return value as T;
}

/** Test accuracy in batches, without recording gradients, in eval mode (BatchNorm uses its running statistics). */
async function accuracy(model: nn.Module, test: data.Dataset): Promise<number> {
  model.eval();
  let correct = 0;
  const loader = new data.DataLoader(test, { batchSize: 1000, shuffle: false });
  for (const [x, y] of loader) {
    const predicted = tidy(() => noGrad(() => model.forward(x).argmax(-1)));
    const [p, labels] = await Promise.all([predicted.data(), y.data()]);
    predicted.dispose();
    for (let i = 0; i < p.length; i++) if (p[i] === labels[i]) correct++;
  }
  model.train();
  return correct / test.count;
}

/** Refuses a --save path that cannot be written, so that a long training run does not end in an error. */
function checkWritable(path: string): void {
  const refuse = (why: string): never => {
    throw new UsageError(`--save: cannot write '${path}': ${why}`);
  };
  const stats = (p: string): Stats | null => {
    try {
      return statSync(p);
    } catch {
      return null;
    }
  };
  const writable = (p: string): boolean => {
    try {
      accessSync(p, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  };
  const file = resolve(path);
  const existing = stats(file);
  if (existing?.isDirectory()) refuse('it is a directory');
  if (existing) {
    if (!writable(file)) refuse('permission denied');
    return;
  }
  const dir = dirname(file);
  const parent = stats(dir);
  if (!parent) refuse(`the directory '${dir}' does not exist`);
  if (!parent!.isDirectory()) refuse(`'${dir}' is not a directory`);
  if (!writable(dir)) refuse(`the directory '${dir}' is not writable`);
}

function bar(done: number, total: number, width = 30): string {
  const filled = Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), {
    model: 'string',
    data: 'string',
    save: 'string',
    optimizer: 'string',
    epochs: 'number',
    lr: 'number',
    batch: 'string',
    momentum: 'number',
    seed: 'number',
    json: 'flag',
    help: 'flag',
  });
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const modelName = choice<ModelName>('model', args.model, ['mlp', 'cnn', 'cnn-bn']);
  const convolutional = modelName !== 'mlp';
  const optimizerName = choice<OptimizerName>('optimizer', args.optimizer, ['sgd', 'adam', 'adamw']);
  // Adam and AdamW have betas, not momentum: a --momentum there would be silently ignored.
  if (optimizerName !== 'sgd' && args.momentum !== undefined) {
    throw new UsageError(
      `--momentum applies to --optimizer sgd only; ${optimizerName === 'adam' ? 'Adam' : 'AdamW'} has no momentum setting (it uses betas 0.9, 0.999)`,
    );
  }
  const epochs = (args.epochs as number | undefined) ?? 5;
  const lr = (args.lr as number | undefined) ?? (optimizerName !== 'sgd' ? 1e-3 : convolutional ? 0.05 : 0.01);
  const momentum = (args.momentum as number | undefined) ?? (convolutional ? 0.9 : 0);
  const seed = (args.seed as number | undefined) ?? 0;
  const json = args.json === true;
  const batchArg = (args.batch as string | undefined) ?? '64';
  if (!Number.isInteger(epochs) || epochs < 1) throw new UsageError(`--epochs must be a positive integer, got ${epochs}`);
  if (!(lr > 0)) throw new UsageError(`--lr must be positive, got ${lr}`);
  if (!(momentum >= 0 && momentum < 1)) throw new UsageError(`--momentum must be in [0, 1), got ${momentum}`);
  const batch: data.BatchSize = ['full', 'sgd', 'minibatch'].includes(batchArg) ? (batchArg as data.BatchSize) : Number(batchArg);
  if (typeof batch === 'number' && !(Number.isInteger(batch) && batch >= 1)) {
    throw new UsageError(`--batch must be a positive integer, 'full', 'sgd' or 'minibatch', got '${batchArg}'`);
  }
  // As PyTorch, BatchNorm in training needs more than one value per channel: no batches of 1.
  if (modelName === 'cnn-bn' && (batch === 'sgd' || batch === 1)) {
    throw new UsageError(`--model cnn-bn normalises over the batch and needs batches of at least 2, got --batch ${batchArg}`);
  }
  if (args.save !== undefined) checkWritable(String(args.save));

  const dataset = args.data ? await data.loadMnist(args.data as string) : await data.loadDigits();
  // Both models take 28×28 images; other sizes are refused before anything is trained.
  for (const [split, ds] of [
    ['training', dataset.train],
    ['test', dataset.test],
  ] as const) {
    if (ds.features !== 784) throw new UsageError(`--data: the ${split} images have ${ds.features} pixels each; --model ${modelName} takes 28×28 (784)`);
  }
  await init();
  const info = runtimeInfo();
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  log(`webgrad: adapter ${info.adapter.vendor} ${info.adapter.architecture} (${info.adapter.description || info.adapter.device})`);
  log(
    `data: ${dataset.train.count} train, ${dataset.test.count} test (${args.data ? String(args.data) : 'embedded digits'}); ` +
      `model ${modelName}, batch ${batch}, ${optimizerName} lr ${lr}${optimizerName === 'sgd' ? `, momentum ${momentum}` : ''}, ${epochs} epochs`,
  );

  manualSeed(seed);
  const model = modelName === 'cnn' ? new models.LeNet() : modelName === 'cnn-bn' ? new models.LeNetBN() : new Net();
  const optimizer =
    optimizerName === 'adam'
      ? new optim.Adam(model.parameters(), { lr })
      : optimizerName === 'adamw'
        ? new optim.AdamW(model.parameters(), { lr })
        : new optim.SGD(model.parameters(), { lr, momentum });
  // At batch 1 the per-step host cost (a call, a submit) is a large share of a step: the loader then
  // yields 50 samples at a time (the same samples in the same order) and 50 steps run in one submit.
  const batchSize = new data.DataLoader(dataset.train, { batchSize: batch }).batchSize;
  const perSample = batchSize === 1;
  const stepsPerCall = perSample ? 50 : 1;
  // A last batch of one sample cannot be batch-normalised: LeNetBN's epochs drop it (PyTorch would fail on it).
  const dropLast = modelName === 'cnn-bn' && dataset.train.count % batchSize === 1 && dataset.train.count > 1;
  const loader = new data.DataLoader(dataset.train, { batchSize: perSample ? stepsPerCall : batch, shuffle: true, seed, dropLast });
  const stepsPerEpoch = perSample ? dataset.train.count : loader.length;
  const tty = stderrIsTerminal();

  // The training step. captureStep records it once per batch shape and replays it afterwards.
  const trainStep = captureStep((x: Tensor, y: Tensor) => {
    optimizer.zeroGrad();
    const outputs = model.forward(x);
    const loss = nn.functional.crossEntropy(outputs, y);
    loss.backward();
    optimizer.step();
    return loss;
  });

  for (let epoch = 1; epoch <= epochs; epoch++) {
    const start = performance.now();
    // The epoch's losses are summed on the GPU, 50 at a time, and read once at the end: no step
    // waits for the GPU.
    let lossSum: Tensor | null = null;
    let pending: Tensor[] = [];
    const fold = (): Tensor | null => {
      if (pending.length === 0) return lossSum;
      const total = tidy(() => pending.reduce((a, b) => a.add(b), lossSum ?? pending[0]!.mul(0)));
      pending.forEach((t) => t.dispose());
      lossSum?.dispose();
      pending = [];
      return total;
    };
    let step = 0;
    let samples = 0;
    let lastShown = 0;
    for (const [x, y] of loader) {
      const n = x.shape[0]!;
      if (perSample) {
        const losses = trainStep.many(x.reshape([n, 1, x.shape[1]!]), y.reshape([n, 1]));
        pending.push(losses.sum());
        losses.dispose();
      } else {
        pending.push(trainStep(x, y));
      }
      samples += n;
      if (pending.length >= 50) lossSum = fold();
      step += perSample ? n : 1;
      const now = performance.now();
      if (tty && (now - lastShown > 250 || step === stepsPerEpoch)) {
        lastShown = now;
        lossSum = fold()!;
        const rate = samples / ((now - start) / 1000);
        const shown = lossSum.detach();
        // The sum covers the steps taken so far; the line is written when the value arrives, later.
        const stepsInSum = step;
        void shown
          .item()
          .then((v) => {
            process.stderr.write(
              `\repoch ${epoch} ${bar(stepsInSum, stepsPerEpoch)} ${stepsInSum}/${stepsPerEpoch} loss ${(v / stepsInSum).toFixed(4)} ${rate.toFixed(0)} samples/s `,
            );
          })
          .catch(() => undefined)
          .finally(() => shown.dispose());
      }
    }
    if (pending.length > 0) lossSum = fold();
    const trainLoss = (await lossSum!.item()) / step;
    lossSum!.dispose();
    const seconds = (performance.now() - start) / 1000;
    const samplesPerS = samples / seconds;
    const testAcc = await accuracy(model, dataset.test);
    if (tty) process.stderr.write('\r\x1b[K');
    if (json) {
      console.log(JSON.stringify({ epoch, train_loss: trainLoss, test_acc: testAcc, samples_per_s: samplesPerS }));
    } else {
      console.log(
        `epoch ${epoch}/${epochs}  train loss ${trainLoss.toFixed(4)}  test accuracy ${(testAcc * 100).toFixed(2)}%  ${samplesPerS.toFixed(0)} samples/s`,
      );
    }
  }
  if (args.save) {
    writeFileSync(args.save as string, await save(model));
    log(`saved the weights to ${String(args.save)} (safetensors; load them with webgrad's load() or PyTorch's load_state_dict)`);
  }
}

if (runsBehindDawnNoiseFilter())
  main().catch((err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    if (err instanceof WebgradError) {
      console.error(`error: ${err.message}`);
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  });
