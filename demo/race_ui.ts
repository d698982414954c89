// The race panel's page elements, and its table of the three runners (one column per variant,
// one row per figure, so that it fits a phone's width).
import { RACE_LABELS, RACE_VARIANTS, type RaceFields, type RaceVariant } from './race_settings.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

export const raceUi = {
  status: $('race-status'),
  note: $('race-note'),
  lockNote: $('race-lock-note'),
  start: $<HTMLButtonElement>('race-start'),
  pause: $<HTMLButtonElement>('race-pause'),
  reset: $<HTMLButtonElement>('race-reset'),
  table: $('race-table'),
  chart: $('race-chart'),
  axis: $<HTMLSelectElement>('race-axis'),
};

export const raceFields: RaceFields = {
  seed: $<HTMLInputElement>('race-seed'),
  batch: $<HTMLInputElement>('race-batch'),
  lr: { full: $<HTMLInputElement>('race-lr-full'), sgd: $<HTMLInputElement>('race-lr-sgd'), minibatch: $<HTMLInputElement>('race-lr-minibatch') },
  seconds: $<HTMLInputElement>('race-seconds'),
};

/** Line colours per variant (Okabe–Ito: told apart with colour-blindness too). */
export const RACE_COLOURS: Record<RaceVariant, string> = { full: '#0072b2', sgd: '#d55e00', minibatch: '#009e73' };

/** The figures the table shows for one variant, already formatted. */
export type RunnerFigures = Record<RaceRow, string>;
export type RaceRow = 'batch' | 'lr' | 'updates' | 'samples' | 'updatesPerS' | 'samplesPerS' | 'trainLoss' | 'evalLoss' | 'state';

const ROWS: [RaceRow, string][] = [
  ['batch', 'samples per update'],
  ['lr', 'learning rate'],
  ['updates', 'updates'],
  ['samples', 'samples seen'],
  ['updatesPerS', 'updates / s'],
  ['samplesPerS', 'samples / s'],
  ['trainLoss', 'training loss'],
  ['evalLoss', 'loss on the evaluation batch'],
  ['state', 'state'],
];

/** The cells of the table, by variant and row, made once. */
const cells = new Map<string, HTMLTableCellElement>();

function buildTable(): void {
  const table = document.createElement('table');
  table.className = 'race-table';
  const caption = table.createCaption();
  caption.textContent = 'Each variant so far';
  caption.className = 'visually-hidden';
  const head = table.createTHead().insertRow();
  const corner = document.createElement('td');
  head.append(corner);
  for (const v of RACE_VARIANTS) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.innerHTML = `<span class="swatch" style="background:${RACE_COLOURS[v]}"></span>`;
    th.append(RACE_LABELS[v]);
    head.append(th);
  }
  const body = table.createTBody();
  for (const [row, label] of ROWS) {
    const tr = body.insertRow();
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = label;
    tr.append(th);
    for (const v of RACE_VARIANTS) {
      const td = tr.insertCell();
      td.dataset.testid = `race-${v}-${row}`;
      td.textContent = '–';
      cells.set(`${v}/${row}`, td);
    }
  }
  raceUi.table.replaceChildren(table);
}
buildTable();

export function showFigures(variant: RaceVariant, figures: Partial<RunnerFigures>): void {
  for (const [row, text] of Object.entries(figures) as [RaceRow, string][]) {
    const td = cells.get(`${variant}/${row}`)!;
    if (td.textContent !== text) td.textContent = text;
    if (row === 'state') td.classList.toggle('bad', text.startsWith('diverged'));
  }
}

/** A count with thousands separators; a rate with 3 significant digits. */
export const fmtCount = (n: number): string => Math.round(n).toLocaleString('en');
export const fmtRate = (n: number): string => (Number.isFinite(n) ? (n >= 100 ? fmtCount(n) : n.toPrecision(3)) : '–');
