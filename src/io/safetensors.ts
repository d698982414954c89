// The safetensors container: an 8-byte little-endian header length N, N bytes of a JSON header
// {name: {dtype, shape, data_offsets}, __metadata__?: {string: string}}, then the byte buffer.
// The reader follows the format's own rules (those of the reference implementation): the header
// is a JSON object that starts with '{' and has no key twice; data_offsets [begin, end] are
// relative to the byte buffer, and the tensors, taken in order of their offsets (the header's key
// order is free), cover the buffer exactly: no overlap, no gap, no byte after the last one. Every
// check runs before anything is copied, so a malformed file is one clear error and never a huge
// allocation.

import { describeValue } from '../arguments.js';
import { ValueError } from '../errors.js';

export type { HostArray } from '../state_file.js';

import type { HostArray } from '../state_file.js';

/** @internal A whole safetensors file: its tensors in header order, and its __metadata__. */
export interface SafetensorsFile {
  tensors: Map<string, HostArray>;
  metadata: Record<string, string>;
}

/** The reference implementation's limit on the header, which also bounds what a forged length can cost. */
const MAX_HEADER_BYTES = 100_000_000;

/**
 * @internal The file's bytes as a Uint8Array: a Uint8Array (a Node Buffer is one) or an ArrayBuffer
 * is accepted; anything else is a ValueError naming `what` and what it got.
 */
export function fileBytes(value: unknown, what: string): Uint8Array {
  const tag = Object.prototype.toString.call(value);
  if (tag === '[object Uint8Array]' && ArrayBuffer.isView(value)) return value as Uint8Array;
  if (tag === '[object ArrayBuffer]') return new Uint8Array(value as ArrayBuffer);
  throw new ValueError(`${what}: expected the file's bytes as a Uint8Array or an ArrayBuffer, got ${describeValue(value)}.`);
}

/** The first key that appears twice in one object of valid JSON text (JSON.parse keeps the last silently). */
function duplicateKey(text: string): string | null {
  // One entry per open object (its keys so far) or array (null).
  const open: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const keys = open[open.length - 1];
      if (keys && expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string; // escapes decoded: "\u0061" is "a"
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === '{') {
      open.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      open.push(null);
      expectKey = false;
    } else if (c === '}' || c === ']') {
      open.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = open[open.length - 1] != null;
    }
  }
  return null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isSize = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** The header's JSON object, or a ValueError naming `what`. */
function readHeader(bytes: Uint8Array, what: string): { header: Record<string, unknown>; bodyStart: number } {
  if (bytes.length < 8) throw new ValueError(`${what}: ${bytes.length} bytes is too short for a safetensors header.`);
  const declared = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES))
    throw new ValueError(`${what}: a header of ${declared} bytes is over the format's limit of ${MAX_HEADER_BYTES} bytes.`);
  const length = Number(declared);
  if (length > bytes.length - 8) throw new ValueError(`${what}: header of ${length} bytes runs past the end of the file (${bytes.length} bytes).`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + length));
  } catch {
    throw new ValueError(`${what}: the header is not valid UTF-8.`);
  }
  if (!text.startsWith('{'))
    throw new ValueError(`${what}: the header must be a JSON object starting with '{'; it starts with ${JSON.stringify(text.slice(0, 16))}.`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw new ValueError(`${what}: the header is not valid JSON (${(err as Error).message}).`);
  }
  if (!isObject(header)) throw new ValueError(`${what}: the header must be a JSON object, not ${Array.isArray(header) ? 'an array' : String(header)}.`);
  const twice = duplicateKey(text);
  if (twice !== null) throw new ValueError(`${what}: the header has the key '${twice}' twice; the format forbids duplicate keys.`);
  return { header, bodyStart: 8 + length };
}

/** One tensor's header entry, checked on its own: dtype, shape, offsets and their byte count. */
function readEntry(what: string, name: string, info: unknown): { dtype: 'F32' | 'I32' | 'I64'; shape: number[]; begin: number; end: number } {
  if (!isObject(info)) throw new ValueError(`${what}: tensor '${name}' must be described by an object {dtype, shape, data_offsets}.`);
  const { dtype, shape, data_offsets: offsets } = info;
  if (dtype !== 'F32' && dtype !== 'I32' && dtype !== 'I64')
    throw new ValueError(`${what}: tensor '${name}' has dtype ${JSON.stringify(dtype)}; webgrad reads F32, I32 and I64.`);
  if (!Array.isArray(shape) || !shape.every(isSize))
    throw new ValueError(`${what}: tensor '${name}' has an invalid shape ${JSON.stringify(shape)}: sizes must be integers ≥ 0.`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isSize)) {
    throw new ValueError(`${what}: tensor '${name}' has invalid data_offsets ${JSON.stringify(offsets)}: expected [begin, end], integers ≥ 0.`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw new ValueError(`${what}: tensor '${name}' has data_offsets [${begin}, ${end}] out of order (end before begin).`);
  const bytes = (shape as number[]).reduce((a, b) => a * b, dtype === 'I64' ? 8 : 4);
  if (end - begin !== bytes) {
    throw new ValueError(
      `${what}: tensor '${name}' of dtype ${dtype} and shape [${shape.join(', ')}] needs ${bytes} bytes, but its data_offsets [${begin}, ${end}] hold ${end - begin}.`,
    );
  }
  return { dtype, shape: shape as number[], begin, end };
}

/** The __metadata__ entry: a map of strings, or {} when absent. */
function readMetadata(what: string, value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (!isObject(value)) throw new ValueError(`${what}: __metadata__ must be an object of strings.`);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new ValueError(`${what}: __metadata__ value '${key}' is ${JSON.stringify(v)}; the format allows only strings.`);
  }
  return value as Record<string, string>;
}

