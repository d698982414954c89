// The demo page: trains the seed network (784-128-10) on the GPU with webgrad's public API only
// (and the library's duration formatter for the gradient table, which is not public API).
import './style.css';
import { formatDuration } from '../src/gradient_methods.js';
import {
  type CapturedStep,
  captureStep,
  compareGradientMethods,
  data,
  getDevice,
  init,
  load,
  manualSeed,
  nn,
  noGrad,
  onDeviceLost,
  optim,
  runtimeInfo,
  save,
  sync,
  type Tensor,
  tensor,
  tidy,
  tuneMatmul,
  WebgradError,
} from '../src/index.js';
import { LineChart } from './charts.js';
import { DrawPad } from './draw.js';
import { readEpochs, readLr, readMomentum, readSeed, readSettings, type Settings, SettingsError } from './settings.js';
import { drawDigit, renderConfusion, renderDigits, renderProbabilities, renderWeights, softmax } from './views.js';

/** The seed's network. */
class Net extends nn.Module {
  fc1 = new nn.Linear(784, 128);
  relu = new nn.ReLU();
  fc2 = new nn.Linear(128, 10);
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.relu.forward(this.fc1.forward(x)));
  }
}

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const ui = {
  status: $('status'),
  adapter: $('adapter'),
  fatal: $('fatal'),
  warning: $('warning'),
  variant: $<HTMLSelectElement>('variant'),
  batch: $<HTMLInputElement>('batch-size'),
  lr: $<HTMLInputElement>('lr'),
  momentum: $<HTMLInputElement>('momentum'),
  epochs: $<HTMLInputElement>('epochs'),
  seed: $<HTMLInputElement>('seed'),
  note: $('settings-note'),
  lockNote: $('lock-note'),
  train: $<HTMLButtonElement>('train'),
  pause: $<HTMLButtonElement>('pause'),
  reset: $<HTMLButtonElement>('reset'),
  bar: $('progress-bar'),
  progress: $('progress-text'),
  dropzone: $('dropzone'),
  files: $<HTMLInputElement>('files'),
  pickFiles: $<HTMLButtonElement>('pick-files'),
  source: $('data-source'),
  accuracy: $('test-accuracy'),
  rate: $('samples-per-s'),
  msPerStep: $('ms-per-step'),
  steps: $('step-count'),
  digits: $('digits'),
  confusion: $('confusion'),
  weights: $<HTMLCanvasElement>('weights'),
  prediction: $('prediction'),
  probabilities: $('probabilities'),
  preview: $<HTMLCanvasElement>('draw-preview'),
  compare: $<HTMLButtonElement>('compare-gradients'),
  gradients: $('gradients-table'),
  optimizer: $<HTMLSelectElement>('optimizer'),
  download: $<HTMLButtonElement>('download-weights'),
  loadWeights: $<HTMLInputElement>('load-weights'),
  loadWeightsButton: $<HTMLButtonElement>('load-weights-button'),
};
const fields = { variant: ui.variant, batch: ui.batch, optimizer: ui.optimizer, lr: ui.lr, momentum: ui.momentum, epochs: ui.epochs, seed: ui.seed };

type State = 'loading' | 'idle' | 'training' | 'paused' | 'done' | 'diverged' | 'lost' | 'error';
let state: State = 'loading';
let dataset: data.TrainTest;
let model: Net | null = null;
/** The seed the current initial weights were drawn with, and whether they were trained or loaded since. */
let modelSeed = 0;
let weightsOrigin: 'initial' | 'trained' | 'loaded' = 'initial';
/** The settings of the run in progress (lr, momentum and epochs may change live). */
let run: Settings | null = null;
/** Epochs done when this run started: "Epochs" counts from there. */
let runStartEpoch = 0;
let comparing = false;
let optimizer: optim.SGD | optim.Adam | null = null;
/** The training step of this model and optimizer, recorded once and replayed each batch. */
let trainStep: CapturedStep<[Tensor, Tensor], Tensor> | null = null;
let trainStepOwner: optim.SGD | optim.Adam | null = null;
/** The weights last read back to the page, for continuing after a lost device. */
let snapshot: Float32Array[] | null = null;
let epochsDone = 0;
let updates = 0;
let runToken = 0;
let resume: (() => void) | null = null;
const lossChart = new LineChart($('loss-chart'), 'update', 'loss');
const accChart = new LineChart($('acc-chart'), 'epoch', 'accuracy', { yRange: [0, 1], points: true, integerX: true });

