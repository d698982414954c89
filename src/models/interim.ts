// Interim stand-ins for nn.Embedding and nn.LayerNorm, composed from existing ops, used by the
// names model until the library has its own (PyTorch-shaped: same constructor arguments,
// parameter names and initialisation). To be replaced by nn.Embedding / nn.LayerNorm.

import { ones, randn, zeros } from '../creation.js';
import { DTypeError, fmtShape, ShapeError } from '../errors.js';
import { oneHot } from '../nn/functional.js';
import { Module, parameter } from '../nn/module.js';
import type { Tensor } from '../tensor.js';

/** A lookup table: int32 indices of any shape S → rows [...S, embeddingDim] of `weight` (init N(0, 1), as PyTorch's). */
export class Embedding extends Module {
  /** The table, a parameter of shape [numEmbeddings, embeddingDim]. */
  readonly weight: Tensor;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    options: { seed?: number } = {},
  ) {
    super();
    this.weight = parameter(randn([numEmbeddings, embeddingDim], { seed: options.seed }));
  }

  forward(indices: Tensor): Tensor {
    if (indices.dtype !== 'int32') throw new DTypeError(`Embedding: indices must be int32, got ${indices.dtype} (shape ${fmtShape(indices.shape)}).`);
    // A one-hot product: its gradient is the scatter-add of the output gradient into the used rows.
    return oneHot(indices, this.numEmbeddings).float().matmul(this.weight);
  }
}

/** Normalises over the last dimension (biased variance, eps 1e-5), then scales by `weight` (ones) and shifts by `bias` (zeros). */
export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(
    readonly normalizedShape: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = parameter(ones([normalizedShape]));
    this.bias = parameter(zeros([normalizedShape]));
  }

  forward(x: Tensor): Tensor {
    if (x.shape.at(-1) !== this.normalizedShape)
      throw new ShapeError(`LayerNorm(${this.normalizedShape}): expected input [*, ${this.normalizedShape}], got ${fmtShape(x.shape)}.`);
    const mean = x.mean(-1, true);
    const variance = x.var(-1, { correction: 0, keepdim: true });
    return x.sub(mean).mul(variance.add(this.eps).rsqrt()).mul(this.weight).add(this.bias);
  }
}
