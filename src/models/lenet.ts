// A LeNet-style convolutional network for 28×28 grey images (the digits, MNIST): two 5×5
// convolutions, each followed by ReLU and 2×2 max pooling, then two linear layers with a ReLU
// between them. Written with the library's public layers. Parameter names are those of the PyTorch
// module of tests/fixtures/make_lenet_parity.py (conv1.weight, …, fc2.bias), so safetensors
// checkpoints load either way.

import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { Flatten } from '../nn/containers.js';
import { Conv2d, MaxPool2d } from '../nn/conv_layers.js';
import { Linear, ReLU } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import { type Tensor, tensorArgument } from '../tensor.js';

/** The widths of a LeNet. */
export interface LeNetConfig {
  /** Output channels of the first convolution. */
  channels1: number;
  /** Output channels of the second convolution. */
  channels2: number;
  /** Width of the hidden linear layer. */
  hidden: number;
  /** Number of classes (the last layer's width). */
  classes: number;
}

/** The defaults: LeNet-5's widths (6 and 16 channels, 120 hidden units) and 10 classes. */
export const LENET_DEFAULTS: LeNetConfig = { channels1: 6, channels2: 16, hidden: 120, classes: 10 };

/**
 * LeNet for 1×28×28 inputs: conv1 (5×5, padding 2) → ReLU → max pool 2 → conv2 (5×5) → ReLU → max
 * pool 2 → flatten (channels2 × 5 × 5) → fc1 → ReLU → fc2. `forward` takes images as [N, 784] rows
 * (as the digits loader gives them) or as [N, 1, 28, 28], and returns logits [N, classes].
 *
 * ```ts
 * const model = new models.LeNet({}, { seed: 0 });
 * const loss = nn.functional.crossEntropy(model.forward(x), y); // x: [64, 784], y: int32 [64]
 * ```
 */
export class LeNet extends Module {
  /** The configuration, defaults filled in. */
  readonly config: LeNetConfig;
  /** 1 → channels1, 5×5, padding 2 (keeps 28×28). */
  readonly conv1: Conv2d;
  /** channels1 → channels2, 5×5 (14×14 → 10×10). */
  readonly conv2: Conv2d;
  /** channels2 · 5 · 5 → hidden. */
  readonly fc1: Linear;
  /** hidden → classes. */
  readonly fc2: Linear;
  /** The activation after each convolution and after fc1. */
  readonly relu = new ReLU();
  /** 2×2 max pooling, stride 2, after each convolution's ReLU. */
  readonly pool = new MaxPool2d(2);
  /** Flattens [N, C, H, W] to [N, C·H·W] before fc1. */
  readonly flatten = new Flatten();

  /**
   * @param config - Any of LeNetConfig's fields; the rest from LENET_DEFAULTS.
   * @param options - `seed` for the initial weights; without it the global generator (manualSeed).
   */
  constructor(config: Partial<LeNetConfig> = {}, options: { seed?: number } = {}) {
    super();
    const { c, seed } = lenetSetup('LeNet', config, options);
    this.config = c;
    this.conv1 = new Conv2d(1, c.channels1, 5, { padding: 2, seed: seed(0) });
    this.conv2 = new Conv2d(c.channels1, c.channels2, 5, { seed: seed(1) });
    this.fc1 = new Linear(c.channels2 * 5 * 5, c.hidden, { seed: seed(2) });
    this.fc2 = new Linear(c.hidden, c.classes, { seed: seed(3) });
  }

  forward(x: Tensor): Tensor {
    const images = lenetImages('LeNet', x);
    const h1 = this.pool.forward(this.relu.forward(this.conv1.forward(images)));
    const h2 = this.pool.forward(this.relu.forward(this.conv2.forward(h1)));
    return this.fc2.forward(this.relu.forward(this.fc1.forward(this.flatten.forward(h2))));
  }
}

/**
 * The configuration (defaults filled in, each width checked) and the per-layer seeds shared by
 * LeNet and LeNetBN; `name` is the class named in errors.
 */
export function lenetSetup(
  name: string,
  config: Partial<LeNetConfig>,
  options: { seed?: number },
): { c: LeNetConfig; seed: (layer: number) => number | undefined } {
  const c = { ...LENET_DEFAULTS, ...config };
  for (const key of ['channels1', 'channels2', 'hidden', 'classes'] as const) {
    if (!Number.isInteger(c[key]) || c[key] < 1) throw new ValueError(`${name}: config.${key} must be a positive integer, got ${String(c[key])}.`);
  }
  if (options.seed !== undefined && !Number.isInteger(options.seed)) throw new ValueError(`${name}: seed must be an integer, got ${String(options.seed)}.`);
  // Each layer gets its own seed, so that a seeded model does not repeat one random stream.
  const seed = (layer: number): number | undefined => (options.seed === undefined ? undefined : options.seed * 1000 + 10 * layer);
  return { c, seed };
}

/** Checks a LeNet input ([N, 784] or [N, 1, 28, 28]) and returns it as [N, 1, 28, 28]. */
export function lenetImages(name: string, x: Tensor): Tensor {
  tensorArgument(name, 'x', x);
  const flat = x.ndim === 2 && x.shape[1] === 784;
  const image = x.ndim === 4 && x.shape[1] === 1 && x.shape[2] === 28 && x.shape[3] === 28;
  if (!flat && !image) throw new ShapeError(`${name}: expected images [N, 784] or [N, 1, 28, 28], got ${fmtShape(x.shape)}.`);
  return flat ? x.reshape([x.shape[0]!, 1, 28, 28]) : x;
}