function setState(next: State, text?: string): void {
  state = next;
  ui.status.textContent = text ?? next;
  const running = next === 'training' || next === 'paused';
  ui.train.disabled = !(next === 'idle' || next === 'done') || comparing;
  ui.train.textContent = next === 'done' ? 'Train more' : 'Train';
  ui.pause.disabled = !running;
  ui.pause.textContent = next === 'paused' ? 'Resume' : 'Pause';
  ui.reset.disabled = next === 'loading' || comparing;
  // Settings that shape the run are refused, visibly, while it runs; lr, momentum and epochs apply live.
  for (const el of [ui.variant, ui.seed, ui.files, ui.pickFiles, ui.optimizer, ui.loadWeights, ui.loadWeightsButton]) el.disabled = running || comparing;
  ui.batch.disabled = running || ui.variant.value !== 'minibatch';
  ui.momentum.disabled = ui.optimizer.value !== 'sgd';
  ui.dropzone.classList.toggle('locked', running);
  ui.dropzone.setAttribute('aria-disabled', String(running));
  ui.compare.disabled = comparing || !(next === 'idle' || next === 'done' || next === 'paused');
  ui.lockNote.textContent = running
    ? 'Variant, batch size, optimizer, seed, data and loading weights are locked while training (Reset to change them); learning rate, momentum and epochs apply at the next step.'
    : '';
}

/** The batch field follows the variant: the training set's size for full batch, 1 for stochastic. */
let lastVariant = 'minibatch';
function syncBatchField(): void {
  if (ui.variant.value === 'full') ui.batch.value = String(dataset?.train.count ?? 8000);
  else if (ui.variant.value === 'sgd') ui.batch.value = '1';
  // Back to mini-batch: the page's own value is replaced; a size the user typed is kept (and checked at Train).
  else if (lastVariant !== 'minibatch') ui.batch.value = '64';
  lastVariant = ui.variant.value;
  ui.batch.disabled = ui.variant.value !== 'minibatch' || state === 'training' || state === 'paused';
}

/** A message under the form: 'error' for what was refused, 'info' for what happened. */
function say(text: string): void {
  ui.note.textContent = text;
}

/** Fresh initial weights drawn with `seed` (PyTorch's initialisation), and no optimizer state. */
function newModel(seed: number): void {
  model = null;
  optimizer = null;
  manualSeed(seed);
  model = new Net();
  modelSeed = seed;
  weightsOrigin = 'initial';
}

const allFinite = (arrays: Float32Array[]): boolean => arrays.every((a) => a.every(Number.isFinite));

async function readWeights(): Promise<Float32Array[]> {
  return Promise.all(model!.parameters().map(async (p) => Float32Array.from(await p.data())));
}

async function evaluate(): Promise<number> {
  const { test } = dataset;
  const predicted = new Int32Array(test.count);
  for (let start = 0; start < test.count; start += 1000) {
    const n = Math.min(1000, test.count - start);
    const x = tensor(test.images.subarray(start * 784, (start + n) * 784), { shape: [n, 784] });
    const p = tidy(() => noGrad(() => model!.forward(x).argmax(-1)));
    predicted.set(await p.data(), start);
    x.dispose();
    p.dispose();
  }
  const confusion = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
  let correct = 0;
  for (let i = 0; i < test.count; i++) {
    confusion[test.labels[i]!]![predicted[i]!]!++;
    if (predicted[i] === test.labels[i]) correct++;
  }
  const weights = await readWeights();
  if (!allFinite(weights)) return NaN; // the caller stops the run and says why
  renderConfusion(ui.confusion, confusion);
  renderDigits(ui.digits, test.images, test.labels, predicted, 60);
  snapshot = weights;
  renderWeights(ui.weights, snapshot[0]!, 128);
  return correct / test.count;
}

