// In-memory image classification data: images as float32 in [0, 1], labels as int32.
import { ValueError } from '../errors.js';
import { IdxError, readIdx } from './idx.js';

/** An in-memory image classification data set, held on the host. */
export interface Dataset {
  /** count × features values in [0, 1], row-major. */
  images: Float32Array;
  /** count class labels (0–9 for digits). */
  labels: Int32Array;
  /** Number of samples. */
  count: number;
  /** Values per sample (784 for 28×28 digits). */
  features: number;
}

/** A data set already split into a training and a test part. */
export interface TrainTest {
  /** The samples to train on. */
  train: Dataset;
  /** The held-out samples to evaluate on. */
  test: Dataset;
}

/** Builds a dataset from MNIST-style IDX images ([N, rows, cols] bytes) and labels ([N] bytes). */
export async function fromIdx(imageFile: Uint8Array, labelFile: Uint8Array, names = { images: 'images', labels: 'labels' }): Promise<Dataset> {
  const images = await readIdx(imageFile, names.images);
  const labels = await readIdx(labelFile, names.labels);
  if (images.dims.length !== 3) {
    throw new IdxError(`${names.images}: expected 3 dimensions [count, rows, cols] for images, got [${images.dims.join(', ')}].`);
  }
  if (labels.dims.length !== 1) throw new IdxError(`${names.labels}: expected 1 dimension [count] for labels, got [${labels.dims.join(', ')}].`);
  const [n, rows, cols] = images.dims as [number, number, number];
  if (labels.dims[0] !== n) {
    throw new IdxError(`${names.images} has ${n} images but ${names.labels} has ${labels.dims[0]} labels.`);
  }
  for (let i = 0; i < n; i++) {
    if (labels.data[i]! > 9) throw new IdxError(`${names.labels}: label ${labels.data[i]} at index ${i} is not a digit 0–9.`);
  }
  return fromBytes(images.data, labels.data, rows * cols);
}

/** Pixels as bytes (0–255) and labels as bytes → a Dataset. */
export function fromBytes(pixels: Uint8Array, labels: Uint8Array | Int32Array, features: number): Dataset {
  const count = labels.length;
  if (pixels.length !== count * features) {
    throw new ValueError(`dataset: ${pixels.length} pixel bytes do not make ${count} samples of ${features}.`);
  }
  const images = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) images[i] = pixels[i]! / 255;
  return { images, labels: Int32Array.from(labels), count, features };
}

/** The samples at the given indices, copied; each index must be an integer in [0, ds.count). */
export function subset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const n = indices.length;
  // Checked first: an index past the end would otherwise copy an empty image and label 0.
  for (let i = 0; i < n; i++) {
    const j = indices[i]!;
    if (!Number.isInteger(j)) throw new ValueError(`subset: index ${j} at position ${i} is not an integer.`);
    if (j < 0 || j >= ds.count) throw new ValueError(`subset: index ${j} at position ${i} is outside [0, ${ds.count}).`);
  }
  const images = new Float32Array(n * ds.features);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const j = indices[i]!;
    images.set(ds.images.subarray(j * ds.features, (j + 1) * ds.features), i * ds.features);
    labels[i] = ds.labels[j]!;
  }
  return { images, labels, count: n, features: ds.features };
}
