// The digits panel: trains the 784-128-10 MLP or LeNet on the digits (or MNIST files) on the GPU
// with webgrad's public API only, and shows its loss, accuracy, confusion matrix and first-layer weights.
import { type CapturedStep, captureStep, data, getDevice, init, manualSeed, nn, onDeviceLost, optim, runtimeInfo, sync, type Tensor } from '../src/index.js';
import { ARCHITECTURES, type Architecture, batchTooLarge } from './architectures.js';
import { LineChart } from './charts.js';
import { type DigitsLive, type DigitsState, installDigitsTools } from './digits_tools.js';
import { $, carryDefaults, fields, showArchitecture, showControls, ui } from './digits_ui.js';
import { installGradientCost } from './gradient_cost.js';
import { LossWindow } from './loss_window.js';
import { showLostDevice } from './lost_device.js';
import { readEpochs, readLr, readMomentum, readSeed, readSettings, type Settings, SettingsError } from './settings.js';

/** The panel's state that its tools share: the run's state, data, model and counters. */
const live: DigitsLive = {
  state: 'loading',
  dataset: undefined as unknown as data.TrainTest,
  model: null,
  architecture: 'mlp',
  modelSeed: 0,
  comparing: false,
  epochsDone: 0,
  snapshot: null,
};
/** Whether the current weights are as drawn, trained since, or loaded from a file. */
let weightsOrigin: 'initial' | 'trained' | 'loaded' = 'initial';
/** The settings of the run in progress (lr, momentum and epochs may change live). */
let run: Settings | null = null;
/** Epochs done when this run started: "Epochs" counts from there. */
let runStartEpoch = 0;
let optimizer: optim.SGD | optim.Adam | null = null;
/** The training step of this model and optimizer, recorded once and replayed each batch. */
let trainStep: CapturedStep<[Tensor, Tensor], Tensor> | null = null;
let trainStepOwner: optim.SGD | optim.Adam | null = null;
let updates = 0;
let runToken = 0;
let resume: (() => void) | null = null;
const lossChart = new LineChart($('loss-chart'), 'update', 'loss');
const accChart = new LineChart($('acc-chart'), 'epoch', 'accuracy', { yRange: [0, 1], points: true, integerX: true });

function setState(next: DigitsState, text?: string): void {
  live.state = next;
  ui.status.textContent = text ?? next;
  showControls(next, live.comparing);
}

/** The batch field follows the variant: the training set's size for full batch, 1 for stochastic. */
let lastVariant = 'minibatch';
function syncBatchField(): void {
  if (ui.variant.value === 'full') ui.batch.value = String(live.dataset?.train.count ?? 8000);
  else if (ui.variant.value === 'sgd') ui.batch.value = '1';
  // Back to mini-batch: the page's own value is replaced; a size the user typed is kept (and checked at Train).
  else if (lastVariant !== 'minibatch') ui.batch.value = '64';
  lastVariant = ui.variant.value;
  ui.batch.disabled = ui.variant.value !== 'minibatch' || live.state === 'training' || live.state === 'paused';
}

/** A message under the form: 'error' for what was refused, 'info' for what happened. */
function say(text: string): void {
  ui.note.textContent = text;
}

