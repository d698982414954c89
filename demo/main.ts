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
  variant: $<HTMLSelectElement>('variant'),
  batch: $<HTMLInputElement>('batch-size'),
  lr: $<HTMLInputElement>('lr'),
  momentum: $<HTMLInputElement>('momentum'),
  epochs: $<HTMLInputElement>('epochs'),
  seed: $<HTMLInputElement>('seed'),
  note: $('settings-note'),
  train: $<HTMLButtonElement>('train'),
  pause: $<HTMLButtonElement>('pause'),
  reset: $<HTMLButtonElement>('reset'),
  bar: $('progress-bar'),
  progress: $('progress-text'),
  dropzone: $('dropzone'),
  files: $<HTMLInputElement>('files'),
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
};

type State = 'loading' | 'idle' | 'training' | 'paused' | 'done' | 'lost' | 'error';
let state: State = 'loading';
let dataset: data.TrainTest;
let model: Net | null = null;
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
  ui.train.disabled = !(next === 'idle' || next === 'done');
  ui.pause.disabled = !running;
  ui.pause.textContent = next === 'paused' ? 'Resume' : 'Pause';
  ui.reset.disabled = next === 'loading';
  // Settings that shape the run are refused, visibly, while it runs; lr, momentum and epochs apply live.
  for (const el of [ui.variant, ui.seed, ui.files, ui.optimizer, ui.loadWeights]) el.disabled = running;
  ui.batch.disabled = running || ui.variant.value !== 'minibatch';
  ui.dropzone.classList.toggle('locked', running);
  ui.compare.disabled = next !== 'idle' && next !== 'done' && next !== 'paused';
  if (running)
    ui.note.textContent =
      'Variant, batch size, optimizer, seed, data and loading weights are locked while training (Reset to change them); learning rate, momentum and epochs apply at the next step.';
  else ui.note.textContent = '';
}

function batchSize(): data.BatchSize {
  const v = ui.variant.value;
  if (v === 'full' || v === 'sgd') return v;
  const n = Number(ui.batch.value);
  if (!Number.isInteger(n) || n < 1) throw new WebgradError(`batch size must be a positive integer, got '${ui.batch.value}'`);
  return n;
}

function syncBatchField(): void {
  if (ui.variant.value === 'full') ui.batch.value = String(dataset?.train.count ?? 8000);
  else if (ui.variant.value === 'sgd') ui.batch.value = '1';
  else if (Number(ui.batch.value) <= 1 || Number(ui.batch.value) >= (dataset?.train.count ?? 8000)) ui.batch.value = '64';
  ui.batch.disabled = ui.variant.value !== 'minibatch' || state === 'training' || state === 'paused';
}

function readNumber(input: HTMLInputElement, name: string, check: (v: number) => boolean): number {
  const v = Number(input.value);
  if (input.value.trim() === '' || !Number.isFinite(v) || !check(v)) throw new WebgradError(`${name} '${input.value}' is not valid`);
  return v;
}

function newModel(): void {
  model = null;
  optimizer = null;
  manualSeed(readNumber(ui.seed, 'seed', Number.isInteger));
  model = new Net();
}

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
  renderConfusion(ui.confusion, confusion);
  renderDigits(ui.digits, test.images, test.labels, predicted, 60);
  snapshot = await readWeights();
  renderWeights(ui.weights, snapshot[0]!, 128);
  return correct / test.count;
}

