// nn.functional: the stateless functions behind the layers.

import { describeValue } from '../arguments.js';
import { apply } from '../autograd.js';
import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { requireFloat } from '../ops/common.js';
import { dropoutMask } from '../ops/dropout.js';
import { broadcastShapes } from '../ops/host.js';
import { Tensor, tensorArgument } from '../tensor.js';

export { batchNorm } from './batch_norm.js';
export { adaptiveAvgPool2d, avgPool2d, conv2d, maxPool2d } from './conv_functional.js';

/** Options of crossEntropy, as PyTorch's: ignore_index, label_smoothing and reduction. */
export interface CrossEntropyOptions {
  /** Labels equal to it add nothing, and the mean is over the others (default −100). */
  ignoreIndex?: number;
  /** ε in [0, 1]: the target is (1 − ε)·onehot + ε/C (default 0). */
  labelSmoothing?: number;
  /** 'mean' (default), 'sum' or 'none' (one loss per label). */
  reduction?: Reduction;
}

/**
 * Softmax cross-entropy of logits [N, C] or [N, C, d1, …] against int32 labels [N] or [N, d1, …]
 * (PyTorch's F.cross_entropy with class indices). The plain case (2-D, mean, no smoothing) is one
 * fused kernel that also writes the gradient and honours ignoreIndex itself, so the same call takes
 * the same path whatever the label values (host or GPU-made, eager or in a captured step); the
 * rest is nllLoss(logSoftmax(logits, 1)).
 */
export function crossEntropy(logits: Tensor, labels: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const x = tensorArgument('crossEntropy', 'logits', logits);
  const y = tensorArgument('crossEntropy', 'labels', labels);
  const reduction = reductionOption('crossEntropy', options.reduction);
  const ignoreIndex = options.ignoreIndex ?? -100;
  const labelSmoothing = options.labelSmoothing ?? 0;
  if (!Number.isInteger(ignoreIndex)) throw new ValueError(`crossEntropy: ignoreIndex must be an integer, got ${describeValue(ignoreIndex)}.`);
  if (!(typeof labelSmoothing === 'number' && labelSmoothing >= 0 && labelSmoothing <= 1)) {
    throw new ValueError(`crossEntropy: labelSmoothing must be a number in [0, 1], got ${describeValue(labelSmoothing)}.`);
  }
  if (x.ndim < 2) throw new ShapeError(`crossEntropy: logits must be [N, C] or [N, C, d1, …], got ${fmtShape(x.shape)}.`);
  if (x.ndim === 2 && reduction === 'mean' && labelSmoothing === 0) return apply('crossEntropy', [x, y], { ignoreIndex });
  return apply('nllLoss', [x.logSoftmax(1), y], { ignoreIndex, labelSmoothing, reduction });
}

/** Options of nllLoss, as PyTorch's: ignore_index and reduction. */
export interface NllLossOptions {
  /** Labels equal to it add nothing, and the mean is over the others (default −100). */
  ignoreIndex?: number;
  /** 'mean' (default), 'sum' or 'none' (one loss per label). */
  reduction?: Reduction;
}

/**
 * The negative log-likelihood of log-probabilities [N, C] or [N, C, d1, …] against int32 labels
 * (PyTorch's F.nll_loss): −input[n, label] per label, 0 for labels equal to `ignoreIndex`
 * (default −100), then 'mean' over the labels kept (default), 'sum' or 'none'.
 */
export function nllLoss(input: Tensor, labels: Tensor, options: NllLossOptions = {}): Tensor {
  const x = tensorArgument('nllLoss', 'input', input);
  const y = tensorArgument('nllLoss', 'labels', labels);
  return apply('nllLoss', [x, y], { ignoreIndex: options.ignoreIndex ?? -100, labelSmoothing: 0, reduction: reductionOption('nllLoss', options.reduction) });
}

/** max(x, 0); the gradient at exactly 0 is 0. */
export function relu(x: Tensor): Tensor {
  return tensorArgument('relu', 'x', x).relu();
}

/**
 * x · Wᵀ + b, with x of shape [*, in] and W of shape [out, in] as in PyTorch, in one dispatch (the
 * bias add, and the ReLU with `{ activation: 'relu' }`, run in the matmul's epilogue).
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null, options: { activation?: 'none' | 'relu' } = {}): Tensor {
  const inputs = [tensorArgument('linear', 'x', x), tensorArgument('linear', 'weight', weight)];
  if (bias !== null && bias !== undefined) {
    if (!(bias instanceof Tensor)) throw new ValueError(`linear: argument 'bias' must be a Tensor or null, got ${describeValue(bias)}.`);
    inputs.push(bias);
  }
  return apply('linear', inputs, { activation: options.activation ?? 'none' });
}

/**
 * GELU: x·Φ(x) with the normal CDF Φ from erf (`approximate: 'none'`, float32 error about 1e-7
 * relative), or PyTorch's tanh approximation (`approximate: 'tanh'`).
 */
