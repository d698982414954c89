// Joining, splitting, picking and masking as torch functions: torch.cat, torch.stack, torch.split,
// torch.chunk, torch.index_select, torch.gather, torch.tril, torch.triu, torch.masked_fill. Each checks its arguments are tensors and calls the op table.

import { describeValue } from './arguments.js';
import { apply } from './autograd.js';
import { ValueError } from './errors.js';
import { type Tensor, tensorArgument } from './tensor.js';

function tensorList(fn: string, tensors: unknown): Tensor[] {
  if (!Array.isArray(tensors)) throw new ValueError(`${fn}: 'tensors' must be an array of Tensors, got ${describeValue(tensors)}.`);
  if (tensors.length === 0) throw new ValueError(`${fn}: expected a non-empty array of tensors.`);
  return tensors.map((t, i) => tensorArgument(fn, `tensors[${i}]`, t));
}

function dimArgument(fn: string, dim: unknown): number {
  if (!Number.isInteger(dim)) throw new ValueError(`${fn}: dim must be an integer, got ${describeValue(dim)}.`);
  return dim as number;
}

/** The tensors joined along an existing dimension, as torch.cat; sizes must match in every other one. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  return apply('cat', tensorList('cat', tensors), { dim: dimArgument('cat', dim) });
}

/** Tensors of one shape joined along a new dimension dim, as torch.stack. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  return apply('stack', tensorList('stack', tensors), { dim: dimArgument('stack', dim) });
}

/** The lower triangle of the last two dimensions (j − i ≤ diagonal), the rest zero. */
export function tril(input: Tensor, diagonal = 0): Tensor {
  return tensorArgument('tril', 'input', input).tril(diagonal);
}

/** The upper triangle of the last two dimensions (j − i ≥ diagonal), the rest zero. */
export function triu(input: Tensor, diagonal = 0): Tensor {
  return tensorArgument('triu', 'input', input).triu(diagonal);
}

/** value where the bool mask is true, else input, as torch.masked_fill. */
export function maskedFill(input: Tensor, mask: Tensor, value: number): Tensor {
  return tensorArgument('maskedFill', 'input', input).maskedFill(mask, value);
}

/** Pieces of dimension dim as views, as torch.split: of splitSize each (the last may be smaller), or of the given sizes. */
export function split(tensor: Tensor, splitSizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  return tensorArgument('split', 'tensor', tensor).split(splitSizeOrSections, dim);
}

/** Dimension dim cut into at most `chunks` views of ⌈size / chunks⌉, as torch.chunk. */
export function chunk(input: Tensor, chunks: number, dim = 0): Tensor[] {
  return tensorArgument('chunk', 'input', input).chunk(chunks, dim);
}

/** The slices of dimension dim of input at the int32 indices of a vector, as torch.index_select. */
export function indexSelect(input: Tensor, dim: number, index: Tensor): Tensor {
  return tensorArgument('indexSelect', 'input', input).indexSelect(dim, index);
}

/** Values of input picked along dim by an int32 index of the same rank, as torch.gather. */
export function gather(input: Tensor, dim: number, index: Tensor): Tensor {
  return tensorArgument('gather', 'input', input).gather(dim, index);
}
