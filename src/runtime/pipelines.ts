// Compute pipelines, bind-group layouts and bind groups, each created once and cached.
// A pipeline is keyed by kernel (shader source + entry point) and its override constants.
// Every storage binding is declared read_write when a module is created (small tensors share
// buffers, see buffers.ts, and WebGPU refuses one buffer bound read-only and writable in one
// dispatch; on lavapipe this costs nothing measurable).
// Bind groups: a kernel with few storage bindings is "split" — its uniform parameters are group 0
// and each storage binding a group of its own (the WGSL's `@group(0) @binding(k)` becomes
// `@group(k) @binding(0)`) — so a bind group binds one region (a buffer or a slot of a shared
// one) and every op that binds that region again reuses it, whatever the other regions are:
// a region gets one group in its life, not one per dispatch. Eager code whose intermediates come
// back from the pool in a different order each time (the usual case: dropped tensors return when
// they are garbage-collected) then builds no bind groups once the pool has its regions.
// A kernel with more storage bindings than the device has bind groups keeps one group, keyed by
// the exact regions it binds (a training loop gets the same pooled regions every step).
import { WebgradError } from '../errors.js';
import type { Region } from './buffers.js';

export type Access = 'read' | 'rw';

/** One WGSL entry point and the storage bindings it declares after its uniform params (binding 0). */
export interface Kernel {
  /**
   * The shader family, e.g. 'matmul' (from shaders/matmul.wgsl) or 'elementwise.relu' (a source
   * generated from a template): the module cache key, so one per distinct source.
   */
  family: string;
  source: string;
  entry: string;
  /** Access of bindings 1..n, in order. */
  bindings: readonly Access[];
  /** False when what it writes is not float32 (argmax, fill): anomaly detection skips it. */
  floatOutputs: boolean;
  /** 1-D maps only: elements per invocation (ELEMENTS_PER_INVOCATION), so a dispatch of n elements has ⌈n / this⌉ invocations; 1 if absent. */
  perInvocation?: number;
  /** Elementwise maps only: the variant whose inputs are all read at their offset + i (no index code). */
  direct?: Kernel;
  /**
   * Elementwise maps only: the map compiled for an index space of `rank` dims (offsetRank), the
   * inputs whose bit is set in `direct` read at offset + i, the others through offset_r<rank>
   * (all bits set: the `direct` variant). Made on first use; recordMap picks one per dispatch.
   */
  strided?: (rank: number, direct: number) => Kernel;
  /** A variant's kernel of origin (the map fusion knows it by). */
  base?: Kernel;
}

/** A kernel from its source and entry point: the plain case (no per-invocation count, no variants). */
export const entryKernel = (family: string, source: string, entry: string, bindings: Kernel['bindings'], floatOutputs = true): Kernel => ({
  family,
  source,
  entry,
  bindings,
  floatOutputs,
});

/**
 * The WGSL a module is made from: read-only storage declared `read_write`, and, for a split
 * kernel, `@group(0) @binding(k)` → `@group(k) @binding(0)` for every storage binding k ≥ 1.
 * Edits stay on their lines, so compile errors keep their line numbers.
 */
export function moduleSource(source: string, split: boolean): string {
  const writable = source.replace(/var<storage,(\s*)read>/g, 'var<storage,$1read_write>');
  if (!split) return writable;
  return writable.replace(/@group\(0\)(\s*)@binding\((\d+)\)/g, (whole, space: string, k: string) => (k === '0' ? whole : `@group(${k})${space}@binding(0)`));
}

/** Bind groups the cache of unsplit kernels holds before it is emptied (a loop whose buffers never repeat must not grow it for ever). */
const MAX_BIND_GROUPS = 4096;
/** Groups kept per buffer at most: a shared buffer (packs are cut at any offset) must not collect one per region it ever held. */
export const MAX_GROUPS_PER_BUFFER = 512;

