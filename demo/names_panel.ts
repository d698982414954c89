// The names panel: a small GPT (models.NamesGPT) learns to make up first names on the GPU, with
// webgrad's public API only — AdamW and gradient clipping in a captured step, as `npm run
// train:names` does — while the page draws its loss and samples ten names as it learns.
import { type CapturedStep, captureStep, data, Generator, models, nn, noGrad, onDeviceLost, optim, type Tensor, tensor, tidy } from '../src/index.js';
import { SeriesChart } from './charts.js';
import { type NamesFields, type NamesSettings, readNamesSettings, readTemperature } from './names_settings.js';
import { readSeed, SettingsError } from './settings.js';

type NamesState = 'waiting' | 'loading' | 'idle' | 'training' | 'paused' | 'done' | 'diverged' | 'lost' | 'error';

/** Steps between refreshed samples, and between validation losses. */
const SAMPLE_EVERY = 100;
const VALIDATE_EVERY = 250;
const SAMPLE_COUNT = 10;

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const ui = {
  status: $('names-status'),
  note: $('names-note'),
  lockNote: $('names-lock-note'),
  train: $<HTMLButtonElement>('names-train'),
  pause: $<HTMLButtonElement>('names-pause'),
  reset: $<HTMLButtonElement>('names-reset'),
  bar: $('names-progress-bar'),
  progress: $('names-progress-text'),
  valLoss: $('names-val-loss'),
  bigram: $('names-bigram'),
  rate: $('names-steps-per-s'),
  steps: $('names-step-count'),
  samples: $('names-samples'),
};
const fields: NamesFields = {
  steps: $<HTMLInputElement>('names-steps'),
  lr: $<HTMLInputElement>('names-lr'),
  batch: $<HTMLInputElement>('names-batch'),
  seed: $<HTMLInputElement>('names-seed'),
  temperature: $<HTMLInputElement>('names-temperature'),
};
const chart = new SeriesChart($('names-loss-chart'), 'step', 'loss', [
  { label: 'train', stroke: '#3656d6' },
  { label: 'validation', stroke: '#d4730f', points: true },
  { label: 'bigram model (validation)', stroke: '#667085', dash: [6, 4] },
]);

let state: NamesState = 'waiting';
let gpuIsReady = false;
let loading: Promise<void> | null = null;
let names: data.NamesSplit | null = null;
/** The validation names as one batch of windows, kept on the GPU. */
let validation: [Tensor, Tensor] | null = null;
let bigram = Number.NaN;
let model: models.NamesGPT | null = null;
let modelSeed = 0;
let optimizer: optim.AdamW | null = null;
let trainStep: CapturedStep<[Tensor, Tensor], Tensor> | null = null;
let batches: data.NameBatches | null = null;
/** The settings of the run in progress; temperature may change live. */
let run: NamesSettings | null = null;
let stepsDone = 0;
let runToken = 0;
let resume: (() => void) | null = null;
/** Samples or a validation loss being computed outside a run: a run waits for them. */
let viewsPending: Promise<void> = Promise.resolve();
/** Settles when the last training loop has returned. */
let loopDone: Promise<void> = Promise.resolve();
let lastSamples: string[] = [];

function setState(next: NamesState, text?: string): void {
  state = next;
  ui.status.textContent = text ?? next;
  const running = next === 'training' || next === 'paused';
  ui.train.disabled = !(next === 'idle' || next === 'done');
  ui.train.textContent = next === 'done' ? 'Train more' : 'Train';
  ui.pause.disabled = !running;
  ui.pause.textContent = next === 'paused' ? 'Resume' : 'Pause';
  ui.reset.disabled = !['idle', 'training', 'paused', 'done', 'diverged', 'error'].includes(next);
  // What shapes the run is refused, visibly, while it runs; the temperature applies at the next samples.
  for (const el of [fields.steps, fields.lr, fields.batch, fields.seed]) el.disabled = running;
  ui.lockNote.textContent = running
    ? 'Steps, learning rate, batch and seed are locked while training (Reset to change them); the temperature applies at the next samples.'
    : '';
}

function say(text: string): void {
  ui.note.textContent = text;
}

/** Loads the names (once) when the panel is first shown on a working GPU. */
function ensureLoaded(): Promise<void> {
  if (!gpuIsReady) return Promise.resolve();
  loading ??= (async () => {
    setState('loading', 'loading the names…');
    names = await data.loadNames(new URL('/names.txt.gz', location.href));
    const windows = data.nameWindows(names.validation, models.NAMES_GPT_DEFAULTS.context);
    const shape = [windows.count, windows.context];
    validation = [tensor(windows.x, { shape, dtype: 'int32' }), tensor(windows.y, { shape, dtype: 'int32' })];
    bigram = data.bigramLoss(names.train, windows);
    ui.bigram.textContent = bigram.toFixed(3);
    reset();
  })().catch(fail);
  return loading;
}

