// The graph scheduler. Ops do not run when they are called: each records a Dispatch that names
// its kernel, its parameters and the storages it reads and writes. flush() realises everything
// recorded so far in one command encoder, one compute pass and one queue.submit:
//   1. dead dispatches (whose results nothing can read any more) are dropped;
//   2. the rest are encoded in recording order — a topological order by construction, which also
//      keeps in-place updates (the optimizer step, gradient accumulation) after their readers;
//   3. buffers come from the size-class pool the first time a storage is written, and go back to
//      it right after their last reader is encoded, so the same submit can reuse them.
// Readback happens only when a value is asked for, and asynchronously.
import { BufferPool } from './buffers.js';
import { PipelineCache, type Kernel } from './pipelines.js';
import type { GpuContext } from './device.js';
import { AnomalyError, CaptureError, DeviceLostError } from '../errors.js';
import { Program, copySize, type ProgramStep } from './program.js';
import type { Tensor } from '../tensor.js';

let nextStorageId = 1;

/** Device memory behind one or more tensors (views share it). Its buffer exists once written. */
export class Storage {
  readonly id = nextStorageId++;
  buffer: GPUBuffer | null = null;
  /** Live (not disposed) tensors that point at this storage. */
  handles = 0;
  /** Recorded, not yet encoded, dispatches that bind this storage. */
  pendingUses = 0;
  released = false;
  /** A buffer the application owns (fromGPUBuffer): never pooled, never destroyed by webgrad. */
  external = false;
  /** Made while a step was captured: its buffer belongs to the captured program, not the pool. */
  programOwned = false;
  constructor(readonly byteLength: number) {}
}

export interface Dispatch {
  kernel: Kernel;
  constants?: Record<string, number>;
  /** Uniform parameters (binding 0), as 32-bit words. */
  params: Uint32Array<ArrayBuffer>;
  /** Storages for bindings 1..n, in the kernel's binding order. */
  storages: Storage[];
  workgroups: readonly [number, number, number];
  /**
   * For parameters that change between steps without the recorded work changing (the learning
   * rate, Adam's step count): a captured program calls it once per replay for this step's words.
   */
  refresh?: () => Uint32Array<ArrayBuffer>;
  /**
   * False once the settings this dispatch was recorded under changed in a way a replay cannot
   * follow (momentum switched on or off): the captured program is then recorded again.
   */
  valid?: () => boolean;
}

/** A step being captured (see captureStep): what it made, and the checks its inputs need on replay. */
interface CaptureState {
  /** Storages with this id or above were made during the capture. */
  firstStorageId: number;
  inputs: Storage[];
  /** Per input storage, checks to run on the tensor handed to each replay (e.g. label ranges). */
  inputChecks: Map<Storage, ((t: Tensor) => void)[]>;
  /** Why this capture cannot become a program, when something it did cannot be replayed. */
  refusal?: string;
}

const READ_IN_CAPTURE =
  'captureStep: the captured step read a value back (data(), item(), ...); a replay runs no JavaScript, so return the tensor from the step and read it afterwards.';

/** The buffers of one flush, decided before anything is encoded. */
interface FlushPlan {
  /** Storages that get a buffer in this flush. */
  assign: Map<Storage, GPUBuffer>;
  /** Per live dispatch, the buffers of its bindings. */
  bindings: GPUBuffer[][];
  /** Per dispatch, the storages released after it (no tensor holds them, no later use). */
  releasedAt: Storage[][];
  /** Buffers that go back to the pool once the flush is submitted. */
  toPool: GPUBuffer[];
}

/** What the runtime has done, for tests and benchmarks to assert on. */
export interface Counters {
  /** Queue submits of any kind: one per flush plus one per readback. */
  submits: number;
  /** Compute dispatches encoded (recorded ops whose results were needed). */
  dispatches: number;
  /** Copies from the GPU back to the host: data(), item() and the like, and anomaly checks. */
  readbacks: number;
  /** Host-to-GPU writes (creating a tensor from host data, overwriting one). */
  uploads: number;
  /** Flushes that realised recorded work (one compute pass and one submit each). */
}

