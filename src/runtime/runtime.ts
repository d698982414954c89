// The runtime: one GPU context, its scheduler, and the bookkeeping of live tensors — tidy()
// scopes, the per-step release of autograd intermediates, and the counters tests assert on.

import { DeviceLostError, WebgradError } from '../errors.js';
import { type AdapterSummary, type InitOptions, requestContext, type UsedLimits } from './device.js';
import { createProfile, type DeviceProfile } from './profile.js';
import { type Counters, Scheduler } from './scheduler.js';

/** Anything the runtime tracks for release: a tensor. */
export interface Releasable {
  readonly isDisposed: boolean;
  /** Parameters, gradients held by parameters, optimizer state, or tensors the user kept. */
  readonly isPinned: boolean;
  dispose(): void;
}

/** Step-scoped entries tracked before the list is first pruned of collected tensors. */
const MIN_PRUNE = 4096;

export class Runtime {
  readonly scheduler: Scheduler;
  /** The choices this device gets (matmul kernel, update batching) and where its tuning is remembered. */
  readonly profile: DeviceProfile;
  liveTensors = 0;
  /** Errors the device reported outside any error scope (validation, out of memory). */
  readonly uncapturedErrors: string[] = [];
  private readonly scopes: Releasable[][] = [];
  // Weak, so that a graph nobody holds any more (inference without noGrad, a model dropped after
  // a forward, a step that never comes) is garbage-collected; a training loop releases its
  // intermediates deterministically in endStep().
  private currentStep: WeakRef<Releasable>[] = [];
  private previousStep: WeakRef<Releasable>[] = [];
  /** currentStep's length at which collected entries are next dropped from it. */
  private pruneAt = MIN_PRUNE;

  constructor(readonly ctx: Awaited<ReturnType<typeof requestContext>>) {
    this.scheduler = new Scheduler(ctx);
    this.profile = createProfile(ctx.adapter, ctx.limits, ctx.kind);
    ctx.device.addEventListener('uncapturederror', (ev) => {
      this.uncapturedErrors.push((ev as GPUUncapturedErrorEvent).error.message);
    });
    void ctx.device.lost.then((info) => {
      this.scheduler.lostMessage =
        `the GPU device was lost (${info.reason}${info.message ? `: ${info.message}` : ''}); ` +
        'call `await init()` for a new device and load the weights your program holds into a new model.';
    });
  }

  get device(): GPUDevice {
    return this.ctx.device;
  }

  /** Called by every new tensor: it belongs to the innermost tidy() scope, if any. */
  track(t: Releasable): void {
    this.liveTensors++;
    const scope = this.scopes[this.scopes.length - 1];
    if (scope) scope.push(t);
  }

  /** An autograd intermediate: released at the end of the training step after the one it was made in. */
  trackStepScoped(t: Releasable): void {
    this.currentStep.push(new WeakRef(t));
    if (this.currentStep.length >= this.pruneAt) {
      // Amortised: the threshold doubles past what survives, so each entry is looked at O(1) times.
      this.currentStep = this.currentStep.filter((ref) => ref.deref()?.isDisposed === false);
      this.pruneAt = Math.max(MIN_PRUNE, 2 * this.currentStep.length);
    }
  }

  /**
   * Ends a training step (optimizer.step() calls it): intermediates recorded two steps ago are
   * released, so `loss.item()` right after step() still works while memory stays flat.
   */
  endStep(): void {
    for (const ref of this.previousStep) {
      const t = ref.deref();
      if (t && !t.isDisposed && !t.isPinned) t.dispose();
    }
    this.previousStep = this.currentStep;
    this.currentStep = [];
    this.pruneAt = MIN_PRUNE;
  }

  tidy<T>(fn: () => T): T {
    const scope: Releasable[] = [];
    this.scopes.push(scope);
    let result: T;
    try {
      result = fn();
    } catch (err) {
      // Nothing fn made can be returned now: release it all (pinned tensors go to the outer scope).
      this.scopes.pop();
      this.closeScope(scope, new Set());
      throw err;
    }
    this.scopes.pop();
    if (result instanceof Promise) {
      throw new WebgradError('tidy(fn): fn must be synchronous (it returned a Promise); await outside the tidy.');
    }
    const keep = new Set<unknown>();
    collectTensors(result, keep);
    this.closeScope(scope, keep);
    return result;
  }

  /** Disposes a finished scope's tensors except those kept, which move to the enclosing scope. */
  private closeScope(scope: Releasable[], keep: Set<unknown>): void {
    const parent = this.scopes[this.scopes.length - 1];
    for (const t of scope) {
      if (t.isDisposed) continue;
      if (keep.has(t) || t.isPinned) parent?.push(t);
      else t.dispose();
    }
  }