/** Fresh initial weights from `seed`; the previous model's parameters and step are released. */
function newModel(seed: number): void {
  trainStep?.dispose();
  trainStep = null;
  // Released once the last run and samples of the old model have stopped using it; its optimizer
  // state goes with the optimizer (garbage-collected).
  const old = model;
  void Promise.allSettled([viewsPending, loopDone]).then(() => {
    for (const p of old?.parameters() ?? []) {
      p.grad?.dispose();
      p.dispose();
    }
  });
  model = new models.NamesGPT({ vocabSize: data.NAMES_VOCABULARY.length }, { seed });
  modelSeed = seed;
  optimizer = null;
  batches = null;
}

/** The validation loss of the model as it is now, or NaN if it is not a finite number. */
async function validationLoss(): Promise<number> {
  const [x, y] = validation!;
  const net = model!;
  net.eval();
  const loss = tidy(() => noGrad(() => models.NamesGPT.loss(net.forward(x), y)));
  net.train();
  const value = await loss.item();
  loss.dispose();
  return value;
}

/** The temperature as typed now; an invalid entry is refused with the rule and the last valid one kept. */
let temperature = 0.8;
function currentTemperature(): number {
  try {
    temperature = readTemperature(fields.temperature.value);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    say(`${err.message} Sampling at temperature ${temperature} meanwhile.`);
  }
  return temperature;
}

/** Ten names from the model, drawn with the same random numbers each time so that only the model changes them. */
async function showSamples(): Promise<void> {
  const tokens = await model!.generate(SAMPLE_COUNT, { temperature: currentTemperature(), seed: modelSeed });
  lastSamples = tokens.map((t) => data.decodeName(t));
  ui.samples.replaceChildren(
    ...lastSamples.map((name) => {
      const li = document.createElement('li');
      if (name === '') {
        li.className = 'empty';
        li.textContent = '(empty)';
      } else li.textContent = name[0]!.toUpperCase() + name.slice(1);
      return li;
    }),
  );
}

function diverged(what: string): void {
  runToken++;
  setState('diverged', 'stopped: training diverged');
  say(`Training stopped after step ${stepsDone}: ${what}. The learning rate (${run?.lr}) is probably too large; press Reset and try a smaller one.`);
}

function fail(err: unknown): void {
  console.error(err);
  runToken++;
  setState('error', `error: ${(err as Error).message ?? String(err)}`);
}

/** The captured AdamW step with gradient clipping, as `npm run train:names` records it. */
function makeTrainStep(net: models.NamesGPT, opt: optim.AdamW): CapturedStep<[Tensor, Tensor], Tensor> {
  return captureStep((x: Tensor, y: Tensor) => {
    opt.zeroGrad();
    const loss = models.NamesGPT.loss(net.forward(x), y);
    loss.backward();
    nn.utils.clipGradNorm(net.parameters(), 1.0);
    opt.step();
    return loss;
  });
}

async function trainLoop(token: number): Promise<void> {
  const settings = run!;
  const target = stepsDone + settings.steps;
  const firstStep = stepsDone;
  let pending: Tensor[] = [];
  let batch: Tensor[] = [];
  let trainSeconds = 0;
  try {
    await viewsPending;
    if (token !== runToken) return;
    optimizer ??= new optim.AdamW(model!.parameters(), { lr: settings.lr, weightDecay: 0.01 });
    optimizer.lr = settings.lr;
    trainStep ??= makeTrainStep(model!, optimizer);
    // A changed batch size draws from a new stream; the captured step records the new shapes once.
    if (batches?.batchSize !== settings.batch) {
      batches = new data.NameBatches(names!.train, settings.batch, model!.config.context, new Generator(settings.seed + stepsDone));
    }
    let firstLoss: number | undefined;
    let windowStart = performance.now();
    while (stepsDone < target) {
      if (state === 'paused') {
        await new Promise<void>((r) => (resume = r));
        windowStart = performance.now();
      }
      if (token !== runToken) return;
      // The previous batch is released once the next one is made, as a DataLoader does.
      batch.forEach((t) => t.dispose());
      batch = batches.next();
      pending.push(trainStep(batch[0]!, batch[1]!));
      stepsDone++;
      const sampleNow = stepsDone % SAMPLE_EVERY === 0 || stepsDone === target;
      const validateNow = stepsDone % VALIDATE_EVERY === 0 || stepsDone === target;
      if (pending.length < 10 && performance.now() - windowStart < 500 && !sampleNow && !validateNow) continue;
      // One readback per window of steps: the losses are summed on the GPU.
      const total = tidy(() => pending.reduce((a, b) => a.add(b)));
      const mean = (await total.item()) / pending.length;
      total.dispose();
      pending.forEach((t) => t.dispose());
      pending = [];
      if (token !== runToken) return;
      trainSeconds += (performance.now() - windowStart) / 1000;
      if (!Number.isFinite(mean)) return diverged(`the training loss became ${mean}`);
      firstLoss ??= mean;
      if (mean > 1000 * Math.max(1, firstLoss)) return diverged(`the loss grew from ${firstLoss.toPrecision(4)} to ${mean.toPrecision(4)}`);
      const val = validateNow ? await validationLoss() : null;
      if (token !== runToken) return;
      if (val !== null && !Number.isFinite(val)) return diverged(`the validation loss became ${val}`);
      chart.push(stepsDone, [mean, val, bigram]);
      if (val !== null) ui.valLoss.textContent = val.toFixed(3);
      ui.rate.textContent = ((stepsDone - firstStep) / trainSeconds).toFixed(1);
      ui.steps.textContent = String(stepsDone);
      ui.bar.style.width = `${(100 * (stepsDone - firstStep)) / settings.steps}%`;
      ui.progress.textContent = `step ${stepsDone - firstStep}/${settings.steps} · train loss ${mean.toFixed(4)}`;
      if (sampleNow) await showSamples();
      if (token !== runToken) return;
      windowStart = performance.now();
    }
    console.log(`[webgrad] names: ${settings.steps} steps at ${ui.rate.textContent} steps/s; samples ${lastSamples.join(', ')}`);
    setState('done', `done: ${stepsDone} steps`);
  } catch (err) {
    if (token === runToken && state !== 'lost') fail(err);
  } finally {
    batch.forEach((t) => t.dispose());
    pending.forEach((t) => t.dispose());
  }
}

