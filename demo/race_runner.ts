// One variant of the race: its copy of the network, its captured step and loader, and what it has
// done so far (updates, samples, GPU time, smoothed losses). The race panel decides whose turn it
// is and shows the results; this file only trains and measures, and reports through RunnerEvents.
import { type CapturedStep, captureStep, data, manualSeed, nn, noGrad, optim, stack, type Tensor, tidy } from '../src/index.js';
import { Net } from './digits_ui.js';
import type { RacePoint } from './race_chart.js';
import { RACE_VARIANTS, type RaceSettings, type RaceVariant } from './race_settings.js';

/** A turn's length: long enough that the readback ending it costs little, short enough to look simultaneous. */
const TURN_MS = 30;
/** Most steps in one turn (their losses are stacked and read at once). */
const MAX_STEPS_PER_TURN = 256;
/** The stochastic and mini-batch training losses are averaged over about this many recent samples. */
const SMOOTHING_SAMPLES = 1000;

export interface Runner {
  variant: RaceVariant;
  model: Net;
  optimizer: optim.SGD | null;
  step: CapturedStep<[Tensor, Tensor], Tensor> | null;
  loader: data.DataLoader | null;
  batches: Iterator<[Tensor, Tensor]> | null;
  batch: number;
  updates: number;
  samples: number;
  /** GPU time used so far (the sum of its turns). */
  seconds: number;
  msPerStep: number | null;
  trainLoss: number | null;
  /** The running average's weighted sum and total weight (their ratio is unbiased from the first sample). */
  smoothed: { sum: number; weight: number };
  evalLoss: number | null;
  /** Updates at the last evaluation (a runner that has not moved is not evaluated again). */
  evaluatedAt: number;
  firstLoss: number | null;
  status: 'ready' | 'running' | 'diverged';
  why: string;
}

/** What runners report to the panel that shows them. */
export interface RunnerEvents {
  /** The runner's loss left any useful region; `what` says how. */
  diverged(r: Runner, what: string): void;
  trainPoint(r: Runner, p: RacePoint): void;
  evalPoint(r: Runner, p: RacePoint): void;
}

/** Whether the race that started a piece of work is still the current one (Reset and errors end it). */
export type StillCurrent = () => boolean;

export function point(r: Runner, loss: number): RacePoint {
  return { samples: r.samples, updates: r.updates, seconds: r.seconds, loss };
}

/**
 * Three copies of one network drawn with `seed`, each with its own copy of the same weights.
 * `miniBatchShown` is the mini-batch size to show until the race's settings are read.
 */
export async function newRunners(seed: number, train: data.Dataset, miniBatchShown: () => number): Promise<Runner[]> {
  manualSeed(seed);
  const first = new Net();
  const weights = await Promise.all(first.parameters().map((p) => p.data()));
  return RACE_VARIANTS.map((variant, i) => {
    const model = i === 0 ? first : new Net();
    if (i > 0) model.parameters().forEach((p, j) => p.write(weights[j]!));
    return {
      variant,
      model,
      optimizer: null,
      step: null,
      loader: null,
      batches: null,
      batch: variant === 'full' ? train.count : variant === 'sgd' ? 1 : miniBatchShown(),
      updates: 0,
      samples: 0,
      seconds: 0,
      msPerStep: null,
      trainLoss: null,
      smoothed: { sum: 0, weight: 0 },
      evalLoss: null,
      evaluatedAt: 0,
      firstLoss: null,
      status: 'ready',
      why: '',
    };
  });
}

/** Frees a race's captured steps, loaders and weights. */
export function releaseRunners(old: Runner[]): void {
  for (const r of old) {
    r.batches?.return?.();
    r.step?.dispose();
    r.loader?.dispose();
    for (const p of r.model.parameters()) {
      p.grad?.dispose();
      p.dispose();
    }
  }
}

/** The runner's next batch; a finished epoch starts the next (reshuffled). */
function nextBatch(r: Runner): [Tensor, Tensor] {
  let next = r.batches!.next();
  if (next.done) {
    r.batches = r.loader![Symbol.iterator]();
    next = r.batches.next();
  }
  return next.value as [Tensor, Tensor];
}

/**
 * The runner's optimizer, loader and captured step. The step's first three calls (an eager
 * warm-up, the recording and a first replay) compile its kernels; they run at learning rate 0,
 * which leaves the weights as they are, and count as no update and no time, so no variant pays
 * for compiling.
 */
