// Runs the CNN rows (LeNet, samples/s) and the names-GPT rows (steps/s) for every selected library,
// each checked before it is timed: the loss falls over the run, and the first loss (the very first
// step, before any update) agrees with webgrad's within 1e-3 relative — they all start from the
// same weights and see the same batches.
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

/** Largest relative difference allowed between a library's first loss and webgrad's. */
const FIRST_LOSS_TOLERANCE = 1e-3;

async function measure(
  kind: 'cnn' | 'gpt',
  label: string,
  libs: Lib[],
  unit: string,
  repetitions: number,
  steps: number,
  env: CnnGptEnv,
  run: (lib: Lib, steps: number) => Promise<TrainRun>,
): Promise<void> {
  let reference: number | undefined;
  for (const lib of libs.filter(env.selected)) {
    env.useTiled(lib);
    // Correctness first: the loss falls, and the first step's loss (before any update) agrees with webgrad's.
    const warm = await run(lib, Math.max(3, Math.min(steps, 20)));
    const [first, , last] = warm.losses as [number, number, number];
    if (!(last < first)) throw new Error(`${kind} ${label} ${lib}: the loss did not fall (${warm.losses})`);
    if (lib === 'webgrad') reference = first;
    const difference = reference === undefined ? undefined : Math.abs(first - reference) / Math.abs(reference);
    if (difference !== undefined && !(difference <= FIRST_LOSS_TOLERANCE)) {
      throw new Error(`${kind} ${label} ${lib}: first loss ${first} differs from webgrad's ${reference} by ${difference.toExponential(1)} (relative)`);
    }
    const values: number[] = [];
    for (let r = 0; r < repetitions; r++) values.push((await run(lib, steps)).rate);
    const agreement = difference === undefined ? 'webgrad not run' : lib === 'webgrad' ? 'reference' : `Δ ${difference.toExponential(1)} vs webgrad`;
    env.record(kind, label, lib, values, unit, `first loss ${first.toPrecision(7)} (${agreement}), ${first.toFixed(3)}→${last.toFixed(3)}`);
  }
}

export async function runCnnGptRows(options: CnnGptOptions, env: CnnGptEnv): Promise<void> {
  const { tf, jax, warmup } = env;
  if (options.cnn?.length) {
    const weights = await lenetWeights();
    for (const { batch, steps } of options.cnn) {
      const batches = Array.from({ length: 16 }, (_, s) => env.batchData(s * batch, batch));
      const libs: Lib[] = ['webgrad', 'webgrad-eager', ...TF_SETTINGS, 'jax'];
      await measure('cnn', `LeNet batch ${batch}`, libs, 'samples/s', options.repetitions, steps, env, (lib, n) => {
        if (lib === 'webgrad' || lib === 'webgrad-eager') return webgradLenet(weights, batches, batch, n, warmup, lib === 'webgrad');
        if (lib === 'jax') return jaxLenet(jax!, weights, batches, batch, n, warmup);
        return tfLenet(tf, weights, batches, batch, n, warmup, lib.startsWith('tfjs-resident'));
      });
    }
  }
  if (options.gpt?.length) {
    if (!env.names) throw new Error('the names-GPT rows need the names data set');
    const weights = await gptWeights();
    for (const { batch, steps } of options.gpt) {
      const batches = nameBatches(env.names, batch, 16);
      const libs: Lib[] = ['webgrad', 'webgrad-eager', 'jax'];
      await measure('gpt', `NamesGPT batch ${batch}`, libs, 'steps/s', options.repetitions, steps, env, (lib, n) => {
        if (lib === 'jax') return jaxGpt(jax!, weights, batches, batch, n, warmup);
        return webgradGpt(batches, batch, n, warmup, lib === 'webgrad');
      });
    }
  }
}
