// The device profile: every choice that depends on the adapter, made in one place when init()
// opens a device — what kind of adapter it is, the limits in use, which kernels it gets — and
// where tuning results for it are remembered. Ops and optimizers read it; nothing else guesses
// at the adapter.
import type { AdapterSummary, UsedLimits } from './device.js';

/** What runs the kernels: a real GPU, or one of the software Vulkan drivers (measured apart: they differ). */
export type AdapterKind = 'gpu' | 'lavapipe' | 'swiftshader' | 'software';

/** The one test that tells software adapters from GPUs, on the adapter's self-description. */
export function adapterKind(info: { vendor: string; architecture: string; device: string; description: string }, isFallbackAdapter = false): AdapterKind {
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  if (/swiftshader/.test(text)) return 'swiftshader';
  if (/llvmpipe|lavapipe/.test(text)) return 'lavapipe';
  if (isFallbackAdapter || /software|\bcpu\b/.test(text)) return 'software';
  return 'gpu';
}

/** A matmul kernel and its override constants. */
export interface MatmulVariant {
  /** 'register' (matmul.wgsl, no workgroup memory) or 'tiled' (matmul_tiled.wgsl, shared tiles). */
  kernel: 'register' | 'tiled';
  /** Workgroup width: a workgroup covers 4·WG_X columns of the output. */
  WG_X: number;
  /** Workgroup height: a workgroup covers 4·WG_Y rows of the output. */
  WG_Y: number;
  /** 'tiled' only: the slice of K loaded into workgroup memory per step (≤ 32). */
  TILE_K?: number;
  /**
   * 'register' only: the rows of the largest block of outputs (rows × columns, each 4, 8 or 16) an
   * invocation of the vectorised kernel computes; the launch takes a smaller one where the product
   * is too narrow for it (matmul_tuning.ts). 4 × 4 where absent, and always for the scalar kernel.
   */
  BLOCK_M?: 4 | 8 | 16;
  /** 'register' only: the largest block's columns (see BLOCK_M). */
  BLOCK_N?: 4 | 8 | 16;
}

/**
 * The matmul until the device is tuned: software adapters get the register kernel in 8×8
 * workgroups (every tiled variant was 2–8× slower on lavapipe: barriers are expensive on CPUs)
 * with blocks of up to 16×16 outputs per invocation on SwiftShader and 4×8 elsewhere
 * (bench/RESULTS.md, session 7: on 1024³ and the MLP's products, 1.5–2× and 1.2–1.5× the 4×4
 * block's GFLOP/s; see largestRegisterBlock for why not 16×16 everywhere); real GPUs get the
 * shared-memory tiles with 256-invocation workgroups (not measured here: no GPU).
 */
export function defaultMatmulVariant(kind: AdapterKind): MatmulVariant {
  if (kind === 'gpu') return { kernel: 'tiled', WG_X: 16, WG_Y: 16, TILE_K: 16 };
  const side = largestRegisterBlock(kind);
  return { kernel: 'register', WG_X: 8, WG_Y: 8, BLOCK_M: side === 16 ? 16 : 4, BLOCK_N: side === 16 ? 16 : 8 };
}

/**
 * The largest block side of the vectorised register kernel worth its compile time. Bigger blocks
 * load less per multiply-add but are long straight-line code: on lavapipe (LLVM) a 4×4 block
 * compiles in 0.35 s, 8×8 in 1.1 s, 16×16 in 6 s per pipeline, for 1.1× the 4×8 block's speed at
 * best; SwiftShader compiles 16×16 in under a second and runs it 1.5–2× faster than 4×4 — its
 * default and its tuning candidates go to 16, others' to 8 (bench/RESULTS.md, session 7).
 */
export function largestRegisterBlock(kind: AdapterKind): 8 | 16 {
  return kind === 'swiftshader' ? 16 : 8;
}

/**
 * Whether one dispatch updates up to four parameters (the SGD update) instead of one each.
 * Measured on a 784-128-10 MLP at batch 1: lavapipe 700–750 µs per update in one dispatch against
 * 900–970 µs in four; SwiftShader 176 training steps/s against 241 — its cost per invocation of
 * the four-slot kernel outweighs the dispatches saved. GPUs pay per dispatch: one.
 */
function prefersMultiParameterUpdate(kind: AdapterKind): boolean {
  return kind !== 'swiftshader';
}

/** Where tuning results for one adapter are kept: localStorage where there is one, else this process. */
export class TuningMemory {
  private static readonly inProcess = new Map<string, string>();
  private readonly prefix: string;

  constructor(adapter: AdapterSummary) {
    this.prefix = `webgrad.${JSON.stringify(adapter)}`;
  }

  /** True when results outlive the page (localStorage is there and writable). */
  get persistent(): boolean {
    try {
      return globalThis.localStorage !== undefined;
    } catch {
      return false; // a sandboxed frame throws on access
    }
  }

  recall(name: string): string | null {
    const key = `${this.prefix}.${name}`;
    const known = TuningMemory.inProcess.get(key);
    if (known !== undefined) return known;
    try {
      return globalThis.localStorage?.getItem(key) ?? null;
    } catch {
      return null;
    }
  }

  remember(name: string, value: string): void {
    const key = `${this.prefix}.${name}`;
    TuningMemory.inProcess.set(key, value);
    try {
      globalThis.localStorage?.setItem(key, value);
    } catch {
      // Not persisted: this page or process still uses it.
    }
  }
}

/** The choices one device gets; see the file header. */
export interface DeviceProfile {
  readonly kind: AdapterKind;
  readonly adapter: AdapterSummary;
  readonly limits: UsedLimits;
  /** The matmul kernel and workgroup shape in use: the table's, a remembered tuning, or tuneMatmul()'s. */
  matmul: MatmulVariant;
  /** Whether the SGD update handles up to four parameters per dispatch (when the device binds enough buffers). */
  readonly multiParameterUpdate: boolean;
  /**
   * Whether workgroup barriers are cheap (GPUs), so a long reduction with few outputs takes a
   * workgroup per output; CPU adapters run a barrier as a switch between all of a workgroup's
   * invocations (reduce.ts decides).
   */
  readonly cheapBarriers: boolean;
  /** Where tuning results for this adapter are remembered. */
  readonly memory: TuningMemory;
}

/** Key under which the matmul tuning is remembered (".v2": the variant format, with register blocks). */
export const MATMUL_MEMORY_KEY = 'matmul.v2';

/** A remembered variant, if it is one this version knows how to run. */
function parseVariant(text: string | null): MatmulVariant | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text) as Partial<MatmulVariant>;
    const side = (x: unknown): boolean => x === 4 || x === 8 || x === 16;
    if ((v.kernel !== 'register' && v.kernel !== 'tiled') || !side(v.WG_X) || !side(v.WG_Y)) return null;
    if (v.kernel === 'tiled' && v.TILE_K !== 16 && v.TILE_K !== 32) return null;
    if ((v.BLOCK_M !== undefined && !side(v.BLOCK_M)) || (v.BLOCK_N !== undefined && !side(v.BLOCK_N))) return null;
    return v as MatmulVariant;
  } catch {
    return null;
  }
}

export function createProfile(adapter: AdapterSummary, limits: UsedLimits, kind: AdapterKind): DeviceProfile {
  const memory = new TuningMemory(adapter);
  return {
    kind,
    adapter,
    limits,
    matmul: parseVariant(memory.recall(MATMUL_MEMORY_KEY)) ?? defaultMatmulVariant(kind),
    multiParameterUpdate: prefersMultiParameterUpdate(kind),
    cheapBarriers: kind === 'gpu',
    memory,
  };
}
