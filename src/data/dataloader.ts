// DataLoader: batches of a Dataset uploaded to the GPU, in a seeded shuffled order. The three
// kinds of gradient descent are batch sizes: 'full' (one update per epoch), 'sgd' (one
// sample per update) and 'minibatch' (64), or any number.

import { describeValue, showSetting } from '../arguments.js';
import { tensor } from '../creation.js';
import { ValueError } from '../errors.js';
import { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import type { Dataset } from './dataset.js';

/** Samples per batch: a number, or 'full' (the whole data set), 'sgd' (1) or 'minibatch' (64). */
export type BatchSize = number | 'full' | 'sgd' | 'minibatch';

/** Options for DataLoader. */
export interface DataLoaderOptions {
  /**
   * Samples per batch (default 1, as in PyTorch). A number larger than the data set gives one
   * batch of every sample, or none with dropLast, as in PyTorch.
   */
  batchSize?: BatchSize;
  /** Draw a new random order every epoch (default true). */
  shuffle?: boolean;
  /** Seed of the shuffling (default 0): the same seed gives the same batches everywhere. */
  seed?: number;
  /** Skip a last batch smaller than batchSize (default false). */
  dropLast?: boolean;
}

/**
 * The number of samples a BatchSize means for a data set of `count` samples ('full' is count; a
 * number is itself, even when larger than count); throws on an invalid size.
 */
export function resolveBatchSize(batchSize: BatchSize, count: number): number {
  if (batchSize === 'full') return count;
  if (batchSize === 'sgd') return 1;
  if (batchSize === 'minibatch') return 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ValueError(`DataLoader: batchSize must be a positive integer or 'full' | 'sgd' | 'minibatch', got ${showSetting(batchSize)}.`);
  }
  return batchSize;
}

/** True for something shaped like a Dataset: count × features image values and count labels. */
function isDataset(value: unknown): value is Dataset {
  if (value === null || typeof value !== 'object') return false;
  const { images, labels, count, features } = value as Partial<Dataset>;
  return (
    ArrayBuffer.isView(images) &&
    typeof labels?.length === 'number' &&
    Number.isInteger(count) &&
    Number.isInteger(features) &&
    labels.length === count &&
    images.length === count! * features!
  );
}

/**
 * Iterating gives [images [B, features] float32, labels [B] int32] on the GPU. A batch lives until
 * the loader yields the next one (keep() it to hold it longer). When one batch is the whole data
 * set it is uploaded once and yielded every epoch (a full-batch gradient does not depend on order).
 * Each `for … of` over the loader is one epoch.
 *
 * ```ts
 * const { train } = await data.loadDigits();
 * const loader = new data.DataLoader(train, { batchSize: 'minibatch', seed: 1 });
 * for (const [x, y] of loader) {
 *   // x: [64, 784] float32, y: [64] int32 (the last batch may be smaller)
 * }
 * ```
 */
export class DataLoader implements Iterable<[Tensor, Tensor]> {
  /**
   * Samples per batch, as a number (the last batch of an epoch may be smaller unless dropLast). As
   * in PyTorch it may exceed the data set's size: then the one batch is the whole data set.
   */
  readonly batchSize: number;
  private readonly shuffle: boolean;
  private readonly dropLast: boolean;
  private readonly generator: Generator;
  private wholeBatch: [Tensor, Tensor] | null = null;

  /**
   * @param dataset - The samples to batch; they stay on the host until each batch is uploaded.
   * @param options - Batch size, shuffling, seed and dropLast.
   */
  constructor(
    readonly dataset: Dataset,
    options: DataLoaderOptions = {},
  ) {
    if (!isDataset(dataset)) {
      throw new ValueError(`DataLoader: dataset must be a Dataset { images, labels, count, features }, got ${describeValue(dataset)}.`);
    }
    if (dataset.count === 0) throw new ValueError('DataLoader: the dataset is empty.');
    this.batchSize = resolveBatchSize(options.batchSize ?? 1, dataset.count);
    this.shuffle = options.shuffle ?? true;
    this.dropLast = options.dropLast ?? false;
    this.generator = new Generator(options.seed ?? 0);
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.count / this.batchSize;
    return this.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  private order(): Uint32Array {
    const idx = new Uint32Array(this.dataset.count);
    for (let i = 0; i < idx.length; i++) idx[i] = i;
    if (this.shuffle) {
      for (let i = idx.length - 1; i > 0; i--) {
        const j = this.generator.int(i + 1);
        const t = idx[i]!;
        idx[i] = idx[j]!;
        idx[j] = t;
      }
    }
    return idx;
  }

  /** Uploads the samples at positions [start, end) of `order`. */
  private upload(order: Uint32Array, start: number, end: number): [Tensor, Tensor] {
    const { images, labels, features } = this.dataset;
    const n = end - start;
    const x = new Float32Array(n * features);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const j = order[start + i]!;
      x.set(images.subarray(j * features, (j + 1) * features), i * features);
      y[i] = labels[j]!;
    }
    return [tensor(x, { shape: [n, features] }), tensor(y, { shape: [n], dtype: 'int32' })];
  }

  /** One epoch of [images, labels] batches; the previous batch is disposed when the next is yielded, unless kept. */
  *[Symbol.iterator](): Iterator<[Tensor, Tensor]> {
    // One batch of every sample (unless dropLast refuses it as smaller than batchSize).
    const { count } = this.dataset;
    if (this.batchSize === count || (this.batchSize > count && !this.dropLast)) {
      if (!this.wholeBatch || this.wholeBatch[0].isDisposed) {
        const all = this.upload(this.order(), 0, this.dataset.count);
        this.wholeBatch = [all[0].keep(), all[1].keep()];
      }
      yield this.wholeBatch;
      return;
    }
    const order = this.order();
    let previous: [Tensor, Tensor] | null = null;
    try {
      for (let start = 0; start < order.length; start += this.batchSize) {
        const end = Math.min(start + this.batchSize, order.length);
        if (this.dropLast && end - start < this.batchSize) break;
        if (previous) for (const t of previous) if (!t.isPinned) t.dispose();
        previous = this.upload(order, start, end);
        yield previous;
      }
    } finally {
      if (previous) for (const t of previous) if (!t.isPinned) t.dispose();
    }
  }

  /** Frees the cached whole-data-set batch, if any. */
  dispose(): void {
    if (this.wholeBatch) for (const t of this.wholeBatch) t.dispose();
    this.wholeBatch = null;
  }
}