export class PipelineCache {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  /** The same pipelines by kernel object, for kernels without override constants (no key to build). */
  private readonly plain = new WeakMap<Kernel, GPUComputePipeline>();
  /** Per pipeline: its group layouts (one, or one per binding when split) and whether it is split. */
  private readonly pipelineLayouts = new WeakMap<GPUComputePipeline, { groups: GPUBindGroupLayout[]; split: boolean }>();
  private bindGroups = new Map<string, GPUBindGroup>();
  /** Groups of one binding (split kernels), per buffer they bind: by offset and size. */
  private perBuffer = new WeakMap<GPUBuffer, Map<string, GPUBindGroup>>();
  /** Bind groups available to one pipeline: the device's limit (4 unless raised). */
  private readonly maxBindGroups: number;
  pipelinesCreated = 0;
  bindGroupsCreated = 0;

  constructor(private readonly device: GPUDevice) {
    this.maxBindGroups = device.limits?.maxBindGroups ?? 4;
  }

  /** Whether a kernel's storage bindings each get a bind group of their own (they fit in the device's groups). */
  isSplit(kernel: Kernel): boolean {
    return kernel.bindings.length + 1 <= this.maxBindGroups;
  }

  /**
   * The module of a kernel as written (`asWritten`: inputs read-only, one group) or rewritten
   * (moduleSource). One family's entry points may differ in binding count, so each form is a
   * module of its own.
   */
  module(kernel: Kernel, asWritten = false): GPUShaderModule {
    const split = !asWritten && this.isSplit(kernel);
    const key = asWritten ? `${kernel.family}#as-written` : split ? `${kernel.family}#split` : kernel.family;
    let m = this.modules.get(key);
    if (!m) {
      m = this.device.createShaderModule({ code: asWritten ? kernel.source : moduleSource(kernel.source, split), label: kernel.family });
      this.modules.set(key, m);
    }
    return m;
  }