/** Fresh initial weights drawn with `seed` (PyTorch's initialisation), and no optimizer state. */
function newModel(seed: number): void {
  live.model = null;
  optimizer = null;
  manualSeed(seed);
  live.model = ARCHITECTURES[live.architecture].make();
  live.modelSeed = seed;
  weightsOrigin = 'initial';
  showArchitecture(
    ARCHITECTURES[live.architecture],
    live.model.parameters().reduce((n, p) => n + p.size, 0),
  );
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
  const loader = new data.DataLoader(live.dataset.train, {
    batchSize: settings.variant === 'minibatch' ? settings.batch : settings.variant,
    shuffle: true,
    seed: settings.seed + live.epochsDone,
  });
  optimizer ??= makeOptimizer();
  if (trainStepOwner !== optimizer) {
    trainStep?.dispose();
    const [net, opt] = [live.model!, optimizer];
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
    for (let epoch = live.epochsDone + 1; epoch <= targetEpochs(); epoch++) {
      const epochStart = performance.now();
      // About 25 chart points an epoch: the loop records steps far faster than the GPU runs them.
      const window = new LossWindow(Math.max(1, Math.round(loader.length / 25)));
      let step = 0;
      for (const [x, y] of loader) {
        if (token !== runToken) return;
        if (live.state === 'paused') {
          await new Promise<void>((r) => (resume = r));
          if (token !== runToken) return;
          window.restart();
        }
        applyLiveSettings();
        window.add(runStep(x, y));
        step++;
        updates++;
        weightsOrigin = 'trained';
        if (!window.due(step === loader.length)) continue;
        const { mean, ms, steps } = await window.close();
        if (token !== runToken) return;
        if (!Number.isFinite(mean)) return diverged(`the loss became ${mean}`);
        // A loss a thousand times its first value has left any useful region (finite or not).
        firstLoss ??= mean;
        if (mean > 1000 * Math.max(1, firstLoss)) return diverged(`the loss grew from ${firstLoss.toPrecision(4)} to ${mean.toPrecision(4)}`);
        lossChart.push(updates, mean);
        ui.msPerStep.textContent = (ms / steps).toFixed(1);
        ui.rate.textContent = String(Math.round((steps * loader.batchSize) / (ms / 1000)));
        ui.steps.textContent = String(updates);
        ui.bar.style.width = `${(100 * step) / loader.length}%`;
        ui.progress.textContent = `epoch ${epoch}/${runStartEpoch + settings.epochs} · step ${step}/${loader.length} · loss ${mean.toFixed(4)}`;
        if (live.state === 'training') ui.status.textContent = `training epoch ${epoch}/${runStartEpoch + settings.epochs}`;
      }
      await sync();
      const epochSeconds = (performance.now() - epochStart) / 1000;
      const accuracy = await evaluate();
      if (token !== runToken) return;
      if (Number.isNaN(accuracy)) return diverged('some weights are no longer finite numbers');
      live.epochsDone = epoch;
      accChart.push(epoch, accuracy);
      ui.accuracy.textContent = accuracy.toFixed(4);
      ui.progress.textContent = `epoch ${epoch} done in ${epochSeconds.toFixed(1)} s · test accuracy ${(accuracy * 100).toFixed(2)}%`;
    }
    setState('done', `done: ${live.epochsDone} epochs`);
  } catch (err) {
    if (token !== runToken || live.state === 'lost') return;
    fail(err);
  } finally {
    loader.dispose();
  }
}

function makeOptimizer(): optim.SGD | optim.Adam {
  const { lr, momentum, optimizer: name } = run!;
  if (name === 'adam') return new optim.Adam(live.model!.parameters(), { lr });
  if (name === 'adamw') return new optim.AdamW(live.model!.parameters(), { lr });
  return new optim.SGD(live.model!.parameters(), { lr, momentum });
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
    settings = readSettings(fields, live.dataset.train.count);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    say(err.message);
    return;
  }
  const tooLarge = batchTooLarge(live.architecture, settings.batch, runtimeInfo().limits.maxStorageBufferBindingSize);
  if (tooLarge) {
    say(tooLarge);
    return;
  }
  // The seed shown is the seed used: untouched initial weights are drawn again with a changed seed.
  if (weightsOrigin === 'initial' && settings.seed !== live.modelSeed) {
    newModel(settings.seed);
    void showModel();
  }
  const continuing = live.state === 'done';
  // A run's optimizer is kept when training continues; a changed optimizer choice starts a new one.
  if (optimizer && run && run.optimizer !== settings.optimizer) optimizer = null;
  if (optimizer) {
    optimizer.lr = settings.lr;
    if (optimizer instanceof optim.SGD) optimizer.options.momentum = settings.momentum;
  }
  run = settings;
  runStartEpoch = live.epochsDone;
  liveText = { lr: ui.lr.value, momentum: ui.momentum.value };
  ui.warning.hidden = true;
  say(
    continuing
      ? `Continuing from the trained weights for ${settings.epochs} more epoch${settings.epochs === 1 ? '' : 's'} (Reset starts again from new weights).`
      : `Training from ${weightsOrigin === 'loaded' ? 'the loaded weights' : `initial weights drawn with seed ${live.modelSeed}`}.`,
  );
  setState('training', 'training');
  void trainLoop(++runToken);
}

/** Clears every figure of the previous run: counters, charts, progress, confusion matrix, warning. */
function clearRun(): void {
  runToken++;
  resume?.();
  resume = null;
  live.epochsDone = 0;
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
  live.snapshot = null;
  newModel(seed);
  say(`New initial weights drawn with seed ${seed}.`);
  setState('idle', 'ready');
  void showModel();
}

