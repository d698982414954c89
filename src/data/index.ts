export type { BatchSize, DataLoaderOptions } from './dataloader.js';
export { DataLoader, resolveBatchSize } from './dataloader.js';
export type { Dataset, TrainTest } from './dataset.js';
export { fromBytes, fromIdx, subset } from './dataset.js';
export { DIGITS_FILE, parseDigits } from './digits.js';
export type { IdxArray } from './idx.js';
export { gunzip, IdxError, parseIdx, readIdx } from './idx.js';
export { loadDigits, loadMnist, MNIST_FILES } from './load.js';
