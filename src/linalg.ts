// torch.matmul and torch.bmm as functions (Tensor.matmul and Tensor.bmm are the same ops).

import { type Tensor, tensorArgument } from './tensor.js';

/** Matrix product as torch.matmul: 1-D (dot, row or column), 2-D, and batched with broadcast batch dimensions. */
export function matmul(input: Tensor, other: Tensor): Tensor {
  return tensorArgument('matmul', 'input', input).matmul(tensorArgument('matmul', 'other', other));
}

/** Batched matrix product as torch.bmm: [B, M, K]·[B, K, N] → [B, M, N], no broadcasting. */
export function bmm(input: Tensor, mat2: Tensor): Tensor {
  return tensorArgument('bmm', 'input', input).bmm(tensorArgument('bmm', 'mat2', mat2));
}
