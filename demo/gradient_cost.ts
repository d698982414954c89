// The gradient panel's cost chart: the four ways to a gradient timed on 784-h-10 networks of four
// sizes and drawn against the parameter count on log-log axes, with the same numbers as a table.
// Finite differences and forward mode need a pass per parameter, so their cost grows with the
// count; reverse mode needs one backward pass for all of them.
import uPlot from 'uplot';
import { formatDuration } from '../src/gradient_methods.js';
import { compareGradientMethods, type GradientMethodRow, nn, type Tensor, tensor } from '../src/index.js';
import type { DigitsActions, DigitsLive } from './digits_tools.js';
import { ui } from './digits_ui.js';

type Method = GradientMethodRow['method'];

/** Each line differs by dash as well as colour, so it reads without colour too. */
const METHODS: { method: Method; label: string; stroke: string; dash?: number[] }[] = [
  { method: 'forward-difference', label: 'forward differences', stroke: '#b54708', dash: [8, 4] },
  { method: 'central-difference', label: 'central differences', stroke: '#a3195b', dash: [2, 4] },
  { method: 'forward-mode', label: 'forward-mode AD', stroke: '#177245', dash: [12, 4, 2, 4] },
  { method: 'reverse-mode', label: 'reverse-mode AD', stroke: '#3656d6' },
];
/** Hidden widths of the measured networks: 3,190 to 101,770 parameters. */
const WIDTHS = [4, 16, 64, 128];
/** Parameters timed per way (as the comparison on the live model); the time is scaled by the count. */
const SAMPLES = 8;
const BATCH = 64;

export interface CostPoint {
  hidden: number;
  parameters: number;
  /** Milliseconds for all partial derivatives, per way. */
  ms: Record<Method, number>;
}

/** Times the four ways on one freshly drawn 784-`hidden`-10 network. */
async function measureOne(hidden: number, x: Tensor, y: Tensor): Promise<CostPoint> {
  const fc1 = new nn.Linear(784, hidden, { seed: hidden });
  const fc2 = new nn.Linear(hidden, 10, { seed: hidden + 1 });
  const params = [fc1.weight, fc1.bias!, fc2.weight, fc2.bias!];
  try {
    const loss = (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor): Tensor =>
      nn.functional.crossEntropy(nn.functional.linear(nn.functional.linear(x, w1, b1).relu(), w2, b2), y);
    const result = await compareGradientMethods(loss as (...ps: Tensor[]) => Tensor, params, { samples: SAMPLES });
    const ms = Object.fromEntries(result.rows.map((r) => [r.method, r.msForAll])) as Record<Method, number>;
    return { hidden, parameters: result.parameters, ms };
  } finally {
    params.forEach((p) => p.dispose());
  }
}

/** A duration short enough for an axis label: 5 ms, 20 s, 3 min, 2 h. */
function shortDuration(ms: number): string {
  const short = (v: number, unit: string): string => `${Number(v.toPrecision(2))} ${unit}`;
  if (ms < 1000) return short(ms, 'ms');
  if (ms < 60_000) return short(ms / 1000, 's');
  if (ms < 3_600_000) return short(ms / 60_000, 'min');
  return short(ms / 3_600_000, 'h');
}

/** Ticks at round numbers of parameters and at durations people read (1 s, 1 min, 1 h), inside the range. */
const PARAMETER_TICKS = [1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000];
const DURATION_TICKS = [1, 10, 100, 1000, 10_000, 60_000, 600_000, 3_600_000, 36_000_000, 86_400_000, 864_000_000];
const within = (ticks: number[], min: number, max: number): number[] => ticks.filter((t) => t >= min && t <= max);

