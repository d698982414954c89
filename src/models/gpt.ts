// A small character-level GPT (decoder-only transformer) that learns to make names: token and
// position embeddings, `layers` blocks of pre-LayerNorm causal self-attention and a GELU MLP, each
// with a residual connection, a final LayerNorm and a linear head to next-token logits. Written
// with the library's public layers and ops only. Parameter names are those of the PyTorch module of
// tests/fixtures/make_names_parity.py (wte.weight, blocks.0.attn.qkv.weight, …), so safetensors
// checkpoints load either way.

import { noGrad } from '../autograd.js';
import { ones, tensor } from '../creation.js';
import { DTypeError, fmtShape, ShapeError, ValueError } from '../errors.js';
import { ModuleList } from '../nn/containers.js';
import { nllLoss } from '../nn/functional.js';
import { Dropout, Embedding, GELU, LayerNorm, Linear } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import { Generator } from '../random.js';
import { tidy } from '../runtime/runtime.js';
import type { Tensor } from '../tensor.js';

/** The shape of a NamesGPT. */
export interface NamesGPTConfig {
  /** Number of tokens (27 for the names: '.' and a–z). */
  vocabSize: number;
  /** Longest input sequence (the position table's size). */
  context: number;
  /** Width of the residual stream. */
  dModel: number;
  /** Attention heads per block; dModel must be a multiple of it. */
  heads: number;
  /** Number of transformer blocks. */
  layers: number;
  /** Hidden width of each MLP as a multiple of dModel. */
  mlpRatio: number;
  /** Dropout probability after the embeddings, the attention weights and each residual branch (active in train mode). */
  dropout: number;
}

/** The defaults: 2 blocks, 4 heads, width 64, context 16, MLP 4× wide, no dropout. */
export const NAMES_GPT_DEFAULTS: NamesGPTConfig = { vocabSize: 27, context: 16, dModel: 64, heads: 4, layers: 2, mlpRatio: 4, dropout: 0 };

/** Options of NamesGPT.generate. */
export interface GenerateOptions {
  /** Logits are divided by it before the softmax: below 1 sharper, above 1 flatter (default 1). */
  temperature?: number;
  /** Seed of the sampling generator (default 0): the same seed and weights give the same names. */
  seed?: number;
}

/** Multi-head causal self-attention: one Linear to q, k and v, scaled dot products, a causal mask, one output Linear. */
export class CausalSelfAttention extends Module {
  /** Projects x to the queries, keys and values side by side: [*, 3·dModel]. */
  readonly qkv: Linear;
  /** Mixes the heads' outputs back into the residual stream. */
  readonly proj: Linear;
  /** Dropout on the attention weights. */
  readonly attnDrop: Dropout;
  /** Dropout on the output, before the residual sum. */
  readonly residDrop: Dropout;
  /** True above the diagonal: position t must not see positions after it. Not a parameter. */
  private readonly future: Tensor;

  constructor(
    /** Width of the input and output. */
    readonly dModel: number,
    /** Number of attention heads (dModel / heads each). */
    readonly heads: number,
    context: number,
    seed?: number,
    dropout = 0,
  ) {
    super();
    this.qkv = new Linear(dModel, 3 * dModel, { seed });
    this.proj = new Linear(dModel, dModel, { seed: seed === undefined ? undefined : seed + 1 });
    this.attnDrop = new Dropout(dropout);
    this.residDrop = new Dropout(dropout);
    this.future = ones([context, context]).triu(1).gt(0).keep();
  }

  forward(x: Tensor): Tensor {
    const [B, T, D] = x.shape as [number, number, number];
    const H = this.heads;
    const headDim = D / H;
    // [B, T, 3D] as [B, T, 3, H, headDim]; slice i → [B, H, T, headDim]. Cut along the size-3
    // dimension, each slice's gradient (a permuted view) fits its place without a copy, and
    // backward assembles the three in one pass (ops/assemble.ts).
    const qkv = this.qkv.forward(x).reshape([B, T, 3, H, headDim]);
    const split = (i: number): Tensor => qkv.narrow(2, i, 1).reshape([B, T, H, headDim]).permute([0, 2, 1, 3]);
    const q = split(0);
    const k = split(1);
    const v = split(2);
    const mask = this.future.narrow(0, 0, T).narrow(1, 0, T);
    const attention = q
      .matmul(k.transpose(-2, -1))
      .mul(1 / Math.sqrt(headDim))
      .maskedFill(mask, Number.NEGATIVE_INFINITY)
      .softmax(-1);
    const y = this.attnDrop.forward(attention).matmul(v).permute([0, 2, 1, 3]).reshape([B, T, D]);
    return this.residDrop.forward(this.proj.forward(y));
  }
}

