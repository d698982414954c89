// The race's loss chart: each line keeps its own points (the variants see samples at very different
// rates, so their x values never line up), and the x axis switches between samples seen, updates
// and seconds without losing any point.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** Where a point of a line was taken: a loss after so many samples, updates and seconds. */
export interface RacePoint {
  samples: number;
  updates: number;
  seconds: number;
  loss: number;
}

export type RaceAxis = 'samples' | 'updates' | 'seconds';

export interface RaceLine {
  label: string;
  stroke: string;
  dash?: number[];
  points?: boolean;
  width?: number;
}

const AXIS_LABELS: Record<RaceAxis, string> = {
  samples: 'samples seen (arcsinh scale)',
  updates: 'updates (arcsinh scale)',
  seconds: "seconds of the variant's GPU time",
};
const HEIGHT = 260;

export class RaceChart {
  private plot: uPlot | null = null;
  private readonly lines: RacePoint[][];
  private axis: RaceAxis = 'samples';

  constructor(
    private readonly container: HTMLElement,
    private readonly series: RaceLine[],
  ) {
    this.lines = series.map(() => []);
    this.build();
    new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: HEIGHT })).observe(container);
  }

  private width(): number {
    return Math.max(260, this.container.clientWidth);
  }

  /**
   * A new plot for the current axis. Samples and updates span several orders of magnitude between
   * the variants (full batch takes thousands of samples per update, stochastic one), so they are
   * drawn on an arcsinh scale: linear near 0, logarithmic further out.
   */
  private build(): void {
    this.plot?.destroy();
    const spread = this.axis !== 'seconds';
    this.plot = new uPlot(
      {
        width: this.width(),
        height: HEIGHT,
        legend: { show: true, live: false },
        scales: {
          x: { time: false, ...(spread ? { distr: 4, asinh: 1 } : {}), range: (_u, _min, max) => [0, max > 0 ? max : 1] },
          y: { auto: true },
        },
        axes: [
          {
            label: AXIS_LABELS[this.axis],
            size: 40,
            // uPlot's arcsinh ticks always include -1; nothing here is negative.
            ...(spread ? { values: (_u: uPlot, splits: number[]) => splits.map((v) => (v == null ? null : v < 0 ? '' : v.toLocaleString('en'))) } : {}),
          },
          { label: 'loss', size: 50 },
        ],
        series: [
          {},
          ...this.series.map((s) => ({
            label: s.label,
            stroke: s.stroke,
            width: s.width ?? 2,
            dash: s.dash,
            spanGaps: true,
            points: { show: s.points ?? false },
          })),
        ],
      },
      this.aligned(),
      this.container,
    );
  }

  /** The lines on one shared, sorted x axis (uPlot's form), null where a line has no point. */
  private aligned(): uPlot.AlignedData {
    const xs = [...new Set(this.lines.flatMap((pts) => pts.map((p) => p[this.axis])))].sort((a, b) => a - b);
    const at = new Map(xs.map((x, i) => [x, i]));
    const ys = this.lines.map((pts) => {
      const y: (number | null)[] = new Array(xs.length).fill(null);
      for (const p of pts) y[at.get(p[this.axis])!] = p.loss;
      return y;
    });
    return [xs, ...ys] as uPlot.AlignedData;
  }

  setAxis(axis: RaceAxis): void {
    if (axis === this.axis) return;
    this.axis = axis;
    this.build();
  }

  /** Adds a point to line `i`; call draw() to show it. */
  add(i: number, point: RacePoint): void {
    this.lines[i]!.push(point);
  }

  draw(): void {
    this.plot!.setData(this.aligned());
  }

  /** Each line's points as drawn on the current axis (for tests). */
  points(): { x: number[]; y: number[] }[] {
    return this.lines.map((pts) => ({ x: pts.map((p) => p[this.axis]), y: pts.map((p) => p.loss) }));
  }

  clear(): void {
    for (const pts of this.lines) pts.length = 0;
    this.draw();
  }
}
