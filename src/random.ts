// A small seeded generator (xoshiro128**, 32-bit integer math only), so that rand/randn and
// weight initialisation give the same values in every browser and in Node.

/**
 * A seeded pseudo-random generator (xoshiro128**) that gives the same sequence in every browser
 * and in Node for the same seed.
 */
export class Generator {
  private s: Uint32Array;

  constructor(seed: number) {
    this.s = new Uint32Array(4);
    // splitmix32 spreads the seed over the four words of state.
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    let s0 = s[0]!,
      s1 = s[1]!,
      s2 = s[2]!,
      s3 = s[3]!;
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3 >>> 0, 11);
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
    return result;
  }

  /** Uniform in [0, 1), with 32 random bits. */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

let globalGenerator = new Generator(0);
let globalSeed = 0;
const seedListeners: ((seed: number) => void)[] = [];

/**
 * Seeds the generator used by rand, randn and layer initialisation when no seed is given, and the
 * GPU generator of dropout's masks (which starts again from its first mask).
 */
export function manualSeed(seed: number): void {
  globalGenerator = new Generator(seed);
  globalSeed = seed >>> 0;
  for (const listener of seedListeners) listener(globalSeed);
}

/** The seed of the last manualSeed() call (0 before any). */
export function currentSeed(): number {
  return globalSeed;
}

/** Calls `listener` with the new seed on every manualSeed() (generators kept elsewhere, e.g. on the GPU). */
export function onManualSeed(listener: (seed: number) => void): void {
  seedListeners.push(listener);
}

export function generatorFor(seed: number | undefined): Generator {
  return seed === undefined ? globalGenerator : new Generator(seed);
}
