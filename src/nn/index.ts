// nn: layers, losses and the functional forms.
export { Module, parameter, isParameter } from './module.js';
export { Linear, ReLU, Sequential, CrossEntropyLoss } from './layers.js';
export type { LinearOptions } from './layers.js';
export * as functional from './functional.js';
