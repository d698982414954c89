// LeNet with batch normalisation: each convolution and the hidden linear layer is followed by a
// BatchNorm layer before its ReLU. The layers a BatchNorm follows have no bias (the normalisation
// subtracts the mean, so a bias there would do nothing; PyTorch models omit it the same way).
// Parameter and buffer names are those of the PyTorch module of
// tests/fixtures/make_lenet_bn_parity.py, so safetensors checkpoints load either way.

import { BatchNorm1d, BatchNorm2d } from '../nn/batch_norm.js';
import { Flatten } from '../nn/containers.js';
import { Conv2d, MaxPool2d } from '../nn/conv_layers.js';
import { Linear, ReLU } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import type { Tensor } from '../tensor.js';
import { type LeNetConfig, lenetImages, lenetSetup } from './lenet.js';

/**
 * LeNet with BatchNorm for 1×28×28 inputs: conv1 (5×5, padding 2, no bias) → bn1 → ReLU → max pool
 * 2 → conv2 (5×5, no bias) → bn2 → ReLU → max pool 2 → flatten (channels2 × 5 × 5) → fc1 (no bias)
 * → bn3 → ReLU → fc2. The widths are LeNet's (LeNetConfig). `forward` takes images as [N, 784] rows
 * or as [N, 1, 28, 28] and returns logits [N, classes]; in training mode (the default) the batch
 * statistics normalise and the running ones are updated, after `eval()` the running ones are used.
 *
 * ```ts
 * const model = new models.LeNetBN({}, { seed: 0 });
 * const loss = nn.functional.crossEntropy(model.forward(x), y); // x: [64, 784], y: int32 [64]
 * model.eval(); // then predict with the running statistics
 * ```
 */
export class LeNetBN extends Module {
  /** The configuration, defaults filled in. */
  readonly config: LeNetConfig;
  /** 1 → channels1, 5×5, padding 2 (keeps 28×28), no bias. */
  readonly conv1: Conv2d;
  /** Normalises conv1's channels. */
  readonly bn1: BatchNorm2d;
  /** channels1 → channels2, 5×5 (14×14 → 10×10), no bias. */
  readonly conv2: Conv2d;
  /** Normalises conv2's channels. */
  readonly bn2: BatchNorm2d;
  /** channels2 · 5 · 5 → hidden, no bias. */
  readonly fc1: Linear;
  /** Normalises fc1's features. */
  readonly bn3: BatchNorm1d;
  /** hidden → classes. */
  readonly fc2: Linear;
  /** The activation after each normalisation. */
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
    const { c, seed } = lenetSetup('LeNetBN', config, options);
    this.config = c;
    this.conv1 = new Conv2d(1, c.channels1, 5, { padding: 2, bias: false, seed: seed(0) });
    this.bn1 = new BatchNorm2d(c.channels1);
    this.conv2 = new Conv2d(c.channels1, c.channels2, 5, { bias: false, seed: seed(1) });
    this.bn2 = new BatchNorm2d(c.channels2);
    this.fc1 = new Linear(c.channels2 * 5 * 5, c.hidden, { bias: false, seed: seed(2) });
    this.bn3 = new BatchNorm1d(c.hidden);
    this.fc2 = new Linear(c.hidden, c.classes, { seed: seed(3) });
  }

  forward(x: Tensor): Tensor {
    const images = lenetImages('LeNetBN', x);
    const h1 = this.pool.forward(this.relu.forward(this.bn1.forward(this.conv1.forward(images))));
    const h2 = this.pool.forward(this.relu.forward(this.bn2.forward(this.conv2.forward(h1))));
    return this.fc2.forward(this.relu.forward(this.bn3.forward(this.fc1.forward(this.flatten.forward(h2)))));
  }
}
