// Exact u32 division by a per-dispatch divisor (src/ops/divisor.ts, shaders/fastdiv.wgsl): the
// host's magic words satisfy the bound that makes the method exact for every dividend, a
// word-for-word model of the WGSL arithmetic divides exactly (all dividends for a few divisors
// at both ends of the u32 range, edge dividends for every 16-bit divisor), and the WGSL itself,
// run on the device, agrees with the definition of floor division on edge and random pairs; the
// tap walk of the transposed-window gathers visits the outputs that dividing at each tap finds.
// Division results are checked against the definition q·d ≤ n < (q + 1)·d (exact in float64),
// never against the code under test.

import { describe, expect, test } from 'vitest';
import fastdivSrc from '../shaders/fastdiv.wgsl?raw';
import { type Divisor, divisor } from '../src/ops/divisor.js';
import { Generator } from '../src/random.js';
import { runtime } from '../src/runtime/runtime.js';

const U32_MAX = 0xffffffff;

/** shaders/fastdiv.wgsl's mulhi and udiv, operation by operation, in u32 arithmetic. */
function mulhiModel(a: number, b: number): number {
  const [a0, a1, b0, b1] = [a & 0xffff, a >>> 16, b & 0xffff, b >>> 16];
  const low = a0 * b0;
  const cross0 = a1 * b0;
  const cross1 = a0 * b1;
  const carry = ((low >>> 16) + (cross0 & 0xffff) + (cross1 & 0xffff)) >>> 16;
  return (a1 * b1 + (cross0 >>> 16) + (cross1 >>> 16) + carry) >>> 0;
}
function udivModel(n: number, [, m, s1, s2]: Divisor): number {
  const t = mulhiModel(m, n);
  return ((t + (((n - t) >>> 0) >>> s1)) >>> 0) >>> s2;
}

/** Whether q is ⌊n / d⌋ by the definition (all values below 2^53, so exact). */
const isFloorQuotient = (n: number, d: number, q: number): boolean => q * d <= n && n < (q + 1) * d;

/** The divisors named by the shaders' worst cases: 1, powers of two, small primes, 16-bit edges, the top of u32. */
const EDGE_DIVISORS = [
  1,
  2,
  3,
  4,
  5,
  6,
  7,
  8,
  9,
  10,
  25,
  28,
  641,
  6700417,
  65535,
  65536,
  65537,
  2 ** 24 + 1,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 31 + 1,
  U32_MAX - 1,
  U32_MAX,
];

/** Dividends at the edges for d: 0, around d, around the largest multiple of d, the top of u32. */
function edgeDividends(d: number): number[] {
  const top = Math.floor(U32_MAX / d) * d;
  return [0, 1, d - 1, d, d + 1, 2 * d - 1, 2 * d, top - 1, top, Math.min(top + d - 1, U32_MAX), 2 ** 31 - 1, 2 ** 31, U32_MAX - 1, U32_MAX].filter(
    (n) => n >= 0 && n <= U32_MAX,
  );
}

function randomDivisors(g: Generator, count: number): number[] {
  // Log-uniform sizes so every magnitude from 1 to 2^32 − 1 shows up.
  return Array.from({ length: count }, () => Math.min(U32_MAX, Math.max(1, Math.floor(2 ** (g.uniform() * 32)))));
}
const randomU32 = (g: Generator): number => Math.floor(g.uniform() * 2 ** 32) >>> 0;

describe('divisor words (host)', () => {
  test('d, m, s1, s2 satisfy the exactness bound 0 < d·(2^32 + m) − 2^(32+l) ≤ 2^l with m a u32', () => {
    const g = new Generator(16);
    const ds = [...EDGE_DIVISORS, ...randomDivisors(g, 2000)];
    for (let d = 1; d <= 1 << 14; d++) ds.push(d);
    for (const d of ds) {
      const [dw, m, s1, s2] = divisor(d);
      expect(dw).toBe(d);
      expect(Number.isInteger(m) && m >= 0 && m <= U32_MAX).toBe(true);
      // l from the shifts: l = s1 + s2 (0 for d = 1), and 2^(l−1) < d ≤ 2^l.
      const l = s1 + s2;
      expect(s1).toBe(Math.min(l, 1));
      expect(d <= 2 ** l && (l === 0 || d > 2 ** (l - 1))).toBe(true);
      const excess = BigInt(d) * (2n ** 32n + BigInt(m)) - 2n ** BigInt(32 + l);
      if (!(excess > 0n && excess <= 2n ** BigInt(l))) throw new Error(`divisor ${d}: d·m' − 2^(32+l) = ${excess} is outside (0, 2^${l}]`);
    }
  });

  test('the WGSL arithmetic divides every dividend of the bottom and top 2^21 exactly for small and odd divisors', () => {
    for (const d of [3, 7, 10, 641, 65535]) {
      const words = divisor(d);
      for (const start of [0, 2 ** 32 - 2 ** 21]) {
        for (let n = start; n < start + 2 ** 21; n++) {
          const q = udivModel(n, words);
          if (!isFloorQuotient(n, d, q)) throw new Error(`${n} / ${d}: got ${q}`);
        }
      }
    }
  });

  test('the WGSL arithmetic divides edge and random dividends exactly for every 16-bit divisor and random 32-bit ones', () => {
    const g = new Generator(61);
    const ds = [...EDGE_DIVISORS, ...randomDivisors(g, 5000)];
    for (let d = 1; d <= 1 << 16; d++) ds.push(d);
    for (const d of ds) {
      const words = divisor(d);
      for (const n of [...edgeDividends(d), randomU32(g), randomU32(g)]) {
        const q = udivModel(n, words);
        if (!isFloorQuotient(n, d, q)) throw new Error(`${n} / ${d}: got ${q}`);
      }
    }
  });

  test('a divisor outside [1, 2^32 − 1] is refused', () => {
    for (const d of [0, -1, 1.5, 2 ** 32, Number.NaN]) expect(() => divisor(d)).toThrow(/shader divisor must be an integer in \[1, 2\^32 − 1\]/);
  });
});

