// models: complete models written with the public API (a small GPT for names).

export type { GenerateOptions, NamesGPTConfig } from './gpt.js';
export { Block, CausalSelfAttention, MLP, NAMES_GPT_DEFAULTS, NamesGPT } from './gpt.js';
