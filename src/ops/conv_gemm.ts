// conv2d as matrix products (im2col): the input of each image is unfolded into a matrix
// cols[(c, kh, kw), (oh, ow)] of the values every tap reads (shaders/conv2d.wgsl `unfold`), and the
// tuned matmul (recordMatmul) does the multiply-adds, each group of channels a product of its own:
//   forward:         y[n, g]  = W[g] · cols[n, g]            W[g]: [OC_g, C_g·KH·KW]
//   input gradient:  dcols[n, g] = W[g]ᵀ · G[n, g], then folded back onto the input (`fold`, a gather)
//   weight gradient: dW[g] = Σ_n G[n, g] · cols[n, g]ᵀ       (a batched product, then a sum over n)
// The matmul keeps a 4×4 block of outputs in registers, so each loaded value serves four
// multiply-adds, where the direct kernels load two values per multiply-add. Every step is a fixed
// sequence of deterministic kernels, so a captured step replays the eager one bit for bit.
//
// The unfolded matrix holds C·KH·KW·OH·OW values per image: images go through in chunks whose
// temporaries stay under UNFOLD_BUDGET_BYTES, and a convolution whose single image would not fit
// keeps the direct kernels (see gemmPlan for the whole rule).

import { Tensor } from '../tensor.js';
import { grid1d, output } from './common.js';
import { cat } from './concat.js';
import { foldKernel, packConv2dParams, specialiseConv, unfoldKernel } from './conv_kernels.js';
import type { Conv2dAttrs } from './conv2d.js';
import { recordBinary } from './elementwise.js';
import { recordMatmul } from './matmul.js';
import { recordReduce } from './reduce.js';
import { denseInput } from './reshape.js';

/** The most bytes one chunk's unfolded matrix (and the weight gradient's per-image products) may take. */
export const UNFOLD_BUDGET_BYTES = 32 * 1024 * 1024;

/** Below this many multiply-adds a convolution costs less as one direct dispatch than as unfold + product (+ bias). */
const MIN_GEMM_MACS = 4096;

/** The forward runs as a product from this long a product (C_g·KH·KW) on (see gemmPlan). */
const MIN_GEMM_FORWARD_TAPS = 64;
/** The weight gradient runs as a product from this long a product, or this many output channels per group, on (see gemmPlan). */
const MIN_GEMM_WEIGHT_GRAD_TAPS = 48;
const MIN_GEMM_WEIGHT_GRAD_CHANNELS = 8;

const NO_SAVE = { recording: false, save: () => {} };

/**
 * The uniform words of the conv2d kernels, for `images` images from image `n0` on; the direct
 * weight gradient splits the images' output rows into parts of `rowsPerPart` rows.
 */
export function conv2dParams(
  x: readonly number[],
  w: readonly number[],
  out: readonly number[],
  attrs: Conv2dAttrs,
  n0 = 0,
  images = x[0]!,
  rowsPerPart = Math.max(1, images * out[2]!),
) {
  const { stride, padding, dilation, groups } = attrs;
  return packConv2dParams({
    N: images,
    C: x[1]!,
    H: x[2]!,
    W: x[3]!,
    OC: w[0]!,
    OH: out[2]!,
    OW: out[3]!,
    OW_q: Math.ceil(out[3]! / 4),
    KH: w[2]!,
    KW: w[3]!,
    SH: stride[0],
    SW: stride[1],
    PH: padding[0],
    PW: padding[2],
    DH: dilation[0],
    DW: dilation[1],
    C_g: w[1]!,
    OC_g: w[0]! / groups,
    n0,
    parts: Math.max(1, Math.ceil((images * out[2]!) / rowsPerPart)),
    rows_per_part: rowsPerPart,
  });
}

interface Sizes {
  N: number;
  C: number;
  OC: number;
  groups: number;
  /** Input channels per group times the kernel's taps: the length of one product. */
  taps: number;
  /** OH·OW. */
  positions: number;
  /** Images per chunk. */
  chunk: number;
}

