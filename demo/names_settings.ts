// The names panel's fields, read and validated before anything starts, as the digits form's are:
// each message quotes what was typed and states the rule.
import { isWhole, parseField, readLr, readSeed } from './settings.js';

export interface NamesSettings {
  steps: number;
  lr: number;
  batch: number;
  seed: number;
  temperature: number;
}

export interface NamesFields {
  steps: HTMLInputElement;
  lr: HTMLInputElement;
  batch: HTMLInputElement;
  seed: HTMLInputElement;
  temperature: HTMLInputElement;
}

const MAX_STEPS = 100_000;
const MAX_BATCH = 1024;
const MAX_TEMPERATURE = 10;

export function readSteps(text: string): number {
  return parseField(text, 'Steps', `a whole number from 1 to ${MAX_STEPS}`, (v) => isWhole(v) && v >= 1 && v <= MAX_STEPS);
}

export function readNamesBatch(text: string): number {
  return parseField(text, 'Batch', `a whole number of names from 1 to ${MAX_BATCH}`, (v) => isWhole(v) && v >= 1 && v <= MAX_BATCH);
}

export function readTemperature(text: string): number {
  return parseField(text, 'Temperature', `a number greater than 0 and at most ${MAX_TEMPERATURE} (e.g. 0.8)`, (v) => v > 0 && v <= MAX_TEMPERATURE);
}

/** Every field at once, in the order they appear on the page (the first bad one is reported). */
export function readNamesSettings(f: NamesFields): NamesSettings {
  return {
    steps: readSteps(f.steps.value),
    lr: readLr(f.lr.value),
    batch: readNamesBatch(f.batch.value),
    seed: readSeed(f.seed.value),
    temperature: readTemperature(f.temperature.value),
  };
}
