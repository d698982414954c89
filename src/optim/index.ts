export type { AdamOptions } from './adam.js';
export { Adam, AdamW } from './adam.js';
export type { HasLearningRate } from './lr_scheduler.js';
export { CosineAnnealingLR, StepLR } from './lr_scheduler.js';
export type { OptimizerKind } from './optimizer.js';
export { Optimizer } from './optimizer.js';
export type { SGDOptions } from './sgd.js';
export { SGD } from './sgd.js';
