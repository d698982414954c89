// Turns benchmark measurements into the printed table (webgrad / peer ratios against the peer's
// better setting, each target marked), a JSON file and an HTML chart under bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';

export interface Measurement {
  kind: string;
  label: string;
  lib: string;
  unit: string;
  median: number;
  min: number;
  max: number;
  values: number[];
  check: string;
}

export interface Target {
  kind: string;
  label: string;
  /** webgrad must reach this multiple of the best peer (for µs/op, lower is better). */
  ratio: number;
}

const lowerIsBetter = (unit: string) => unit.startsWith('µs') || unit.startsWith('ms');

/**
 * The table: webgrad, each peer, then `extras` (other webgrad modes, shown but not compared), and
 * the ratio of webgrad to the better peer with the target it must meet.
 */
export function report(name: string, adapter: unknown, results: Measurement[], targets: Target[], peers: string[], extras: string[] = []): string {
  const lines: string[] = [];
  const date = new Date().toISOString();
  lines.push(`${name} — ${date}`);
  lines.push(`adapter: ${JSON.stringify(adapter)}`);
  lines.push('');
  const header = ['benchmark', 'webgrad', ...peers, ...extras, 'ratio (vs best peer)', 'target'];
  const rows: string[][] = [];
  const keys = [...new Set(results.map((r) => `${r.kind}|${r.label}`))];
  for (const key of keys) {
    const [kind, label] = key.split('|') as [string, string];
    const of = (lib: string) => results.find((r) => r.kind === kind && r.label === label && r.lib === lib);
    const ours = of('webgrad');
    if (!ours) continue;
    const peerMs = peers.map(of);
    const present = peerMs.filter((m): m is Measurement => !!m);
    const low = lowerIsBetter(ours.unit);
    const best = present.length ? (low ? Math.min(...present.map((m) => m.median)) : Math.max(...present.map((m) => m.median))) : NaN;
    const ratio = low ? best / ours.median : ours.median / best;
    const target = targets.find((t) => t.kind === kind && t.label === label);
    const fmt = (m?: Measurement) =>
      m ? `${m.median.toFixed(m.median < 10 ? 2 : 0)} (${m.min.toFixed(m.min < 10 ? 2 : 0)}–${m.max.toFixed(m.max < 10 ? 2 : 0)})` : '—';
    rows.push([
      `${kind} ${label} [${ours.unit}]`,
      fmt(ours),
      ...peerMs.map(fmt),
      ...extras.map((lib) => fmt(of(lib))),
      Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '—',
      target ? `≥ ${target.ratio}×: ${ratio >= target.ratio ? 'met' : 'NOT met'}` : '',
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  lines.push(line(header));
  lines.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) lines.push(line(r));
  const text = lines.join('\n');

  mkdirSync('bench/results', { recursive: true });
  const stamp = date.replace(/[:.]/g, '-');
  writeFileSync(`bench/results/${name}-${stamp}.json`, JSON.stringify({ name, date, adapter, results, targets }, null, 2));
  const bars = rows
    .map((r) => {
      const ratio = Number.parseFloat(r[r.length - 2]!);
      const width = Number.isFinite(ratio) ? Math.min(600, ratio * 60) : 0;
      return `<tr><td>${r[0]}</td><td><div style="background:${ratio >= 1 ? '#3656d6' : '#d43f3a'};width:${width}px;height:14px"></div></td><td>${r[r.length - 2]}</td><td>${r[r.length - 1]}</td></tr>`;
    })
    .join('\n');
  writeFileSync(
    `bench/results/${name}-${stamp}.html`,
    `<!doctype html><meta charset="utf-8"><title>${name}</title><body style="font-family:system-ui"><h1>${name}</h1><p>${date} · ${JSON.stringify(adapter)}</p>` +
      `<p>webgrad ÷ best peer (the 1× mark is 60 px)</p><table>${bars}</table><pre>${text.replace(/</g, '&lt;')}</pre></body>`,
  );
  return text;
}
