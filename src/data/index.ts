export { DataLoader, resolveBatchSize } from './dataloader.js';
export type { BatchSize, DataLoaderOptions } from './dataloader.js';
export { fromIdx, fromBytes, subset } from './dataset.js';
export type { Dataset, TrainTest } from './dataset.js';
export { readIdx, parseIdx, gunzip, IdxError } from './idx.js';
export type { IdxArray } from './idx.js';
export { parseDigits, DIGITS_FILE } from './digits.js';
export { loadDigits, loadMnist, MNIST_FILES } from './load.js';