/** I64 values as int32, the integers webgrad keeps; a value outside int32's range is an error. */
function narrowI64(what: string, name: string, bytes: ArrayBuffer): Int32Array {
  const wide = new BigInt64Array(bytes);
  const out = new Int32Array(wide.length);
  wide.forEach((v, i) => {
    if (v < -2147483648n || v > 2147483647n)
      throw new ValueError(`${what}: tensor '${name}' (I64) holds ${v} at element ${i}, outside the int32 range webgrad keeps integers in.`);
    out[i] = Number(v);
  });
  return out;
}

/** @internal Reads and checks a whole safetensors file (see parseSafetensors), with its metadata. */
export function readSafetensors(file: Uint8Array | ArrayBuffer, what = 'safetensors file'): SafetensorsFile {
  const bytes = fileBytes(file, what);
  const { header, bodyStart } = readHeader(bytes, what);
  const bodyLength = bytes.length - bodyStart;
  const metadata = readMetadata(what, header.__metadata__);
  const entries = Object.entries(header)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, info]) => ({ name, ...readEntry(what, name, info) }));
  // The byte buffer is covered exactly, in offset order (empty tensors take no bytes).
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous = '';
  for (const e of byOffset) {
    if (e.begin < covered)
      throw new ValueError(`${what}: tensor '${e.name}' at data_offsets [${e.begin}, ${e.end}] overlaps tensor '${previous}', which ends at ${covered}.`);
    if (e.begin > covered) {
      const after = previous ? `tensor '${previous}', which ends at ${covered}` : 'the start of the byte buffer';
      throw new ValueError(`${what}: tensor '${e.name}' at data_offsets [${e.begin}, ${e.end}] leaves a gap of ${e.begin - covered} bytes after ${after}.`);
    }
    covered = e.end;
    previous = e.name;
  }
  if (covered !== bodyLength) {
    const after = previous ? `the last tensor ('${previous}', ending at ${covered})` : 'the header (the file has no tensors)';
    throw new ValueError(
      `${what}: ${bodyLength - covered} trailing bytes after ${after}; the tensors must cover the byte buffer (${bodyLength} bytes) exactly.`,
    );
  }
  const tensors = new Map<string, HostArray>();
  for (const { name, dtype, shape, begin, end } of entries) {
    // A fresh, aligned copy (a Node Buffer's slice() would share the Buffer's memory pool).
    const copy = new ArrayBuffer(end - begin);
    new Uint8Array(copy).set(bytes.subarray(bodyStart + begin, bodyStart + end));
    tensors.set(name, { dtype, shape, data: dtype === 'F32' ? new Float32Array(copy) : dtype === 'I32' ? new Int32Array(copy) : narrowI64(what, name, copy) });
  }
  return { tensors, metadata };
}

/**
 * Reads a safetensors file (a Uint8Array or an ArrayBuffer) into host arrays by name
 * (__metadata__ is skipped). Only F32, I32 and I64 tensors are accepted (I64 values are
 * read into an Int32Array, and one outside int32's range is an error); anything else, or a file that
 * breaks the format's rules (overlapping, gapped or reversed data_offsets, bytes after the last
 * tensor, a key twice, a byte count that does not match dtype and shape), throws a ValueError
 * naming `what` and the tensor at fault.
 */
export function parseSafetensors(bytes: Uint8Array | ArrayBuffer, what = 'safetensors file'): Map<string, HostArray> {
  return readSafetensors(bytes, what).tensors;
}

/** Writes tensors (float32, int32 or int64 host arrays) as a safetensors file, in the order given. */
export function encodeSafetensors(tensors: Iterable<[string, HostArray]>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const parts: { data: ArrayBufferView }[] = [];
  for (const [name, given] of tensors) {
    if (Object.hasOwn(header, name)) throw new ValueError(`encodeSafetensors: the name '${name}' is given twice.`);
    const t = given.dtype === 'I64' ? { ...given, data: BigInt64Array.from(given.data, (v) => BigInt(v)) } : given;
    const bytes = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    parts.push(t);
    offset += bytes;
  }
  // Padded with spaces (as the format allows) so the byte buffer starts 8-byte aligned.
  const json = new TextEncoder().encode(JSON.stringify(header));
  const head = new Uint8Array(json.length + ((8 - (json.length % 8)) % 8)).fill(0x20);
  head.set(json);
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