function sizes(x: readonly number[], w: readonly number[], out: readonly number[], groups: number): Sizes {
  const taps = w[1]! * w[2]! * w[3]!;
  const positions = out[2]! * out[3]!;
  // Per image: its unfolded matrix, and (weight gradient) its [OC, taps] product before the sum.
  const perImage = 4 * groups * taps * Math.max(positions, w[0]! / groups);
  return { N: x[0]!, C: x[1]!, OC: w[0]!, groups, taps, positions, chunk: Math.max(1, Math.floor(UNFOLD_BUDGET_BYTES / perImage)) };
}

/** Which of conv2d's three computations run as matrix products. */
export interface GemmPlan {
  forward: boolean;
  inputGrad: boolean;
  weightGrad: boolean;
  /**
   * Whether a forward whose weight gradient will be taken runs as a product even where `forward`
   * is false, and keeps its unfolded matrix for the weight gradient (one chunk holds every image):
   * the weight gradient then costs one product instead of an unfold and a product, or the direct
   * kernel (LeNet's conv1 on SwiftShader: see bench/RESULTS.md, session 9).
   */
  keepCols: boolean;
}

/**
 * Which of conv2d's computations run as matrix products; the rest keep the direct kernels.
 * The unfold copies every input value once per tap; the product then reuses each copy for all
 * OC_g output channels of its group and keeps 4×4 blocks in registers, so it pays off with long
 * products (C_g·KH·KW taps) or many output channels per group, while the direct kernels cost about
 * the same per multiply-add whatever the sizes. Measured per pass at batch 64 on lavapipe with the
 * current kernels (direct forward: four outputs per invocation; direct weight gradient: in parts;
 * unfold: four columns per invocation), GPU time of the pass, least of 10, 2 cores under a load
 * average of 5–6 (±30%), direct vs product in ms:
 *   input gradient: product faster everywhere: taps 25 / OC 6 (LeNet's conv1) 21.9 vs 11.5,
 *     taps 150 / OC 16 (LeNet's conv2) 64.6 vs 16.6, taps 25–150 / OC 6–16 2–5×; it always goes.
 *   forward: taps 25: direct faster at OC 6 (6.8 vs 21.3), 10 (14.2 vs 16.5) and 16 (21.5 vs
 *     30.7); taps 50: OC 6 2.6 vs 3.4, OC 16 6.9 vs 6.0; taps 75 / OC 16 9.8 vs 4.9; taps 150:
 *     OC 6 7.2 vs 5.4, OC 16 30.2 vs 12.4; hence MIN_GEMM_FORWARD_TAPS.
 *   weight gradient: taps 25 / OC 6 11.1 vs 13.2 (CPU time 17.5 vs 13.7 ms: even); taps 25 /
 *     OC 10 20.5 vs 8.8, OC 16 26.9 vs 14.3; taps 50 / OC 6 3.2 vs 2.1; taps 150 / OC 6 9.1 vs
 *     4.7, OC 16 37.8 vs 12.7; hence MIN_GEMM_WEIGHT_GRAD_TAPS and MIN_GEMM_WEIGHT_GRAD_CHANNELS.
 * Nothing goes for: empty tensors; convolutions of under MIN_GEMM_MACS multiply-adds (dispatch
 * cost dominates); a single output channel per group (depthwise: a product with one row wastes the
 * matmul's 4-row blocks); one image whose unfolded matrix alone exceeds UNFOLD_BUDGET_BYTES.
 */
export function gemmPlan(x: readonly number[], w: readonly number[], out: readonly number[], groups: number): GemmPlan {
  const s = sizes(x, w, out, groups);
  const none = { forward: false, inputGrad: false, weightGrad: false, keepCols: false };
  if (s.N === 0 || s.positions === 0) return none;
  if (s.N * s.OC * s.positions * s.taps < MIN_GEMM_MACS) return none;
  const outChannels = s.OC / groups;
  if (outChannels < 2) return none;
  if (4 * groups * s.taps * Math.max(s.positions, outChannels) > UNFOLD_BUDGET_BYTES) return none;
  return {
    forward: s.taps >= MIN_GEMM_FORWARD_TAPS,
    inputGrad: true,
    weightGrad: s.taps >= MIN_GEMM_WEIGHT_GRAD_TAPS || outChannels >= MIN_GEMM_WEIGHT_GRAD_CHANNELS,
    keepCols: s.N <= s.chunk,
  };
}

