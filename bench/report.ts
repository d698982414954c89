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
  /** webgrad must reach this multiple of the group's best setting (for µs/op, lower is better). */
  ratio: number;
  /** The peer group the target is against (its name in `groups`); the first group if absent. */
  group?: string;
}

/** A peer and its settings: the ratio is taken against the best of them, measured in the same run. */
export interface PeerGroup {
  name: string;
  libs: string[];
}

const lowerIsBetter = (unit: string) => unit.startsWith('µs') || unit.startsWith('ms');

/**
 * The table: webgrad, each peer setting, then `extras` (other webgrad modes, shown but not
 * compared), and for each peer group the ratio of webgrad to that group's best setting, with the
 * target it must meet.
 */
export function report(name: string, adapter: unknown, results: Measurement[], targets: Target[], groups: PeerGroup[], extras: string[] = []): string {
  const lines: string[] = [];
  const date = new Date().toISOString();
  lines.push(`${name} — ${date}`);
  lines.push(`adapter: ${JSON.stringify(adapter)}`);
  lines.push('');
  const peers = groups.flatMap((g) => g.libs);
  const header = ['benchmark', 'webgrad', ...peers, ...extras, ...groups.map((g) => `÷ best ${g.name} (target)`)];
  const rows: string[][] = [];
  const keys = [...new Set(results.map((r) => `${r.kind}|${r.label}`))];
  for (const key of keys) {
    const [kind, label] = key.split('|') as [string, string];
    const of = (lib: string) => results.find((r) => r.kind === kind && r.label === label && r.lib === lib);
    const ours = of('webgrad');
    if (!ours) continue;
    const low = lowerIsBetter(ours.unit);
    const fmt = (m?: Measurement) =>
      m ? `${m.median.toFixed(m.median < 10 ? 2 : 0)} (${m.min.toFixed(m.min < 10 ? 2 : 0)}–${m.max.toFixed(m.max < 10 ? 2 : 0)})` : '—';
    const ratioCell = (group: PeerGroup, first: boolean): string => {
      const present = group.libs.map(of).filter((m): m is Measurement => !!m);
      if (!present.length) return '—';
      const best = low ? Math.min(...present.map((m) => m.median)) : Math.max(...present.map((m) => m.median));
      const ratio = low ? best / ours.median : ours.median / best;
      const target = targets.find((t) => t.kind === kind && t.label === label && (t.group ?? (first ? group.name : undefined)) === group.name);
      return `${ratio.toFixed(2)}×${target ? ` (≥ ${target.ratio}×: ${ratio >= target.ratio ? 'met' : 'NOT met'})` : ''}`;
    };
    rows.push([
      `${kind} ${label} [${ours.unit}]`,
      fmt(ours),
      ...peers.map((lib) => fmt(of(lib))),
      ...extras.map((lib) => fmt(of(lib))),
      ...groups.map((g, i) => ratioCell(g, i === 0)),
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
      const cells = r.slice(r.length - groups.length);
      const bar = (cell: string) => {
        const ratio = Number.parseFloat(cell);
        const width = Number.isFinite(ratio) ? Math.min(600, ratio * 60) : 0;
        return `<div style="background:${ratio >= 1 ? '#3656d6' : '#d43f3a'};width:${width}px;height:14px"></div>${cell}`;
      };
      return `<tr><td>${r[0]}</td>${cells.map((c) => `<td>${bar(c)}</td>`).join('')}</tr>`;
    })
    .join('\n');
  writeFileSync(
    `bench/results/${name}-${stamp}.html`,
    `<!doctype html><meta charset="utf-8"><title>${name}</title><body style="font-family:system-ui"><h1>${name}</h1><p>${date} · ${JSON.stringify(adapter)}</p>` +
      `<p>webgrad ÷ each peer's best setting (the 1× mark is 60 px)</p><table>${bars}</table><pre>${text.replace(/</g, '&lt;')}</pre></body>`,
  );
  return text;
}
