// The graph scheduler's core (the captured steps are in scheduler.ts). Ops do not run when they are called: each records a Dispatch that names its kernel, its parameters and the
// storages it reads and writes. flush() realises everything recorded so far in one command encoder, one compute pass and one submit:
//   0. runs of elementwise ops become one generated kernel each (fusion.ts);
//   1. dead dispatches (whose results nothing can read any more) are dropped;
//   2. the rest are encoded in recording order — a topological order by construction, which also keeps in-place updates (the
//      optimizer step, gradient accumulation) after their readers;
//   3. buffers come from the size-class pool the first time a storage is written, and go back to it right after their last reader
//      is encoded, so the same submit can reuse them.
// Steps 1 and 3 are planned before anything is encoded (plan.ts); a captured step goes through the same fusion, plan and walk, but
// becomes a Program instead of a pass (capture.ts, program.ts). Readback happens only when a value is asked for, asynchronously.

import { CaptureError, DeviceLostError } from '../errors.js';
import { AnomalyDetector } from './anomaly.js';
import { BufferPool, type Region } from './buffers.js';
import { type CaptureSession, READ_IN_CAPTURE } from './capture.js';
import type { GpuContext } from './device.js';
import type { Counters, Dispatch } from './dispatch.js';
import { DispatchEncoder } from './encoder.js';
import { fuseQueue, fusionEnabled } from './fusion.js';
import type { ParkOptions } from './fusion_group.js';
import { copyWordsDispatch } from './kernels.js';
import { compactPacks, leavePack } from './pack_compaction.js';
import { Parking } from './parking.js';
import { PipelineCache } from './pipelines.js';
import { type Plan, planBuffers, walkPlan } from './plan.js';
import { readChecked, StagingPool } from './readback.js';
import { bindsApplicationBuffer, SubmitVerdicts } from './rejection.js';
import { Storage } from './storage.js';

export type { Counters, Dispatch } from './dispatch.js';
export { Storage } from './storage.js';

/** Recorded dispatches after which a loop that never reads a value is flushed anyway. */
const MAX_PENDING = 8192;
const COPY_SRC = 0x04;

export class SchedulerBase {
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  /** Flushes that bind an application's buffer, judged by WebGPU (rejection.ts). */
  private readonly verdicts: SubmitVerdicts;
  /** Mappable buffers that reads copy into (readback.ts). */
  private readonly staging: StagingPool;
  protected readonly counts = { submits: 0, readbacks: 0, uploads: 0, programDispatches: 0 };
  /** Tests set this: every newly allocated output is first filled with NaN, so an unwritten element shows. */
  debugFillNaN = false;
  /** Set when the device is lost: every later record, flush and read rejects with this message. */
  lostMessage: string | null = null;
  /** What the dispatches being recorded belong to, for anomaly reports (see withLabel). */
  private currentLabel = '';
  protected queue: Dispatch[] = [];
  protected readonly encoder: DispatchEncoder;
  protected capture: CaptureSession | null = null;
  private anomaly: AnomalyDetector | null = null;
  /** Packs that lost a part since the last flush (see pack_compaction.ts). */
  private readonly sparsePacks = new Set<Storage>();
  /** Maps whose results only dropped tensors hold, not run until needed (see parking.ts). */
  readonly parking = new Parking();
  /** Whether flushes may park (tests switch it off to exercise packs). */
  parkingEnabled = true;
  /** Dispatches taken out of parking into the queue since the last flush. */
  protected readonly unparked = new Set<Dispatch>();

  constructor(readonly ctx: GpuContext) {
    this.pool = new BufferPool(ctx.device);
    this.pipelines = new PipelineCache(ctx.device);
    this.staging = new StagingPool(ctx.device);
    this.verdicts = new SubmitVerdicts(ctx.device);
    this.pool.onDestroy = () => this.pipelines.clearBindGroups();
    this.encoder = new DispatchEncoder(ctx.device, this.pipelines, this.pool);
  }

  /** What the runtime has done so far (a live view; counters() copies it). */
  get counters(): Counters {
    const c = this.counts;
    const created = { bindGroups: this.pipelines.bindGroupsCreated, buffers: this.pool.buffersCreated };
    return { submits: c.submits, dispatches: this.encoder.dispatches + c.programDispatches, readbacks: c.readbacks, uploads: c.uploads, ...created };
  }

  get device(): GPUDevice {
    return this.ctx.device;
  }

