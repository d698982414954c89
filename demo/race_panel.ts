// The race panel: full-batch GD, stochastic GD (1 sample per update) and mini-batch SGD train three
// copies of the 784-128-10 network, drawn once with one seed, on the same GPU. They take turns of a
// few milliseconds — always the one that has had the least GPU time so far — so each gets the same
// share, and each turn ends with a readback, so the GPU is idle between turns and a turn's time is
// its variant's alone. Every variant is a captured step (demo/race_runner.ts trains them; this
// file schedules their turns and wires the page).
import { data, onDeviceLost, type Tensor, tensor } from '../src/index.js';
import { type RaceAxis, RaceChart } from './race_chart.js';
import { evaluateRunners, newRunners, prepareRunner, type Runner, type RunnerEvents, releaseRunners, takeTurn } from './race_runner.js';
import { RACE_LABELS, RACE_VARIANTS, type RaceSettings, readRaceSettings } from './race_settings.js';
import { fmtCount, fmtRate, RACE_COLOURS, raceFields, showFigures, raceUi as ui } from './race_ui.js';
import { readSeed, SettingsError } from './settings.js';

type RaceState = 'waiting' | 'loading' | 'idle' | 'racing' | 'paused' | 'done' | 'lost' | 'error';

/**
 * Wall-clock time between evaluations on the fixed batch (at least this, and at least four times
 * what the last one took, so that a slow GPU spends most of its time racing), and between redraws.
 */
const EVAL_EVERY_MS = 1000;
const DRAW_EVERY_MS = 250;
/** The evaluation batch: the first images of the training set, the same for every variant. */
const EVAL_COUNT = 1000;

let state: RaceState = 'waiting';
let gpuIsReady = false;
let loading: Promise<void> | null = null;
let train: data.Dataset | null = null;
let evalBatch: [Tensor, Tensor] | null = null;
let runners: Runner[] = [];
let modelSeed = 0;
let run: RaceSettings | null = null;
/** Each variant races until it has had this many seconds of GPU time. */
let targetSeconds = 0;
let runToken = 0;
let resume: (() => void) | null = null;
/**
 * Set by Pause while the race runs: the loop pauses when the turn under way has ended, so that
 * nothing on the page changes once it says "paused" (a turn in flight would still add updates).
 */
let pauseRequested = false;
/** Settles when the last race loop (or reset) has stopped using the runners. */
let busy: Promise<void> = Promise.resolve();

// Two lines per variant: the evaluation-batch loss (solid, dots) and the training loss (dashed).
const chart = new RaceChart(ui.chart, [
  ...RACE_VARIANTS.map((v) => ({ label: `${RACE_LABELS[v]} (evaluation batch)`, stroke: RACE_COLOURS[v], points: true })),
  // Full batch's training loss gets dots too: on a slow GPU it has only a few updates.
  ...RACE_VARIANTS.map((v) => ({ label: `${RACE_LABELS[v]} (training)`, stroke: RACE_COLOURS[v], dash: [5, 4], width: 1.5, points: v === 'full' })),
]);
const evalLine = (r: Runner): number => RACE_VARIANTS.indexOf(r.variant);
const trainLine = (r: Runner): number => RACE_VARIANTS.length + RACE_VARIANTS.indexOf(r.variant);

function setState(next: RaceState, text?: string): void {
  state = next;
  pauseRequested = false;
  ui.status.textContent = text ?? next;
  const running = next === 'racing' || next === 'paused';
  const started = runners.some((r) => r.updates > 0);
  ui.start.disabled = !(next === 'idle' || next === 'done');
  ui.start.textContent = next === 'done' ? 'Race on' : 'Start';
  ui.pause.disabled = !running;
  ui.pause.textContent = next === 'paused' ? 'Resume' : 'Pause';
  ui.reset.disabled = !['idle', 'racing', 'paused', 'done', 'error'].includes(next);
  // The seed and batch size shape the runners: fixed once they have trained (Reset to change them).
  for (const el of [raceFields.seed, raceFields.batch]) el.disabled = running || started;
  for (const el of [...Object.values(raceFields.lr), raceFields.seconds]) el.disabled = running;
  ui.lockNote.textContent = running
    ? 'The fields are locked while the race runs; Pause keeps them locked, Reset unlocks them.'
    : started
      ? 'Seed and mini-batch size are fixed for this race (Reset to change them); learning rates and seconds apply when it goes on.'
      : '';
  showRunners();
}

