// The training loop's chart points: each is the mean loss of a window of steps, summed on the GPU
// and read back once (a readback also keeps the GPU queue short and lets the page breathe).
import { type Tensor, tidy } from '../src/index.js';

export class LossWindow {
  private losses: Tensor[] = [];
  private steps = 0;
  private start = performance.now();

  constructor(private readonly stepsPerPoint: number) {}

  add(loss: Tensor): void {
    this.losses.push(loss);
    this.steps++;
  }

  /** Whether a point is due: enough steps, half a second, or the epoch's last step. */
  due(last: boolean): boolean {
    return this.steps >= this.stepsPerPoint || performance.now() - this.start > 500 || last;
  }

  /** Starts the window's clock again (after a pause). */
  restart(): void {
    this.start = performance.now();
  }

  /** The window's mean loss, its milliseconds and its steps; the next window starts empty. */
  async close(): Promise<{ mean: number; ms: number; steps: number }> {
    const [losses, steps] = [this.losses, this.steps];
    this.losses = [];
    const sum = tidy(() => losses.reduce((a, b) => a.add(b)));
    const mean = (await sum.item()) / steps;
    sum.dispose();
    for (const t of losses) t.dispose();
    const ms = performance.now() - this.start;
    this.steps = 0;
    this.start = performance.now();
    return { mean, ms, steps };
  }
}
