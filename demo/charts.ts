// Live charts with uPlot: the training loss per step and the test accuracy per epoch.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export class LineChart {
  private readonly plot: uPlot;
  private xs: number[] = [];
  private ys: number[] = [];

  constructor(container: HTMLElement, xLabel: string, yLabel: string, options: { yRange?: [number, number]; points?: boolean; integerX?: boolean } = {}) {
    const width = Math.max(260, container.clientWidth);
    this.plot = new uPlot(
      {
        width,
        height: 200,
        legend: { show: false },
        scales: { x: { time: false }, y: options.yRange ? { range: options.yRange } : { auto: true } },
        axes: [
          { label: xLabel, size: 40, ...(options.integerX ? { incrs: [1, 2, 5, 10, 20, 50, 100] } : {}) },
          { label: yLabel, size: 50 },
        ],
        series: [{}, { stroke: '#3656d6', width: 2, points: { show: options.points ?? false } }],
      },
      [[], []],
      container,
    );
    new ResizeObserver(() => this.plot.setSize({ width: Math.max(260, container.clientWidth), height: 200 })).observe(container);
  }

  push(x: number, y: number): void {
    this.xs.push(x);
    this.ys.push(y);
    this.plot.setData([this.xs, this.ys]);
  }

  /** The points drawn so far (for tests). */
  points(): { x: number[]; y: number[] } {
    return { x: [...this.xs], y: [...this.ys] };
  }

  clear(): void {
    this.xs = [];
    this.ys = [];
    this.plot.setData([[], []]);
  }
}

/** One line of a SeriesChart. */
export interface Series {
  label: string;
  stroke: string;
  dash?: number[];
  points?: boolean;
}

/** Several lines over one x axis, with a legend; a point may be missing from any line (null). */
export class SeriesChart {
  private readonly plot: uPlot;
  private xs: number[] = [];
  private ys: (number | null)[][];

  constructor(container: HTMLElement, xLabel: string, yLabel: string, series: Series[]) {
    this.ys = series.map(() => []);
    const width = Math.max(260, container.clientWidth);
    this.plot = new uPlot(
      {
        width,
        height: 220,
        legend: { show: true, live: false },
        scales: { x: { time: false }, y: { auto: true } },
        axes: [
          { label: xLabel, size: 40 },
          { label: yLabel, size: 50 },
        ],
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, dash: s.dash, spanGaps: true, points: { show: s.points ?? false } }))],
      },
      [[], ...this.ys],
      container,
    );
    new ResizeObserver(() => this.plot.setSize({ width: Math.max(260, container.clientWidth), height: 220 })).observe(container);
  }

  /** Adds the values of every line at `x` (null where a line has none). */
  push(x: number, values: (number | null)[]): void {
    this.xs.push(x);
    this.ys.forEach((ys, i) => ys.push(values[i] ?? null));
    this.plot.setData([this.xs, ...this.ys] as uPlot.AlignedData);
  }

  /** The points drawn so far, per line without the missing ones (for tests). */
  points(): { x: number[]; y: number[] }[] {
    return this.ys.map((ys) => {
      const kept = ys.flatMap((y, i) => (y === null ? [] : [[this.xs[i]!, y] as const]));
      return { x: kept.map(([x]) => x), y: kept.map(([, y]) => y) };
    });
  }

  clear(): void {
    this.xs = [];
    this.ys = this.ys.map(() => []);
    this.plot.setData([[], ...this.ys] as uPlot.AlignedData);
  }
}
