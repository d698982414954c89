// webgrad's public API. The demo, the benchmarks and users import only from here.
export { init, runtimeInfo, memory, counters, realize, sync, tidy } from './runtime/runtime.js';
export type { RuntimeInfo, MemoryInfo } from './runtime/runtime.js';
export type { InitOptions, AdapterSummary, UsedLimits } from './runtime/device.js';
export type { Counters } from './runtime/scheduler.js';
export { Tensor } from './tensor.js';
export type { DType } from './tensor.js';
export { tensor, zeros, ones, full, rand, randn, zerosLike, onesLike } from './creation.js';
export type { TensorOptions, RandomOptions } from './creation.js';
export { manualSeed, Generator } from './random.js';
export { noGrad, isGradEnabled } from './autograd.js';
export * from './errors.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as data from './data/index.js';
