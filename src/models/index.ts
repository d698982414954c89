// models: complete models written with the public API (a small GPT for names, LeNet and LeNetBN for the digits).

export type { GenerateOptions, NamesGPTConfig } from './gpt.js';
export { Block, CausalSelfAttention, MLP, NAMES_GPT_DEFAULTS, NamesGPT } from './gpt.js';
export type { LeNetConfig } from './lenet.js';
export { LENET_DEFAULTS, LeNet } from './lenet.js';
export { LeNetBN } from './lenet_bn.js';