  get counters(): Counters {
    return this.scheduler.counters;
  }
}

function collectTensors(value: unknown, out: Set<unknown>): void {
  if (value === null || typeof value !== 'object') return;
  if ('isDisposed' in value && 'dispose' in value) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collectTensors(v, out);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collectTensors(v, out);
}

let current: Runtime | null = null;

/**
 * Gets a WebGPU device and makes it webgrad's: `navigator.gpu` in a browser, the `webgpu`
 * package in Node, or `{ device }` — a GPUDevice your application already owns.
 * Await it before anything else; call it again only for a new device (e.g. after a device loss).
 *
 * ```ts
 * const info = await init();
 * console.log(info.adapter.description, info.adapter.isFallback);
 * ```
 */
export async function init(options: InitOptions = {}): Promise<RuntimeInfo> {
  const ctx = await requestContext(options ?? {});
  current = new Runtime(ctx);
  return runtimeInfo();
}

/** The runtime ops record into; throws if init() has not run. */
export function runtime(): Runtime {
  if (!current) throw new WebgradError('webgrad is not initialised: call `await init()` first.');
  if (current.scheduler.lostMessage) throw new DeviceLostError(current.scheduler.lostMessage);
  return current;
}

/** What init() and runtimeInfo() report: the adapter in use and the device limits webgrad reads. */
export interface RuntimeInfo {
  /** The GPU adapter webgrad runs on. */
  adapter: AdapterSummary;
  /** The device limits webgrad sizes dispatches and checks tensors against. */
  limits: UsedLimits;
  /** True when the GPUDevice was handed in with init({ device }). */
  sharedDevice: boolean;
}

/** The adapter webgrad runs on and the device limits it uses. */
export function runtimeInfo(): RuntimeInfo {
  const rt = runtime();
  return { adapter: rt.ctx.adapter, limits: rt.ctx.limits, sharedDevice: rt.ctx.shared };
}

/** A snapshot of webgrad's memory use, as returned by memory(). */
export interface MemoryInfo {
  /** Tensors created and not yet disposed. */
  liveTensors: number;
  /** GPU buffers handed out to storages and not yet released (a small tensor's slot of a shared buffer counts as one). */
  liveBuffers: number;
  /** Bytes of the buffers in use, rounded up to the pool's size classes. */
  bytesInUse: number;
  /** Bytes kept in the pool for reuse, not returned to the device: released buffers, and slots of shared buffers not handed out. */
  bytesPooled: number;
}

/** Live tensors and GPU buffers, for spotting leaks. */
export function memory(): MemoryInfo {
  const rt = runtime();
  const pool = rt.scheduler.pool;
  return { liveTensors: rt.liveTensors, liveBuffers: pool.liveBuffers, bytesInUse: pool.bytesInUse, bytesPooled: pool.bytesPooled };
}

/** Submits, dispatches, readbacks and uploads so far (a copy). */
export function counters(): Counters {
  return { ...runtime().counters };
}

/** Runs all recorded work now (one submit) without reading anything back. */
export function realize(): void {
  runtime().scheduler.flush();
}

/** Runs fn and disposes every tensor it created except those it returns (and parameters, gradients, kept tensors). */
export function tidy<T>(fn: () => T): T {
  return runtime().tidy(fn);
}

/** Runs all recorded work and resolves when the GPU has finished it (for benchmarks; training never needs it). */
export async function sync(): Promise<void> {
  const rt = runtime();
  rt.scheduler.flush();
  await rt.device.queue.onSubmittedWorkDone();
}

/** The GPUDevice webgrad computes on (yours, after init({ device })). */
export function getDevice(): GPUDevice {
  return runtime().device;
}

/**
 * Calls back once when the current device is lost (driver reset, tab in the background too long,
 * device.destroy()). Pending and later work then rejects; call init() again for a new device and
 * restore the weights your program holds.
 */
export function onDeviceLost(callback: (info: { reason: string; message: string }) => void): void {
  const rt = runtime();
  void rt.device.lost.then((info) => callback({ reason: info.reason, message: info.message }));
}

/**
 * Anomaly detection (off by default): every op's output is checked on the GPU for NaN and
 * infinity, and the next read (data(), item()) or checkAnomaly() throws an AnomalyError naming the
 * first op that produced one. It is reported once: later reads succeed until another op produces
 * a NaN or infinity. It costs a dispatch per op and a readback per read: for debugging.
 */
export function detectAnomaly(enabled = true): void {
  runtime().scheduler.setAnomalyDetection(enabled);
}

/** Throws an AnomalyError if anomaly detection has seen a NaN or infinity; resolves otherwise. */
export async function checkAnomaly(): Promise<void> {
  await runtime().scheduler.checkAnomaly();
}