export function gelu(x: Tensor, options: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  const approximate = options.approximate ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new ValueError(`gelu: argument 'approximate' must be 'none' or 'tanh', got ${describeValue(approximate)}.`);
  }
  return apply('gelu', [tensorArgument('gelu', 'x', x)], { approximate });
}

/** SiLU (swish): x·sigmoid(x). */
export function silu(x: Tensor): Tensor {
  return apply('silu', [tensorArgument('silu', 'x', x)], {});
}

/** log(1 + exp(beta·x)) / beta, and x itself where beta·x > threshold (PyTorch's defaults: beta 1, threshold 20). */
export function softplus(x: Tensor, options: { beta?: number; threshold?: number } = {}): Tensor {
  const input = tensorArgument('softplus', 'x', x);
  const { beta = 1, threshold = 20 } = options;
  for (const [name, v] of [
    ['beta', beta],
    ['threshold', threshold],
  ] as const) {
    if (typeof v !== 'number' || Number.isNaN(v)) throw new ValueError(`softplus: argument '${name}' must be a number, got ${describeValue(v)}.`);
  }
  if (beta === 0) throw new ValueError('softplus: argument beta must not be 0.');
  if (beta === 1) return apply('softplus', [input], { threshold });
  // softplus(x; beta) = softplus(beta·x; 1) / beta, with the threshold applied to beta·x as in PyTorch.
  return apply('softplus', [input.mul(beta)], { threshold }).div(beta);
}

/** Elementwise 1 / (1 + e⁻ˣ), computed without overflow. */
export function sigmoid(x: Tensor): Tensor {
  return tensorArgument('sigmoid', 'x', x).sigmoid();
}

/** Elementwise hyperbolic tangent. */
export function tanh(x: Tensor): Tensor {
  return tensorArgument('tanh', 'x', x).tanh();
}

/** exp(x) / Σ exp(x) along `dim` (PyTorch's F.softmax; `dim` is required). */
export function softmax(x: Tensor, dim: number): Tensor {
  return tensorArgument('softmax', 'x', x).softmax(dim);
}

/** log(softmax(x)) along `dim`, stable (PyTorch's F.log_softmax). */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return tensorArgument('logSoftmax', 'x', x).logSoftmax(dim);
}

/** Options of embedding: PyTorch's padding_idx. */
export interface EmbeddingOptions {
  /** A row (negative counts from the end) whose gradient stays zero; its output is the row as it is. */
  paddingIdx?: number | null;
}

/**
 * The rows of weight [numEmbeddings, embeddingDim] at int32 indices of any shape: [...indices.shape,
 * embeddingDim], as PyTorch's F.embedding. Indices from host values outside [0, numEmbeddings) are an
 * error; indices computed on the GPU outside it give NaN rows and no gradient. The weight's gradient
 * is a deterministic scatter-add (rows picked several times get the sum, in token order).
 */
export function embedding(indices: Tensor, weight: Tensor, options: EmbeddingOptions = {}): Tensor {
  const i = tensorArgument('embedding', 'indices', indices);
  const w = tensorArgument('embedding', 'weight', weight);
  const paddingIdx = options.paddingIdx ?? null;
  if (paddingIdx !== null && typeof paddingIdx !== 'number')
    throw new ValueError(`embedding: paddingIdx must be an integer or null, got ${describeValue(paddingIdx)}.`);
  return apply('embedding', [i, w], { paddingIdx });
}

/** How a loss combines its per-element values, as PyTorch's `reduction`. */
export type Reduction = 'mean' | 'sum' | 'none';

/** Checks a `reduction` option; the default is 'mean'. */
export function reductionOption(op: string, reduction: unknown = 'mean'): Reduction {
  if (reduction === 'mean' || reduction === 'sum' || reduction === 'none') return reduction;
  throw new ValueError(`${op}: reduction must be 'mean', 'sum' or 'none', got ${describeValue(reduction)}.`);
}

/**
 * The squared error (input − target)², averaged ('mean', the default), summed, or per element
 * ('none'), as PyTorch's F.mse_loss; shapes broadcast (PyTorch warns, but allows it).
 */
export function mseLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  const reduction = reductionOption('mseLoss', options.reduction);
  const x = tensorArgument('mseLoss', 'input', input);
  const y = tensorArgument('mseLoss', 'target', target);
  if (!broadcastShapes(x.shape, y.shape)) {
    throw new ShapeError(`mseLoss: input ${fmtShape(x.shape)} and target ${fmtShape(y.shape)} do not broadcast.`);
  }
  const d = x.sub(y);
  const squared = d.mul(d);
  return reduction === 'none' ? squared : reduction === 'sum' ? squared.sum() : squared.mean();
}

/** Options of binaryCrossEntropyWithLogits, as PyTorch's: weight, pos_weight and reduction. */
export interface BceWithLogitsOptions {
  /** Rescales each element's loss; broadcasts against the input. */
  weight?: Tensor | null;
  /** Weight of the positive term, one per class (broadcast along the last dim), as PyTorch's pos_weight. */
  posWeight?: Tensor | null;
  /** 'mean' (default), 'sum' or 'none'. */
  reduction?: Reduction;
}

