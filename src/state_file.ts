// Saved state as it sits on the host — tensors by name and settings as strings, the shape of a
// safetensors file — and the checks that stand between such a file and a model or an optimizer.
// Shared by io/ (which reads and writes files) and optim/ (which knows its own state), so that
// neither imports the other's internals.
import { ValueError } from './errors.js';

/** One tensor of a safetensors file, held on the host. */
export interface HostArray {
  /**
   * The safetensors dtype: `'F32'` (float32), `'I32'` (int32) or `'I64'` (int64, PyTorch's dtype
   * for integer buffers such as num_batches_tracked). I64 values are held as int32 (the reader
   * refuses a value outside int32's range) and written as 8-byte integers.
   */
  dtype: 'F32' | 'I32' | 'I64';
  /** The tensor's shape; `[]` for a scalar. */
  shape: number[];
  /** The elements in row-major order: a Float32Array for F32, an Int32Array for I32 and I64. */
  data: Float32Array | Int32Array;
}

/**
 * Checks a file's tensors against what is expected (name, shape and dtype: F32 by default; an
 * int32 tensor takes I32, or I64 whose values fit int32); throws one error listing every difference.
 */
export function checkTensors(what: string, expected: [string, readonly number[], ('F32' | 'I32')?][], file: Map<string, HostArray>): void {
  const problems: string[] = [];
  const names = new Set(expected.map(([n]) => n));
  for (const [name, shape, dtype = 'F32'] of expected) {
    const t = file.get(name);
    const integer = dtype === 'I32' && (t?.dtype === 'I32' || t?.dtype === 'I64');
    if (!t) problems.push(`missing ${name} [${shape.join(', ')}]`);
    else if (t.dtype !== dtype && !integer) problems.push(`${name} has dtype ${t.dtype}, expected ${dtype === 'I32' ? 'I32 or I64' : dtype}`);
    else if (t.shape.join(',') !== shape.join(',')) problems.push(`${name} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
  for (const name of file.keys()) if (!names.has(name)) problems.push(`unexpected ${name}`);
  if (problems.length > 0) throw new ValueError(`${what}: the checkpoint does not match (nothing was loaded): ${problems.join('; ')}.`);
}

/** Metadata keys of an optimizer file that are not settings. */
const NOT_SETTINGS = new Set(['optimizer', 'format', 'producer']);

/** A finite number as String(number) writes it (no hex, no blanks, no empty string). */
const NUMBER = /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * @internal The settings stored in an optimizer file's metadata, parsed and checked one by one.
 * A key that is not one of the optimizer's settings is refused, so nothing in a file is silently
 * ignored; a setting the file lacks keeps the optimizer's current value (files written before a
 * setting existed still load).
 */
export class FileSettings {
  constructor(
    private readonly what: string,
    private readonly metadata: Record<string, string>,
    names: readonly string[],
  ) {
    for (const key of Object.keys(metadata)) {
      if (!NOT_SETTINGS.has(key) && !names.includes(key)) {
        throw new ValueError(`${what}: the file sets '${key}', which this optimizer does not have (its settings: ${names.join(', ')}).`);
      }
    }
  }

  private raw(name: string): string | undefined {
    return Object.hasOwn(this.metadata, name) ? this.metadata[name] : undefined;
  }

  /** The file's value of a numeric setting (or `current`), finite and accepted by `valid`, else an error stating `rule`. */
  number(name: string, current: number, rule: string, valid: (v: number) => boolean = () => true): number {
    const raw = this.raw(name);
    if (raw === undefined) return current;
    const value = NUMBER.test(raw) ? Number(raw) : NaN;
    if (!Number.isFinite(value) || !valid(value)) throw new ValueError(`${this.what}: the file's ${name} is ${JSON.stringify(raw)}; it must be ${rule}.`);
    return value;
  }

  /** The file's value of a true/false setting (or `current`). */
  boolean(name: string, current: boolean): boolean {
    const raw = this.raw(name);
    if (raw === undefined) return current;
    if (raw !== 'true' && raw !== 'false') throw new ValueError(`${this.what}: the file's ${name} is ${JSON.stringify(raw)}; it must be 'true' or 'false'.`);
    return raw === 'true';
  }
}