function say(text: string): void {
  ui.note.textContent = text;
}

function fail(err: unknown): void {
  console.error(err);
  runToken++;
  setState('error', `error: ${(err as Error).message ?? String(err)}`);
}

/** The runners' reports: diverging, and new points for the chart. */
const events: RunnerEvents = {
  diverged,
  trainPoint: (r, p) => chart.add(trainLine(r), p),
  evalPoint: (r, p) => chart.add(evalLine(r), p),
};

/** Each moving runner's loss on the evaluation batch (while race `token` is the current one). */
function evaluateAll(token: number): Promise<void> {
  return evaluateRunners(runners, evalBatch!, () => token === runToken, events);
}

function showRunners(): void {
  for (const r of runners) {
    const rate = (n: number): string => (r.seconds > 0 ? fmtRate(n / r.seconds) : '–');
    let stateText: string = state === 'racing' || state === 'paused' || state === 'lost' || state === 'error' ? state : 'ready';
    if (state === 'done' || (state === 'racing' && r.seconds >= targetSeconds)) stateText = 'finished';
    if (r.status === 'diverged') stateText = `diverged: ${r.why}`;
    showFigures(r.variant, {
      batch: fmtCount(r.batch),
      lr: run ? String(run.lr[r.variant]) : raceFields.lr[r.variant].value,
      updates: fmtCount(r.updates),
      samples: fmtCount(r.samples),
      updatesPerS: rate(r.updates),
      samplesPerS: rate(r.samples),
      trainLoss: r.trainLoss === null ? '–' : r.trainLoss.toFixed(4),
      evalLoss: r.evalLoss === null ? '–' : r.evalLoss.toFixed(4),
      state: stateText,
    });
  }
}

function diverged(r: Runner, what: string): void {
  r.status = 'diverged';
  r.why = `${what} (update ${fmtCount(r.updates)})`;
  say(
    `The ${RACE_LABELS[r.variant]} run stopped: ${what} after ${fmtCount(r.updates)} updates. Its learning rate (${run?.lr[r.variant]}) is probably too large; Reset and try a smaller one. The others go on.`,
  );
}

async function raceLoop(token: number, settings: RaceSettings): Promise<void> {
  let nextEval = performance.now() + EVAL_EVERY_MS;
  let lastDraw = 0;
  try {
    for (const r of runners) {
      r.optimizer ?? (await prepareRunner(r, train!, settings));
      if (token !== runToken) return;
      r.optimizer!.lr = settings.lr[r.variant];
      if (r.status === 'ready') r.status = 'running';
    }
    for (;;) {
      if (pauseRequested) setState('paused', 'paused');
      if (state === 'paused') {
        showRunners();
        chart.draw();
        await new Promise<void>((r) => (resume = r));
      }
      if (token !== runToken) return;
      const waiting = runners.filter((r) => r.status === 'running' && r.seconds < targetSeconds);
      if (waiting.length === 0) break;
      // The runner with the least GPU time so far goes next: over the race, each gets the same share.
      await takeTurn(
        waiting.reduce((a, b) => (b.seconds < a.seconds ? b : a)),
        () => token === runToken,
        events,
      );
      if (token !== runToken) return;
      const now = performance.now();
      if (now >= nextEval) {
        await evaluateAll(token);
        const done = performance.now();
        nextEval = done + Math.max(EVAL_EVERY_MS, 4 * (done - now));
      }
      if (now - lastDraw >= DRAW_EVERY_MS) {
        showRunners();
        chart.draw();
        lastDraw = now;
      }
    }
    await evaluateAll(token);
    if (token !== runToken) return;
    chart.draw();
    const lost = runners.filter((r) => r.status === 'diverged').map((r) => RACE_LABELS[r.variant]);
    setState('done', `done: ${fmtSeconds(targetSeconds)} of GPU time each${lost.length ? ` (${lost.join(' and ')} diverged)` : ''}`);
  } catch (err) {
    if (token === runToken && state !== 'lost') fail(err);
  }
}

const fmtSeconds = (s: number): string => `${Number(s.toPrecision(3))} s`;