/** Stops a run whose loss or weights stopped being finite numbers, and says so. */
function diverged(what: string): void {
  runToken++;
  setState('diverged', 'stopped: training diverged');
  ui.warning.hidden = false;
  ui.warning.textContent =
    `Training stopped after update ${updates}: ${what}. The learning rate (${run?.lr ?? ui.lr.value}) is probably too large for ` +
    `${ui.optimizer.selectedOptions[0]?.text ?? 'this optimizer'}; press Reset and try a smaller one.`;
}

/** "Epochs" as typed now, counted from the run's start; an invalid entry keeps the last valid count. */
function targetEpochs(): number {
  try {
    run!.epochs = readEpochs(ui.epochs.value);
  } catch (err) {
    if (err instanceof SettingsError) say(`${err.message} Still training for ${run!.epochs}.`);
  }
  return runStartEpoch + run!.epochs;
}

async function trainLoop(token: number): Promise<void> {
  const settings = run!;
  const loader = new data.DataLoader(dataset.train, {
    batchSize: settings.variant === 'minibatch' ? settings.batch : settings.variant,
    shuffle: true,
    seed: settings.seed + epochsDone,
  });
  optimizer ??= makeOptimizer();
  if (trainStepOwner !== optimizer) {
    trainStep?.dispose();
    const [net, opt] = [model!, optimizer];
    trainStep = captureStep((x: Tensor, y: Tensor) => {
      opt.zeroGrad();
      const loss = nn.functional.crossEntropy(net.forward(x), y);
      loss.backward();
      opt.step();
      return loss;
    });
    trainStepOwner = optimizer;
  }
  const runStep = trainStep!;
  try {
    let firstLoss: number | undefined; // the run's first chart point, for spotting divergence
    for (let epoch = epochsDone + 1; epoch <= targetEpochs(); epoch++) {
      const epochStart = performance.now();
      let windowStart = epochStart;
      let windowSteps = 0;
      // The window's losses: summed on the GPU and read once per chart point.
      let windowLosses: Tensor[] = [];
      let step = 0;
      // About 25 chart points an epoch: the loop records steps far faster than the GPU runs them,
      // so a point is read every few steps (a readback that also keeps the GPU queue short).
      const stepsPerPoint = Math.max(1, Math.round(loader.length / 25));
      for (const [x, y] of loader) {
        if (token !== runToken) return;
        if (state === 'paused') {
          await new Promise<void>((r) => (resume = r));
          if (token !== runToken) return;
          windowStart = performance.now();
        }
        applyLiveSettings();
        windowLosses.push(runStep(x, y));
        step++;
        windowSteps++;
        updates++;
        weightsOrigin = 'trained';
        const now = performance.now();
        if (windowSteps >= stepsPerPoint || now - windowStart > 500 || step === loader.length) {
          // One readback per window: it also keeps the GPU queue short and lets the page breathe.
          const losses = windowLosses;
          windowLosses = [];
          const sum = tidy(() => losses.reduce((a, b) => a.add(b)));
          const mean = (await sum.item()) / windowSteps;
          sum.dispose();
          losses.forEach((t) => t.dispose());
          if (token !== runToken) return;
          if (!Number.isFinite(mean)) return diverged(`the loss became ${mean}`);
          // A loss a thousand times its first value has left any useful region (finite or not).
          firstLoss ??= mean;
          if (mean > 1000 * Math.max(1, firstLoss)) return diverged(`the loss grew from ${firstLoss.toPrecision(4)} to ${mean.toPrecision(4)}`);
          const elapsed = performance.now() - windowStart;
          lossChart.push(updates, mean);
          ui.msPerStep.textContent = (elapsed / windowSteps).toFixed(1);
          ui.rate.textContent = String(Math.round((windowSteps * loader.batchSize) / (elapsed / 1000)));
          ui.steps.textContent = String(updates);
          ui.bar.style.width = `${(100 * step) / loader.length}%`;
          ui.progress.textContent = `epoch ${epoch}/${runStartEpoch + settings.epochs} · step ${step}/${loader.length} · loss ${mean.toFixed(4)}`;
          if (state === 'training') ui.status.textContent = `training epoch ${epoch}/${runStartEpoch + settings.epochs}`;
          windowStart = performance.now();
          windowSteps = 0;
        }
      }
      await sync();
      const epochSeconds = (performance.now() - epochStart) / 1000;
      const accuracy = await evaluate();
      if (token !== runToken) return;
      if (Number.isNaN(accuracy)) return diverged('some weights are no longer finite numbers');
      epochsDone = epoch;
      accChart.push(epoch, accuracy);
      ui.accuracy.textContent = accuracy.toFixed(4);
      ui.progress.textContent = `epoch ${epoch} done in ${epochSeconds.toFixed(1)} s · test accuracy ${(accuracy * 100).toFixed(2)}%`;
    }
    setState('done', `done: ${epochsDone} epochs`);
  } catch (err) {
    if (token !== runToken || state === 'lost') return;
    fail(err);
  } finally {
    loader.dispose();
  }
}