/** A view of t's storage (t dense from `offset`) with these sizes and strides. */
const view = (t: Tensor, shape: readonly number[], strides: readonly number[], offset = t.offset): Tensor =>
  new Tensor(t.runtime, t.storage, shape, t.dtype, strides, offset);

/** cols [images, groups, taps, positions] of images n0 ..< n0 + images of the dense input x. */
function unfold(x: Tensor, w: readonly number[], out: readonly number[], attrs: Conv2dAttrs, s: Sizes, n0: number, images: number): Tensor {
  const cols = output(x.runtime, [images, s.groups, s.taps, s.positions], 'float32', 'conv2d');
  const params = conv2dParams(x.shape, w, out, attrs, n0, images);
  // One invocation per four adjacent columns of a row of cols.
  const invocations = (cols.size / out[3]!) * Math.ceil(out[3]! / 4);
  x.runtime.scheduler.record({ kernel: specialiseConv(unfoldKernel, params), params, storages: [x.storage, cols.storage], workgroups: grid1d(invocations) });
  return cols;
}

/** The pieces joined along the batch (one piece: itself). */
function joinImages(pieces: Tensor[]): Tensor {
  if (pieces.length === 1) return pieces[0]!;
  const joined = cat.forward(pieces, { dim: 0 }, NO_SAVE);
  for (const p of pieces) p.dispose();
  return joined;
}

/** The gradient g [N, OC, OH, OW] (dense) of images n0 ..< n0 + images as [images, groups, OC_g, positions]. */
function gradientChunk(g: Tensor, s: Sizes, n0: number, images: number): Tensor {
  const ocg = s.OC / s.groups;
  return view(g, [images, s.groups, ocg, s.positions], [s.OC * s.positions, ocg * s.positions, s.positions, 1], g.offset + n0 * s.OC * s.positions);
}

/**
 * conv2d's forward as unfold + product (+ bias); `shape` is the output's. With `keepCols` (and
 * every image in one chunk) the unfolded matrix is returned too, for gemmWeightGrad; else null.
 */
export function gemmForward(
  x: Tensor,
  w: Tensor,
  b: Tensor | undefined,
  shape: readonly number[],
  attrs: Conv2dAttrs,
  keepCols = false,
): { y: Tensor; cols: Tensor | null } {
  const s = sizes(x.shape, w.shape, shape, attrs.groups);
  const xd = denseInput('conv2d', x);
  const wd = denseInput('conv2d', w);
  const ocg = s.OC / s.groups;
  const weights = view(wd, [s.groups, ocg, s.taps], [ocg * s.taps, s.taps, 1]);
  // One group: the bias is added per row (output channel) in the product's epilogue. Groups would
  // need the product's group in the epilogue: they add it afterwards.
  const rowBias = b && s.groups === 1 ? denseInput('conv2d', b) : undefined;
  const pieces: Tensor[] = [];
  let kept: Tensor | null = null;
  for (let n0 = 0; n0 < s.N; n0 += s.chunk) {
    const cols = unfold(xd, w.shape, shape, attrs, s, n0, Math.min(s.chunk, s.N - n0));
    pieces.push(recordMatmul(weights, cols, 'conv2d', rowBias));
    if (keepCols && s.chunk >= s.N) kept = cols;
    else cols.dispose();
  }
  const product = joinImages(pieces);
  let y = view(product, shape, [s.OC * s.positions, s.positions, shape[3]!, 1]);
  product.dispose();
  if (rowBias && rowBias !== b) rowBias.dispose();
  if (b && !rowBias) {
    const perChannel = view(b, [s.OC, 1, 1], [b.strides[0]!, 0, 0]);
    const biased = recordBinary('conv2d', 'add', y, perChannel);
    for (const t of [y, perChannel]) t.dispose();
    y = biased;
  }
  weights.dispose();
  for (const [dense, given] of [
    [xd, x],
    [wd, w],
  ] as const)
    if (dense !== given) dense.dispose();
  return { y, cols: kept };
}

