// nn: layers, losses and the functional forms.

export type { CrossEntropyOptions, NllLossOptions, Reduction } from './functional.js';
export * as functional from './functional.js';
export type { LinearOptions } from './layers.js';
export { CrossEntropyLoss, Linear, LogSoftmax, MSELoss, NLLLoss, ReLU, Sequential, Softmax } from './layers.js';
export { isParameter, Module, parameter } from './module.js';