export async function prepareRunner(r: Runner, train: data.Dataset, settings: RaceSettings): Promise<void> {
  if (r.variant === 'minibatch') r.batch = settings.batch;
  r.loader = new data.DataLoader(train, { batchSize: r.batch, shuffle: r.variant !== 'full', seed: settings.seed, dropLast: true });
  r.batches = r.loader[Symbol.iterator]();
  const opt = new optim.SGD(r.model.parameters(), { lr: 0 });
  const net = r.model;
  r.optimizer = opt;
  r.step = captureStep((x: Tensor, y: Tensor) => {
    opt.zeroGrad();
    const loss = nn.functional.crossEntropy(net.forward(x), y);
    loss.backward();
    opt.step();
    return loss;
  });
  for (let i = 0; i < 3; i++) {
    const [x, y] = nextBatch(r);
    const loss = r.step(x, y);
    await loss.item();
    loss.dispose();
  }
}

/** One turn: as many steps as fit in TURN_MS (from the last turn's pace), then one readback of their losses. */
export async function takeTurn(r: Runner, stillCurrent: StillCurrent, events: RunnerEvents): Promise<void> {
  const n = r.msPerStep === null ? 1 : Math.min(MAX_STEPS_PER_TURN, Math.max(1, Math.round(TURN_MS / r.msPerStep)));
  const started = performance.now();
  const losses: Tensor[] = [];
  for (let i = 0; i < n; i++) {
    const [x, y] = nextBatch(r);
    losses.push(r.step!(x, y));
  }
  const stacked = tidy(() => stack(losses));
  const values = await stacked.data();
  stacked.dispose();
  losses.forEach((t) => t.dispose());
  const ms = performance.now() - started;
  if (!stillCurrent()) return;
  const secondsBefore = r.seconds;
  r.msPerStep = ms / n;
  // Each batch's weight in the running average: older samples fade over about SMOOTHING_SAMPLES.
  const keep = 1 - Math.exp(-r.batch / SMOOTHING_SAMPLES);
  for (let i = 0; i < n; i++) {
    const loss = values[i]!;
    // A loss a thousand times its first value has left any useful region, finite or not.
    if (!Number.isFinite(loss)) return events.diverged(r, `the training loss became ${loss}`);
    r.firstLoss ??= loss;
    if (loss > 1000 * Math.max(1, r.firstLoss))
      return events.diverged(r, `the training loss grew from ${r.firstLoss.toPrecision(4)} to ${loss.toPrecision(4)}`);
    // Full batch: the loss of the whole training set at the weights before this update.
    if (r.variant === 'full' && i === n - 1)
      events.trainPoint(r, { samples: r.samples, updates: r.updates, seconds: secondsBefore + (i * ms) / n / 1000, loss });
    const avg = r.smoothed;
    avg.sum = (1 - keep) * avg.sum + keep * loss;
    avg.weight = (1 - keep) * avg.weight + keep;
    r.trainLoss = r.variant === 'full' ? loss : avg.sum / avg.weight;
    r.updates++;
    r.samples += r.batch;
  }
  r.seconds = secondsBefore + ms / 1000;
  if (r.variant !== 'full') events.trainPoint(r, point(r, r.trainLoss!));
}

/** Each moving runner's loss on `evalBatch`, read back at once; none of it counts as a runner's time. */
export async function evaluateRunners(runners: Runner[], evalBatch: [Tensor, Tensor], stillCurrent: StillCurrent, events: RunnerEvents): Promise<void> {
  const due = runners.filter((r) => r.status !== 'diverged' && (r.evaluatedAt !== r.updates || r.evalLoss === null));
  if (due.length === 0) return;
  const [x, y] = evalBatch;
  const losses = tidy(() => noGrad(() => stack(due.map((r) => nn.functional.crossEntropy(r.model.forward(x), y)))));
  const values = await losses.data();
  losses.dispose();
  if (!stillCurrent()) return;
  due.forEach((r, i) => {
    const loss = values[i]!;
    r.evaluatedAt = r.updates;
    if (!Number.isFinite(loss)) return events.diverged(r, `the loss on the evaluation batch became ${loss}`);
    r.evalLoss = loss;
    events.evalPoint(r, point(r, loss));
  });
}
