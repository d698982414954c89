// Building WGSL from TypeScript declarations, so each fact shared by both languages is written
// once: uniform layouts (the WGSL struct and the packing of its bytes from one field list),
// constant headers, and the filling of shader templates.

/** The field types a uniform layout can hold (booleans are not host-shareable: use a u32 flag). */
export type UniformFieldType = 'u32' | 'i32' | 'f32' | 'vec4<u32>' | 'vec4<f32>';

/** What pack() takes for a field: a number, or four numbers for a vec4. */
export type UniformValue<T extends UniformFieldType> = T extends `vec4<${string}>` ? readonly number[] : number;

/** WGSL's alignment and size of each field type (the same in the uniform and storage spaces). */
const ALIGN_AND_SIZE: Record<UniformFieldType, [number, number]> = {
  u32: [4, 4],
  i32: [4, 4],
  f32: [4, 4],
  'vec4<u32>': [16, 16],
  'vec4<f32>': [16, 16],
};

const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;

/**
 * A uniform struct declared once, in TypeScript: `wgsl` is its WGSL declaration (fields in the
 * given order, laid out by WGSL's rules) and `pack()` writes values at the same byte offsets.
 *
 * ```ts
 * const layout = new UniformLayout('Params', { n: 'u32', scale: 'f32', shape: 'vec4<u32>' });
 * layout.wgsl;                                  // 'struct Params {\n  n: u32,\n  scale: f32,\n  shape: vec4<u32>,\n}'
 * layout.pack({ n: 3, scale: 0.5, shape: [1, 1, 1, 3] });   // 8 words: shape starts at byte 16
 * ```
 */
export class UniformLayout<F extends Record<string, UniformFieldType>> {
  /** The WGSL struct declaration. */
  readonly wgsl: string;
  /** 32-bit words pack() returns: the struct's size rounded up to 16 bytes. */
  readonly words: number;
  /** Each field's offset in 32-bit words. */
  readonly offsets: Readonly<Record<keyof F, number>>;
  private readonly entries: [keyof F & string, UniformFieldType, number][];
  private readonly f32 = new Float32Array(1);
  private readonly u32 = new Uint32Array(this.f32.buffer);

  constructor(
    readonly name: string,
    readonly fields: F,
  ) {
    let bytes = 0;
    const offsets = {} as Record<keyof F, number>;
    this.entries = Object.entries(fields).map(([field, type]) => {
      const [align, size] = ALIGN_AND_SIZE[type];
      const at = roundUp(bytes, align);
      bytes = at + size;
      offsets[field as keyof F] = at / 4;
      return [field as keyof F & string, type, at / 4];
    });
    this.offsets = offsets;
    this.words = roundUp(Math.max(bytes, 16), 16) / 4;
    this.wgsl = `struct ${name} {\n${this.entries.map(([field, type]) => `  ${field}: ${type},\n`).join('')}}`;
  }

  /** The struct's bytes as 32-bit words: integers as u32/i32, floats rounded to float32. */
  pack(values: { readonly [K in keyof F]: UniformValue<F[K]> }): Uint32Array<ArrayBuffer> {
    const out = new Uint32Array(this.words);
    for (const [field, type, at] of this.entries) {
      const value = values[field] as number | readonly number[];
      if (typeof value === 'number') {
        out[at] = this.word(type, value);
      } else {
        if (value.length !== 4) throw new RangeError(`${this.name}.${field}: a ${type} needs 4 values, got ${value.length}.`);
        for (let c = 0; c < 4; c++) out[at + c] = this.word(type, value[c]!);
      }
    }
    return out;
  }

  /**
   * Writes one field into words made by pack() or `new Uint32Array(words)`, as pack() would (for
   * hot paths that fill most fields directly and want no values object).
   */
  write(out: Uint32Array, field: keyof F & string, value: number | readonly number[]): void {
    const type = this.fields[field]!;
    const at = this.offsets[field];
    if (typeof value === 'number') out[at] = this.word(type, value);
    else for (let c = 0; c < 4; c++) out[at + c] = this.word(type, value[c]!);
  }

  private word(type: UniformFieldType, value: number): number {
    if (type !== 'f32' && type !== 'vec4<f32>') return value >>> 0;
    this.f32[0] = value;
    return this.u32[0]!;
  }
}

/** WGSL `const` declarations: booleans as bool, integers as u32 (the only kinds the shaders share). */
export function wgslConstants(values: Record<string, number | boolean>): string {
  return Object.entries(values)
    .map(([name, v]) => {
      if (typeof v === 'boolean') return `const ${name}: bool = ${v};`;
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`internal: WGSL constant ${name} = ${v} is not a u32.`);
      return `const ${name}: u32 = ${v}u;`;
    })
    .join('\n');
}

/**
 * A shader template with every `{{NAME}}` replaced. A placeholder without a value, or a value
 * without a placeholder, is an error: a template and its filling cannot drift apart silently.
 */
export function fillTemplate(template: string, values: Record<string, string>): string {
  const unused = new Set(Object.keys(values));
  const filled = template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`internal: the WGSL template has a placeholder {{${name}}} with no value.`);
    unused.delete(name);
    return v;
  });
  if (unused.size > 0) throw new Error(`internal: the WGSL template has no placeholder for ${[...unused].join(', ')}.`);
  return filled;
}
