// nn: layers, losses and the functional forms.

export * as functional from './functional.js';
export type { LinearOptions } from './layers.js';
export { CrossEntropyLoss, Linear, ReLU, Sequential } from './layers.js';
export { isParameter, Module, parameter } from './module.js';