  /** Runs fn with `label()` naming what it records in anomaly reports; labels nest, and are only built while detection is on. */
  withLabel<T>(label: () => string, fn: () => T): T {
    if (!this.anomaly) return fn();
    const before = this.currentLabel;
    const inner = label();
    this.currentLabel = before ? `${before}: ${inner}` : inner;
    try {
      return fn();
    } finally {
      this.currentLabel = before;
    }
  }

  /**
   * Anomaly detection: after every dispatch that writes float32 values, a check records (on the
   * GPU, without waiting) the first one that wrote a NaN or infinity; the next readback reports it.
   */
  setAnomalyDetection(enabled: boolean): void {
    if (this.anomaly) {
      this.anomaly.flag.handles--;
      this.maybeRelease(this.anomaly.flag);
      this.anomaly = null;
    }
    if (!enabled) return;
    const flag = this.upload(AnomalyDetector.clearWords);
    flag.handles++;
    this.anomaly = new AnomalyDetector(flag);
  }

  /** Whether anomaly detection is on (a captured step records again when this changes). */
  get anomalyDetection(): boolean {
    return this.anomaly !== null;
  }

  /** Throws an AnomalyError once if a checked dispatch has written a NaN or infinity since the last report. */
  async checkAnomaly(): Promise<void> {
    const anomaly = this.anomaly;
    if (!anomaly) return;
    const seq = new Uint32Array(await this.copyOut(anomaly.flag, 4))[0]!;
    const error = anomaly.errorFor(seq);
    if (!error) return;
    // Reported once: later reads succeed until another op produces a NaN or infinity. Written
    // straight to the queue, so checks recorded but not yet submitted run after the reset.
    if (this.anomaly === anomaly) this.device.queue.writeBuffer(anomaly.flag.buffer!, anomaly.flag.offset, AnomalyDetector.clearWords);
    throw error;
  }

  protected assertAlive(): void {
    if (this.lostMessage) throw new DeviceLostError(this.lostMessage);
  }

  record(d: Dispatch): void {
    this.assertAlive();
    for (const s of d.storages) if (s.released) throw new Error(`internal: storage ${s.id} used after release`);
    // Parked maps that make what d reads, or read what d overwrites, run first (see parking.ts).
    if (this.parking.size > 0 && d.storages.some((s, b) => s.parkedBy !== null || (s.parkedReaders !== null && d.kernel.bindings[b] === 'rw'))) {
      this.unpark(d.storages.flatMap((s, b) => this.parking.rootsFor(s, d.kernel.bindings[b] === 'rw')));
    }
    this.push(d);
    if (this.anomaly) for (const check of this.anomaly.checksFor(d, this.currentLabel)) this.push(check);
    // Bound the recorded work so a loop that never reads a value still runs.
    if (this.queue.length >= MAX_PENDING && !this.capture) this.flush();
  }

  private push(d: Dispatch): void {
    for (const s of d.storages) s.pendingUses++;
    this.queue.push(d);
  }

  /** Puts the parked dispatches connected to `roots` back into the queue (their recorded uses never ended). */
  protected unpark(roots: Dispatch[]): void {
    if (roots.length > 0) this.requeue(this.parking.take(roots));
  }

  /** Appends dispatches taken out of parking to the queue. */
  protected requeue(dispatches: readonly Dispatch[]): void {
    for (const d of dispatches) {
      this.queue.push(d);
      this.unparked.add(d);
    }
  }

  /**
   * Runs the recorded work that `storages` need for their values to be in memory (their parked
   * makers included) and the rest of the queue: what a read back, gpuBuffer or a captured step's
   * input needs first.
   */
  settle(storages: readonly Storage[], stage?: (encoder: GPUCommandEncoder) => void): void {
    this.unpark(storages.flatMap((s) => this.parking.rootsFor(s, false)));
    this.flush({ demand: storages, stage });
  }

  /**
   * Hands a storage's memory to the application (gpuBuffer): its value is made, the parked maps
   * that read it run first (the application may write the buffer at any time from now on), and
   * no later map that reads it is parked.
   */
  handOut(s: Storage): void {
    this.unpark(this.parking.rootsFor(s, true));
    if (s.pendingUses > 0 || !s.buffer) this.flush({ demand: [s], overwritten: [s] });
    s.handedOut = true;
  }

  /** A mark in the recorded work, for rollbackTo(). */
  get mark(): number {
    return this.queue.length;
  }

