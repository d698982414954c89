// The WebGPU device webgrad runs on: found in the browser (navigator.gpu), loaded from the
// `webgpu` package in Node, or adopted from the host application.

import { describeValue } from '../arguments.js';
import { ValueError, WebgradError } from '../errors.js';
import { type AdapterKind, adapterKind } from './profile.js';

/** Options for init(). */
export interface InitOptions {
  /** A GPUDevice the application already owns; webgrad shares it instead of requesting its own. */
  device?: GPUDevice;
  /** Passed to requestAdapter when webgrad picks the adapter itself. */
  powerPreference?: GPUPowerPreference;
}

/** The adapter's identity as GPUAdapterInfo reports it (empty strings where the browser hides it). */
export interface AdapterSummary {
  /** The adapter's vendor, e.g. `nvidia`. */
  vendor: string;
  /** The vendor's GPU family or architecture. */
  architecture: string;
  /** A vendor-specific device identifier. */
  device: string;
  /** A human-readable description of the adapter. */
  description: string;
  /** True when the adapter is a software rasteriser (SwiftShader, lavapipe, ...). */
  isFallback: boolean;
}

/** The device limits webgrad reads when it sizes dispatches and checks tensors. */
export interface UsedLimits {
  /** Largest storage-buffer binding, in bytes: bounds the size of one tensor. */
  maxStorageBufferBindingSize: number;
  /** Largest buffer the device can create, in bytes. */
  maxBufferSize: number;
  /** Most workgroups one dispatch may have along each dimension. */
  maxComputeWorkgroupsPerDimension: number;
  /** Most invocations (threads) in one workgroup. */
  maxComputeInvocationsPerWorkgroup: number;
  /** Workgroup shared memory available to one workgroup, in bytes. */
  maxComputeWorkgroupStorageSize: number;
  /** Storage buffers one kernel may bind: how many parameters one optimizer dispatch can update. */
  maxStorageBuffersPerShaderStage: number;
  /** Required alignment of uniform-buffer binding offsets, in bytes. */
  minUniformBufferOffsetAlignment: number;
}

export interface GpuContext {
  device: GPUDevice;
  adapter: AdapterSummary;
  limits: UsedLimits;
  /** True when the device was handed in by the application (webgrad never destroys it). */
  shared: boolean;
  /** What runs the kernels (see profile.ts): the device's choices depend on it. */
  kind: AdapterKind;
}

function summarise(info: GPUAdapterInfo | undefined): { adapter: AdapterSummary; kind: AdapterKind } {
  const names = { vendor: info?.vendor ?? '', architecture: info?.architecture ?? '', device: info?.device ?? '', description: info?.description ?? '' };
  const kind = adapterKind(names, Boolean((info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter));
  return { adapter: { ...names, isFallback: kind !== 'gpu' }, kind };
}

function readLimits(device: GPUDevice): UsedLimits {
  const l = device.limits;
  return {
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    minUniformBufferOffsetAlignment: l.minUniformBufferOffsetAlignment,
  };
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/** Finds the GPU entry point: navigator.gpu, or Dawn's Node binding from the `webgpu` package. */
async function findGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (!isNode) {
    throw new WebgradError(
      'WebGPU is not available in this browser (navigator.gpu is undefined). Use Chrome or Edge 113+ ' +
        '(or Safari 26 / Firefox 141+), serve the page over https or from localhost, and on Linux start ' +
        'Chrome with --enable-unsafe-webgpu --enable-features=Vulkan.',
    );
  }
  // The module name is kept in a variable so that browser bundlers never try to resolve it.
  const moduleName = 'webgpu';
  let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    mod = (await import(/* @vite-ignore */ moduleName)) as typeof mod;
  } catch (err) {
    throw new WebgradError(
      `WebGPU is not available in Node: the 'webgpu' package (Dawn's Node binding) could not be loaded ` +
        `(${(err as Error).message}). Install it with 'npm install webgpu', or pass your own device: init({ device }).`,
    );
  }
  for (const [key, value] of Object.entries(mod.globals)) {
    if (!(key in globalThis)) (globalThis as Record<string, unknown>)[key] = value;
  }
  // Dawn's instance must outlive every device made from it: a collected GPU object tears the
  // instance down under a live device (seen as a crash in mapAsync), so it is kept here for good.
  keptNodeGpu ??= mod.create([]);
  return keptNodeGpu;
}

let keptNodeGpu: GPU | null = null;

/**
 * True for a GPUDevice. Checked by its shape: in Node the GPUDevice class exists only once the
 * `webgpu` package is loaded, and a device from another WebGPU implementation is welcome too.
 */
function isGpuDevice(value: unknown): value is GPUDevice {
  if (value === null || typeof value !== 'object') return false;
  const d = value as Partial<GPUDevice>;
  return (
    typeof d.createBuffer === 'function' &&
    typeof d.createComputePipeline === 'function' &&
    typeof d.queue?.submit === 'function' &&
    typeof d.limits === 'object' &&
    d.limits !== null
  );
}

/** Requests an adapter and a device with the adapter's full limits for storage buffers. */
export async function requestContext(options: InitOptions = {}): Promise<GpuContext> {
  if (options.device !== undefined && !isGpuDevice(options.device)) {
    throw new ValueError(`init(): options.device must be a GPUDevice (from adapter.requestDevice()), got ${describeValue(options.device)}.`);
  }
  if (options.device) {
    const info = (options.device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    return { device: options.device, ...summarise(info), limits: readLimits(options.device), shared: true };
  }
  const gpu = await findGpu();
  const adapter = await gpu.requestAdapter(options.powerPreference ? { powerPreference: options.powerPreference } : undefined);
  if (!adapter) {
    throw new WebgradError(
      'WebGPU found no adapter. ' +
        (isNode
          ? 'On Linux without a GPU, install a software Vulkan driver (Mesa lavapipe: apt-get install -t ' +
            'bookworm-backports mesa-vulkan-drivers) and set VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.json.'
          : 'Check chrome://gpu; on a machine without a GPU start Chrome with --enable-unsafe-webgpu ' + '--use-webgpu-adapter=swiftshader.'),
    );
  }
  const a = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: a.maxStorageBufferBindingSize,
      maxBufferSize: a.maxBufferSize,
      maxComputeWorkgroupStorageSize: a.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: a.maxComputeInvocationsPerWorkgroup,
      maxStorageBuffersPerShaderStage: a.maxStorageBuffersPerShaderStage,
    },
  });
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  return { device, ...summarise(info), limits: readLimits(device), shared: false };
}