/** The log-log chart: one line per way, parameters on x, time on y. */
function drawChart(container: HTMLElement, points: CostPoint[]): uPlot {
  container.replaceChildren();
  const size = (): { width: number; height: number } => ({ width: Math.max(260, container.clientWidth), height: 260 });
  const plot = new uPlot(
    {
      ...size(),
      legend: { show: true, live: false },
      // Margins around the measured points, not whole decades (which would leave most of the plot empty).
      scales: {
        x: { time: false, distr: 3, log: 10, range: (_u, min, max) => [min / 1.5, max * 1.5] },
        y: { distr: 3, log: 10, range: (_u, min, max) => [min / 3, max * 3] },
      },
      axes: [
        {
          label: 'parameters (log scale)',
          size: 44,
          splits: (_u, _axis, min, max) => within(PARAMETER_TICKS, min, max),
          values: (_u, splits) => splits.map((v) => (v == null ? '' : v.toLocaleString('en'))),
        },
        {
          label: 'time for all P (log scale)',
          size: 64,
          splits: (_u, _axis, min, max) => within(DURATION_TICKS, min, max),
          // Every tick labelled (uPlot's log axes otherwise label only some powers of ten).
          filter: (_u, splits) => splits,
          values: (_u, splits) => splits.map((v) => (v == null ? '' : shortDuration(v))),
        },
      ],
      series: [
        { label: 'parameters' },
        ...METHODS.map((m) => ({ label: m.label, stroke: m.stroke, width: 2, dash: m.dash, points: { show: true, size: 8, fill: m.stroke } })),
      ],
    },
    [points.map((p) => p.parameters), ...METHODS.map((m) => points.map((p) => p.ms[m.method]))],
    container,
  );
  new ResizeObserver(() => plot.setSize(size())).observe(container);
  return plot;
}

/** The same numbers as the chart, for screen readers and for reading off exact values. */
function renderTable(container: HTMLElement, points: CostPoint[]): void {
  const table = document.createElement('table');
  table.className = 'gradients cost';
  table.createCaption().textContent = `Time for all partial derivatives of 784-h-10 networks, by parameter count (≈: forward and central differences and forward mode timed on ${SAMPLES} parameters and scaled by the count)`;
  const head = table.createTHead().insertRow();
  // Short headings keep the five columns inside a phone's width; the caption says what the numbers are.
  for (const title of ['parameters', 'forward diff.', 'central diff.', 'forward-mode AD', 'reverse-mode AD']) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = title;
    head.append(th);
  }
  const body = table.createTBody();
  for (const p of points) {
    const row = body.insertRow();
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = `${p.parameters.toLocaleString('en')} (h = ${p.hidden})`;
    row.append(th);
    for (const m of METHODS) row.insertCell().textContent = `${m.method === 'reverse-mode' ? '' : '≈ '}${formatDuration(p.ms[m.method])}`;
  }
  container.replaceChildren(table);
}

/** Wires the "Measure the cost" button; returns the points drawn so far (for tests). */
export function installGradientCost(live: DigitsLive, ctx: Pick<DigitsActions, 'setState'>): () => CostPoint[] {
  let points: CostPoint[] = [];
  let plot: uPlot | null = null;
  ui.measureCost.addEventListener('click', async () => {
    if (live.comparing || !live.dataset) return;
    live.comparing = true;
    ctx.setState(live.state, ui.status.textContent ?? live.state);
    const x = tensor(live.dataset.train.images.subarray(0, BATCH * 784), { shape: [BATCH, 784] }).keep();
    const y = tensor(live.dataset.train.labels.subarray(0, BATCH), { shape: [BATCH], dtype: 'int32' }).keep();
    const measured: CostPoint[] = [];
    try {
      for (const hidden of WIDTHS) {
        ui.costTable.textContent = `timing the 784-${hidden}-10 network (${measured.length + 1} of ${WIDTHS.length})…`;
        measured.push(await measureOne(hidden, x, y));
      }
      points = measured;
      ui.costChart.hidden = false;
      plot?.destroy();
      plot = drawChart(ui.costChart, points);
      renderTable(ui.costTable, points);
    } catch (err) {
      ui.costTable.textContent = `failed: ${(err as Error).message}`;
    } finally {
      x.dispose();
      y.dispose();
      live.comparing = false;
      ctx.setState(live.state, ui.status.textContent ?? live.state);
    }
  });
  return () => points.map((p) => ({ ...p, ms: { ...p.ms } }));
}