describe('udiv and umod (on the device)', () => {
  /** Runs `body` (WGSL statements over DIVISORS[i] and DIVIDENDS[i] that set OUT[i]) with shaders/fastdiv.wgsl; returns OUT. */
  async function runOnDevice(divisors: Uint32Array<ArrayBuffer>, dividends: Uint32Array<ArrayBuffer>, outWords: number, body: string): Promise<Uint32Array> {
    const device = runtime().device;
    const code = `${fastdivSrc}
@group(0) @binding(0) var<storage, read> DIVISORS: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> DIVIDENDS: array<u32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<u32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 65535u * 64u;
  if (i >= arrayLength(&DIVIDENDS)) { return; }
  ${body}
}`;
    const storage = (data: Uint32Array<ArrayBuffer>) => {
      const b = device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
      device.queue.writeBuffer(b, 0, data);
      return b;
    };
    const divisorBuffer = storage(divisors);
    const dividendBuffer = storage(dividends);
    const bytes = dividends.length * outWords * 4;
    const out = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [divisorBuffer, dividendBuffer, out].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    const groups = Math.ceil(dividends.length / 64);
    pass.dispatchWorkgroups(Math.min(groups, 65535), Math.ceil(groups / 65535));
    pass.end();
    encoder.copyBufferToBuffer(out, 0, staging, 0, bytes);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const result = new Uint32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    for (const b of [divisorBuffer, dividendBuffer, out, staging]) b.destroy();
    return result;
  }

  test('agree with floor division on edge dividends of edge divisors, every divisor up to 4096, and random pairs', async () => {
    const g = new Generator(7);
    const pairs: [number, number][] = [];
    for (const d of [...EDGE_DIVISORS, ...randomDivisors(g, 3000)]) {
      for (const n of [...edgeDividends(d), ...Array.from({ length: 24 }, () => randomU32(g))]) pairs.push([n, d]);
    }
    for (let d = 1; d <= 4096; d++) for (const n of [...edgeDividends(d), randomU32(g)]) pairs.push([n, d]);
    for (let n = 0; n < 20000; n++) pairs.push([n, 1 + (n % 97)]);
    const words = new Uint32Array(pairs.length * 4);
    pairs.forEach(([, d], i) => words.set(divisor(d), 4 * i));
    const both = await runOnDevice(
      words,
      Uint32Array.from(pairs, ([n]) => n),
      2,
      'OUT[2u * i] = udiv(DIVIDENDS[i], DIVISORS[i]); OUT[2u * i + 1u] = umod(DIVIDENDS[i], DIVISORS[i]);',
    );
    const [quotients, remainders] = [both.filter((_, k) => k % 2 === 0), both.filter((_, k) => k % 2 === 1)];
    const wrong = pairs.filter(([n, d], i) => !isFloorQuotient(n, d, quotients[i]!) || remainders[i] !== n - quotients[i]! * d);
    expect(wrong.slice(0, 5), `${wrong.length} of ${pairs.length} pairs wrong`).toEqual([]);
    expect(pairs.length).toBeGreaterThan(100000);
  });

  test('a tap walk visits the same outputs as dividing at every tap', async () => {
    // Reference: tap k of input position i reads output (i + pad − k·dilation) / stride when that
    // is a non-negative multiple of stride below size (-1: none).
    const TAPS = 7;
    const reference = (i: number, pad: number, dilation: number, stride: number, size: number, k: number): number => {
      const t = i + pad - k * dilation;
      return t >= 0 && t % stride === 0 && t / stride < size ? t / stride : -1;
    };
    const settings: [number, number, number, number, number][] = [];
    for (let stride = 1; stride <= 5; stride++)
      for (let dilation = 1; dilation <= 7; dilation++)
        for (let pad = 0; pad <= 4; pad++) for (let i = 0; i <= 24; i++) for (const size of [1, 3, 8]) settings.push([i, pad, dilation, stride, size]);
    // DIVISORS[i] holds the stride's words; (i, pad, dilation, size) travel as one dividend each, packed in bytes.
    const words = new Uint32Array(settings.length * 4);
    settings.forEach(([, , , stride], k) => words.set(divisor(stride), 4 * k));
    const packed = Uint32Array.from(settings, ([i, pad, dilation, , size]) => i | (pad << 8) | (dilation << 16) | (size << 24));
    const out = await runOnDevice(
      words,
      packed,
      TAPS,
      `let v = DIVIDENDS[i];
  var walk = tap_walk(v & 0xffu, (v >> 8u) & 0xffu, (v >> 16u) & 0xffu, DIVISORS[i]);
  for (var k = 0u; k < ${TAPS}u; k = k + 1u) {
    OUT[${TAPS}u * i + k] = bitcast<u32>(tap_output(walk, v >> 24u));
    walk = tap_next(walk);
  }`,
    );
    const wrong: string[] = [];
    settings.forEach(([i, pad, dilation, stride, size], s) => {
      for (let k = 0; k < TAPS; k++) {
        const got = out[TAPS * s + k]! | 0;
        const want = reference(i, pad, dilation, stride, size, k);
        if (got !== want) wrong.push(`i ${i} pad ${pad} dilation ${dilation} stride ${stride} size ${size} tap ${k}: ${got}, not ${want}`);
      }
    });
    expect(wrong.slice(0, 5), `${wrong.length} wrong`).toEqual([]);
  });
});
