// Loading the embedded digits and MNIST IDX files from a URL (browser) or a path (Node).

import { fromIdx, type TrainTest } from './dataset.js';
import { DIGITS_FILE, parseDigits } from './digits.js';
import { IdxError } from './idx.js';
import { NAMES_FILE, type NamesSplit, parseNames } from './names.js';

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

async function readSource(source: string | URL): Promise<Uint8Array> {
  const url = source instanceof URL ? source : null;
  if (isNode && (!url || url.protocol === 'file:')) {
    const fs = 'node:fs/promises';
    const { readFile } = (await import(/* @vite-ignore */ fs)) as typeof import('node:fs/promises');
    return new Uint8Array(await readFile(url ?? (source as string)));
  }
  const response = await fetch(source);
  if (!response.ok) throw new IdxError(`could not fetch ${String(source)}: HTTP ${response.status}.`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * The embedded digits (8,000 train / 2,000 test). Without an argument it reads digits.bin.gz next
 * to the built library; pass bytes, a URL or a path to read it from elsewhere.
 */
export async function loadDigits(source?: Uint8Array | string | URL): Promise<TrainTest> {
  // The file name is kept in a variable so bundlers do not try to inline the data set.
  const name = DIGITS_FILE;
  const bytes = source instanceof Uint8Array ? source : await readSource(source ?? new URL(name, import.meta.url));
  return parseDigits(bytes);
}

/**
 * The embedded English first names (7,562 training / 841 validation). Without an argument it reads
 * names.txt.gz next to the built library; pass bytes, a URL or a path to read it from elsewhere.
 */
export async function loadNames(source?: Uint8Array | string | URL): Promise<NamesSplit> {
  const name = NAMES_FILE;
  const bytes = source instanceof Uint8Array ? source : await readSource(source ?? new URL(name, import.meta.url));
  return parseNames(bytes);
}

/** The names of the four MNIST IDX files loadMnist() reads (each may also end in .gz). */
export const MNIST_FILES = {
  /** The 60,000 training images. */
  trainImages: 'train-images-idx3-ubyte',
  /** The 60,000 training labels. */
  trainLabels: 'train-labels-idx1-ubyte',
  /** The 10,000 test images. */
  testImages: 't10k-images-idx3-ubyte',
  /** The 10,000 test labels. */
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** Reads the four MNIST IDX files (each may end in .gz) from a folder (Node) or a base URL. */
export async function loadMnist(dir: string | URL): Promise<TrainTest> {
  const base = typeof dir === 'string' ? dir.replace(/\/?$/, '/') : dir;
  const read = async (name: string): Promise<Uint8Array> => {
    const errors: string[] = [];
    for (const candidate of [name, `${name}.gz`]) {
      try {
        return await readSource(typeof base === 'string' ? base + candidate : new URL(candidate, base));
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    throw new IdxError(`${String(base)}: cannot read ${name} or ${name}.gz (${errors[errors.length - 1]}).`);
  };
  // One after the other, so the first missing file is the one reported.
  const ti = await read(MNIST_FILES.trainImages);
  const tl = await read(MNIST_FILES.trainLabels);
  const vi = await read(MNIST_FILES.testImages);
  const vl = await read(MNIST_FILES.testLabels);
  return {
    train: await fromIdx(ti, tl, { images: MNIST_FILES.trainImages, labels: MNIST_FILES.trainLabels }),
    test: await fromIdx(vi, vl, { images: MNIST_FILES.testImages, labels: MNIST_FILES.testLabels }),
  };
}
