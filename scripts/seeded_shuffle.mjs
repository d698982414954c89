// A seeded Fisher–Yates shuffle for the build scripts: xoshiro128** seeded by splitmix32, the same
// generator as src/random.ts, so the packed data sets are the same on every machine.
import { statSync } from 'node:fs';

function generator(seed) {
  const s = new Uint32Array(4);
  let x = seed >>> 0;
  for (let i = 0; i < 4; i++) {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    s[i] = (z ^ (z >>> 16)) >>> 0;
  }
  const rotl = (v, k) => ((v << k) | (v >>> (32 - k))) >>> 0;
  return () => {
    let [s0, s1, s2, s3] = s;
    const r = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
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
    return r / 4294967296;
  };
}

/** Shuffles `items` in place with the generator seeded by `seed`; returns them. */
export function seededShuffle(items, seed) {
  const next = generator(seed);
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** True when `out` exists and is newer than the script `scriptUrl` and this module (nothing to rebuild). */
export function upToDate(out, scriptUrl) {
  try {
    const built = statSync(out).mtimeMs;
    return [scriptUrl, import.meta.url].every((u) => statSync(new URL(u)).mtimeMs < built);
  } catch {
    return false;
  }
}
