// nn: layers, losses and the functional forms.

export * as functional from './functional.js';
export type { LinearOptions } from './layers.js';
export { CrossEntropyLoss, GELU, Linear, ReLU, Sequential, Sigmoid, Tanh } from './layers.js';
export { isParameter, Module, parameter } from './module.js';
