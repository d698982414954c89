// The safetensors container: an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}}, then little-endian data. Read with bounds checks, so a
// malformed file gives a clear error and never a huge allocation.
import { ValueError } from '../errors.js';

/** One tensor of a safetensors file, held on the host. */
export interface HostArray {
  /** The safetensors dtype: `'F32'` (float32) or `'I32'` (int32). */
  dtype: 'F32' | 'I32';
  /** The tensor's shape; `[]` for a scalar. */
  shape: number[];
  /** The elements in row-major order; the array type matches dtype. */
  data: Float32Array | Int32Array;
}

/**
 * Reads a safetensors file into host arrays by name (__metadata__ is skipped). Only F32 and I32
 * tensors are accepted; anything else, or a malformed file, throws a ValueError naming `what`.
 */
export function parseSafetensors(bytes: Uint8Array, what = 'safetensors file'): Map<string, HostArray> {
  if (bytes.length < 8) throw new ValueError(`${what}: ${bytes.length} bytes is too short for a safetensors header.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8) throw new ValueError(`${what}: header of ${headerLength} bytes runs past the end of the file (${bytes.length} bytes).`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (err) {
    throw new ValueError(`${what}: the header is not valid JSON (${(err as Error).message}).`);
  }
  const body = bytes.subarray(8 + headerLength);
  const out = new Map<string, HostArray>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: offsets } = info ?? {};
    if (dtype !== 'F32' && dtype !== 'I32') throw new ValueError(`${what}: tensor '${name}' has dtype ${String(dtype)}; webgrad reads F32 and I32.`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new ValueError(`${what}: tensor '${name}' has an invalid shape.`);
    const [start, end] = Array.isArray(offsets) ? offsets : [NaN, NaN];
    const count = shape.reduce((a, b) => a * b, 1);
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end <= body.length && end - start === count * 4)) {
      throw new ValueError(`${what}: tensor '${name}' of shape [${shape.join(', ')}] has data offsets [${String(start)}, ${String(end)}] that do not fit ${count * 4} bytes in a body of ${body.length}.`);
    }
    const copy = body.slice(start, end);
    const data = dtype === 'F32' ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer);
    out.set(name, { dtype, shape, data });
  }
  return out;
}

/** Writes tensors (float32 or int32 host arrays) as a safetensors file, in the order given. */
export function encodeSafetensors(tensors: Iterable<[string, HostArray]>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const parts: HostArray[] = [];
  for (const [name, t] of tensors) {
    const bytes = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    parts.push(t);
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const t of parts) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

/** The __metadata__ of a safetensors file ({} when it has none). */
export function safetensorsMetadata(bytes: Uint8Array): Record<string, string> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8) return {};
  const n = Number(view.getBigUint64(0, true));
  if (n > bytes.length - 8) return {};
  try {
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    const meta = header?.__metadata__;
    return meta && typeof meta === 'object' ? meta : {};
  } catch {
    return {};
  }
}
