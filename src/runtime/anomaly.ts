// Anomaly detection: after every dispatch that writes float32 values, a check kernel records (on
// the GPU, without waiting) the sequence number of the first dispatch that wrote a NaN or an
// infinity into a flag buffer; the next readback reads the flag and reports the op by its label.
import { AnomalyError } from '../errors.js';
import type { Dispatch } from './dispatch.js';
import { grid } from './dispatch.js';
import { checkKernel } from './kernels.js';
import type { Storage } from './storage.js';

/** The flag's value while nothing has been found. */
const CLEAR = 0xffffffff;

export class AnomalyDetector {
  private readonly labels = new Map<number, string>();
  private seq = 0;
  /** The last sequence number reported: a flag read at or below it was already reported by a concurrent read. */
  private reported = 0;

  /** @param flag - a one-word storage holding CLEAR (the scheduler uploads it and holds a handle). */
  constructor(readonly flag: Storage) {}

  /** The dispatches that check what `d` writes, each labelled for the report. */
  checksFor(d: Dispatch, label: string): Dispatch[] {
    if (!d.kernel.floatOutputs) return [];
    const checks: Dispatch[] = [];
    d.kernel.bindings.forEach((access, b) => {
      if (access !== 'rw') return;
      const s = d.storages[b]!;
      const name = label || `${d.kernel.family}.${d.kernel.entry}`;
      const n = Math.floor(s.byteLength / 4);
      // Each replay of a captured step is a new dispatch with its own number: a report clears
      // only the numbers up to it, so a later replay that fails again is reported again.
      const words = (): Uint32Array<ArrayBuffer> => Uint32Array.of(n, this.number(name), 0, 0);
      checks.push({ kernel: checkKernel, params: words(), refresh: words, storages: [s, this.flag], workgroups: grid(n) });
    });
    return checks;
  }

  /** A new sequence number for a check, labelled for its report. */
  private number(label: string): number {
    const seq = ++this.seq;
    this.labels.set(seq, label);
    // Keep the label map bounded: only recent dispatches can still be the first to fail unread.
    this.labels.delete(seq - 100_000);
    return seq;
  }

  /** The error for a flag value read back, or null when it is clear or already reported. */
  errorFor(flagValue: number): AnomalyError | null {
    // Sequence numbers only grow, so a value at or below the last report was read before the reset.
    if (flagValue === CLEAR || flagValue <= this.reported) return null;
    this.reported = flagValue;
    const label = this.labels.get(flagValue) ?? `dispatch #${flagValue}`;
    return new AnomalyError(
      `anomaly detection: ${label} produced a NaN or infinity (the first op to do so since detection was turned on or since the last report).`,
    );
  }

  /** The words that reset the flag once its finding was reported. */
  static readonly clearWords = Uint32Array.of(CLEAR);
}