export class Scheduler {
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  readonly counters: Counters = { submits: 0, dispatches: 0, readbacks: 0, uploads: 0 };
  /** Tests set this: every newly allocated output is first filled with NaN, so an unwritten element shows. */
  debugFillNaN = false;
  private queue: Dispatch[] = [];
  private paramBuffers = new Map<string, GPUBuffer>();
  private fillKernel: Kernel | null = null;
  /** Set when the device is lost: every later record, flush and read rejects with this message. */
  lostMessage: string | null = null;
  /** What the dispatches being recorded belong to, for anomaly reports (set by apply and optimizers). */
  currentLabel = '';
  private checkKernel: Kernel | null = null;
  private capture: CaptureState | null = null;
  private anomaly: { flag: Storage; labels: Map<number, string>; seq: number } | null = null;

  constructor(readonly ctx: GpuContext) {
    this.pool = new BufferPool(ctx.device);
    this.pipelines = new PipelineCache(ctx.device);
    this.pool.onDestroy = () => this.pipelines.clearBindGroups();
  }

  get device(): GPUDevice {
    return this.ctx.device;
  }

  get pendingDispatches(): number {
    return this.queue.length;
  }

  /** Registers the kernel that anomaly detection appends after each dispatch. */
  setCheckKernel(kernel: Kernel): void {
    this.checkKernel = kernel;
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
    const flag = this.upload(new Uint32Array([0xffffffff]));
    flag.handles++;
    this.anomaly = { flag, labels: new Map(), seq: 0 };
  }

  get anomalyDetection(): boolean {
    return this.anomaly !== null;
  }

  /** Throws an AnomalyError if a checked dispatch has written a NaN or infinity. */
  async checkAnomaly(): Promise<void> {
    const anomaly = this.anomaly;
    if (!anomaly) return;
    const seq = new Uint32Array(await this.copyOut(anomaly.flag, 4))[0]!;
    if (seq === 0xffffffff) return;
    const label = anomaly.labels.get(seq) ?? `dispatch #${seq}`;
    throw new AnomalyError(`anomaly detection: ${label} produced a NaN or infinity (the first op to do so since detection was turned on).`);
  }

  /** Registers the kernel used to pre-fill outputs with NaN in debug mode. */
  setFillKernel(kernel: Kernel): void {
    this.fillKernel = kernel;
  }

  private assertAlive(): void {
    if (this.lostMessage) throw new DeviceLostError(this.lostMessage);
  }

  record(d: Dispatch): void {
    this.assertAlive();
    for (const s of d.storages) {
      if (s.released) throw new Error(`internal: storage ${s.id} used after release`);
      s.pendingUses++;
    }
    this.queue.push(d);
    if (this.anomaly && this.checkKernel && d.kernel.floatOutputs) this.recordChecks(d, this.anomaly);
    // Bound the recorded work so a loop that never reads a value still runs.
    if (this.queue.length >= 8192 && !this.capture) this.flush();
  }

  private recordChecks(d: Dispatch, anomaly: { flag: Storage; labels: Map<number, string>; seq: number }): void {
    d.kernel.bindings.forEach((access, b) => {
      if (access !== 'rw') return;
      const s = d.storages[b]!;
      const seq = ++anomaly.seq;
      anomaly.labels.set(seq, this.currentLabel || `${d.kernel.family}.${d.kernel.entry}`);
      anomaly.labels.delete(seq - 100_000);
      const n = Math.floor(s.byteLength / 4);
      const groups = Math.max(1, Math.ceil(n / 256));
      const x = Math.min(groups, 65535);
      const check: Dispatch = {
        kernel: this.checkKernel!,
        params: Uint32Array.of(n, seq, 0, 0),
        storages: [s, anomaly.flag],
        workgroups: [x, Math.ceil(groups / x), 1],
      };
      for (const st of check.storages) st.pendingUses++;
      this.queue.push(check);
    });
  }

  /** A mark in the recorded work, for rollbackTo(). */
  get mark(): number {
    return this.queue.length;
  }

  /** Forgets the dispatches recorded since `mark` (an operation that failed as a whole). */
  rollbackTo(mark: number): void {
    const dropped = this.queue.splice(mark);
    for (const d of dropped) {
      for (const st of d.storages) {
        st.pendingUses--;
        this.maybeRelease(st);
      }
    }
  }

  /** Returns a storage's buffer to the pool once no tensor and no recorded dispatch can use it. */
  maybeRelease(s: Storage): void {
    if (s.handles > 0 || s.pendingUses > 0 || s.released) return;
    s.released = true;
    if (s.buffer && !s.external && !s.programOwned) this.pool.release(s.buffer);
    s.buffer = null;
  }

