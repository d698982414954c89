// Convolution and pooling layers: Conv2d (PyTorch's initialisation and state_dict names: weight,
// bias), MaxPool2d, AvgPool2d and AdaptiveAvgPool2d.

import { describeValue } from '../arguments.js';
import { tensor } from '../creation.js';
import { ValueError } from '../errors.js';
import { checkBufferLimits } from '../ops/common.js';
import { generatorFor } from '../random.js';
import { runtime } from '../runtime/runtime.js';
import { type Tensor, tensorArgument } from '../tensor.js';
import {
  type AvgPool2dOptions,
  adaptiveAvgPool2d,
  avgPool2d,
  type Conv2dOptions,
  conv2d,
  type IntPair,
  type MaxPool2dOptions,
  maxPool2d,
  pair,
} from './conv_functional.js';
import { Module, parameter } from './module.js';

/** Options for nn.Conv2d: conv2d's settings, whether to add a bias, and the seed of the initial values. */
export interface Conv2dLayerOptions extends Conv2dOptions {
  /** Whether the layer adds a learned bias per output channel (default true). */
  bias?: boolean;
  /** Seed for the initial weights; without it, the global generator (manualSeed). */
  seed?: number;
}

/**
 * 2-D convolution with weight [out, in / groups, kH, kW] and bias [out], initialised as PyTorch
 * does (Kaiming-uniform with a = √5): both ~ U(−1/√fanIn, 1/√fanIn), fanIn = in / groups · kH · kW.
 *
 * ```ts
 * const conv = new nn.Conv2d(1, 6, 5, { padding: 2 });
 * const y = conv.forward(x); // x: [batch, 1, 28, 28] → y: [batch, 6, 28, 28]
 * ```
 */
export class Conv2d extends Module {
  /** The weight, a parameter of shape [outChannels, inChannels / groups, kH, kW]. */
  readonly weight: Tensor;
  /** The bias, a parameter of shape [outChannels]; null with `{ bias: false }`. */
  readonly bias: Tensor | null;
  /** The convolution's settings, as given (what forward() passes to nn.functional.conv2d). */
  readonly options: Conv2dOptions;

  /**
   * @param inChannels - Channels of the input.
   * @param outChannels - Channels of the output.
   * @param kernelSize - The kernel's size: an int, or [height, width].
   * @param options - stride, padding, dilation, groups, bias and the seed.
   */
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: IntPair,
    options: Conv2dLayerOptions = {},
  ) {
    super();
    const name = `Conv2d(${describeSize(inChannels)}, ${describeSize(outChannels)})`;
    const [kh, kw] = pair(name, 'kernelSize', kernelSize);
    const groups = options.groups ?? 1;
    for (const [what, v] of [
      ['inChannels', inChannels],
      ['outChannels', outChannels],
      ['kernelSize', Math.min(kh, kw)],
      ['groups', groups],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ValueError(`${name}: ${what} must be positive integers, got ${describeValue(v)}.`);
    }
    if (inChannels % groups !== 0) throw new ValueError(`${name}: inChannels must be divisible by groups (${groups}).`);
    if (outChannels % groups !== 0) throw new ValueError(`${name}: outChannels must be divisible by groups (${groups}).`);
    const { bias, seed, ...conv } = options;
    this.options = conv;
    // Checked here, not at the first forward: a layer that cannot run is refused when it is made.
    const stride = pair(name, 'stride', conv.stride ?? 1);
    pair(name, 'dilation', conv.dilation ?? 1);
    if (conv.padding === 'same' && (stride[0] !== 1 || stride[1] !== 1))
      throw new ValueError(`${name}: padding='same' is not supported for strided convolutions.`);
    if (conv.padding !== 'same' && conv.padding !== 'valid') pair(name, 'padding', conv.padding ?? 0);
    const shape = [outChannels, inChannels / groups, kh, kw];
    checkBufferLimits(runtime(), name, shape, 'the weight');
    const gen = generatorFor(seed);
    const bound = 1 / Math.sqrt((inChannels / groups) * kh * kw);
    const draw = (n: number): Float32Array => {
      const v = new Float32Array(n);
      for (let i = 0; i < n; i++) v[i] = (gen.uniform() * 2 - 1) * bound;
      return v;
    };
    this.weight = parameter(tensor(draw(outChannels * (inChannels / groups) * kh * kw), { shape }));
    this.bias = bias === false ? null : parameter(tensor(draw(outChannels), { shape: [outChannels] }));
  }

  forward(x: Tensor): Tensor {
    return conv2d(tensorArgument('Conv2d', 'x', x), this.weight, this.bias, this.options);
  }
}

const describeSize = (v: unknown): string => (typeof v === 'number' ? String(v) : describeValue(v));

/** Max pooling as a layer (no parameters): nn.functional.maxPool2d with fixed settings. */
export class MaxPool2d extends Module {
  /** The window's settings (stride defaults to the kernel size). */
  readonly options: MaxPool2dOptions;

  constructor(
    /** The window's size: an int, or [height, width]. */
    readonly kernelSize: IntPair,
    options: MaxPool2dOptions = {},
  ) {
    super();
    pair('MaxPool2d', 'kernelSize', kernelSize);
    this.options = { ...options };
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(tensorArgument('MaxPool2d', 'x', x), this.kernelSize, this.options);
  }
}

/** Average pooling as a layer (no parameters): nn.functional.avgPool2d with fixed settings. */
export class AvgPool2d extends Module {
  /** The window's settings (stride defaults to the kernel size; padding counts by default). */
  readonly options: AvgPool2dOptions;

  constructor(
    /** The window's size: an int, or [height, width]. */
    readonly kernelSize: IntPair,
    options: AvgPool2dOptions = {},
  ) {
    super();
    pair('AvgPool2d', 'kernelSize', kernelSize);
    this.options = { ...options };
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(tensorArgument('AvgPool2d', 'x', x), this.kernelSize, this.options);
  }
}

/** Adaptive average pooling to a fixed output size (an int, or [h, w] with null keeping that axis). */
export class AdaptiveAvgPool2d extends Module {
  constructor(
    /** The output's [height, width] (an int for both; null keeps the input's size on that axis). */
    readonly outputSize: number | readonly [number | null, number | null],
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(tensorArgument('AdaptiveAvgPool2d', 'x', x), this.outputSize);
  }
}
