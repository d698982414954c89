// Layers: Linear, Embedding, the activations ReLU, GELU, Tanh and Sigmoid, Softmax, LogSoftmax, Sequential, the
// losses CrossEntropyLoss, NLLLoss, MSELoss and BCEWithLogitsLoss, LayerNorm and Dropout.

import { describeValue } from '../arguments.js';
import { tensor } from '../creation.js';
import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { checkBufferLimits } from '../ops/common.js';
import { generatorFor } from '../random.js';
import { runtime } from '../runtime/runtime.js';
import { type Tensor, tensorArgument } from '../tensor.js';
import {
  type BceWithLogitsOptions,
  binaryCrossEntropyWithLogits,
  type CrossEntropyOptions,
  crossEntropy,
  dropout,
  embedding,
  gelu,
  layerNorm,
  linear,
  mseLoss,
  type NllLossOptions,
  nllLoss,
  type Reduction,
  reductionOption,
} from './functional.js';
import { Module, parameter } from './module.js';

/** Options for nn.Linear. */
export interface LinearOptions {
  /** Whether the layer adds a learned bias b (default true). */
  bias?: boolean;
  /** Seed for the initial weights; without it, the global generator (manualSeed). */
  seed?: number;
}

/**
 * y = x · Wᵀ + b with W of shape [out, in], initialised as PyTorch does: W ~ U(−1/√in, 1/√in)
 * (Kaiming-uniform with a = √5) and b ~ U(−1/√in, 1/√in).
 *
 * ```ts
 * const fc = new nn.Linear(784, 128, { seed: 1 });
 * const y = fc.forward(x); // x: [batch, 784] → y: [batch, 128]
 * ```
 */
export class Linear extends Module {
  /** The weight W, a parameter of shape [outFeatures, inFeatures]. */
  readonly weight: Tensor;
  /** The bias b, a parameter of shape [outFeatures]; null with `{ bias: false }`. */
  readonly bias: Tensor | null;

  /**
   * @param inFeatures - Size of each input row.
   * @param outFeatures - Size of each output row.
   * @param options - Whether to add a bias, and the seed for the initial values.
   */
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    if (!Number.isInteger(inFeatures) || !Number.isInteger(outFeatures) || inFeatures < 1 || outFeatures < 1) {
      throw new ShapeError(`Linear(${inFeatures}, ${outFeatures}): sizes must be positive integers.`);
    }
    // Refused before the host arrays are allocated: a weight the device cannot hold would otherwise
    // fail as a RangeError from Float32Array, or take gigabytes of host memory first.
    checkBufferLimits(runtime(), `Linear(${inFeatures}, ${outFeatures})`, [outFeatures, inFeatures], 'the weight');
    const gen = generatorFor(options.seed);
    const bound = 1 / Math.sqrt(inFeatures);
    const draw = (n: number): Float32Array => {
      const v = new Float32Array(n);
      for (let i = 0; i < n; i++) v[i] = (gen.uniform() * 2 - 1) * bound;
      return v;
    };
    this.weight = parameter(tensor(draw(outFeatures * inFeatures), { shape: [outFeatures, inFeatures] }));
    this.bias = options.bias === false ? null : parameter(tensor(draw(outFeatures), { shape: [outFeatures] }));
  }

  forward(x: Tensor): Tensor {
    return this.forwardWith(x, 'none');
  }

  /** @internal The layer with an activation fused into its kernel (Sequential uses it for Linear → ReLU). */
  forwardWith(x: Tensor, activation: 'none' | 'relu'): Tensor {
    tensorArgument(`Linear(${this.inFeatures}, ${this.outFeatures})`, 'x', x);
    // Any leading dimensions, as PyTorch's: [*, in] → [*, out].
    if (x.ndim < 1 || x.shape.at(-1) !== this.inFeatures) {
      throw new ShapeError(`Linear(${this.inFeatures}, ${this.outFeatures}): expected input [*, ${this.inFeatures}], got ${fmtShape(x.shape)}.`);
    }
    return linear(x, this.weight, this.bias, { activation });
  }
}

/** Options for nn.Embedding. */
export interface EmbeddingLayerOptions {
  /** A row (negative counts from the end) initialised to zeros whose gradient stays zero, as PyTorch's padding_idx. */
  paddingIdx?: number | null;
  /** Seed for the initial weights; without it, the global generator (manualSeed). */
  seed?: number;
}

/**
 * A lookup table of numEmbeddings vectors of size embeddingDim: int32 indices of any shape →
 * [...shape, embeddingDim]. The weight (parameter `weight`, [numEmbeddings, embeddingDim]) starts
 * as N(0, 1) like PyTorch's, with the padding row zeroed.
 *
 * ```ts
 * const tokens = new nn.Embedding(28, 64, { seed: 1 });
 * const x = tokens.forward(ids); // ids: int32 [batch, T] → x: [batch, T, 64]
 * ```
 */
