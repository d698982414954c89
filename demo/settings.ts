// The training form's fields, read and validated before anything starts: each message quotes what
// was typed and states the rule, so a careless entry never starts a run that cannot go on.

export class SettingsError extends Error {}

export type Variant = 'minibatch' | 'sgd' | 'full';
export type OptimizerName = 'sgd' | 'adam' | 'adamw';

export interface Settings {
  variant: Variant;
  /** Samples per update (the whole training set for full batch, 1 for stochastic). */
  batch: number;
  optimizer: OptimizerName;
  lr: number;
  /** Only SGD uses momentum; Adam and AdamW ignore the field. */
  momentum: number;
  epochs: number;
  seed: number;
}

export interface SettingsFields {
  variant: HTMLSelectElement;
  batch: HTMLInputElement;
  optimizer: HTMLSelectElement;
  lr: HTMLInputElement;
  momentum: HTMLInputElement;
  epochs: HTMLInputElement;
  seed: HTMLInputElement;
}

const MAX_SEED = 2 ** 32 - 1;
const MAX_EPOCHS = 1000;

/** A number typed in a field, or a SettingsError quoting the text and the rule. */
export function parseField(text: string, name: string, rule: string, ok: (v: number) => boolean): number {
  const trimmed = text.trim();
  const v = Number(trimmed);
  if (trimmed === '' || !Number.isFinite(v) || !ok(v)) throw new SettingsError(`${name} "${text}" is not valid: it must be ${rule}.`);
  return v;
}

export const isWhole = (v: number): boolean => Number.isInteger(v);

export function readEpochs(text: string): number {
  return parseField(text, 'Epochs', `a whole number from 1 to ${MAX_EPOCHS}`, (v) => isWhole(v) && v >= 1 && v <= MAX_EPOCHS);
}

export function readLr(text: string): number {
  return parseField(text, 'Learning rate', 'a number greater than 0 (e.g. 0.1)', (v) => v > 0);
}

export function readMomentum(text: string): number {
  return parseField(text, 'Momentum', 'a number from 0 up to (not including) 1', (v) => v >= 0 && v < 1);
}

export function readSeed(text: string): number {
  return parseField(text, 'Seed', `a whole number from 0 to ${MAX_SEED}`, (v) => isWhole(v) && v >= 0 && v <= MAX_SEED);
}

/** Every field at once; `trainCount` bounds the batch size. */
export function readSettings(f: SettingsFields, trainCount: number): Settings {
  const variant = f.variant.value as Variant;
  const optimizer = f.optimizer.value as OptimizerName;
  let batch = 1;
  if (variant === 'full') batch = trainCount;
  else if (variant === 'minibatch') {
    batch = parseField(
      f.batch.value,
      'Batch size',
      `a whole number from 1 to ${trainCount} (the training set's size)`,
      (v) => isWhole(v) && v >= 1 && v <= trainCount,
    );
  }
  return {
    variant,
    batch,
    optimizer,
    lr: readLr(f.lr.value),
    momentum: optimizer === 'sgd' ? readMomentum(f.momentum.value) : 0,
    epochs: readEpochs(f.epochs.value),
    seed: readSeed(f.seed.value),
  };
}
