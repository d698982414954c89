// Runs the CNN rows (LeNet, samples/s) and the names-GPT rows (steps/s) for every selected library,
// each checked before it is timed by a run that trains on one batch over and over: its loss must
// fall, the first loss (before any update) must agree with webgrad's within 1e-3 relative and the
// last within 1e-2 — every library starts from the same weights, so this compares their forward
// passes, gradients and updates. The timed runs then cycle through 16 batches.
import type * as jaxTypes from '@jax-js/jax';
import type * as tfTypes from '@tensorflow/tfjs';
import type * as wg from '../src/index.js';
import { type DigitBatch, jaxLenet, lenetWeights, type TrainRun, tfLenet, webgradLenet } from './cnn_workloads.js';
import { gptWeights, jaxGpt, nameBatches, webgradGpt } from './gpt_workloads.js';
import { TF_SETTINGS } from './settings.js';

/** The rows to run; each entry is one row at that batch size. */
export interface CnnGptOptions {
  repetitions: number;
  cnn?: { batch: number; steps: number }[];
  gpt?: { batch: number; steps: number }[];
}

type Lib = 'webgrad' | 'webgrad-eager' | (typeof TF_SETTINGS)[number] | 'jax';

export interface CnnGptEnv {
  tf: typeof tfTypes;
  jax?: typeof jaxTypes;
  digits: wg.data.TrainTest;
  /** Needed for the GPT rows. */
  names?: wg.data.NamesSplit;
  selected: (lib: Lib) => boolean;
  /** Sets TF.js's matmul program for a setting. */
  useTiled: (lib: Lib) => void;
  batchData: (start: number, size: number) => DigitBatch;
  warmup: number;
  record: (kind: 'cnn' | 'gpt', label: string, lib: Lib, values: number[], unit: string, check: string) => void;
}

/** Largest relative differences allowed between a library's first (and last) checking loss and webgrad's. */
const FIRST_LOSS_TOLERANCE = 1e-3;
const LAST_LOSS_TOLERANCE = 1e-2;

async function measure(
  kind: 'cnn' | 'gpt',
  label: string,
  libs: Lib[],
  unit: string,
  repetitions: number,
  steps: number,
  env: CnnGptEnv,
  run: (lib: Lib, steps: number, oneBatch: boolean) => Promise<TrainRun>,
): Promise<void> {
  let reference: [number, number] | undefined;
  const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
  for (const lib of libs.filter(env.selected)) {
    env.useTiled(lib);
    // Correctness first, on one batch repeated: the loss falls and agrees with webgrad's at both ends.
    const warm = await run(lib, Math.max(3, Math.min(steps, 20)), true);
    const [first, , last] = warm.losses as [number, number, number];
    if (!(last < first)) throw new Error(`${kind} ${label} ${lib}: the loss on one batch did not fall (${warm.losses})`);
    if (lib === 'webgrad') reference = [first, last];
    const differences: [number, number] | undefined = reference && [relative(first, reference[0]), relative(last, reference[1])];
    if (differences && !(differences[0] <= FIRST_LOSS_TOLERANCE && differences[1] <= LAST_LOSS_TOLERANCE)) {
      throw new Error(
        `${kind} ${label} ${lib}: losses ${first}→${last} differ from webgrad's ${reference![0]}→${reference![1]} (relative ${differences.map((d) => d.toExponential(1))})`,
      );
    }
    const values: number[] = [];
    for (let r = 0; r < repetitions; r++) values.push((await run(lib, steps, false)).rate);
    const agreement = !differences
      ? 'webgrad not run'
      : lib === 'webgrad'
        ? 'reference'
        : `Δ ${differences.map((d) => d.toExponential(1)).join(' / ')} vs webgrad`;
    env.record(kind, label, lib, values, unit, `one batch: loss ${first.toPrecision(6)}→${last.toPrecision(6)} (${agreement})`);
  }
}

export async function runCnnGptRows(options: CnnGptOptions, env: CnnGptEnv): Promise<void> {
  const { tf, jax, warmup } = env;
  if (options.cnn?.length) {
    const weights = await lenetWeights();
    for (const { batch, steps } of options.cnn) {
      const batches = Array.from({ length: 16 }, (_, s) => env.batchData(s * batch, batch));
      const libs: Lib[] = ['webgrad', 'webgrad-eager', ...TF_SETTINGS, 'jax'];
      await measure('cnn', `LeNet batch ${batch}`, libs, 'samples/s', options.repetitions, steps, env, (lib, n, oneBatch) => {
        const data = oneBatch ? batches.slice(0, 1) : batches;
        if (lib === 'webgrad' || lib === 'webgrad-eager') return webgradLenet(weights, data, batch, n, warmup, lib === 'webgrad');
        if (lib === 'jax') return jaxLenet(jax!, weights, data, batch, n, warmup);
        return tfLenet(tf, weights, data, batch, n, warmup, lib.startsWith('tfjs-resident'));
      });
    }
  }
  if (options.gpt?.length) {
    if (!env.names) throw new Error('the names-GPT rows need the names data set');
    const weights = await gptWeights();
    for (const { batch, steps } of options.gpt) {
      const batches = nameBatches(env.names, batch, 16);
      const libs: Lib[] = ['webgrad', 'webgrad-eager', 'jax'];
      await measure('gpt', `NamesGPT batch ${batch}`, libs, 'steps/s', options.repetitions, steps, env, (lib, n, oneBatch) => {
        const data = oneBatch ? batches.slice(0, 1) : batches;
        if (lib === 'jax') return jaxGpt(jax!, weights, data, batch, n, warmup);
        return webgradGpt(data, batch, n, warmup, lib === 'webgrad');
      });
    }
  }
}
