// Compute pipelines, bind-group layouts and bind groups, each created once and cached.
// A pipeline is keyed by kernel (shader source + entry point) and its override constants; a bind
// group by its pipeline and the exact buffers it binds, so a training loop that gets the same
// pooled buffers every step builds no bind group after its first steps.
import { WebgradError } from '../errors.js';

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
}

export class PipelineCache {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly pipelineLayouts = new WeakMap<GPUComputePipeline, GPUBindGroupLayout>();
  private bindGroups = new Map<string, GPUBindGroup>();
  pipelinesCreated = 0;
  bindGroupsCreated = 0;

  constructor(private readonly device: GPUDevice) {}

  module(kernel: Kernel): GPUShaderModule {
    let m = this.modules.get(kernel.family);
    if (!m) {
      m = this.device.createShaderModule({ code: kernel.source, label: kernel.family });
      this.modules.set(kernel.family, m);
    }
    return m;
  }

  private layout(bindings: readonly Access[]): GPUBindGroupLayout {
    const key = bindings.join(',');
    let layout = this.layouts.get(key);
    if (!layout) {
      const entries: GPUBindGroupLayoutEntry[] = [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } },
        ...bindings.map((access, i) => ({
          binding: i + 1,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: access === 'read' ? ('read-only-storage' as const) : ('storage' as const) },
        })),
      ];
      layout = this.device.createBindGroupLayout({ entries, label: key });
      this.layouts.set(key, layout);
    }
    return layout;
  }

  pipeline(kernel: Kernel, constants: Record<string, number> | undefined): GPUComputePipeline {
    const constKey = constants
      ? Object.entries(constants)
          .map(([k, v]) => `${k}=${v}`)
          .join(',')
      : '';
    const key = `${kernel.family}:${kernel.entry}:${constKey}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const bgl = this.layout(kernel.bindings);
      p = this.device.createComputePipeline({
        label: key,
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [bgl] }),
        compute: { module: this.module(kernel), entryPoint: kernel.entry, ...(constants ? { constants } : {}) },
      });
      this.pipelineLayouts.set(p, bgl);
      this.pipelines.set(key, p);
      this.pipelinesCreated++;
    }
    return p;
  }

  bindGroup(pipeline: GPUComputePipeline, key: string, entries: GPUBindGroupEntry[]): GPUBindGroup {
    let bg = this.bindGroups.get(key);
    if (!bg) {
      // A bound on the cache: a loop whose buffers never repeat must not grow it for ever.
      if (this.bindGroups.size >= 4096) this.bindGroups = new Map();
      bg = this.device.createBindGroup({ layout: this.pipelineLayouts.get(pipeline)!, entries });
      this.bindGroups.set(key, bg);
      this.bindGroupsCreated++;
    }
    return bg;
  }

  /** A bind group built outside the cache (a captured program keeps its own). */
  createBindGroup(pipeline: GPUComputePipeline, entries: GPUBindGroupEntry[]): GPUBindGroup {
    this.bindGroupsCreated++;
    return this.device.createBindGroup({ layout: this.pipelineLayouts.get(pipeline)!, entries });
  }

  /** Forgets bind groups (after pooled buffers were destroyed). */
  clearBindGroups(): void {
    this.bindGroups = new Map();
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
