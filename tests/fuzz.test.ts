// Property-based fuzzing of the file readers (fast-check): every malformed input gives a clear
// error of the reader's own class — never a hang, a crash, another exception, or an allocation
// from a forged header. FUZZ_RUNS scales the run (npm run fuzz runs 50× more).

import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { data, ValueError } from '../src/index.js';
import { parseSafetensors } from '../src/io/safetensors.js';

const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
const runs = (n: number) => Math.round(n * SCALE);
const FUZZ_COUNTS: Record<string, number> = {};

function idx(dims: number[], fill = 7): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(4 + 4 * dims.length + count);
  const view = new DataView(out.buffer);
  out.set([0, 0, 8, dims.length]);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.fill(fill, 4 + 4 * dims.length);
  return out;
}

/** A valid IDX file and one mutation of it. */
const mutatedIdx = fc
  .record({
    dims: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 4 }),
    mutation: fc.oneof(
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('append' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 9 }) }),
      fc.record({ kind: fc.constant('forge-dim' as const), which: fc.nat(), value: fc.nat({ max: 0xffffffff }) }),
      fc.record({ kind: fc.constant('none' as const) }),
    ),
  })
  .map(({ dims, mutation }) => {
    let bytes = idx(dims);
    switch (mutation.kind) {
      case 'truncate':
        bytes = bytes.slice(0, mutation.at % (bytes.length + 1));
        break;
      case 'flip':
        bytes[mutation.at % bytes.length] = mutation.value;
        break;
      case 'append':
        bytes = Uint8Array.from([...bytes, ...mutation.extra]);
        break;
      case 'forge-dim':
        new DataView(bytes.buffer).setUint32(4 + 4 * (mutation.which % dims.length), mutation.value, false);
        break;
    }
    return bytes;
  });

/** readIdx either gives an array whose dims describe exactly its data, or an IdxError. */
async function idxProperty(bytes: Uint8Array, gzip = false): Promise<void> {
  try {
    const arr = await data.readIdx(bytes, 'fuzz');
    expect(arr.data.length).toBe(arr.dims.reduce((a, b) => a * b, 1));
    // Never more data than the file holds (after decompression, within the cap).
    expect(arr.data.length).toBeLessThanOrEqual(gzip ? 512 * 1024 * 1024 : bytes.length);
  } catch (err) {
    if (!(err instanceof data.IdxError)) throw err;
    expect((err as Error).message).toMatch(/^fuzz: /);
  }
}

test('IDX reader: arbitrary bytes', async () => {
  const n = runs(1500);
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), (b) => idxProperty(b)),
    { numRuns: n, seed: 1 },
  );
  FUZZ_COUNTS['idx arbitrary'] = n;
});

test('IDX reader: mutations of valid files (truncation, flipped bytes, trailing bytes, forged sizes)', async () => {
  const n = runs(2000);
  await fc.assert(
    fc.asyncProperty(mutatedIdx, (b) => idxProperty(b)),
    { numRuns: n, seed: 2 },
  );
  FUZZ_COUNTS['idx mutated'] = n;
});

test('IDX reader: gzip of mutated files, and broken gzip streams', async () => {
  const n = runs(500);
  await fc.assert(
    fc.asyncProperty(mutatedIdx, fc.nat(), fc.boolean(), async (bytes, cut, truncate) => {
      let gz = new Uint8Array(gzipSync(bytes));
      if (truncate) gz = gz.slice(0, 2 + (cut % Math.max(1, gz.length - 2)));
      await idxProperty(gz, true);
    }),
    { numRuns: n, seed: 3 },
  );
  FUZZ_COUNTS['idx gzip'] = n;
});

test('IDX reader: a forged header can never make it allocate (a gzip bomb is capped)', async () => {
  // 4 GiB × 4 GiB claimed in a 12-byte file: an immediate error, no allocation.
  const forged = idx([1]);
  new DataView(forged.buffer).setUint32(4, 0xffffffff, false);
  await expect(data.readIdx(forged, 'forged')).rejects.toThrow(/truncated: dimensions \[4294967295\] need 4294967295 bytes/);
  // A gzip bomb is refused while decompressing, once the output passes the cap (readIdx's cap is
  // 512 MiB; a 1 MiB cap shows the same code path on 4 MiB of zeros, quickly).
  const bomb = new Uint8Array(gzipSync(new Uint8Array(4 * 1024 * 1024)));
  expect(bomb.length).toBeLessThan(8 * 1024);
  await expect(data.gunzip(bomb, 1024 * 1024, 'bomb')).rejects.toThrow(/bomb: decompresses to more than 1048576 bytes/);
});