/**
 * A new network of the chosen architecture, drawn with the seed typed now. The learning rate and
 * momentum fields take its defaults where they still hold the other network's.
 */
function chooseArchitecture(): void {
  const previous = ARCHITECTURES[live.architecture];
  const next = ui.architecture.value as Architecture;
  if (ARCHITECTURES[next] === previous) return;
  try {
    readSeed(ui.seed.value);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    ui.architecture.value = live.architecture;
    say(`${err.message} The page still trains the ${previous.label}.`);
    return;
  }
  const changed = carryDefaults(previous, ARCHITECTURES[next]);
  live.architecture = next;
  reset();
  say(
    `New ${ARCHITECTURES[next].label} weights drawn with seed ${live.modelSeed}` +
      (changed.length > 0 ? `; ${changed.join(' and ')}, this network's defaults for SGD.` : '.'),
  );
}

function fail(err: unknown): void {
  console.error(err);
  setState('error', `error: ${(err as Error).message ?? String(err)}`);
}

ui.train.addEventListener('click', start);
ui.pause.addEventListener('click', () => {
  if (live.state === 'training') setState('paused', 'paused');
  else if (live.state === 'paused') {
    setState('training', 'training');
    resume?.();
    resume = null;
  }
});
ui.reset.addEventListener('click', reset);
ui.architecture.addEventListener('change', chooseArchitecture);
ui.variant.addEventListener('change', syncBatchField);
ui.optimizer.addEventListener('change', () => (ui.momentum.disabled = ui.optimizer.value !== 'sgd'));

// A lost device: say so, and offer to continue from the weights the page last read back.
function watchDevice(): void {
  onDeviceLost((info) => {
    if (info.reason === 'destroyed' && live.state === 'loading') return;
    runToken++;
    setState('lost', 'GPU device lost');
    const held = live.epochsDone > 0 ? `the end of epoch ${live.epochsDone}` : 'the start';
    showLostDevice(ui.fatal, info, held, () => void recover());
  });
}

async function recover(): Promise<void> {
  try {
    await init();
    watchDevice();
    const weights = live.snapshot;
    newModel(live.modelSeed);
    if (weights) live.model!.parameters().forEach((p, i) => p.write(weights[i]!));
    ui.fatal.hidden = true;
    if (weights) weightsOrigin = 'trained';
    setState('idle', `recovered on a new device: continuing after epoch ${live.epochsDone}`);
    run ??= readSettings(fields, live.dataset.train.count);
    setState('training', 'training');
    void trainLoop(++runToken);
  } catch (err) {
    fail(err);
  }
}

const { evaluate, readWeights, showModel } = installDigitsTools(live, {
  say,
  setState,
  reset,
  clearRun,
  syncBatchField,
  weightsLoaded: () => {
    optimizer = null;
    weightsOrigin = 'loaded';
  },
});

const costPoints = installGradientCost(live, { setState });

/** The digits panel as the page's start-up and model choice see it. */
export const digitsPanel = {
  /** Says what the page is doing before the panel can start. */
  loading(text: string): void {
    setState('loading', text);
  },
  /** The page has no GPU to train on: nothing can start. */
  unavailable(text: string): void {
    setState('error', text);
    ui.reset.disabled = true;
  },
  /** Reports a lost GPU device in the page, with a button to continue on a new one. */
  watchDevice,
  /** Loads the embedded digits and draws the first initial weights. */
  async start(): Promise<void> {
    live.dataset = await data.loadDigits(new URL('/digits.bin.gz', location.href));
    syncBatchField();
    reset();
  },
  /** Whether a run is in progress (training or paused). */
  busy: (): boolean => live.state === 'training' || live.state === 'paused',
  /** Pauses a run that is training (as its Pause button does); returns whether it did. */
  pause(): boolean {
    if (live.state !== 'training') return false;
    setState('paused', 'paused');
    return true;
  },
  fail,
};

// For tests: the device, the state, the loss curve and a checksum of the live weights.
(window as unknown as { webgradDemo: unknown }).webgradDemo = {
  getDevice,
  state: () => live.state,
  architecture: () => live.architecture,
  costPoints,
  losses: () => lossChart.points(),
  accuracies: () => accChart.points(),
  weightsChecksum: async () => (await readWeights()).map((w) => w.reduce((a, b) => a + b, 0)),
};