/** The input gradient [N, C, H, W]: the transposed weight times the gradient, folded back onto the input. */
export function gemmInputGrad(g: Tensor, w: Tensor, xShape: readonly number[], outShape: readonly number[], attrs: Conv2dAttrs): Tensor {
  const s = sizes(xShape, w.shape, outShape, attrs.groups);
  const gd = denseInput('conv2d backward', g);
  const wd = denseInput('conv2d backward', w);
  const ocg = s.OC / s.groups;
  const transposed = view(wd, [s.groups, s.taps, ocg], [ocg * s.taps, 1, s.taps]);
  const pieces: Tensor[] = [];
  for (let n0 = 0; n0 < s.N; n0 += s.chunk) {
    const images = Math.min(s.chunk, s.N - n0);
    const gChunk = gradientChunk(gd, s, n0, images);
    const dcols = recordMatmul(transposed, gChunk, 'conv2d backward');
    const dx = output(g.runtime, [images, ...xShape.slice(1)], 'float32', 'conv2d backward');
    const params = conv2dParams(xShape, w.shape, outShape, attrs, 0, images);
    g.runtime.scheduler.record({ kernel: specialiseConv(foldKernel, params), params, storages: [dcols.storage, dx.storage], workgroups: grid1d(dx.size) });
    pieces.push(dx);
    for (const t of [gChunk, dcols]) t.dispose();
  }
  transposed.dispose();
  for (const [dense, given] of [
    [gd, g],
    [wd, w],
  ] as const)
    if (dense !== given) dense.dispose();
  return joinImages(pieces);
}

/**
 * The weight gradient [OC, C_g, KH, KW]: per image the gradient times the unfolded input
 * transposed, summed over the images in order. `kept`: the forward's unfolded matrix of every
 * image (gemmForward's keepCols), read instead of unfolding x again; it stays the caller's.
 */
export function gemmWeightGrad(
  g: Tensor,
  x: Tensor,
  wShape: readonly number[],
  outShape: readonly number[],
  attrs: Conv2dAttrs,
  kept: Tensor | null = null,
): Tensor {
  const s = sizes(x.shape, wShape, outShape, attrs.groups);
  const gd = denseInput('conv2d backward', g);
  const xd = kept ? x : denseInput('conv2d backward', x);
  let total: Tensor | null = null;
  for (let n0 = 0; n0 < s.N; n0 += s.chunk) {
    const images = Math.min(s.chunk, s.N - n0);
    const cols = kept ?? unfold(xd, wShape, outShape, attrs, s, n0, images);
    const colsT = view(cols, [images, s.groups, s.positions, s.taps], [s.groups * s.taps * s.positions, s.taps * s.positions, 1, s.positions]);
    const gChunk = gradientChunk(gd, s, n0, images);
    const perImage = recordMatmul(gChunk, colsT, 'conv2d backward');
    const summed = recordReduce('conv2d backward', perImage, { axis: [0], keepdim: false }, false);
    for (const t of [colsT, gChunk, perImage]) t.dispose();
    if (cols !== kept) cols.dispose();
    if (total) {
      const next: Tensor = recordBinary('conv2d backward', 'add', total, summed);
      for (const t of [total, summed]) t.dispose();
      total = next;
    } else total = summed;
  }
  for (const [dense, given] of [
    [gd, g],
    [xd, x],
  ] as const)
    if (dense !== given) dense.dispose();
  const result = view(total!, wShape, [s.taps, wShape[2]! * wShape[3]!, wShape[3]!, 1]);
  total!.dispose();
  return result;
}
