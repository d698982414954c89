// The two networks the digits panel can train: the 784-128-10 MLP and LeNet (two 5×5
// convolutions). What differs between them lives here: how to build one, its default learning
// rate, its loss written with explicit parameters (for the four ways to a gradient), what a
// checkpoint of it holds, and how much GPU memory a batch needs.
import { models, nn, type Tensor } from '../src/index.js';
import { Net } from './digits_ui.js';

export type Architecture = 'mlp' | 'cnn';
export type DigitsModel = Net | models.LeNet;

export interface ArchitectureInfo {
  /** How the page names it. */
  label: string;
  /** The header's one-line description. */
  tagline: string;
  /** Fresh initial weights from the global generator (seed it first with manualSeed). */
  make(): DigitsModel;
  /** Default SGD learning rate and momentum (Adam and AdamW keep the field as typed). */
  lr: number;
  momentum: number;
  /** The first-layer view's caption. */
  weightsNote: string;
  /** The loss on a batch as a function of every parameter, in the order of model.parameters(). */
  loss(x: Tensor, y: Tensor, params: Tensor[]): Tensor;
}

const { conv2d, crossEntropy, linear, maxPool2d } = nn.functional;

export const ARCHITECTURES: Record<Architecture, ArchitectureInfo> = {
  mlp: {
    label: 'MLP (784-128-10)',
    tagline: 'A 784-128-10 network learns to read handwritten digits, on your GPU, in this page.',
    make: () => new Net(),
    lr: 0.1,
    momentum: 0,
    weightsNote: "Each of the 128 hidden units' 784 weights as a 28×28 image (blue negative, red positive).",
    loss(x, y, params) {
      const [w1, b1, w2, b2] = params as [Tensor, Tensor, Tensor, Tensor];
      return crossEntropy(linear(linear(x, w1, b1).relu(), w2, b2), y);
    },
  },
  cnn: {
    label: 'CNN (LeNet)',
    tagline: 'A small convolutional network (LeNet: two 5×5 convolutions) learns to read handwritten digits, on your GPU, in this page.',
    make: () => new models.LeNet(),
    // The settings `npm run train -- --model cnn` uses.
    lr: 0.05,
    momentum: 0.9,
    weightsNote: "The first convolution's 6 filters, each 5×5 (blue negative, red positive): the strokes and edges the network looks for first.",
    loss(x, y, params) {
      const [c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b] = params as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
      const images = x.reshape([x.shape[0]!, 1, 28, 28]);
      const h1 = maxPool2d(conv2d(images, c1w, c1b, { padding: 2 }).relu(), 2);
      const h2 = maxPool2d(conv2d(h1, c2w, c2b).relu(), 2);
      return crossEntropy(linear(linear(h2.reshape([x.shape[0]!, -1]), f1w, f1b).relu(), f2w, f2b), y);
    },
  },
};

export function architectureOf(model: DigitsModel): Architecture {
  return model instanceof models.LeNet ? 'cnn' : 'mlp';
}

/** Which architecture a checkpoint's tensor names belong to, or null when neither (load() then lists the differences). */
export function checkpointArchitecture(names: Iterable<string>): Architecture | null {
  const set = new Set(names);
  if (set.has('conv1.weight') && set.has('conv2.weight')) return 'cnn';
  if (set.has('fc1.weight') && set.has('fc2.weight') && !set.has('conv1.weight')) return 'mlp';
  return null;
}

/**
 * Bytes of the largest tensor one training step of `batch` samples makes: a buffer larger than the
 * device allows cannot be made. The CNN's first convolution outputs 6 × 28 × 28 values per sample;
 * the MLP's input rows (784 values) are its largest.
 */
export function largestActivationBytes(arch: Architecture, batch: number): number {
  return batch * (arch === 'cnn' ? 6 * 28 * 28 : 784) * 4;
}

/** Why a batch cannot train on this GPU (its largest activation is over the binding limit), or null. */
export function batchTooLarge(arch: Architecture, batch: number, limit: number): string | null {
  const bytes = largestActivationBytes(arch, batch);
  if (bytes <= limit) return null;
  const mb = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
  return (
    `A batch of ${batch.toLocaleString('en')} needs a ${mb(bytes)} buffer for the ${ARCHITECTURES[arch].label}'s activations, ` +
    `more than this GPU allows in one buffer (${mb(limit)}): choose a mini-batch of at most ${Math.floor(limit / largestActivationBytes(arch, 1)).toLocaleString('en')}.`
  );
}
