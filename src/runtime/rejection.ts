// Work WebGPU rejects. A flush is one submit; if it binds an application's buffer (fromGPUBuffer)
// that was destroyed, WebGPU rejects the whole submit and nothing in it runs. Such flushes are
// submitted inside a validation scope: on a rejection, every storage the flush was to write is
// marked (Storage.rejected), as is anything later computed from one, and reading one fails with
// the reason instead of returning the zeros its memory holds.
import { ValueError } from '../errors.js';
import type { Dispatch } from './dispatch.js';
import type { Storage } from './storage.js';

/** The storages a dispatch writes. */
const writtenBy = (d: Dispatch): Storage[] => d.storages.filter((_, b) => d.kernel.bindings[b] === 'rw');

/** Why a storage has no value: its own rejection, or its pack's. */
const rejectionOf = (s: Storage): string | null => s.rejected ?? s.pack?.rejected ?? null;

/** Whether a flush binds an application's buffer, so that WebGPU may reject its submit. */
export const bindsApplicationBuffer = (queue: readonly Dispatch[]): boolean => queue.some((d) => d.storages.some((s) => s.external));

export class SubmitVerdicts {
  /** Settles once every checked submit so far has been judged. */
  private judged: Promise<void> = Promise.resolve();
  /** Whether any submit was ever rejected: until then no storage lacks a value, and flushes skip the scan. */
  private anyRejected = false;

  constructor(private readonly device: GPUDevice) {}

  /** Submits a flush's commands; `queue` is what they encode, in order; `checked`: bindsApplicationBuffer(queue). */
  submit(queue: readonly Dispatch[], commands: GPUCommandBuffer, checked: boolean): void {
    if (this.anyRejected) {
      for (const d of queue) {
        // Computed from a storage without a value: no value either.
        const from = d.storages.find((s) => rejectionOf(s) !== null);
        if (from) for (const s of writtenBy(d)) s.rejected = rejectionOf(from);
      }
    }
    if (!checked) {
      this.device.queue.submit([commands]);
      return;
    }
    this.device.pushErrorScope('validation');
    this.device.queue.submit([commands]);
    const written = queue.flatMap(writtenBy);
    const verdict = this.device.popErrorScope().then(
      (error) => {
        if (!error) return;
        this.anyRejected = true;
        for (const s of written) s.rejected ??= error.message.trim();
      },
      () => {},
    );
    this.judged = this.judged.then(() => verdict);
  }

  /** Throws if `s` has no value (after every checked submit so far is judged); `what` names it in the error. */
  async check(s: Storage, what: string): Promise<void> {
    await this.judged;
    const rejected = rejectionOf(s);
    if (rejected !== null) {
      throw new ValueError(
        `data: ${what} has no value: WebGPU rejected the work that computes it (${rejected}). A buffer wrapped with fromGPUBuffer may have been destroyed or used in a way its usage flags do not allow.`,
      );
    }
  }
}
