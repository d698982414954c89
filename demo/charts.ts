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