  /** Forgets the dispatches recorded since `mark` (an operation that failed as a whole). */
  rollbackTo(mark: number): void {
    const dropped = this.queue.splice(mark);
    // Parked work taken out for what is now forgotten stays recorded (it was recorded before the mark).
    this.queue.push(...dropped.filter((d) => this.unparked.has(d)));
    for (const d of dropped) {
      if (this.unparked.has(d)) continue;
      for (const st of d.storages) {
        st.pendingUses--;
        this.maybeRelease(st);
      }
    }
  }

  /** Returns a storage's buffer to the pool once no tensor and no recorded dispatch can use it. */
  maybeRelease(s: Storage): void {
    if (s.handles > 0 || s.released) return;
    // A parked result nothing can read any more: its map is dropped (and, in turn, parked maps only it needed).
    const maker = this.parking.unreachableMaker(s);
    if (maker) {
      this.dropParked(maker);
      return;
    }
    if (s.pendingUses > 0) return;
    s.released = true;
    if (s.pack) this.leavePack(s);
    else if (s.region && !s.external && !s.programOwned) this.pool.release(s.region);
    s.region = null;
  }

  /** Drops a parked dispatch whose result is unreachable, and the parked makers of its inputs that nothing else can reach. */
  private dropParked(first: Dispatch): void {
    const stack = [first];
    while (stack.length > 0) {
      const d = stack.pop()!;
      if (!this.parking.has(d)) continue;
      this.parking.remove(d);
      for (const st of d.storages) st.pendingUses--;
      for (const st of new Set(d.storages)) {
        const maker = this.parking.unreachableMaker(st);
        if (maker) stack.push(maker);
        else if (st.pendingUses === 0) this.maybeRelease(st);
      }
    }
  }

  /** A released part of a pack lets go of it (pack_compaction.ts: leavePack). */
  private leavePack(s: Storage): void {
    leavePack(s, this.sparsePacks, (pack) => this.maybeRelease(pack));
  }

  /** A storage with a fresh buffer, filled from the host now (queue.writeBuffer). */
  upload(data: ArrayBufferView<ArrayBuffer>): Storage {
    this.assertAlive();
    const s = new Storage(Math.max(4, data.byteLength));
    s.region = this.pool.acquire(s.byteLength);
    this.device.queue.writeBuffer(s.region.buffer, s.region.offset, data);
    this.counts.uploads++;
    return s;
  }

  /** A realised storage's buffer as one of its own, elements from byte 0 (gpuBuffer): a slot of a shared buffer is moved out (one submit). */
  ownBuffer(s: Storage): GPUBuffer {
    if (s.pack) {
      // A part of a pack: copied out, then the pack is let go of.
      s.region = this.pool.moveToOwn(s.region!, s.byteLength, false);
      this.leavePack(s);
      this.counts.submits++;
    } else if (s.region!.arena) {
      s.region = this.pool.moveToOwn(s.region!, s.byteLength);
      this.counts.submits++;
    }
    return s.region!.buffer;
  }

  /** Overwrites a realised storage from the host (after any recorded work that uses it). */
  write(s: Storage, data: ArrayBufferView<ArrayBuffer>): void {
    if (this.capture)
      throw new CaptureError(
        'captureStep: a tensor was overwritten from the host inside the captured step; a replay would not repeat it. Write it before calling the step.',
      );
    // Parked maps that make or read it run first, with what reads it: none of them may see the new values.
    this.unpark(this.parking.rootsFor(s, true));
    // A part of a pack whose kernel has not run yet (its flush was refused for memory) gets its
    // memory from that kernel: flush first, or it would get a second region that is never released.
    if (s.pendingUses > 0 || (s.pack && !s.region)) this.flush({ overwritten: [s] });
    if (!s.region) s.region = this.pool.acquire(s.byteLength);
    this.device.queue.writeBuffer(s.region.buffer, s.region.offset, data);
    this.counts.uploads++;
    s.rejected = null;
    // An in-place write: autograd refuses a backward that saved the old values.
    s.version++;
  }