  /** A storage with a fresh buffer, filled from the host now (queue.writeBuffer). */
  upload(data: ArrayBufferView<ArrayBuffer>): Storage {
    this.assertAlive();
    const s = new Storage(Math.max(4, data.byteLength));
    s.buffer = this.pool.acquire(s.byteLength);
    this.device.queue.writeBuffer(s.buffer, 0, data);
    this.counters.uploads++;
    return s;
  }

  /** Overwrites a realised storage from the host (after any recorded work that uses it). */
  write(s: Storage, data: ArrayBufferView<ArrayBuffer>): void {
    if (this.capture) throw new CaptureError('captureStep: a tensor was overwritten from the host inside the captured step; a replay would not repeat it. Write it before calling the step.');
    if (s.pendingUses > 0) this.flush();
    if (!s.buffer) s.buffer = this.pool.acquire(s.byteLength);
    this.device.queue.writeBuffer(s.buffer, 0, data);
    this.counters.uploads++;
  }

  private paramBuffer(words: Uint32Array): GPUBuffer {
    const key = words.join(',');
    let b = this.paramBuffers.get(key);
    if (!b) {
      b = this.createUniform(words);
      this.paramBuffers.set(key, b);
    }
    return b;
  }

  /** Realises every recorded dispatch: one encoder, one compute pass, one submit. */
  flush(): void {
    // While a step is captured, its work stays recorded until endCapture() realises it as a program.
    if (this.queue.length === 0 || this.capture) return;
    this.assertAlive();
    const queue = this.queue;
    this.queue = [];
    // A loop whose parameters never repeat must not grow the cache for ever; trimming happens
    // only here, before any bind group of this flush refers to the buffers.
    if (this.paramBuffers.size > 4096) {
      for (const b of this.paramBuffers.values()) b.destroy();
      this.paramBuffers = new Map();
      this.pipelines.clearBindGroups();
    }

    const live = this.liveDispatches(queue);
    let plan: FlushPlan;
    try {
      plan = this.plan(queue, live);
    } catch (err) {
      // Out of memory: nothing was encoded or changed; the recorded work stays pending.
      this.queue = queue.concat(this.queue);
      throw err;
    }
    for (const [s, buffer] of plan.assign) s.buffer = buffer;
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    const filled = new Set<Storage>();
    for (let i = 0; i < queue.length; i++) {
      const d = queue[i]!;
      if (live[i]) {
        if (this.debugFillNaN) {
          d.kernel.bindings.forEach((access, b) => {
            const st = d.storages[b]!;
            if (access === 'rw' && plan.assign.has(st) && !filled.has(st)) {
              filled.add(st);
              this.encodeNaNFill(pass, plan.bindings[i]![b]!, st.byteLength);
            }
          });
        }
        this.encode(pass, d, plan.bindings[i]!);
      }
      this.retire(d, plan.releasedAt[i]);
    }
    pass.end();
    this.device.queue.submit([encoder.finish()]);
    for (const b of plan.toPool) this.pool.release(b);
    this.counters.submits++;
  }

  /** True while a step is being captured (captureStep's first call for a shape). */
  get capturing(): boolean {
    return this.capture !== null;
  }

  /** Starts capturing: pending work is realised first, so the program holds only the step's own. */
  beginCapture(): void {
    if (this.capture) throw new CaptureError('captureStep: a captured step cannot call another captured step.');
    this.assertAlive();
    this.flush();
    this.capture = { firstStorageId: nextStorageId, inputs: [], inputChecks: new Map() };
  }

  /** An input slot of the step being captured: a program-owned copy of a realised region. */
  captureInput(src: Storage, byteOffset: number, byteLength: number): Storage {
    const capture = this.capture!;
    if (!src.buffer) throw new Error(`internal: storage ${src.id} has no buffer to capture`);
    const s = new Storage(Math.max(4, byteLength));
    s.buffer = this.pool.acquire(s.byteLength);
    s.programOwned = true;
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(src.buffer, byteOffset, s.buffer, 0, copySize(byteLength));
    this.device.queue.submit([encoder.finish()]);
    this.counters.submits++;
    capture.inputs.push(s);
    return s;
  }