/**
 * Binary cross-entropy between logits x and targets y in [0, 1] (PyTorch's
 * F.binary_cross_entropy_with_logits): w·[(1 − y)·x + (1 + (p − 1)·y)·log(1 + e⁻ˣ)] with weight w and
 * posWeight p, where log(1 + e⁻ˣ) is softplus(−x) — stable for any x, and its gradient
 * (−sigmoid(−x)) is smooth at 0, as PyTorch's fused backward is.
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, options: BceWithLogitsOptions = {}): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  const reduction = reductionOption(op, options.reduction);
  const x = tensorArgument(op, 'input', input);
  const y = tensorArgument(op, 'target', target);
  if (x.shape.join(',') !== y.shape.join(',')) {
    throw new ShapeError(`${op}: target ${fmtShape(y.shape)} must have the input's shape ${fmtShape(x.shape)}.`);
  }
  const weight = optionalTensor(op, 'weight', options.weight);
  const posWeight = optionalTensor(op, 'posWeight', options.posWeight);
  for (const [name, w] of [
    ['weight', weight],
    ['posWeight', posWeight],
  ] as const) {
    if (w && broadcastShapes(w.shape, x.shape)?.join(',') !== x.shape.join(',')) {
      throw new ShapeError(`${op}: ${name} ${fmtShape(w.shape)} does not broadcast to the input's shape ${fmtShape(x.shape)}.`);
    }
  }
  const logTerm = softplus(x.neg());
  const logWeight = posWeight ? posWeight.sub(1).mul(y).add(1) : null;
  let loss = y
    .neg()
    .add(1)
    .mul(x)
    .add(logWeight ? logWeight.mul(logTerm) : logTerm);
  if (weight) loss = loss.mul(weight);
  return reduction === 'none' ? loss : reduction === 'sum' ? loss.sum() : loss.mean();
}

function optionalTensor(op: string, name: string, value: unknown): Tensor | null {
  if (value === null || value === undefined) return null;
  return tensorArgument(op, name, value as Tensor);
}

/**
 * int32 class indices of shape S to int32 one-hot rows [...S, numClasses], as
 * torch.nn.functional.one_hot. numClasses = -1 uses the largest label + 1, which is known only for
 * labels made from host values; labels computed on the GPU need numClasses (out-of-range ones give
 * rows of zeros there, as no check can run without reading them back).
 */
export function oneHot(labels: Tensor, numClasses = -1): Tensor {
  return apply('oneHot', [tensorArgument('oneHot', 'labels', labels)], { numClasses });
}

/**
 * Layer normalisation over the last dims (torch.nn.functional.layer_norm): each row of
 * `normalizedShape` elements becomes (x − mean)/sqrt(var + eps) (biased variance), times weight and
 * plus bias when given (both of shape normalizedShape). Forward and backward are fused kernels.
 */
export function layerNorm(input: Tensor, normalizedShape: number | readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const op = 'layerNorm';
  const x = tensorArgument(op, 'input', input);
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
  if (!Array.isArray(shape)) throw new ValueError(`${op}: normalizedShape must be a size or a list of sizes, got ${describeValue(normalizedShape)}.`);
  const w = optionalTensor(op, 'weight', weight);
  const b = optionalTensor(op, 'bias', bias);
  const inputs = [x, ...(w ? [w] : []), ...(b ? [b] : [])];
  return apply('layerNorm', inputs, { normalizedShape: [...shape], eps, weight: w !== null, bias: b !== null });
}

/**
 * Dropout (torch.nn.functional.dropout): while `training`, each element is zeroed with probability
 * p and the others are scaled by 1/(1 − p); otherwise (or with p = 0) x itself is returned. Masks
 * come from a GPU generator seeded by manualSeed(): the same seed gives the same masks in the same
 * order of calls, and each replay of a captured step draws the next mask, as an eager call would.
 */
export function dropout(input: Tensor, p = 0.5, training = true): Tensor {
  const x = tensorArgument('dropout', 'input', input);
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new ValueError(`dropout: probability p must be in [0, 1], got ${describeValue(p)}.`);
  if (typeof training !== 'boolean') throw new ValueError(`dropout: training must be a boolean, got ${describeValue(training)}.`);
  if (!training || p === 0) return x;
  requireFloat('dropout', x, 'the input');
  // As PyTorch: p = 1 multiplies by 0 (NaN and ±inf stay NaN), drawing no mask.
  if (p === 1) return x.mul(0);
  const mask = dropoutMask(x, p);
  const y = x.mul(mask);
  // The gradient (g · mask) needs the mask until backward: it goes with the step's other saved
  // tensors; without a graph it can go now.
  if (y.gradFn) x.runtime.trackStepScoped(mask);
  else mask.dispose();
  return y;
}