test('MNIST pairs (images + labels): mutations give a dataset or an IdxError', async () => {
  const n = runs(500);
  const images = fc.record({ n: fc.integer({ min: 0, max: 4 }), r: fc.integer({ min: 0, max: 3 }), c: fc.integer({ min: 0, max: 3 }) });
  await fc.assert(
    fc.asyncProperty(images, fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 12 }), async ({ n: count, r, c }, labelCount, label) => {
      try {
        const ds = await data.fromIdx(idx([count, r, c], 255), idx([labelCount], label));
        expect(ds.count).toBe(count);
        expect(ds.images.length).toBe(count * r * c);
      } catch (err) {
        if (!(err instanceof data.IdxError)) throw err;
      }
    }),
    { numRuns: n, seed: 4 },
  );
  FUZZ_COUNTS['mnist pairs'] = n;
});

test('safetensors reader: arbitrary bytes and mutated headers', async () => {
  const n = runs(1000);
  const valid = (header: object, body: Uint8Array): Uint8Array => {
    const json = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + body.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    out.set(body, 8 + json.length);
    return out;
  };
  const header = fc.record({
    dtype: fc.constantFrom('F32', 'I32', 'F16', 'BOOL', 7),
    shape: fc.array(fc.integer({ min: -1, max: 4 }), { maxLength: 3 }),
    start: fc.integer({ min: -4, max: 64 }),
    end: fc.integer({ min: -4, max: 64 }),
  });
  const entry = (h: { dtype: unknown; shape: number[]; start: number; end: number }) => ({ dtype: h.dtype, shape: h.shape, data_offsets: [h.start, h.end] });
  await fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 40 }),
        fc.tuple(header, fc.uint8Array({ maxLength: 64 })).map(([h, body]) => valid({ t: entry(h) }, body)),
        // Two tensors that nearly tile the byte buffer: overlaps, gaps, reversed offsets, trailing bytes.
        fc
          .record({
            shapes: fc.tuple(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 })),
            shifts: fc.tuple(fc.integer({ min: -4, max: 4 }), fc.integer({ min: -4, max: 4 }), fc.integer({ min: -4, max: 4 })),
            exact: fc.boolean(),
          })
          .map(({ shapes: [sa, sb], shifts: [d0, d1, d2], exact }) => {
            const bytes = (shape: number[]) => 4 * shape.reduce((x, y) => x * y, 1);
            const [a0, b0] = exact ? [0, bytes(sa)] : [Math.max(0, d0), Math.max(0, bytes(sa) + d1)];
            const end = b0 + bytes(sb);
            return valid(
              { b: { dtype: 'F32', shape: sb, data_offsets: [b0, end] }, a: { dtype: 'I32', shape: sa, data_offsets: [a0, a0 + bytes(sa)] } },
              new Uint8Array(Math.max(0, exact ? end : end + d2)),
            );
          }),
      ),
      (bytes) => {
        try {
          const tensors = parseSafetensors(bytes, 'fuzz');
          for (const t of tensors.values()) expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
          // What is read covers the byte buffer exactly (the format allows no gap, overlap or trailing byte).
          const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
          const read = [...tensors.values()].reduce((n, t) => n + t.data.byteLength, 0);
          expect(read).toBe(bytes.length - 8 - headerLength);
        } catch (err) {
          if (!(err instanceof ValueError)) throw err;
          expect((err as Error).message).toMatch(/^fuzz: /);
        }
      },
    ),
    { numRuns: n, seed: 5 },
  );
  FUZZ_COUNTS.safetensors = n;
});

test('fuzz totals', () => {
  const total = Object.values(FUZZ_COUNTS).reduce((a, b) => a + b, 0);
  console.log(`[webgrad] fuzz cases: ${JSON.stringify(FUZZ_COUNTS)} = ${total}`);
  expect(total).toBeGreaterThanOrEqual(runs(5000));
});