function makeOptimizer(): optim.SGD | optim.Adam {
  const { lr, momentum, optimizer: name } = run!;
  if (name === 'adam') return new optim.Adam(model!.parameters(), { lr });
  if (name === 'adamw') return new optim.AdamW(model!.parameters(), { lr });
  return new optim.SGD(model!.parameters(), { lr, momentum });
}

/** The learning rate and momentum as typed now; an invalid entry is refused and the last valid one kept. */
let liveText = { lr: '', momentum: '' };
function applyLiveSettings(): void {
  const text = { lr: ui.lr.value, momentum: ui.momentum.value };
  if (text.lr === liveText.lr && text.momentum === liveText.momentum) return;
  liveText = text;
  try {
    const lr = readLr(text.lr);
    const momentum = run!.optimizer === 'sgd' ? readMomentum(text.momentum) : 0;
    if (lr === run!.lr && momentum === run!.momentum) return;
    run!.lr = lr;
    run!.momentum = momentum;
    optimizer!.lr = lr;
    if (optimizer instanceof optim.SGD) optimizer.options.momentum = momentum;
    say(`Learning rate ${lr}${run!.optimizer === 'sgd' ? `, momentum ${momentum}` : ''} applied from update ${updates + 1}.`);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    say(`${err.message} Not applied: still using learning rate ${run!.lr}${run!.optimizer === 'sgd' ? `, momentum ${run!.momentum}` : ''}.`);
  }
}

function start(): void {
  let settings: Settings;
  try {
    settings = readSettings(fields, dataset.train.count);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    say(err.message);
    return;
  }
  // The seed shown is the seed used: untouched initial weights are drawn again with a changed seed.
  if (weightsOrigin === 'initial' && settings.seed !== modelSeed) {
    newModel(settings.seed);
    void showModel();
  }
  const continuing = state === 'done';
  // A run's optimizer is kept when training continues; a changed optimizer choice starts a new one.
  if (optimizer && run && run.optimizer !== settings.optimizer) optimizer = null;
  if (optimizer) {
    optimizer.lr = settings.lr;
    if (optimizer instanceof optim.SGD) optimizer.options.momentum = settings.momentum;
  }
  run = settings;
  runStartEpoch = epochsDone;
  liveText = { lr: ui.lr.value, momentum: ui.momentum.value };
  ui.warning.hidden = true;
  say(
    continuing
      ? `Continuing from the trained weights for ${settings.epochs} more epoch${settings.epochs === 1 ? '' : 's'} (Reset starts again from new weights).`
      : `Training from ${weightsOrigin === 'loaded' ? 'the loaded weights' : `initial weights drawn with seed ${modelSeed}`}.`,
  );
  setState('training', 'training');
  void trainLoop(++runToken);
}

/** Clears every figure of the previous run: counters, charts, progress, confusion matrix, warning. */
function clearRun(): void {
  runToken++;
  resume?.();
  resume = null;
  epochsDone = 0;
  updates = 0;
  run = null;
  lossChart.clear();
  accChart.clear();
  for (const el of [ui.accuracy, ui.rate, ui.msPerStep]) el.textContent = '–';
  ui.steps.textContent = '0';
  ui.bar.style.width = '0';
  ui.progress.textContent = '\u00a0';
  ui.confusion.textContent = 'After the first epoch.';
  ui.warning.hidden = true;
}