/** The position-wise MLP: Linear to mlpRatio × dModel, GELU (erf), Linear back. */
export class MLP extends Module {
  /** dModel → hidden. */
  readonly fc: Linear;
  /** The activation (erf GELU, PyTorch's default). */
  readonly gelu = new GELU();
  /** hidden → dModel. */
  readonly proj: Linear;
  /** Dropout on the output, before the residual sum. */
  readonly drop: Dropout;

  constructor(dModel: number, hidden: number, seed?: number, dropout = 0) {
    super();
    this.fc = new Linear(dModel, hidden, { seed });
    this.proj = new Linear(hidden, dModel, { seed: seed === undefined ? undefined : seed + 1 });
    this.drop = new Dropout(dropout);
  }

  forward(x: Tensor): Tensor {
    return this.drop.forward(this.proj.forward(this.gelu.forward(this.fc.forward(x))));
  }
}

/** One transformer block: x + attn(ln1(x)), then x + mlp(ln2(x)). */
export class Block extends Module {
  /** The LayerNorm before attention. */
  readonly ln1: LayerNorm;
  /** Causal self-attention. */
  readonly attn: CausalSelfAttention;
  /** The LayerNorm before the MLP. */
  readonly ln2: LayerNorm;
  /** The position-wise MLP. */
  readonly mlp: MLP;

  constructor(config: NamesGPTConfig, seed?: number) {
    super();
    this.ln1 = new LayerNorm(config.dModel);
    this.attn = new CausalSelfAttention(config.dModel, config.heads, config.context, seed, config.dropout);
    this.ln2 = new LayerNorm(config.dModel);
    this.mlp = new MLP(config.dModel, config.mlpRatio * config.dModel, seed === undefined ? undefined : seed + 2, config.dropout);
  }

  forward(x: Tensor): Tensor {
    const h = x.add(this.attn.forward(this.ln1.forward(x)));
    return h.add(this.mlp.forward(this.ln2.forward(h)));
  }
}

/**
 * A small GPT over characters. `forward(tokens)` maps int32 tokens [B, T] (T ≤ context) to
 * next-token logits [B, T, vocabSize]; `NamesGPT.loss` is the cross-entropy against targets with
 * padded positions ignored; `generate` samples names.
 *
 * ```ts
 * const model = new models.NamesGPT({ vocabSize: 27 }, { seed: 0 });
 * const loss = models.NamesGPT.loss(model.forward(x), y);
 * ```
 */
export class NamesGPT extends Module {
  /** The configuration, defaults filled in. */
  readonly config: NamesGPTConfig;
  /** Token embedding, [vocabSize, dModel]. */
  readonly wte: Embedding;
  /** Position embedding, [context, dModel]. */
  readonly wpe: Embedding;
  /** Dropout on the summed embeddings. */
  readonly drop: Dropout;
  /** The transformer blocks (Block), applied in order. */
  readonly blocks: ModuleList;
  /** The final LayerNorm. */
  readonly lnf: LayerNorm;
  /** Next-token logits from the last hidden state, no bias (untied from wte). */
  readonly head: Linear;

  /**
   * @param config - Any of NamesGPTConfig's fields; the rest from NAMES_GPT_DEFAULTS.
   * @param options - `seed` for the initial weights; without it the global generator (manualSeed).
   */
  constructor(config: Partial<NamesGPTConfig> = {}, options: { seed?: number } = {}) {
    super();
    const c = { ...NAMES_GPT_DEFAULTS, ...config };
    for (const key of ['vocabSize', 'context', 'dModel', 'heads', 'layers', 'mlpRatio'] as const) {
      if (!Number.isInteger(c[key]) || c[key] < 1) throw new ValueError(`NamesGPT: config.${key} must be a positive integer, got ${String(c[key])}.`);
    }
    if (c.dModel % c.heads !== 0) throw new ValueError(`NamesGPT: config.dModel (${c.dModel}) must be a multiple of config.heads (${c.heads}).`);
    if (typeof c.dropout !== 'number' || !(c.dropout >= 0 && c.dropout < 1)) {
      throw new ValueError(`NamesGPT: config.dropout must be a probability in [0, 1), got ${String(c.dropout)}.`);
    }
    this.config = c;
    // Each layer gets its own seed, so that a seeded model does not repeat one random stream.
    let layer = 0;
    const seed = (): number | undefined => (options.seed === undefined ? undefined : options.seed * 1000 + 10 * layer++);
    this.wte = new Embedding(c.vocabSize, c.dModel, { seed: seed() });
    this.wpe = new Embedding(c.context, c.dModel, { seed: seed() });
    this.drop = new Dropout(c.dropout);
    this.blocks = new ModuleList(Array.from({ length: c.layers }, () => new Block(c, seed())));
    this.lnf = new LayerNorm(c.dModel);
    this.head = new Linear(c.dModel, c.vocabSize, { bias: false, seed: seed() });
  }

