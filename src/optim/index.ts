export { Optimizer } from './optimizer.js';
export type { OptimizerKind } from './optimizer.js';
export { SGD } from './sgd.js';
export type { SGDOptions } from './sgd.js';
export { Adam, AdamW } from './adam.js';
export type { AdamOptions } from './adam.js';
export { StepLR, CosineAnnealingLR } from './lr_scheduler.js';
export type { HasLearningRate } from './lr_scheduler.js';