  /** A group layout: the uniform parameters at binding 0 (if `uniform`), then storage bindings of these accesses. */
  private layout(storages: readonly Access[], uniform: boolean): GPUBindGroupLayout {
    const key = `${uniform ? 'uniform' : ''}+${storages.join(',')}`;
    let layout = this.layouts.get(key);
    if (!layout) {
      const entries: GPUBindGroupLayoutEntry[] = [];
      if (uniform) entries.push({ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } });
      const first = entries.length;
      storages.forEach((access, i) =>
        entries.push({ binding: first + i, visibility: GPUShaderStage.COMPUTE, buffer: { type: access === 'read' ? 'read-only-storage' : 'storage' } }),
      );
      layout = this.device.createBindGroupLayout({ entries, label: key });
      this.layouts.set(key, layout);
    }
    return layout;
  }

  /**
   * The pipeline of a kernel with these override constants. `asWritten`: its inputs read-only, for
   * a dispatch that binds one storage twice (WebGPU refuses two writable bindings of one range);
   * the scheduler then gives what it writes a buffer of its own (plan.ts).
   */
  pipeline(kernel: Kernel, constants: Record<string, number> | undefined, asWritten = false): GPUComputePipeline {
    // The common case first, without building a key from the family (a fused kernel's is long).
    if (constants === undefined && !asWritten) {
      let p = this.plain.get(kernel);
      if (!p) {
        p = this.keyed(kernel, undefined, false);
        this.plain.set(kernel, p);
      }
      return p;
    }
    return this.keyed(kernel, constants, asWritten);
  }

  private keyed(kernel: Kernel, constants: Record<string, number> | undefined, asWritten: boolean): GPUComputePipeline {
    const constKey = constants
      ? Object.entries(constants)
          .map(([k, v]) => `${k}=${v}`)
          .join(',')
      : '';
    const key = `${kernel.family}:${kernel.entry}:${constKey}${asWritten ? ':as-written' : ''}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const split = !asWritten && this.isSplit(kernel);
      const writable = kernel.bindings.map((): Access => 'rw');
      const groups = split
        ? [this.layout([], true), ...writable.map(() => this.layout(['rw'], false))]
        : [this.layout(asWritten ? kernel.bindings : writable, true)];
      p = this.device.createComputePipeline({
        label: key,
        layout: this.device.createPipelineLayout({ bindGroupLayouts: groups }),
        compute: { module: this.module(kernel, asWritten), entryPoint: kernel.entry, ...(constants ? { constants } : {}) },
      });
      this.pipelineLayouts.set(p, { groups, split });
      this.pipelines.set(key, p);
      this.pipelinesCreated++;
    }
    return p;
  }

  /**
   * The bind groups of one dispatch, in group order, over the regions of its storage bindings
   * (`sizes` bytes bound of each). Split: group 0 binds the parameters, group k region k − 1;
   * otherwise one group binds everything. `idOf` numbers buffers for the cache keys. With
   * `cached` false they are built afresh and not shared (a captured program keeps its own).
   */
  groupsFor(
    pipeline: GPUComputePipeline,
    params: GPUBuffer,
    regions: readonly Region[],
    sizes: readonly number[],
    idOf: (b: GPUBuffer) => number,
    cached = true,
  ): GPUBindGroup[] {
    const { groups: layouts, split } = this.pipelineLayouts.get(pipeline)!;
    if (!split) {
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: params } }];
      // Parameter buffers are cached by content, so the buffer's identity stands for its values.
      let key = `${pipeline.label}|${idOf(params)}`;
      for (let b = 0; b < regions.length; b++) {
        const r = regions[b]!;
        key += `|${idOf(r.buffer)}@${r.offset}:${sizes[b]}`;
        entries.push({ binding: b + 1, resource: { buffer: r.buffer, offset: r.offset, size: sizes[b]! } });
      }
      return [this.group(layouts[0]!, key, entries, cached)];
    }
    const groups = [this.bufferGroup(layouts[0]!, params, 0, 0, cached)];
    for (let b = 0; b < regions.length; b++) groups.push(this.bufferGroup(layouts[b + 1]!, regions[b]!.buffer, regions[b]!.offset, sizes[b]!, cached));
    return groups;
  }

  /**
   * A group binding `size` bytes of one buffer from `offset` (size 0: a uniform buffer, whole),
   * kept with the buffer: a buffer dropped by the pool takes its groups with it, so this cache
   * needs no bound and is never emptied while its buffers are in use. (Dynamic offsets would let
   * one group serve every slot of a shared buffer, but lavapipe runs such dispatches 4–5× slower.)
   */
  private bufferGroup(layout: GPUBindGroupLayout, buffer: GPUBuffer, offset: number, size: number, cached: boolean): GPUBindGroup {
    let groups = cached ? this.perBuffer.get(buffer) : undefined;
    const key = `${offset}:${size}`;
    let bg = groups?.get(key);
    if (!bg) {
      bg = this.device.createBindGroup({ layout, entries: [{ binding: 0, resource: size === 0 ? { buffer } : { buffer, offset, size } }] });
      this.bindGroupsCreated++;
      if (cached) {
        if (!groups || groups.size >= MAX_GROUPS_PER_BUFFER) {
          groups = new Map();
          this.perBuffer.set(buffer, groups);
        }
        groups.set(key, bg);
      }
    }
    return bg;
  }

  private group(layout: GPUBindGroupLayout, key: string, entries: GPUBindGroupEntry[], cached: boolean): GPUBindGroup {
    let bg = cached ? this.bindGroups.get(key) : undefined;
    if (!bg) {
      bg = this.device.createBindGroup({ layout, entries });
      this.bindGroupsCreated++;
      if (cached) {
        if (this.bindGroups.size >= MAX_BIND_GROUPS) this.bindGroups = new Map();
        this.bindGroups.set(key, bg);
      }
    }
    return bg;
  }

  /** How many groups of one binding are kept for a buffer (for tests). */
  groupsKeptFor(buffer: GPUBuffer): number {
    return this.perBuffer.get(buffer)?.size ?? 0;
  }

  /** Forgets bind groups (after pooled buffers were destroyed). */
  clearBindGroups(): void {
    this.bindGroups = new Map();
    this.perBuffer = new WeakMap();
  }

  /** Compiles every shader family and throws with the WGSL line for any error. For tests and start-up checks. */
  async check(kernels: Iterable<Kernel>): Promise<void> {
    const seen = new Set<string>();
    for (const k of kernels) {
      if (seen.has(k.family)) continue;
      seen.add(k.family);
      const info = await this.module(k).getCompilationInfo();
      const errors = info.messages.filter((m) => m.type === 'error');
      if (errors.length > 0) {
        const lines = k.source.split('\n');
        const text = errors
          .map((m) => `${k.family} (line ${m.lineNum}:${m.linePos} of its WGSL source): ${m.message}\n  ${lines[m.lineNum - 1] ?? ''}`)
          .join('\n');
        throw new WebgradError(`WGSL compile error:\n${text}`);
      }
    }
  }
}
