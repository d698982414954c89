// The IDX file format of MNIST (plain or gzip): a magic number (0, 0, type, rank), the sizes as
// big-endian int32s, then the values. Every malformed file gives an IdxError that says what is
// wrong; a forged header can never make the reader allocate more than the file holds.
import { WebgradError } from '../errors.js';

export class IdxError extends WebgradError {}

/** The contents of an IDX file. */
export interface IdxArray {
  /** The size of each dimension, e.g. [count, rows, cols] for images. */
  dims: number[];
  /** The unsigned bytes, a view into the (decompressed) file. */
  data: Uint8Array;
}

/** The largest decompressed file accepted (the 60,000 MNIST training images are 47 MB). */
export const MAX_IDX_BYTES = 512 * 1024 * 1024;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** gunzip with a cap on the output, so a small forged file cannot expand without bound. */
export async function gunzip(bytes: Uint8Array, maxBytes = MAX_IDX_BYTES, what = 'file'): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel();
        throw new IdxError(`${what}: decompresses to more than ${maxBytes} bytes; not an MNIST file.`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof IdxError) throw err;
    throw new IdxError(`${what}: not a valid gzip stream (${(err as Error).message}).`);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** Parses an uncompressed IDX file of unsigned bytes (the type MNIST uses). */
export function parseIdx(bytes: Uint8Array, what = 'IDX file'): IdxArray {
  if (bytes.length < 4) throw new IdxError(`${what}: ${bytes.length} bytes is too short for an IDX header (4 bytes of magic number).`);
  const [z0, z1, type, rank] = [bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!];
  if (z0 !== 0 || z1 !== 0) {
    throw new IdxError(
      `${what}: bad magic number 0x${[z0, z1, type, rank].map((b) => b.toString(16).padStart(2, '0')).join('')}: an IDX file starts with two zero bytes.`,
    );
  }
  if (type !== 0x08) throw new IdxError(`${what}: element type 0x${type.toString(16)} is not supported; MNIST files hold unsigned bytes (0x08).`);
  if (rank < 1 || rank > 4) throw new IdxError(`${what}: ${rank} dimensions; expected 1 to 4.`);
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) throw new IdxError(`${what}: truncated header: ${rank} dimensions need ${headerBytes} bytes, the file has ${bytes.length}.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  const available = bytes.length - headerBytes;
  if (count > available) {
    throw new IdxError(`${what}: truncated: dimensions [${dims.join(', ')}] need ${count} bytes of data, the file has ${available}.`);
  }
  if (count < available) {
    throw new IdxError(`${what}: ${available - count} bytes after the data that dimensions [${dims.join(', ')}] describe; not a well-formed IDX file.`);
  }
  return { dims, data: bytes.subarray(headerBytes, headerBytes + count) };
}

/** Parses an IDX file, decompressing it first if it is gzip. */
export async function readIdx(bytes: Uint8Array, what = 'IDX file'): Promise<IdxArray> {
  return parseIdx(isGzip(bytes) ? await gunzip(bytes, MAX_IDX_BYTES, what) : bytes, what);
}