function start(): void {
  let settings: NamesSettings;
  try {
    settings = readNamesSettings(fields);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    say(err.message);
    return;
  }
  const continuing = state === 'done';
  // The seed shown is the seed used: untrained weights are drawn again with a changed seed.
  if (stepsDone === 0 && settings.seed !== modelSeed) {
    newModel(settings.seed);
    viewsPending = refreshViews().catch(fail);
  }
  run = settings;
  temperature = settings.temperature;
  say(
    continuing
      ? `Continuing from the trained weights for ${settings.steps} more steps (Reset starts again from new weights).`
      : `Training from initial weights drawn with seed ${modelSeed}.`,
  );
  setState('training', 'training');
  loopDone = trainLoop(++runToken);
}

/** The untrained model's samples and validation loss (the chart's first point). */
async function refreshViews(): Promise<void> {
  const net = model;
  await showSamples();
  const val = await validationLoss();
  if (net !== model || stepsDone !== 0) return;
  chart.clear();
  chart.push(0, [null, val, bigram]);
  ui.valLoss.textContent = val.toFixed(3);
}

/** New initial weights from the seed typed now (refused, with the rule, if it is not valid); clears the run's figures. */
function reset(): void {
  let seed: number;
  try {
    seed = readSeed(fields.seed.value);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    say(err.message);
    return;
  }
  runToken++;
  resume?.();
  resume = null;
  run = null;
  stepsDone = 0;
  chart.clear();
  for (const el of [ui.valLoss, ui.rate]) el.textContent = '–';
  ui.steps.textContent = '0';
  ui.bar.style.width = '0';
  ui.progress.textContent = '\u00a0';
  newModel(seed);
  say(`New initial weights drawn with seed ${seed}.`);
  setState('idle', 'ready');
  viewsPending = refreshViews().catch(fail);
}

ui.train.addEventListener('click', start);
ui.pause.addEventListener('click', () => {
  if (state === 'training') setState('paused', 'paused');
  else if (state === 'paused') {
    setState('training', 'training');
    resume?.();
    resume = null;
  }
});
ui.reset.addEventListener('click', reset);

/** The names panel as the page's start-up and model choice see it. */
export const namesPanel = {
  /** WebGPU works: the panel may load its data when it is shown. */
  gpuReady(): void {
    gpuIsReady = true;
    setState('waiting', 'ready to load the names');
    onDeviceLost((info) => {
      if (state === 'waiting') return;
      runToken++;
      setState('lost', 'GPU device lost');
      say(`The GPU device was lost (${info.reason || 'unknown'}); reload the page to train the names model again.`);
    });
  },
  /** The panel is shown: its data loads the first time. */
  show: (): Promise<void> => ensureLoaded(),
  /** Pauses a run that is training (as its Pause button does); returns whether it did. */
  pause(): boolean {
    if (state !== 'training') return false;
    setState('paused', 'paused');
    return true;
  },
};

// For tests: the state, the loss curves and the samples shown.
(window as unknown as { webgradNames: unknown }).webgradNames = {
  state: () => state,
  losses: () => chart.points(),
  samples: () => [...lastSamples],
};
