// Views of the model: digit tiles, the confusion matrix, first-layer weights, probabilities.

/** Draws 784 values in [0, 1] as a 28×28 greyscale image (white ink on black). */
export function drawDigit(canvas: HTMLCanvasElement, pixels: ArrayLike<number>): void {
  canvas.width = 28;
  canvas.height = 28;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.round(Math.min(1, Math.max(0, pixels[i]!)) * 255);
    img.data.set([v, v, v, 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
}

export function renderDigits(container: HTMLElement, images: Float32Array, labels: Int32Array, predicted: Int32Array | null, count: number): void {
  container.replaceChildren();
  for (let i = 0; i < count; i++) {
    const cell = document.createElement('div');
    const wrong = predicted !== null && predicted[i] !== labels[i];
    cell.className = `digit${wrong ? ' wrong' : ''}`;
    const canvas = document.createElement('canvas');
    drawDigit(canvas, images.subarray(i * 784, (i + 1) * 784));
    const label = document.createElement('span');
    label.textContent = predicted ? String(predicted[i]) : '?';
    cell.title = `true ${labels[i]}${predicted ? `, predicted ${predicted[i]}` : ''}`;
    cell.append(canvas, label);
    container.append(cell);
  }
}

export function renderConfusion(container: HTMLElement, matrix: number[][]): void {
  const table = document.createElement('table');
  table.className = 'confusion';
  const head = table.insertRow();
  head.append(document.createElement('th'));
  for (let c = 0; c < 10; c++) {
    const th = document.createElement('th');
    th.textContent = String(c);
    head.append(th);
  }
  const max = Math.max(1, ...matrix.flat());
  matrix.forEach((row, r) => {
    const tr = table.insertRow();
    const th = document.createElement('th');
    th.textContent = String(r);
    tr.append(th);
    row.forEach((count, c) => {
      const td = tr.insertCell();
      td.textContent = count ? String(count) : '';
      if (!count && r !== c) return;
      const t = Math.sqrt(count / max);
      const [rgb, alpha]: [number[], number] = r === c ? [[31, 143, 78], 0.1 + 0.8 * t] : [[212, 63, 58], 0.15 + 0.85 * t];
      const background = rgb.map((v) => Math.round(255 - alpha * (255 - v)));
      td.style.background = `rgb(${background.join(', ')})`;
      td.style.color = readableInk(background);
    });
  });
  container.replaceChildren(table);
}

/** Black or white, whichever reads better on `rgb` (at least 4.6:1 contrast either way, WCAG's AA asks 4.5). */
function readableInk(rgb: number[]): string {
  const linear = rgb.map((v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4));
  const luminance = 0.2126 * linear[0]! + 0.7152 * linear[1]! + 0.0722 * linear[2]!;
  return 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 ? '#fff' : '#000';
}

/**
 * First-layer weights as images, `perRow` tiles a row, each scaled by its own largest |w|: the rows of
 * the MLP's W1 [units, 784] as 28×28 tiles, or the CNN's conv1 filters [6, 1, 5, 5] as 5×5 tiles.
 */
export function renderWeights(canvas: HTMLCanvasElement, w: Float32Array, units: number, side = 28, perRow = 16): void {
  const area = side * side;
  const rows = Math.ceil(units / perRow);
  const tile = side + 1;
  canvas.width = perRow * tile - 1;
  canvas.height = rows * tile - 1;
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const img = ctx.createImageData(side, side);
  for (let u = 0; u < units; u++) {
    let max = 1e-12;
    for (let i = 0; i < area; i++) max = Math.max(max, Math.abs(w[u * area + i]!));
    for (let i = 0; i < area; i++) {
      const v = w[u * area + i]! / max;
      const a = Math.round(Math.abs(v) * 255);
      // Diverging: blue for negative, red for positive, white at 0.
      const [r, g, b] = v >= 0 ? [255, 255 - a, 255 - a] : [255 - a, 255 - a, 255];
      img.data.set([r, g, b, 255], i * 4);
    }
    ctx.putImageData(img, (u % perRow) * tile, Math.floor(u / perRow) * tile);
  }
}

export function renderProbabilities(container: HTMLElement, probs: number[] | null): void {
  container.replaceChildren();
  for (let d = 0; d < 10; d++) {
    const p = probs ? probs[d]! : 0;
    const label = document.createElement('span');
    label.textContent = String(d);
    const track = document.createElement('div');
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.width = `${Math.round(p * 100)}%`;
    track.append(bar);
    const value = document.createElement('span');
    value.textContent = probs ? `${(p * 100).toFixed(1)}%` : '';
    container.append(label, track, value);
  }
}

export function softmax(logits: ArrayLike<number>): number[] {
  const m = Math.max(...Array.from(logits));
  const e = Array.from(logits, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
