// nn: layers, containers, losses, the functional forms and utils (gradient clipping).

export type { BatchNormOptions } from './batch_norm.js';
export { BatchNorm1d, BatchNorm2d } from './batch_norm.js';
export { Flatten, ModuleDict, ModuleList } from './containers.js';
export type { AvgPool2dOptions, Conv2dOptions, IntPair, MaxPool2dOptions } from './conv_functional.js';
export type { Conv2dLayerOptions } from './conv_layers.js';
export { AdaptiveAvgPool2d, AvgPool2d, Conv2d, MaxPool2d } from './conv_layers.js';
export type { BceWithLogitsOptions, CrossEntropyOptions, EmbeddingOptions, NllLossOptions, Reduction } from './functional.js';
export * as functional from './functional.js';
export type { EmbeddingLayerOptions, LayerNormOptions, LinearOptions } from './layers.js';
export {
  BCEWithLogitsLoss,
  CrossEntropyLoss,
  Dropout,
  Embedding,
  GELU,
  LayerNorm,
  Linear,
  LogSoftmax,
  MSELoss,
  NLLLoss,
  ReLU,
  Sequential,
  Sigmoid,
  Softmax,
  Tanh,
} from './layers.js';
export { buffer, isBuffer, isParameter, Module, parameter } from './module.js';
export * as utils from './utils.js';
