// The variants of a kernel on the elementwise template (shaders/elementwise.wgsl): the elementwise
// maps of kernels.ts and the indexed kernels of index_kernels.ts. Software adapters run both sides
// of a branch, even one on a uniform, under a mask, so what a dispatch knows when it is recorded is
// compiled in: the rank of its index space (offset_r<rank>, straight-line, rank − 1 divisions) and
// which inputs it reads in the output's order (at offset + i, no index code). recordMap and the
// indexed ops' recorder ask for the variant of each dispatch (Kernel.strided).

import fastdivSrc from '../../shaders/fastdiv.wgsl?raw';
import type { Kernel } from '../runtime/pipelines.js';
import { offsetRankWgsl, shapeDivisorNames } from './divisor.js';

/** Divisors of the output shape's dims 1–7 (shaders/fastdiv.wgsl), in a map's uniform layout. */
export const SHAPE_DIVISORS = {
  div1: 'vec4<u32>',
  div2: 'vec4<u32>',
  div3: 'vec4<u32>',
  div4: 'vec4<u32>',
  div5: 'vec4<u32>',
  div6: 'vec4<u32>',
  div7: 'vec4<u32>',
} as const;

/** What one variant compiles in: the index space's rank and, bit k per input k, the inputs read at offset + i. */
export interface Ranking {
  rank: number;
  direct: number;
}

/**
 * How one variant reads inputs: `at(name, k)` is the WGSL offset of element i in input k (named
 * `name`, fields P.<name>_strides0/1) from its own offset; `functions` the helpers it calls.
 * Without a ranking, the template's offset_of (hardware division, for layouts without divisors).
 */
export function inputReads(ranking: Ranking | undefined, names: readonly string[]): { at: (name: string) => string; functions: string } {
  if (!ranking) return { at: (name) => `offset_of(i, P.${name}_strides0, P.${name}_strides1)`, functions: '' };
  const isDirect = (name: string): boolean => (ranking.direct & (1 << names.indexOf(name))) !== 0;
  const strided = names.some((name) => !isDirect(name));
  const divisors = shapeDivisorNames('P.').join(', ');
  return {
    at: (name) => (isDirect(name) ? 'i' : `offset_r${ranking.rank}(i, ${divisors}, P.${name}_strides0, P.${name}_strides1)`),
    functions: strided ? `${fastdivSrc}\n${offsetRankWgsl(ranking.rank)}\n` : '',
  };
}

/**
 * The base kernel of a family of variants (rank 8, no input direct: reads any map), with `direct`
 * (every input in order) and `strided(rank, mask)` (made on first use) attached; `make(suffix,
 * ranking)` builds one variant, its family name extended by the suffix.
 */
export function withVariants(inputCount: number, make: (suffix: string, ranking: Ranking) => Kernel): Kernel {
  const all = (1 << inputCount) - 1;
  const base = make('', { rank: 8, direct: 0 });
  const direct: Kernel = { ...make('.direct', { rank: 8, direct: all }), base };
  const variants = new Map<string, Kernel>();
  const strided = (rank: number, mask: number): Kernel => {
    if (mask === all) return direct;
    const key = `r${rank}m${mask}`;
    let variant = variants.get(key);
    if (!variant) {
      variant = { ...make(`.${key}`, { rank, direct: mask }), base };
      variants.set(key, variant);
    }
    return variant;
  };
  return Object.assign(base, { direct, strided });
}