  /** Ops call this for checks that depend on an input's values (label ranges): replays run them too. */
  addInputCheck(s: Storage, check: (t: Tensor) => void): void {
    const capture = this.capture;
    if (!capture?.inputs.includes(s)) return;
    const list = capture.inputChecks.get(s);
    if (list) list.push(check);
    else capture.inputChecks.set(s, [check]);
  }

  /** Drops a capture that failed: its recorded work is forgotten and its input slots become ordinary. */
  abortCapture(): void {
    const capture = this.capture;
    if (!capture) return;
    this.capture = null;
    this.rollbackTo(0);
    for (const s of capture.inputs) s.programOwned = false;
  }

  /**
   * Ends a capture: plans the recorded step's buffers once, builds a bind group per dispatch, runs
   * the step (one submit) and returns it as a program, with copies of `outputs` made by this run.
   * Storages made before the capture that it binds (parameters, optimizer state) are held by the
   * program; everything made during it lives in buffers the program owns.
   */
  endCapture(outputs: Storage[]): { program: Program; inputChecks: ((t: Tensor) => void)[][]; results: Storage[] } {
    const capture = this.capture!;
    this.assertAlive();
    if (capture.refusal) throw new CaptureError(capture.refusal);
    const queue = this.queue;
    const live = this.liveDispatches(queue);
    const held = new Set<Storage>();
    const made = new Set<Storage>(capture.inputs);
    const note = (s: Storage): void => void (s.id < capture.firstStorageId ? held : made).add(s);
    queue.forEach((d, i) => live[i] && d.storages.forEach(note));
    outputs.forEach(note);
    for (const s of held) {
      if (s.handles === 0) {
        throw new CaptureError(
          'captureStep: the step reads a tensor made before it and then disposes it (for example gradients ' +
            'accumulated because the step does not start with optimizer.zeroGrad()); a replay would read a stale ' +
            'value. Clear the gradients at the start of the step, or pass the tensor in as an argument.',
        );
      }
    }
    let plan: FlushPlan;
    for (const s of held) s.handles++;
    try {
      plan = this.plan(queue, live);
    } catch (err) {
      for (const s of held) s.handles--;
      throw err;
    }
    this.capture = null;
    this.queue = [];
    for (const s of made) s.programOwned = true;
    for (const [s, buffer] of plan.assign) s.buffer = buffer;
    const owned = new Set<GPUBuffer>(plan.assign.values());
    for (const s of made) if (s.buffer) owned.add(s.buffer);
    const inputSlots = capture.inputs.map((s) => ({ buffer: s.buffer!, byteLength: s.byteLength }));
    const outputSlots = outputs.map((s) => ({ buffer: s.buffer ?? plan.assign.get(s)!, byteLength: s.byteLength }));

    const uniforms: GPUBuffer[] = [];
    const sharedUniforms = new Map<string, GPUBuffer>();
    const uniformFor = (d: Dispatch): GPUBuffer => {
      const key = d.refresh ? null : d.params.join(',');
      const known = key === null ? undefined : sharedUniforms.get(key);
      if (known) return known;
      const b = this.createUniform(d.params);
      uniforms.push(b);
      if (key !== null) sharedUniforms.set(key, b);
      return b;
    };
    const steps: ProgramStep[] = [];
    for (let i = 0; i < queue.length; i++) {
      const d = queue[i]!;
      if (live[i]) {
        const buffers = plan.bindings[i]!;
        const pipeline = this.pipelines.pipeline(d.kernel, d.constants);
        const uniform = uniformFor(d);
        const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: uniform } }];
        d.storages.forEach((st, b) => entries.push({ binding: b + 1, resource: { buffer: buffers[b]!, offset: 0, size: copySize(st.byteLength) } }));
        const bindGroup = this.pipelines.createBindGroup(pipeline, entries);
        steps.push({ pipeline, bindGroup, workgroups: d.workgroups, uniform, words: d.params, ...(d.refresh ? { refresh: d.refresh } : {}), ...(d.valid ? { valid: d.valid } : {}) });
      }
      this.retire(d, plan.releasedAt[i]);
    }
    // Buffers still behind a live storage (a gradient, the loss) stay with it when the program goes.
    const program = new Program(steps, inputSlots, outputSlots, [...owned], uniforms, made, held);
    const inputChecks = capture.inputs.map((s) => capture.inputChecks.get(s) ?? []);
    return { program, inputChecks, results: this.run(program, null) };
  }

  /**
   * Replays a captured program on new inputs (contiguous regions of realised storages): one
   * submit. Returns null, running nothing, when the program no longer matches the settings.
   */
  replay(program: Program, sources: { storage: Storage; byteOffset: number }[]): Storage[] | null {
    this.assertAlive();
    if (program.disposed) throw new CaptureError('captureStep: this captured step was disposed.');
    if (program.isStale()) return null;
    this.flush();
    program.refresh(this.device.queue);
    return this.run(program, sources.map(({ storage, byteOffset }) => ({ buffer: storage.buffer!, byteOffset })));
  }

  /** Runs a program once (its inputs copied in from `sources`, or already in place when null). */
  private run(program: Program, sources: { buffer: GPUBuffer; byteOffset: number }[] | null): Storage[] {
    const results = program.outputs.map((slot) => {
      const s = new Storage(slot.byteLength);
      s.buffer = this.pool.acquire(s.byteLength);
      return s;
    });
    const encoder = this.device.createCommandEncoder();
    program.encode(encoder, sources, results.map((s) => s.buffer!));
    this.device.queue.submit([encoder.finish()]);
    this.counters.submits++;
    this.counters.dispatches += program.steps.length;
    return results;
  }

  /** Gives a program's buffers back: those no live tensor still uses return to the pool. */
  disposeProgram(program: Program): void {
    if (program.disposed) return;
    program.disposed = true;
    const stillUsed = new Set<GPUBuffer>();
    for (const s of program.madeStorages) {
      s.programOwned = false;
      if (!s.released && s.buffer) stillUsed.add(s.buffer);
    }
    for (const b of program.ownedBuffers) if (!stillUsed.has(b)) this.pool.release(b);
    for (const s of program.heldStorages) {
      s.handles--;
      this.maybeRelease(s);
    }
    for (const u of program.uniforms) u.destroy();
  }

  private createUniform(words: Uint32Array): GPUBuffer {
    const b = this.device.createBuffer({
      size: Math.max(16, Math.ceil(words.byteLength / 16) * 16),
      usage: 0x40 | 0x08, // UNIFORM | COPY_DST
      mappedAtCreation: true,
    });
    new Uint32Array(b.getMappedRange()).set(words);
    b.unmap();
    return b;
  }

  /**
   * Decides every buffer of a flush before anything is encoded: a storage gets one the first time
   * a live dispatch binds it, and gives it back after its last use in the queue when no tensor
   * holds it, so later dispatches of the same flush reuse it. An allocation that fails throws
   * here, with the pool as it was and nothing encoded.
   */
  private plan(queue: Dispatch[], live: boolean[]): FlushPlan {
    const lastUse = new Map<Storage, number>();
    queue.forEach((d, i) => d.storages.forEach((st) => lastUse.set(st, i)));
    const assign = new Map<Storage, GPUBuffer>();
    const reusable = new Map<number, GPUBuffer[]>();
    const fromPool: GPUBuffer[] = [];
    const bindings: GPUBuffer[][] = [];
    const releasedAt: Storage[][] = [];
    try {
      for (let i = 0; i < queue.length; i++) {
        const d = queue[i]!;
        if (live[i]) {
          bindings[i] = d.storages.map((st) => {
            let buffer = st.buffer ?? assign.get(st);
            if (!buffer) {
              const size = this.pool.classOf(st.byteLength);
              buffer = reusable.get(size)?.pop();
              if (!buffer) {
                buffer = this.pool.acquire(st.byteLength);
                fromPool.push(buffer);
              }
              assign.set(st, buffer);
            }
            return buffer;
          });
        }
        const done: Storage[] = [];
        for (const st of new Set(d.storages)) {
          if (lastUse.get(st) !== i || st.handles > 0 || st.released) continue;
          done.push(st);
          const buffer = st.buffer ?? assign.get(st);
          if (!buffer || st.external) continue;
          const size = this.pool.sizeOf(buffer);
          const list = reusable.get(size);
          if (list) list.push(buffer);
          else reusable.set(size, [buffer]);
        }
        if (done.length > 0) releasedAt[i] = done;
      }
    } catch (err) {
      for (const b of fromPool) this.pool.release(b);
      throw err;
    }
    return { assign, bindings, releasedAt, toPool: [...reusable.values()].flat() };
  }

  /** Marks dispatches whose written storages someone can still read (walking backwards). */
  private liveDispatches(queue: Dispatch[]): boolean[] {
    const live = new Array<boolean>(queue.length).fill(false);
    const needed = new Set<Storage>();
    for (let i = queue.length - 1; i >= 0; i--) {
      const d = queue[i]!;
      const bindings = d.kernel.bindings;
      let alive = false;
      for (let b = 0; b < bindings.length; b++) {
        const s = d.storages[b]!;
        if (bindings[b] === 'rw' && (s.handles > 0 || needed.has(s))) alive = true;
      }
      if (!alive) continue;
      live[i] = true;
      for (const s of d.storages) needed.add(s);
    }
    return live;
  }

  private encode(pass: GPUComputePassEncoder, d: Dispatch, buffers: GPUBuffer[]): void {
    const pipeline = this.pipelines.pipeline(d.kernel, d.constants);
    const paramBuffer = this.paramBuffer(d.params);
    // Parameter buffers are cached by content, so the buffer's identity stands for its values.
    let key = `${pipeline.label}|${this.pool.idOf(paramBuffer)}`;
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: paramBuffer } }];
    for (let b = 0; b < d.storages.length; b++) {
      const size = Math.ceil(d.storages[b]!.byteLength / 4) * 4;
      key += `|${this.pool.idOf(buffers[b]!)}:${size}`;
      entries.push({ binding: b + 1, resource: { buffer: buffers[b]!, offset: 0, size } });
    }
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, this.pipelines.bindGroup(pipeline, key, entries));
    pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
    this.counters.dispatches++;
  }

  private encodeNaNFill(pass: GPUComputePassEncoder, buffer: GPUBuffer, byteLength: number): void {
    const n = Math.ceil(byteLength / 4);
    const words = new Uint32Array(16);
    words[0] = n;
    words[3] = 0x7fc00000;
    const groups = Math.ceil(n / 256);
    const x = Math.min(groups, 65535);
    const pipeline = this.pipelines.pipeline(this.fillKernel!, { OP: 0 });
    const paramBuffer = this.paramBuffer(words);
    const bg = this.pipelines.bindGroup(pipeline, `${pipeline.label}|nan|${n}|${this.pool.idOf(buffer)}`, [
      { binding: 0, resource: { buffer: paramBuffer } },
      { binding: 1, resource: { buffer, offset: 0, size: n * 4 } },
    ]);
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bg);
    pass.dispatchWorkgroups(x, Math.ceil(groups / x), 1);
  }

  /** After a dispatch is encoded: its uses are done, and storages whose last use it was lose their buffer (planned). */
  private retire(d: Dispatch, released: Storage[] | undefined): void {
    for (const st of d.storages) st.pendingUses--;
    for (const st of released ?? []) {
      st.released = true;
      st.buffer = null;
    }
  }

  /** Copies a storage back to the host. Flushes recorded work first; resolves when the GPU is done. */
  async read(s: Storage, byteLength: number): Promise<ArrayBuffer> {
    const bytes = await this.copyOut(s, byteLength);
    await this.checkAnomaly();
    return bytes;
  }

  private async copyOut(s: Storage, byteLength: number): Promise<ArrayBuffer> {
    this.assertAlive();
    if (this.capture) {
      // The read's promise rejects, and endCapture() refuses the capture (fn may not await it).
      this.capture.refusal = READ_IN_CAPTURE;
      throw new CaptureError(READ_IN_CAPTURE);
    }
    this.flush();
    if (!s.buffer) throw new Error(`internal: storage ${s.id} has no buffer to read`);
    const size = Math.ceil(byteLength / 4) * 4;
    const staging = this.device.createBuffer({ size, usage: 0x01 | 0x08 }); // MAP_READ | COPY_DST
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(s.buffer, 0, staging, 0, size);
    this.device.queue.submit([encoder.finish()]);
    this.counters.submits++;
    this.counters.readbacks++;
    try {
      await staging.mapAsync(0x0001); // GPUMapMode.READ
      return staging.getMappedRange(0, byteLength).slice(0);
    } catch (err) {
      this.assertAlive();
      // The lost promise may settle just after the failed map: give it that moment.
      await Promise.race([this.device.lost, new Promise((r) => setTimeout(r, 50))]);
      this.assertAlive();
      throw err;
    } finally {
      staging.destroy();
    }
  }
}