export class Embedding extends Module {
  /** The table, a parameter of shape [numEmbeddings, embeddingDim]. */
  readonly weight: Tensor;
  /** The padding row normalised to [0, numEmbeddings), or null. */
  readonly paddingIdx: number | null;

  /**
   * @param numEmbeddings - Rows of the table (the vocabulary size).
   * @param embeddingDim - Size of each vector.
   * @param options - The padding row and the seed for the initial values.
   */
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    options: EmbeddingLayerOptions = {},
  ) {
    super();
    const name = `Embedding(${numEmbeddings}, ${embeddingDim})`;
    if (!Number.isInteger(numEmbeddings) || !Number.isInteger(embeddingDim) || numEmbeddings < 1 || embeddingDim < 1) {
      throw new ShapeError(`${name}: sizes must be positive integers.`);
    }
    const pad = options.paddingIdx ?? null;
    if (pad !== null && !(Number.isInteger(pad) && pad >= -numEmbeddings && pad < numEmbeddings)) {
      throw new ValueError(`${name}: paddingIdx must be an integer within [-${numEmbeddings}, ${numEmbeddings}), got ${describeValue(pad)}.`);
    }
    this.paddingIdx = pad === null ? null : (pad + numEmbeddings) % numEmbeddings;
    checkBufferLimits(runtime(), name, [numEmbeddings, embeddingDim], 'the weight');
    const gen = generatorFor(options.seed);
    const values = new Float32Array(numEmbeddings * embeddingDim);
    for (let i = 0; i < values.length; i++) values[i] = gen.normal();
    if (this.paddingIdx !== null) values.fill(0, this.paddingIdx * embeddingDim, (this.paddingIdx + 1) * embeddingDim);
    this.weight = parameter(tensor(values, { shape: [numEmbeddings, embeddingDim] }));
  }

  forward(indices: Tensor): Tensor {
    return embedding(indices, this.weight, { paddingIdx: this.paddingIdx });
  }
}

/** Elementwise max(x, 0), as a layer (no parameters). */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return tensorArgument('ReLU', 'x', x).relu();
  }
}

/** GELU as a layer: `new nn.GELU()` (erf) or `new nn.GELU({ approximate: 'tanh' })`. */
export class GELU extends Module {
  /** 'none': x·Φ(x) with erf; 'tanh': PyTorch's tanh approximation. */
  readonly approximate: 'none' | 'tanh';
  constructor(options: { approximate?: 'none' | 'tanh' } = {}) {
    super();
    this.approximate = options.approximate ?? 'none';
    if (this.approximate !== 'none' && this.approximate !== 'tanh') {
      throw new ValueError(`GELU: argument 'approximate' must be 'none' or 'tanh', got ${describeValue(this.approximate)}.`);
    }
  }
  forward(x: Tensor): Tensor {
    return gelu(tensorArgument('GELU', 'x', x), { approximate: this.approximate });
  }
}

/** Elementwise tanh, as a layer (no parameters). */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tensorArgument('Tanh', 'x', x).tanh();
  }
}

/** Elementwise sigmoid, as a layer (no parameters). */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return tensorArgument('Sigmoid', 'x', x).sigmoid();
  }
}

/** softmax along `dim` (required, as PyTorch's nn.Softmax should be given one). */
export class Softmax extends Module {
  /** The dimension the rows run along. */
  readonly dim: number;

  constructor(dim: number) {
    super();
    this.dim = dim;
  }

  forward(x: Tensor): Tensor {
    return tensorArgument('Softmax', 'x', x).softmax(this.dim);
  }
}

/** log(softmax(x)) along `dim`, stable. */
export class LogSoftmax extends Module {
  /** The dimension the rows run along. */
  readonly dim: number;

  constructor(dim: number) {
    super();
    this.dim = dim;
  }

  forward(x: Tensor): Tensor {
    return tensorArgument('LogSoftmax', 'x', x).logSoftmax(this.dim);
  }
}

/** Modules applied in order; their parameters are named by position (0.weight, 0.bias, 2.weight, …). */
export class Sequential extends Module {
  constructor(...layers: Module[]) {
    super();
    layers.forEach((layer: unknown, i) => {
      if (!(layer instanceof Module)) throw new ValueError(`Sequential: argument ${i} is not a Module (got ${describeValue(layer)}).`);
    });
    layers.forEach((layer, i) => {
      (this as unknown as Record<string, Module>)[String(i)] = layer;
    });
  }

  /** The modules, in the order they are applied. */
  get layers(): Module[] {
    return this.entries().flatMap(([, v]) => (v instanceof Module ? [v] : []));
  }

