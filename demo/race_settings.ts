// The race's fields, read and validated before anything starts, as the digits form's are: each
// message quotes what was typed and states the rule, and the first bad field (in page order) is
// the one reported.
import { isWhole, parseField, readSeed } from './settings.js';

/** The three kinds of gradient descent that race, in the order the page shows them. */
export const RACE_VARIANTS = ['full', 'sgd', 'minibatch'] as const;
export type RaceVariant = (typeof RACE_VARIANTS)[number];

export interface RaceSettings {
  seed: number;
  /** Samples per update of mini-batch SGD (full batch uses the whole set, stochastic 1). */
  batch: number;
  lr: Record<RaceVariant, number>;
  /** Seconds of GPU time each variant gets. */
  seconds: number;
}

export interface RaceFields {
  seed: HTMLInputElement;
  batch: HTMLInputElement;
  lr: Record<RaceVariant, HTMLInputElement>;
  seconds: HTMLInputElement;
}

export const RACE_LABELS: Record<RaceVariant, string> = { full: 'full batch', sgd: 'stochastic', minibatch: 'mini-batch' };
const MAX_SECONDS = 3600;

export function readRaceBatch(text: string, trainCount: number): number {
  return parseField(
    text,
    'Mini-batch size',
    `a whole number from 1 to ${trainCount} (the training set's size)`,
    (v) => isWhole(v) && v >= 1 && v <= trainCount,
  );
}

export function readRaceLr(text: string, variant: RaceVariant): number {
  return parseField(text, `Learning rate (${RACE_LABELS[variant]})`, 'a number greater than 0 (e.g. 0.1)', (v) => v > 0);
}

export function readRaceSeconds(text: string): number {
  return parseField(text, 'Seconds per variant', `a number greater than 0 and at most ${MAX_SECONDS}`, (v) => v > 0 && v <= MAX_SECONDS);
}

/** Every field at once; `trainCount` bounds the mini-batch size. */
export function readRaceSettings(f: RaceFields, trainCount: number): RaceSettings {
  const seed = readSeed(f.seed.value);
  const batch = readRaceBatch(f.batch.value, trainCount);
  const lr = { full: readRaceLr(f.lr.full.value, 'full'), sgd: readRaceLr(f.lr.sgd.value, 'sgd'), minibatch: readRaceLr(f.lr.minibatch.value, 'minibatch') };
  return { seed, batch, lr, seconds: readRaceSeconds(f.seconds.value) };
}
