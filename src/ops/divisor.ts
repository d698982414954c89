// Exact division of u32 values by a divisor that is fixed for a dispatch, as a multiply and shifts
// instead of the hardware divide (shaders/fastdiv.wgsl). u32 division by a non-constant has no
// SIMD instruction on x86, so CPU adapters (lavapipe, SwiftShader) run it lane by lane, and GPUs
// expand it into about twenty instructions; index-heavy kernels do several per element.
//
// The method is Granlund and Montgomery's (PLDI 1994, Theorem 4.2; Hacker's Delight §10-9, the
// "round up" variant). For a divisor d ≥ 1 let l = ⌈log2 d⌉ and m' = ⌊2^(32+l) / d⌋ + 1. Then
// d·m' = 2^(32+l) + e with 0 < e ≤ d ≤ 2^l, so for every n < 2^32, n·m' / 2^(32+l) exceeds n/d
// by n·e / (d·2^(32+l)) ≤ n / (d·2^32) < 1/d; as n/d = ⌊n/d⌋ + r/d with r ≤ d − 1, the excess
// never reaches the next integer: ⌊n·m' / 2^(32+l)⌋ = ⌊n/d⌋. m' needs 33 bits; m = m' − 2^32 =
// ⌊2^32·(2^l − d)/d⌋ + 1 fits in u32 (2^l − d < d), ⌊n·m' / 2^32⌋ = n + t with
// t = ⌊n·m / 2^32⌋ ≤ n, and ⌊(n + t) / 2^l⌋ is computed without a 33-bit sum as
// (t + ((n − t) >> s1)) >> s2, with s1 = min(l, 1) and s2 = max(l − 1, 0).

/** A divisor as the four u32 words the shaders read: (d, m, s1, s2). */
export type Divisor = readonly [number, number, number, number];

const cache = new Map<number, Divisor>();

/** The words of divisor d (an integer in [1, 2^32 − 1]) for `udiv`/`umod` of shaders/fastdiv.wgsl. */
export function divisor(d: number): Divisor {
  const cached = cache.get(d);
  if (cached) return cached;
  if (!Number.isInteger(d) || d < 1 || d > 0xffffffff) throw new RangeError(`internal: a shader divisor must be an integer in [1, 2^32 − 1], got ${d}.`);
  const l = 32 - Math.clz32(d - 1);
  const big = BigInt(d);
  const m = Number((2n ** 32n * (2n ** BigInt(l) - big)) / big + 1n);
  const words: Divisor = [d, m, Math.min(l, 1), Math.max(l - 1, 0)];
  if (cache.size < 4096) cache.set(d, words);
  return words;
}

/** The uniform fields of divisors for `names`: `div_OW: 'vec4<u32>'` for 'OW', and so on. */
export function divisorFields<K extends string>(names: readonly K[]): { [P in K as `div_${P}`]: 'vec4<u32>' } {
  return Object.fromEntries(names.map((n) => [`div_${n}`, 'vec4<u32>'])) as { [P in K as `div_${P}`]: 'vec4<u32>' };
}

/** The divisor words of `names` from the sizes they divide by, for the fields of divisorFields(names). */
export function divisorValues<K extends string>(sizes: Readonly<Record<K, number>>, names: readonly K[]): { [P in K as `div_${P}`]: Divisor } {
  return Object.fromEntries(names.map((n) => [`div_${n}`, divisor(sizes[n])])) as { [P in K as `div_${P}`]: Divisor };
}

/**
 * WGSL `offset_r<rank>(i, d1, …, d7, s0, s1)`: the offset of element i of a rank-8 (padded) index
 * space that is 1 outside its last `rank` dims, in an input with strides s0 (dims 0–3) and s1
 * (dims 4–7), dims 1–7 given as divisors (dim 0 needs none: what is left of i after the others is
 * its coordinate). Straight-line, rank − 1 divisions, no early exit: software adapters run every
 * side of a branch under a mask, so a generic function that stopped once the rest of the index was
 * one coordinate still paid all seven divisions there (a strided copy in Chromium: 177 ns an
 * element, this 38, the same as an unstrided one). Needs fastdiv.wgsl.
 */
export function offsetRankWgsl(rank: number): string {
  if (!Number.isInteger(rank) || rank < 0 || rank > 8) throw new RangeError(`internal: offset rank ${rank}`);
  const stride = (d: number): string => (d >= 4 ? `s1[${d - 4}]` : `s0[${d}]`);
  const lines = [
    `fn offset_r${rank}(i: u32, d1: vec4<u32>, d2: vec4<u32>, d3: vec4<u32>, d4: vec4<u32>, d5: vec4<u32>, d6: vec4<u32>, d7: vec4<u32>, s0: vec4<u32>, s1: vec4<u32>) -> u32 {`,
  ];
  if (rank === 0) return [...lines, '  return 0u;', '}'].join('\n');
  lines.push('  var r = i;', '  var off = 0u;', '  var q = 0u;');
  for (let d = 7; d > 8 - rank; d--) lines.push(`  q = udiv(r, d${d});`, `  off = off + (r - q * d${d}.x) * ${stride(d)};`, '  r = q;');
  lines.push(`  return off + r * ${stride(8 - rank)};`, '}');
  return lines.join('\n');
}

/** The rank offset_r needs for a padded shape (words of dims 0–7): its dims after the leading 1s. */
export function offsetRank(padded: ArrayLike<number>): number {
  let lead = 0;
  while (lead < 8 && padded[lead] === 1) lead++;
  return 8 - lead;
}

/** Names of the divisor fields of dims 1–7 of a padded shape, with a prefix: `${prefix}div1` … `${prefix}div7`. */
export const shapeDivisorNames = (prefix: string): string[] => [1, 2, 3, 4, 5, 6, 7].map((d) => `${prefix}div${d}`);

/** The divisors of dims 1–7 of a rank-8 padded shape (every size ≥ 1). */
export const shapeDivisors = (padded: ArrayLike<number>): Divisor[] => [1, 2, 3, 4, 5, 6, 7].map((d) => divisor(padded[d]!));