async function trainLoop(token: number): Promise<void> {
  const loader = new data.DataLoader(dataset.train, {
    batchSize: batchSize(),
    shuffle: true,
    seed: readNumber(ui.seed, 'seed', Number.isInteger) + epochsDone,
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
    for (let epoch = epochsDone + 1; epoch <= Number(ui.epochs.value); epoch++) {
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
          const elapsed = performance.now() - windowStart;
          lossChart.push(updates, mean);
          ui.msPerStep.textContent = (elapsed / windowSteps).toFixed(1);
          ui.rate.textContent = String(Math.round((windowSteps * loader.batchSize) / (elapsed / 1000)));
          ui.steps.textContent = String(updates);
          ui.bar.style.width = `${(100 * step) / loader.length}%`;
          ui.progress.textContent = `epoch ${epoch}/${ui.epochs.value} · step ${step}/${loader.length} · loss ${mean.toFixed(4)}`;
          ui.status.textContent = `training epoch ${epoch}/${ui.epochs.value}`;
          windowStart = performance.now();
          windowSteps = 0;
        }
      }
      await sync();
      const epochSeconds = (performance.now() - epochStart) / 1000;
      const accuracy = await evaluate();
      if (token !== runToken) return;
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
  const lr = Number(ui.lr.value);
  if (ui.optimizer.value === 'adam') return new optim.Adam(model!.parameters(), { lr });
  if (ui.optimizer.value === 'adamw') return new optim.AdamW(model!.parameters(), { lr });
  return new optim.SGD(model!.parameters(), { lr, momentum: Number(ui.momentum.value) });
}

let applied = { lr: NaN, momentum: NaN };
function applyLiveSettings(): void {
  const lr = Number(ui.lr.value);
  const momentum = Number(ui.momentum.value);
  if (lr === applied.lr && momentum === applied.momentum) return;
  if (!(lr > 0) || !(momentum >= 0 && momentum < 1)) {
    ui.note.textContent = `Not applied: learning rate must be > 0 and momentum in [0, 1); still using lr ${optimizer!.lr}.`;
    applied = { lr, momentum };
    return;
  }
  if (!Number.isNaN(applied.lr)) ui.note.textContent = `lr ${lr}, momentum ${momentum} applied from update ${updates + 1}.`;
  optimizer!.lr = lr;
  if (optimizer instanceof optim.SGD) optimizer.options.momentum = momentum;
  applied = { lr, momentum };
}

function start(): void {
  try {
    batchSize();
    readNumber(ui.epochs, 'epochs', (v) => Number.isInteger(v) && v >= 1);
    readNumber(ui.lr, 'learning rate', (v) => v > 0);
    readNumber(ui.momentum, 'momentum', (v) => v >= 0 && v < 1);
  } catch (err) {
    ui.note.textContent = (err as Error).message;
    return;
  }
  if (state === 'done') reset();
  applied = { lr: NaN, momentum: NaN };
  setState('training', 'training');
  void trainLoop(++runToken);
}

function reset(): void {
  runToken++;
  resume?.();
  resume = null;
  epochsDone = 0;
  updates = 0;
  snapshot = null;
  lossChart.clear();
  accChart.clear();
  for (const el of [ui.accuracy, ui.rate, ui.msPerStep]) el.textContent = '–';
  ui.steps.textContent = '0';
  ui.bar.style.width = '0';
  ui.progress.textContent = '\u00a0';
  newModel();
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
  if (state === 'training' || state === 'paused') {
    ui.note.textContent = 'Data cannot change while training: press Reset first.';
    return;
  }
  try {
    const find = (re: RegExp): File => {
      const f = files.find((file) => re.test(file.name));
      if (!f) throw new WebgradError(`missing a file matching ${re} among: ${files.map((x) => x.name).join(', ')}`);
      return f;
    };
    const bytes = async (f: File) => new Uint8Array(await f.arrayBuffer());
    const [ti, tl, vi, vl] = [/train-images/, /train-labels/, /t10k-images/, /t10k-labels/].map(find) as [File, File, File, File];
    const train = await data.fromIdx(await bytes(ti), await bytes(tl), { images: ti.name, labels: tl.name });
    const test = await data.fromIdx(await bytes(vi), await bytes(vl), { images: vi.name, labels: vl.name });
    dataset = { train, test };
    ui.source.textContent = `MNIST files (${train.count.toLocaleString('en')} train / ${test.count.toLocaleString('en')} test)`;
    syncBatchField();
    reset();
  } catch (err) {
    ui.note.textContent = `Could not load the files: ${(err as Error).message}`;
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
ui.files.addEventListener('change', () => void loadFiles(Array.from(ui.files.files ?? [])));

// The four ways to a gradient on the live model.
ui.compare.addEventListener('click', async () => {
  if (!model) return;
  ui.compare.disabled = true;
  ui.gradients.textContent = 'computing…';
  try {
    const n = 64;
    const x = tensor(dataset.train.images.subarray(0, n * 784), { shape: [n, 784] }).keep();
    const y = tensor(dataset.train.labels.subarray(0, n), { shape: [n], dtype: 'int32' }).keep();
    const loss = (...ps: Tensor[]): Tensor => {
      const [w1, b1, w2, b2] = ps as [Tensor, Tensor, Tensor, Tensor];
      return nn.functional.crossEntropy(nn.functional.linear(nn.functional.linear(x, w1, b1).relu(), w2, b2), y);
    };
    const result = await compareGradientMethods(loss, model.parameters(), { samples: 8 });
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
    ui.compare.disabled = !(state === 'idle' || state === 'done' || state === 'paused');
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
  if (!file || !model) return;
  if (state === 'training' || state === 'paused') {
    ui.note.textContent = 'Weights cannot be loaded while training: press Reset first.';
    return;
  }
  try {
    load(model, new Uint8Array(await file.arrayBuffer()));
  } catch (err) {
    ui.note.textContent = `Could not load ${file.name}: ${(err as Error).message}`;
    return;
  } finally {
    ui.loadWeights.value = '';
  }
  runToken++;
  optimizer = null;
  epochsDone = 0;
  lossChart.clear();
  accChart.clear();
  setState('idle', `loaded ${file.name}`);
  const accuracy = await evaluate();
  ui.accuracy.textContent = accuracy.toFixed(4);
  ui.note.textContent = `Loaded ${file.name}: test accuracy ${(accuracy * 100).toFixed(2)}%. Train continues from these weights.`;
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
    newModel();
    if (weights) model!.parameters().forEach((p, i) => p.write(weights[i]!));
    ui.fatal.hidden = true;
    setState('idle', `recovered on a new device: continuing after epoch ${epochsDone}`);
    applied = { lr: NaN, momentum: NaN };
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
(window as unknown as { webgradDemo: unknown }).webgradDemo = { getDevice, state: () => state };
void main().catch(fail);