  forward(x: Tensor): Tensor {
    const layers = this.layers;
    let y = x;
    for (let i = 0; i < layers.length; i++) {
      const layer = layers[i]!;
      // Linear then ReLU runs as one kernel (the ReLU in the matmul's epilogue).
      if (layer instanceof Linear && layers[i + 1] instanceof ReLU) {
        y = layer.forwardWith(y, 'relu');
        i++;
      } else {
        y = layer.forward(y);
      }
    }
    return y;
  }
}

/** Softmax cross-entropy between logits and int32 class labels, with crossEntropy's options (mean by default). */
export class CrossEntropyLoss extends Module {
  /** The options every forward() passes to crossEntropy. */
  readonly options: CrossEntropyOptions;

  constructor(options: CrossEntropyOptions = {}) {
    super();
    reductionOption('CrossEntropyLoss', options.reduction);
    this.options = { ...options };
  }

  forward(logits: Tensor, labels: Tensor): Tensor {
    return crossEntropy(logits, labels, this.options);
  }
}

/** The negative log-likelihood of log-probabilities against int32 labels, with nllLoss's options. */
export class NLLLoss extends Module {
  /** The options every forward() passes to nllLoss. */
  readonly options: NllLossOptions;

  constructor(options: NllLossOptions = {}) {
    super();
    reductionOption('NLLLoss', options.reduction);
    this.options = { ...options };
  }

  forward(input: Tensor, labels: Tensor): Tensor {
    return nllLoss(input, labels, this.options);
  }
}

/** The squared error between input and target, with PyTorch's `reduction` ('mean' by default). */
export class MSELoss extends Module {
  /** How forward() combines the squared errors. */
  readonly reduction: Reduction;

  constructor(options: { reduction?: Reduction } = {}) {
    super();
    this.reduction = reductionOption('MSELoss', options.reduction);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, { reduction: this.reduction });
  }
}

/** Binary cross-entropy on logits, with binaryCrossEntropyWithLogits's options (weight, posWeight, reduction). */
export class BCEWithLogitsLoss extends Module {
  /** The options every forward() passes to binaryCrossEntropyWithLogits. */
  readonly options: BceWithLogitsOptions;

  constructor(options: BceWithLogitsOptions = {}) {
    super();
    reductionOption('BCEWithLogitsLoss', options.reduction);
    this.options = { ...options };
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(input, target, this.options);
  }
}

/** Options for nn.LayerNorm, as PyTorch's. */
export interface LayerNormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Whether the layer has a learned weight (ones at first) and bias (zeros) (default true). */
  elementwiseAffine?: boolean;
  /** With elementwiseAffine, whether there is a bias (default true). */
  bias?: boolean;
}

/**
 * Layer normalisation over the last dims of its input (`normalizedShape`), as PyTorch's
 * nn.LayerNorm: parameters `weight` (ones) and `bias` (zeros) of shape normalizedShape.
 *
 * ```ts
 * const ln = new nn.LayerNorm(64);
 * const y = ln.forward(x); // x: [batch, tokens, 64]
 * ```
 */
export class LayerNorm extends Module {
  /** The trailing dims each row spans, e.g. [64]. */
  readonly normalizedShape: readonly number[];
  /** Added to the variance before the square root. */
  readonly eps: number;
  /** Ones at first; null without elementwiseAffine. */
  readonly weight: Tensor | null;
  /** Zeros at first; null without elementwiseAffine or with `bias: false`. */
  readonly bias: Tensor | null;

  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    if (shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new ShapeError(`LayerNorm: normalizedShape must be a size or a non-empty list of sizes ≥ 0, got ${describeValue(normalizedShape)}.`);
    }
    const eps = options.eps ?? 1e-5;
    if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0)
      throw new ValueError(`LayerNorm: eps must be a finite number ≥ 0, got ${describeValue(eps)}.`);
    this.normalizedShape = shape;
    this.eps = eps;
    const affine = options.elementwiseAffine ?? true;
    const n = shape.reduce((a, b) => a * b, 1);
    this.weight = affine ? parameter(tensor(new Float32Array(n).fill(1), { shape })) : null;
    this.bias = affine && options.bias !== false ? parameter(tensor(new Float32Array(n), { shape })) : null;
  }

  forward(x: Tensor): Tensor {
    return layerNorm(tensorArgument('LayerNorm', 'x', x), this.normalizedShape, this.weight, this.bias, this.eps);
  }
}

/** Dropout as a layer: active in training mode (the default), the identity after eval(). */
export class Dropout extends Module {
  /** The probability of zeroing each element. */
  readonly p: number;

  constructor(p = 0.5) {
    super();
    this.p = p;
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new ValueError(`Dropout: probability p must be in [0, 1], got ${describeValue(p)}.`);
  }

  forward(x: Tensor): Tensor {
    return dropout(tensorArgument('Dropout', 'x', x), this.p, this.training);
  }
}