function start(): void {
  if (!train) return;
  let settings: RaceSettings;
  try {
    settings = readRaceSettings(raceFields, train.count);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    say(err.message);
    return;
  }
  const continuing = state === 'done';
  run = settings;
  targetSeconds = continuing ? Math.max(...runners.map((r) => r.seconds)) + settings.seconds : settings.seconds;
  const token = ++runToken;
  setState('racing', 'racing');
  const previous = busy;
  busy = (async () => {
    await previous;
    // The seed shown is the seed used: untrained runners are drawn again with a changed seed.
    if (!continuing && settings.seed !== modelSeed) await redraw(settings.seed, token);
    if (token !== runToken) return;
    say(
      continuing
        ? `Going on for ${fmtSeconds(settings.seconds)} more of GPU time each${runners.some((r) => r.status === 'diverged') ? ' (a diverged variant stays stopped)' : ''}.`
        : `Racing from initial weights drawn with seed ${modelSeed}, copied into all three: ${fmtSeconds(settings.seconds)} of GPU time each.`,
    );
    await raceLoop(token, settings);
  })().catch(fail);
}

/** New runners from `seed`, and their (equal) loss on the evaluation batch as the chart's first points. */
async function redraw(seed: number, token: number): Promise<void> {
  const old = runners;
  runners = await newRunners(seed, train!, () => Number(raceFields.batch.value) || 64);
  modelSeed = seed;
  releaseRunners(old);
  chart.clear();
  await evaluateAll(token);
  chart.draw();
}

function reset(): void {
  if (!train) return;
  let seed: number;
  try {
    seed = readSeed(raceFields.seed.value);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    say(err.message);
    return;
  }
  const token = ++runToken;
  resume?.();
  resume = null;
  run = null;
  targetSeconds = 0;
  const previous = busy;
  setState('loading', 'drawing new weights…');
  busy = (async () => {
    await previous;
    if (token !== runToken) return;
    await redraw(seed, token);
    if (token !== runToken) return;
    say(`New initial weights drawn with seed ${seed}, the same for all three.`);
    setState('idle', 'ready');
  })().catch(fail);
}

/** Loads the digits (once) when the panel is first shown on a working GPU. */
function ensureLoaded(): Promise<void> {
  if (!gpuIsReady) return Promise.resolve();
  loading ??= (async () => {
    setState('loading', 'loading the digits…');
    train = (await data.loadDigits(new URL('/digits.bin.gz', location.href))).train;
    const n = Math.min(EVAL_COUNT, train.count);
    evalBatch = [
      tensor(train.images.subarray(0, n * train.features), { shape: [n, train.features] }).keep(),
      tensor(train.labels.subarray(0, n), { shape: [n], dtype: 'int32' }).keep(),
    ];
    reset();
  })().catch(fail);
  return loading;
}

ui.start.addEventListener('click', start);
/** Asks the race to pause after the turn under way (see pauseRequested). */
function requestPause(): void {
  pauseRequested = true;
  ui.status.textContent = 'pausing…';
  ui.pause.disabled = true;
}

ui.pause.addEventListener('click', () => {
  if (state === 'racing') requestPause();
  else if (state === 'paused') {
    setState('racing', 'racing');
    resume?.();
    resume = null;
  }
});
ui.reset.addEventListener('click', reset);
ui.axis.addEventListener('change', () => chart.setAxis(ui.axis.value as RaceAxis));

/** The race panel as the page's start-up and model choice see it. */
export const racePanel = {
  /** WebGPU works: the panel may load its data when it is shown. */
  gpuReady(): void {
    gpuIsReady = true;
    setState('waiting', 'ready to load the digits');
    onDeviceLost((info) => {
      if (state === 'waiting') return;
      runToken++;
      setState('lost', 'GPU device lost');
      say(`The GPU device was lost (${info.reason || 'unknown'}); reload the page to race again.`);
    });
  },
  /** The panel is shown: its data loads the first time. */
  show: (): Promise<void> => ensureLoaded(),
  /** Pauses a race in progress (as its Pause button does); returns whether it did. */
  pause(): boolean {
    if (state !== 'racing') return false;
    requestPause();
    return true;
  },
};

// For tests: the state, the chart's lines (on the current axis) and each runner's figures.
(window as unknown as { webgradRace: unknown }).webgradRace = {
  state: () => state,
  lines: () => chart.points(),
  runners: () =>
    runners.map((r) => ({ variant: r.variant, updates: r.updates, samples: r.samples, seconds: r.seconds, status: r.status, evalLoss: r.evalLoss })),
};
