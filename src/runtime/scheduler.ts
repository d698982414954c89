// The graph scheduler: its core (the queue, flush, parked work, host writes and reads) is
// SchedulerBase (scheduler_base.ts); here, captured steps — a step's recorded work becomes a
// Program with its own buffers and bind groups, replayed in one submit (capture.ts, program.ts).

import { CaptureError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { Region } from './buffers.js';
import { CaptureSession, ProgramUniforms, programStep } from './capture.js';
import { createUniform } from './encoder.js';
import { fuseQueue } from './fusion.js';
import { liveDispatches, planBuffers } from './plan.js';
import { Program, type RunSource, type StoredRunSource, type UniformCopy } from './program.js';
import { SchedulerBase } from './scheduler_base.js';
import type { Storage } from './storage.js';

export type { Counters, Dispatch } from './dispatch.js';
export { Storage } from './storage.js';

export class Scheduler extends SchedulerBase {
  /** True while a step is being captured (captureStep's first call for a shape). */
  get capturing(): boolean {
    return this.capture !== null;
  }

  /** Starts capturing: pending work is realised first, so the program holds only the step's own. */
  beginCapture(): void {
    if (this.capture) throw new CaptureError('captureStep: a captured step cannot call another captured step.');
    this.assertAlive();
    // Parked eager work runs now: a program must not recompute eager values from inputs that change.
    this.requeue(this.parking.takeAll());
    this.flush({ park: false });
    this.capture = new CaptureSession();
  }

  /** An input slot of the step being captured: a program-owned copy of a realised region. */
  captureInput(src: Storage, byteOffset: number, byteLength: number): Storage {
    this.counts.submits++;
    return this.capture!.addInput(this.device, this.pool.acquireOwn(Math.max(4, byteLength)), src, byteOffset, byteLength);
  }

  /** Ops call this for checks that depend on an input's values (label ranges): replays run them too. */
  addInputCheck(s: Storage, check: (t: Tensor) => void): void {
    this.capture?.addInputCheck(s, check);
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
   * Ends a capture: plans the recorded step's buffers once, builds a bind group per dispatch, runs the
   * step (one submit) and returns it as a program, with copies of `outputs` made by this run. Storages
   * made before the capture that it binds (parameters, optimizer state) are held by the program;
   * everything made during it lives in buffers the program owns.
   */
  endCapture(outputs: Storage[]): { program: Program; inputChecks: ((t: Tensor) => void)[][]; results: Storage[] } {
    const capture = this.capture!;
    this.assertAlive();
    // No packs: a program's results each have a buffer of their own.
    this.queue = fuseQueue(this.queue, this.ctx.limits.maxStorageBuffersPerShaderStage, false);
    const queue = this.queue;
    // Refusals come before planning, so a refused capture has taken no buffer.
    const { held, made, updated } = capture.partition(queue, liveDispatches(queue), outputs);
    // A program's storages get buffers of their own (a gradient it makes keeps its buffer under gpuBuffer).
    const plan = planBuffers(queue, this.pool.ownSource);
    for (const s of held) {
      s.handles++;
      s.programHolds++;
    }
    this.capture = null;
    this.queue = [];
    for (const s of made) s.programOwned = true;
    const uniforms = new ProgramUniforms((words) => createUniform(this.device, words));
    const steps = [] as Program['steps'][number][];
    this.walk(queue, plan, (d, buffers) => steps.push(programStep(this.pipelines, d, buffers, uniforms.for(d), (b) => this.pool.idOf(b))));
    const owned = new Set<Region>(plan.assign.values());
    for (const s of made) if (s.region) owned.add(s.region);
    const slot = (s: Storage): { region: Region; byteLength: number } => ({ region: (s.region ?? plan.assign.get(s))!, byteLength: s.byteLength });
    const program = new Program(steps, capture.inputs.map(slot), outputs.map(slot), [...owned], uniforms.created, made, held, updated);
    return { program, inputChecks: capture.inputChecks(), results: this.run(program, null) };
  }

  /**
   * Replays a captured program `runs` times in one submit: run k copies its inputs from each
   * source at byteOffset + k · stride (contiguous regions of realised storages) and its results
   * to k · resultStrides[i] bytes into result i. Returns null, running nothing, when the program
   * no longer stands for the step.
   */
  replay(program: Program, sources: readonly StoredRunSource[], runs: number, resultStrides: readonly number[]): Storage[] | null {
    this.assertAlive();
    if (program.disposed) throw new CaptureError('captureStep: this captured step was disposed.');
    if (program.staleReason() !== null) return null;
    // The sources must be in memory, and parked maps that read what the program updates run first.
    this.unpark(sources.flatMap(({ storage }) => this.parking.rootsFor(storage, false)));
    // (No map that reads a storage a program binds is parked after its capture: blocksParking.)
    for (const s of program.updatedStorages) this.unpark(this.parking.rootsFor(s, true));
    this.flush({ demand: sources.map((s) => s.storage), overwritten: [...program.updatedStorages] });
    const copies = program.refresh(this.device, runs);
    const runSources = sources.map(({ storage, byteOffset, stride }) => ({ buffer: storage.buffer!, byteOffset: storage.offset + byteOffset, stride }));
    const results = this.run(program, runSources, runs, resultStrides, copies);
    // Parameters and optimizer state were updated in place, once per run, as eager steps would have done.
    for (const s of program.updatedStorages) s.version += runs;
    return results;
  }

  /** Runs a program `runs` times in one submit (inputs copied in from `sources`, or already in place when null). */
  private run(program: Program, sources: RunSource[] | null, runs = 1, strides?: readonly number[], copies: UniformCopy[][] = []): Storage[] {
    const results = program.submit(this.device, this.pool, runs, sources, strides, copies);
    this.counts.submits++;
    this.counts.programDispatches += program.steps.length * runs;
    return results;
  }

  /** Gives a program's buffers back: those no live tensor still uses return to the pool. */
  disposeProgram(program: Program): void {
    program.release(this.pool, (s) => this.maybeRelease(s));
  }
}