  /**
   * Realises every recorded dispatch (one encoder, one compute pass, one submit), except maps whose
   * results only tensors hold and nothing reads, which are parked (see parking.ts): `demand` are
   * results that must be in memory afterwards, `overwritten` storages the host writes next, and
   * `park: false` writes every held result. `stage` encodes more work (a read's copy) after the
   * pass, in the same submit; it is not called when there is nothing to flush.
   */
  flush(options: { demand?: readonly Storage[]; overwritten?: readonly Storage[]; park?: boolean; stage?: (encoder: GPUCommandEncoder) => void } = {}): void {
    // While a step is captured, its work stays recorded until endCapture() realises it as a program.
    if (this.queue.length === 0 || this.capture) return;
    this.assertAlive();
    const parking: ParkOptions | null =
      this.parkingEnabled && options.park !== false && fusionEnabled()
        ? { demand: new Set(options.demand), overwritten: new Set(options.overwritten), unparked: this.unparked, parked: [] }
        : null;
    const queue = fuseQueue(this.queue, this.ctx.limits.maxStorageBuffersPerShaderStage, true, parking);
    this.unparked.clear();
    if (parking) this.parking.park(parking.parked);
    this.queue = [];
    this.encoder.trim();
    let plan: Plan<Region>;
    try {
      plan = planBuffers(queue, this.pool);
    } catch (err) {
      // Out of memory: nothing was encoded or changed; the recorded work stays pending.
      this.queue = queue.concat(this.queue);
      throw err;
    }
    const encoder = this.device.createCommandEncoder();
    for (const [part, region] of compactPacks(this.sparsePacks, this.pool, encoder)) {
      part.region = region;
      this.leavePack(part);
    }
    const pass = encoder.beginComputePass();
    // In tests, every storage this flush gives memory is first filled with NaN (see debugFillNaN).
    const nanFill = this.debugFillNaN ? { fresh: (s: Storage) => plan.assign.has(s), filled: new Set<Storage>() } : null;
    this.walk(queue, plan, (d, regions) => this.encoder.encode(pass, d, regions, nanFill));
    pass.end();
    // Not into a submit WebGPU may reject (rejection.ts): the read's copy then goes alone.
    const checked = bindsApplicationBuffer(queue);
    if (!checked) options.stage?.(encoder);
    this.verdicts.submit(queue, encoder.finish(), checked);
    for (const b of plan.toPool) this.pool.release(b);
    this.counts.submits++;
  }

  /** The walk over planned dispatches that flush and capture share (plan.ts); a released part lets go of its pack. */
  protected walk(queue: readonly Dispatch[], plan: Plan<Region>, visit: (d: Dispatch, regions: Region[]) => void): void {
    walkPlan(queue, plan, visit, (st) => {
      if (st.pack) this.leavePack(st);
    });
  }

  /**
   * Copies a storage back to the host. Flushes recorded work first; resolves when the GPU is done.
   * `what` names the value read (e.g. "a tensor of shape [2, 3]") in errors.
   */
  async read(s: Storage, byteLength: number, what = 'a tensor'): Promise<ArrayBuffer> {
    const bytes = await this.copyOut(s, byteLength, what);
    await this.verdicts.check(s, what);
    await this.checkAnomaly();
    return bytes;
  }

  private async copyOut(s: Storage, byteLength: number, what = 'a value'): Promise<ArrayBuffer> {
    this.assertAlive();
    if (this.capture) {
      // The read's promise rejects, and endCapture() refuses the capture (fn may not await it).
      this.capture.refusal = READ_IN_CAPTURE;
      throw new CaptureError(READ_IN_CAPTURE);
    }
    // An empty tensor has nothing to copy (its storage may never have been written).
    if (byteLength === 0) return new ArrayBuffer(0);
    const copies: Storage[] = [];
    try {
      return await readChecked(
        this.device,
        this.staging,
        byteLength,
        what,
        () => this.assertAlive(),
        (stage) => {
          // The copy joins the flush that makes the value, unless WebGPU may reject it (rejection.ts).
          let staged = false;
          const join = (encoder: GPUCommandEncoder) => {
            stage(encoder, { buffer: s.buffer!, offset: s.offset });
            staged = true;
          };
          this.settle([s], s.external ? undefined : join);
          if (!s.buffer) throw new Error(`internal: storage ${s.id} has no buffer to read`);
          // An application's buffer without COPY_SRC cannot be copied from: a kernel copies it first.
          const source = (s.buffer.usage & COPY_SRC) === 0 ? this.readableCopy(s, byteLength) : s;
          if (source !== s) copies.push(source);
          if (!staged) this.counts.submits++;
          this.counts.readbacks++;
          return { buffer: source.buffer!, offset: source.offset };
        },
      );
    } finally {
      for (const copy of copies) {
        copy.handles--;
        this.maybeRelease(copy);
      }
    }
  }

  /** A copy, made by a kernel into a pooled buffer, of a storage whose buffer lacks COPY_SRC. */
  private readableCopy(s: Storage, byteLength: number): Storage {
    const copy = new Storage(byteLength);
    copy.handles++;
    this.record(copyWordsDispatch(s, copy, Math.ceil(byteLength / 4)));
    this.flush();
    return copy;
  }
}
