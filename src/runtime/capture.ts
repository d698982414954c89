// Capturing a step as a program: while a capture is open the scheduler keeps every dispatch
// recorded (nothing is flushed); endCapture() plans the buffers once, builds the bind groups of each
// dispatch and returns a Program that replays the step in one submit (see program.ts).
import { CaptureError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { Region } from './buffers.js';
import type { Dispatch } from './dispatch.js';
import { bindingSize, bindsTwice } from './dispatch.js';
import type { PipelineCache } from './pipelines.js';
import type { ProgramStep } from './program.js';
import { peekStorageId, Storage } from './storage.js';

export const READ_IN_CAPTURE =
  'captureStep: the captured step read a value back (data(), item(), ...); a replay runs no JavaScript, so return the tensor from the step and read it afterwards.';

const HELD_THEN_DISPOSED =
  'captureStep: the step reads a tensor made before it and then disposes it (for example gradients ' +
  'accumulated because the step does not start with optimizer.zeroGrad()); a replay would read a stale ' +
  'value. Clear the gradients at the start of the step, or pass the tensor in as an argument.';

/** A step being captured: what it made, and the checks its inputs need on replay. */
export class CaptureSession {
  /** Storages with this id or above were made during the capture. */
  readonly firstStorageId = peekStorageId();
  /** The program's input slots, in argument order. */
  readonly inputs: Storage[] = [];
  /** Per input slot, checks to run on the tensor handed to each replay (e.g. label ranges). */
  private readonly checks = new Map<Storage, ((t: Tensor) => void)[]>();
  /** Why this capture cannot become a program, when something it did cannot be replayed. */
  refusal: string | null = null;

  /** Makes an input slot in `region` (the program's from now on) and copies the bytes of `src` from `byteOffset` into it (one submit). */
  addInput(device: GPUDevice, region: Region, src: Storage, byteOffset: number, byteLength: number): Storage {
    if (!src.buffer) throw new Error(`internal: storage ${src.id} has no buffer to capture`);
    const s = new Storage(Math.max(4, byteLength));
    s.region = region;
    s.programOwned = true;
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(src.buffer, src.offset + byteOffset, region.buffer, region.offset, bindingSize(byteLength));
    device.queue.submit([encoder.finish()]);
    this.inputs.push(s);
    return s;
  }

  addInputCheck(s: Storage, check: (t: Tensor) => void): void {
    if (!this.inputs.includes(s)) return;
    const list = this.checks.get(s);
    if (list) list.push(check);
    else this.checks.set(s, [check]);
  }

  /** The checks of each input slot, in argument order. */
  inputChecks(): ((t: Tensor) => void)[][] {
    return this.inputs.map((s) => this.checks.get(s) ?? []);
  }

  /**
   * Splits the storages the live dispatches and the outputs bind into those made before the
   * capture (held by the program: parameters, optimizer state) and those made during it (owned),
   * and lists the held ones the step writes in place (each replay bumps their versions).
   */
  partition(queue: readonly Dispatch[], live: readonly boolean[], outputs: readonly Storage[]): { held: Set<Storage>; made: Set<Storage>; updated: Storage[] } {
    if (this.refusal) throw new CaptureError(this.refusal);
    const held = new Set<Storage>();
    const made = new Set<Storage>(this.inputs);
    const note = (s: Storage): void => void (s.id < this.firstStorageId ? held : made).add(s);
    queue.forEach((d, i) => live[i] && d.storages.forEach(note));
    outputs.forEach(note);
    for (const s of held) if (s.handles === 0) throw new CaptureError(HELD_THEN_DISPOSED);
    const updated = new Set<Storage>();
    queue.forEach((d, i) => live[i] && d.kernel.bindings.forEach((access, b) => access === 'rw' && held.has(d.storages[b]!) && updated.add(d.storages[b]!)));
    return { held, made, updated: [...updated] };
  }
}

/**
 * Uniform buffers of a program: one per refreshable dispatch (its words change per replay), shared
 * between dispatches whose words are equal and fixed.
 */
export class ProgramUniforms {
  readonly created: GPUBuffer[] = [];
  private readonly shared = new Map<string, GPUBuffer>();

  constructor(private readonly create: (words: Uint32Array) => GPUBuffer) {}

  for(d: Dispatch): GPUBuffer {
    const key = d.refresh ? null : d.params.join(',');
    const known = key === null ? undefined : this.shared.get(key);
    if (known) return known;
    const b = this.create(d.params);
    this.created.push(b);
    if (key !== null) this.shared.set(key, b);
    return b;
  }
}

/** One dispatch of a program: its pipeline and bind groups of its own over the planned buffers. */
export function programStep(
  pipelines: PipelineCache,
  d: Dispatch,
  regions: readonly Region[],
  uniform: GPUBuffer,
  idOf: (b: GPUBuffer) => number,
): ProgramStep {
  const pipeline = pipelines.pipeline(d.kernel, d.constants, bindsTwice(d));
  const sizes = d.storages.map((st) => bindingSize(st.byteLength));
  const bindGroups = pipelines.groupsFor(pipeline, uniform, regions, sizes, idOf, false);
  return {
    pipeline,
    bindGroups,
    workgroups: d.workgroups,
    uniform,
    words: d.params,
    ...(d.refresh ? { refresh: d.refresh } : {}),
    ...(d.valid ? { valid: d.valid } : {}),
  };
}