/** New initial weights from the seed typed now (refused, with the rule, if it is not valid). */
function reset(): void {
  let seed: number;
  try {
    seed = readSeed(ui.seed.value);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    say(err.message);
    return;
  }
  clearRun();
  snapshot = null;
  newModel(seed);
  say(`New initial weights drawn with seed ${seed}.`);
  setState('idle', 'ready');
  void showModel();
}

async function showModel(): Promise<void> {
  renderDigits(ui.digits, dataset.test.images, dataset.test.labels, null, 60);
  snapshot = await readWeights();
  renderWeights(ui.weights, snapshot[0]!, 128);
  void predictDrawing();
}

function fail(err: unknown): void {
  console.error(err);
  setState('error', `error: ${(err as Error).message ?? String(err)}`);
}

// Drawing: the ten probabilities update live as the user draws.
let predictQueued = false;
const pad = new DrawPad($<HTMLCanvasElement>('draw'), () => {
  if (predictQueued) return;
  predictQueued = true;
  requestAnimationFrame(() => {
    predictQueued = false;
    void predictDrawing();
  });
});
$('clear').addEventListener('click', () => pad.clear());

async function predictDrawing(): Promise<void> {
  const pixels = pad.toMnist();
  drawDigit(ui.preview, pixels ?? new Float32Array(784));
  if (!pixels || !model || state === 'lost' || state === 'loading') {
    ui.prediction.textContent = '–';
    renderProbabilities(ui.probabilities, null);
    return;
  }
  const x = tensor(pixels, { shape: [1, 784] });
  const logits = tidy(() => noGrad(() => model!.forward(x)));
  const probs = softmax(await logits.data());
  x.dispose();
  logits.dispose();
  const best = probs.indexOf(Math.max(...probs));
  ui.prediction.textContent = String(best);
  renderProbabilities(ui.probabilities, probs);
}

// MNIST IDX files, dropped or picked: told apart by name (train / t10k) and rank (images / labels).
async function loadFiles(files: File[]): Promise<void> {
  if (state === 'training' || state === 'paused' || comparing) {
    say('Data cannot change while training: press Reset first.');
    return;
  }
  try {
    readSeed(ui.seed.value); // loading draws new initial weights: refuse before changing anything
    const find = (re: RegExp): File => {
      const f = files.find((file) => re.test(file.name));
      if (!f) throw new WebgradError(`missing a file matching ${re} among: ${files.map((x) => x.name).join(', ')}`);
      return f;
    };
    const bytes = async (f: File) => new Uint8Array(await f.arrayBuffer());
    const [ti, tl, vi, vl] = [/train-images/, /train-labels/, /t10k-images/, /t10k-labels/].map(find) as [File, File, File, File];
    const train = await data.fromIdx(await bytes(ti), await bytes(tl), { images: ti.name, labels: tl.name });
    const test = await data.fromIdx(await bytes(vi), await bytes(vl), { images: vi.name, labels: vl.name });
    // This network reads 28×28 digits with labels 0–9, and needs something to train and test on.
    for (const [set, file] of [
      [train, ti],
      [test, vi],
    ] as const) {
      if (set.count === 0) throw new WebgradError(`${file.name} holds no images; at least one is needed.`);
      if (set.features !== 784) throw new WebgradError(`${file.name}: images of ${set.features} pixels; this network reads 28×28 = 784.`);
      const bad = set.labels.findIndex((l) => l < 0 || l > 9);
      if (bad >= 0) throw new WebgradError(`label ${set.labels[bad]} at index ${bad} is not a digit 0–9 (${file === ti ? tl.name : vl.name}).`);
    }
    dataset = { train, test };
    ui.source.textContent = `MNIST files (${train.count.toLocaleString('en')} train / ${test.count.toLocaleString('en')} test)`;
    syncBatchField();
    reset();
    say(
      `Loaded ${train.count.toLocaleString('en')} training and ${test.count.toLocaleString('en')} test images; new initial weights drawn with seed ${modelSeed}.`,
    );
  } catch (err) {
    say(`Could not load the files: ${(err as Error).message} The data set is unchanged.`);
  }
}
ui.dropzone.addEventListener('dragover', (e) => {
  e.preventDefault();
  ui.dropzone.classList.add('over');
});
ui.dropzone.addEventListener('dragleave', () => ui.dropzone.classList.remove('over'));
ui.dropzone.addEventListener('drop', (e) => {
  e.preventDefault();
  ui.dropzone.classList.remove('over');
  void loadFiles(Array.from(e.dataTransfer?.files ?? []));
});
ui.files.addEventListener('change', () => {
  const files = Array.from(ui.files.files ?? []);
  ui.files.value = ''; // the same files picked again are read again
  void loadFiles(files);
});
// Real buttons open the file pickers, so both are reachable from the keyboard.
ui.pickFiles.addEventListener('click', () => ui.files.click());
ui.loadWeightsButton.addEventListener('click', () => ui.loadWeights.click());

