// npm run train:names — trains the names GPT (src/models/gpt.ts) on the embedded English first
// names in Node on the GPU: AdamW with gradient clipping, as a captured step. Prints the training
// and validation loss as it goes, the final validation loss next to a count-based bigram model's,
// the speed, and ten sampled names. Uses only the public API.

import { captureStep, data, Generator, init, models, nn, noGrad, optim, runtimeInfo, type Tensor, tensor, tidy, WebgradError } from '../index.js';
import { parseArgs, UsageError } from './args.js';
import { runsBehindDawnNoiseFilter } from './dawn_noise.js';

const USAGE = `usage: npm run train:names -- [--steps N] [--lr X] [--batch B] [--seed S] [--log-every K] [--json]
  --steps N      optimizer steps (default 2000)
  --lr X         AdamW learning rate (default 0.001; weight decay 0.01, gradients clipped to norm 1)
  --batch B      names per step (default 32)
  --seed S       seed for the initial weights, the batches and the samples (default 0)
  --log-every K  print the training and validation loss every K steps (default 200)
  --json         one JSON object at the end instead: {"steps", "train_loss", "val_loss",
                 "bigram_val_loss", "steps_per_s", "samples", "history"}`;

const positiveInteger = (name: string, value: number): number => {
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${name} must be a positive integer, got ${value}`);
  return value;
};

/** Mean loss over all windows of `windows`, without recording gradients (one readback). */
async function evaluate(model: models.NamesGPT, windows: data.NameWindows): Promise<number> {
  const shape = [windows.count, windows.context];
  model.eval();
  const loss = tidy(() =>
    noGrad(() => {
      const x = tensor(windows.x, { shape, dtype: 'int32' });
      const y = tensor(windows.y, { shape, dtype: 'int32' });
      return models.NamesGPT.loss(model.forward(x), y);
    }),
  );
  model.train();
  const value = await loss.item();
  loss.dispose();
  return value;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), {
    steps: 'number',
    lr: 'number',
    batch: 'number',
    seed: 'number',
    'log-every': 'number',
    json: 'flag',
    help: 'flag',
  });
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const steps = positiveInteger('steps', (args.steps as number | undefined) ?? 2000);
  const batch = positiveInteger('batch', (args.batch as number | undefined) ?? 32);
  const logEvery = positiveInteger('log-every', (args['log-every'] as number | undefined) ?? 200);
  const lr = (args.lr as number | undefined) ?? 1e-3;
  const seed = (args.seed as number | undefined) ?? 0;
  const json = args.json === true;
  if (!(lr > 0)) throw new UsageError(`--lr must be positive, got ${lr}`);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer, got ${seed}`);

  const names = await data.loadNames();
  await init();
  const info = runtimeInfo();
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const model = new models.NamesGPT({ vocabSize: data.NAMES_VOCABULARY.length }, { seed });
  const { context, layers, dModel, heads } = model.config;
  const parameterCount = model.parameters().reduce((n, p) => n + p.size, 0);
  log(`webgrad: adapter ${info.adapter.vendor} ${info.adapter.architecture} (${info.adapter.description || info.adapter.device})`);
  log(
    `data: ${names.train.length} training names, ${names.validation.length} validation; NamesGPT ${layers} blocks, d ${dModel}, ${heads} heads, ` +
      `context ${context} (${parameterCount} parameters); batch ${batch}, lr ${lr}, ${steps} steps`,
  );

  const optimizer = new optim.AdamW(model.parameters(), { lr, weightDecay: 0.01 });
  const batches = new data.NameBatches(names.train, batch, context, new Generator(seed));
  const validation = data.nameWindows(names.validation, context);
  const trainStep = captureStep((x: Tensor, y: Tensor) => {
    optimizer.zeroGrad();
    const loss = models.NamesGPT.loss(model.forward(x), y);
    loss.backward();
    nn.utils.clipGradNorm(model.parameters(), 1.0);
    optimizer.step();
    return loss;
  });

  const history: { step: number; train_loss: number; val_loss: number }[] = [];
  let trainSeconds = 0;
  // The interval's losses are summed on the GPU and read once per report: no step waits for the GPU.
  let pending: Tensor[] = [];
  let trainLoss = Number.NaN;
  let batchTensors: Tensor[] = [];
  for (let step = 1; step <= steps; step++) {
    const start = performance.now();
    // The previous batch is released once the next one is made, as a DataLoader does.
    batchTensors.forEach((t) => t.dispose());
    batchTensors = batches.next();
    pending.push(trainStep(batchTensors[0]!, batchTensors[1]!));
    if (step % logEvery === 0 || step === steps) {
      const total = tidy(() => pending.reduce((a, b) => a.add(b)));
      trainLoss = (await total.item()) / pending.length;
      total.dispose();
      pending.forEach((t) => t.dispose());
      pending = [];
      trainSeconds += (performance.now() - start) / 1000;
      const valLoss = await evaluate(model, validation);
      history.push({ step, train_loss: trainLoss, val_loss: valLoss });
      if (!json)
        console.log(`step ${step}/${steps}  train loss ${trainLoss.toFixed(4)}  val loss ${valLoss.toFixed(4)}  ${(step / trainSeconds).toFixed(1)} steps/s`);
    } else {
      trainSeconds += (performance.now() - start) / 1000;
    }
  }
  const valLoss = history.at(-1)!.val_loss;
  const bigram = data.bigramLoss(names.train, validation);
  const samples = (await model.generate(10, { temperature: 0.8, seed })).map((tokens) => data.decodeName(tokens));
  const stepsPerS = steps / trainSeconds;
  if (json) {
    console.log(JSON.stringify({ steps, train_loss: trainLoss, val_loss: valLoss, bigram_val_loss: bigram, steps_per_s: stepsPerS, samples, history }));
    return;
  }
  console.log(`final val loss ${valLoss.toFixed(4)} (bigram model, add-one smoothing: ${bigram.toFixed(4)}); ${stepsPerS.toFixed(1)} steps/s`);
  console.log(`samples (temperature 0.8): ${samples.join(', ')}`);
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
