// nn: layers, losses and the functional forms.

export type { CrossEntropyOptions, NllLossOptions, Reduction } from './functional.js';
export * as functional from './functional.js';
export type { LinearOptions } from './layers.js';
export { CrossEntropyLoss, GELU, Linear, LogSoftmax, MSELoss, NLLLoss, ReLU, Sequential, Sigmoid, Softmax, Tanh } from './layers.js';
export { isParameter, Module, parameter } from './module.js';