// The four ways to a gradient on the live model.
ui.compare.addEventListener('click', async () => {
  if (!model || comparing) return;
  comparing = true;
  setState(state, ui.status.textContent ?? state);
  ui.gradients.textContent = 'computing…';
  // The four ways run on a copy of the weights: finite differences perturb what they are given,
  // and the training run (paused, or continued later) must not see any of it.
  const copies = await Promise.all(model.parameters().map(async (p) => tensor(await p.data(), { shape: p.shape, requiresGrad: true }).keep()));
  try {
    const n = 64;
    const x = tensor(dataset.train.images.subarray(0, n * 784), { shape: [n, 784] }).keep();
    const y = tensor(dataset.train.labels.subarray(0, n), { shape: [n], dtype: 'int32' }).keep();
    const loss = (...ps: Tensor[]): Tensor => {
      const [w1, b1, w2, b2] = ps as [Tensor, Tensor, Tensor, Tensor];
      return nn.functional.crossEntropy(nn.functional.linear(nn.functional.linear(x, w1, b1).relu(), w2, b2), y);
    };
    const result = await compareGradientMethods(loss, copies, { samples: 8 });
    x.dispose();
    y.dispose();
    const names = {
      'reverse-mode': 'reverse-mode AD (backprop)',
      'forward-mode': 'forward-mode AD',
      'central-difference': 'central difference',
      'forward-difference': 'forward difference',
    };
    const table = document.createElement('table');
    table.className = 'gradients';
    table.innerHTML = '<tr><th>method</th><th>passes for all P</th><th>time for all P</th><th>error vs reverse mode (max / max |grad|)</th></tr>';
    for (const r of result.rows) {
      const row = table.insertRow();
      const cells = [
        names[r.method],
        r.passesForAll,
        r.msPerParameter === null ? `${formatDuration(r.msForAll)} (measured)` : `≈ ${formatDuration(r.msForAll)}`,
        r.maxRelError === null ? 'the reference' : r.maxRelError.toExponential(1),
      ];
      for (const c of cells) row.insertCell().textContent = c;
    }
    ui.gradients.replaceChildren(table);
  } catch (err) {
    ui.gradients.textContent = `failed: ${(err as Error).message}`;
  } finally {
    copies.forEach((c) => c.dispose());
    comparing = false;
    setState(state, ui.status.textContent ?? state);
  }
});