  forward(tokens: Tensor): Tensor {
    const { context } = this.config;
    if (tokens.dtype !== 'int32') throw new DTypeError(`NamesGPT: tokens must be int32, got ${tokens.dtype} (shape ${fmtShape(tokens.shape)}).`);
    if (tokens.ndim !== 2 || tokens.shape[1]! < 1 || tokens.shape[1]! > context) {
      throw new ShapeError(`NamesGPT: tokens must be [batch, T] with 1 ≤ T ≤ ${context}, got ${fmtShape(tokens.shape)}.`);
    }
    const T = tokens.shape[1]!;
    // Positions 0…T−1 are the first T rows of the position table.
    let x = this.drop.forward(this.wte.forward(tokens).add(this.wpe.weight.narrow(0, 0, T)));
    for (const block of this.blocks) x = block.forward(x);
    return this.head.forward(this.lnf.forward(x));
  }

  /**
   * Mean cross-entropy of logits [B, T, V] against int32 targets [B, T], over the targets that are
   * not −100 (padding). Written as nllLoss(logSoftmax) so that the same kernels run whether or not
   * a batch has padding (a captured step replays one program for every batch).
   */
  static loss(logits: Tensor, targets: Tensor): Tensor {
    const V = logits.shape.at(-1)!;
    if (logits.ndim !== 3 || targets.ndim !== 2 || logits.shape[0] !== targets.shape[0] || logits.shape[1] !== targets.shape[1]) {
      throw new ShapeError(`NamesGPT.loss: expected logits [B, T, V] and targets [B, T], got ${fmtShape(logits.shape)} and ${fmtShape(targets.shape)}.`);
    }
    return nllLoss(logits.reshape([-1, V]).logSoftmax(-1), targets.reshape([-1]));
  }

  /**
   * Samples `count` names: each starts from '.', draws the next token from softmax(logits /
   * temperature) on the host with a seeded generator, and ends at '.' or after context letters.
   * Returns token lists without the '.'s (decode them with data.decodeName).
   */
  async generate(count: number, options: GenerateOptions = {}): Promise<number[][]> {
    const temperature = options.temperature ?? 1;
    const seed = options.seed ?? 0;
    if (!Number.isInteger(count) || count < 1) throw new ValueError(`NamesGPT.generate: count must be a positive integer, got ${String(count)}.`);
    if (typeof temperature !== 'number' || !(temperature > 0) || !Number.isFinite(temperature)) {
      throw new ValueError(`NamesGPT.generate: temperature must be a positive finite number, got ${String(temperature)}.`);
    }
    if (!Number.isInteger(seed)) throw new ValueError(`NamesGPT.generate: seed must be an integer, got ${String(seed)}.`);
    const { context, vocabSize: V } = this.config;
    const generator = new Generator(seed);
    const sequences = Array.from({ length: count }, () => [0]);
    const done = new Array<boolean>(count).fill(false);
    const wasTraining = this.training;
    this.eval();
    try {
      for (let t = 1; t <= context && done.includes(false); t++) {
        const last = tidy(() =>
          noGrad(() => {
            const x = tensor(Int32Array.from(sequences.flatMap((s) => s.slice(0, t))), { shape: [count, t], dtype: 'int32' });
            return this.forward(x)
              .narrow(1, t - 1, 1)
              .contiguous();
          }),
        );
        const logits = await last.data();
        last.dispose();
        for (let n = 0; n < count; n++) {
          if (done[n]) {
            sequences[n]!.push(0);
            continue;
          }
          const token = sample(logits.subarray(n * V, (n + 1) * V) as Float32Array, temperature, generator);
          sequences[n]!.push(token);
          if (token === 0) done[n] = true;
        }
      }
    } finally {
      this.train(wasTraining);
    }
    return sequences.map((s) => {
      const end = s.indexOf(0, 1);
      return s.slice(1, end < 0 ? undefined : end);
    });
  }
}

/** One draw from softmax(logits / temperature), computed in float64. */
function sample(logits: Float32Array, temperature: number, generator: Generator): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const l of logits) max = Math.max(max, l / temperature);
  const weights = Array.from(logits, (l) => Math.exp(l / temperature - max));
  let u = generator.uniform() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i]!;
    if (u < 0) return i;
  }
  return weights.length - 1;
}