// Weights as .safetensors (PyTorch's state_dict names): download, and load to resume training.
ui.download.addEventListener('click', async () => {
  if (!model) return;
  const bytes = await save(model);
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  link.download = `webgrad-mlp-epoch${epochsDone}.safetensors`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
});
ui.loadWeights.addEventListener('change', async () => {
  const file = ui.loadWeights.files?.[0];
  ui.loadWeights.value = '';
  if (!file || !model) return;
  if (state === 'training' || state === 'paused' || comparing) {
    say('Weights cannot be loaded while training: press Reset first.');
    return;
  }
  // Weights full of NaN or infinity are refused, and the model keeps the weights it had.
  const before = await readWeights();
  try {
    load(model, new Uint8Array(await file.arrayBuffer()));
    const after = await readWeights();
    const names = model.namedParameters().map(([name]) => name);
    const bad = after.findIndex((a) => !a.every(Number.isFinite));
    if (bad >= 0) {
      model.parameters().forEach((p, i) => p.write(before[i]!));
      throw new WebgradError(`${names[bad] ?? `tensor ${bad}`} holds values that are not finite numbers (NaN or infinity).`);
    }
  } catch (err) {
    say(`Could not load ${file.name}: ${(err as Error).message} The weights are unchanged.`);
    return;
  }
  clearRun();
  optimizer = null;
  weightsOrigin = 'loaded';
  setState('idle', `loaded ${file.name}`);
  const accuracy = await evaluate();
  ui.accuracy.textContent = accuracy.toFixed(4);
  say(`Loaded ${file.name}: test accuracy ${(accuracy * 100).toFixed(2)}%. Train continues from these weights.`);
  void predictDrawing();
});

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
ui.variant.addEventListener('change', syncBatchField);
ui.optimizer.addEventListener('change', () => (ui.momentum.disabled = ui.optimizer.value !== 'sgd'));

// A lost device: say so, and offer to continue from the weights the page last read back.
function watchDevice(): void {
  onDeviceLost((info) => {
    if (info.reason === 'destroyed' && state === 'loading') return;
    runToken++;
    setState('lost', 'GPU device lost');
    ui.fatal.hidden = false;
    ui.fatal.replaceChildren();
    const p = document.createElement('p');
    p.textContent =
      `The GPU device was lost (${info.reason || 'unknown'}${info.message ? `: ${info.message}` : ''}). ` +
      `The page holds the weights from ${epochsDone > 0 ? `the end of epoch ${epochsDone}` : 'the start'}.`;
    const button = document.createElement('button');
    button.textContent = 'Continue on a new device';
    button.className = 'primary';
    button.dataset.testid = 'continue';
    button.addEventListener('click', () => void recover());
    ui.fatal.append(p, button);
  });
}

async function recover(): Promise<void> {
  try {
    await init();
    watchDevice();
    const weights = snapshot;
    newModel(modelSeed);
    if (weights) model!.parameters().forEach((p, i) => p.write(weights[i]!));
    ui.fatal.hidden = true;
    if (weights) weightsOrigin = 'trained';
    setState('idle', `recovered on a new device: continuing after epoch ${epochsDone}`);
    run ??= readSettings(fields, dataset.train.count);
    setState('training', 'training');
    void trainLoop(++runToken);
  } catch (err) {
    fail(err);
  }
}

async function main(): Promise<void> {
  setState('loading', 'loading the digits…');
  try {
    await init();
  } catch (err) {
    ui.fatal.hidden = false;
    ui.fatal.innerHTML = '<strong>This page needs WebGPU.</strong><p></p>';
    ui.fatal.querySelector('p')!.textContent = (err as Error).message;
    setState('error', 'no WebGPU');
    ui.reset.disabled = true;
    return;
  }
  watchDevice();
  // The matmul kernel is timed once per device and remembered (localStorage) for later visits.
  setState('loading', 'tuning the matmul kernel for this GPU…');
  try {
    await tuneMatmul();
  } catch (err) {
    console.warn('matmul tuning failed; using the default kernel', err);
  }
  const info = runtimeInfo();
  ui.adapter.textContent = `${info.adapter.vendor} ${info.adapter.architecture} ${info.adapter.description}`.trim();
  dataset = await data.loadDigits(new URL('/digits.bin.gz', location.href));
  syncBatchField();
  reset();
}

// For tests and benchmarks: the device the page trains on.
// For tests: the device, the state, the loss curve and a checksum of the live weights.
(window as unknown as { webgradDemo: unknown }).webgradDemo = {
  getDevice,
  state: () => state,
  losses: () => lossChart.points(),
  weightsChecksum: async () => (await readWeights()).map((w) => w.reduce((a, b) => a + b, 0)),
};
void main().catch(fail);
