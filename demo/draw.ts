// The draw-a-digit canvas (mouse, pen and touch through pointer events) and MNIST's preprocessing:
// the ink's bounding box scaled to fit a 20×20 box (aspect kept, greyscale by area averaging), then
// placed in 28×28 so that its centre of mass sits at the centre.

export class DrawPad {
  private drawing = false;
  private last: { x: number; y: number } | null = null;
  private readonly ctx: CanvasRenderingContext2D;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly onChange: () => void,
  ) {
    this.ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    this.clear();
    canvas.addEventListener('pointerdown', (e) => {
      this.drawing = true;
      canvas.setPointerCapture(e.pointerId);
      this.last = this.point(e);
      this.stroke(this.last);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.drawing) return;
      this.stroke(this.point(e));
    });
    const end = (): void => {
      this.drawing = false;
      this.last = null;
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  clear(): void {
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.onChange();
  }

  private point(e: PointerEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * this.canvas.width, y: ((e.clientY - r.top) / r.height) * this.canvas.height };
  }

  private stroke(p: { x: number; y: number }): void {
    const ctx = this.ctx;
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = this.canvas.width / 12;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(this.last?.x ?? p.x, this.last?.y ?? p.y);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    this.last = p;
    this.onChange();
  }

  /** The drawing as MNIST would have it: 784 values in [0, 1], or null when nothing is drawn. */
  toMnist(): Float32Array | null {
    return mnistPreprocess(this.canvas);
  }
}

export function mnistPreprocess(source: HTMLCanvasElement): Float32Array | null {
  const { width, height } = source;
  const pixels = source.getContext('2d', { willReadFrequently: true })!.getImageData(0, 0, width, height).data;
  let minX = width;
  let minY = height;
  let maxX = -1;
  let maxY = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (pixels[(y * width + x) * 4]! > 20) {
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
        minY = Math.min(minY, y);
        maxY = Math.max(maxY, y);
      }
    }
  }
  if (maxX < 0) return null;
  const w = maxX - minX + 1;
  const h = maxY - minY + 1;
  const scale = 20 / Math.max(w, h);
  const sw = Math.max(1, Math.round(w * scale));
  const sh = Math.max(1, Math.round(h * scale));
  // Scale down in halving steps so the browser's smoothing averages areas rather than sampling.
  let step: HTMLCanvasElement = source;
  let sx = minX;
  let sy = minY;
  let cw = w;
  let ch = h;
  while (cw / 2 > sw && ch / 2 > sh) {
    const half = document.createElement('canvas');
    half.width = Math.ceil(cw / 2);
    half.height = Math.ceil(ch / 2);
    const hctx = half.getContext('2d')!;
    hctx.imageSmoothingQuality = 'high';
    hctx.drawImage(step, sx, sy, cw, ch, 0, 0, half.width, half.height);
    step = half;
    sx = 0;
    sy = 0;
    cw = half.width;
    ch = half.height;
  }
  const small = document.createElement('canvas');
  small.width = sw;
  small.height = sh;
  const sctx = small.getContext('2d', { willReadFrequently: true })!;
  sctx.imageSmoothingQuality = 'high';
  sctx.drawImage(step, sx, sy, cw, ch, 0, 0, sw, sh);
  const data = sctx.getImageData(0, 0, sw, sh).data;
  let mass = 0;
  let cx = 0;
  let cy = 0;
  for (let y = 0; y < sh; y++) {
    for (let x = 0; x < sw; x++) {
      const v = data[(y * sw + x) * 4]! / 255;
      mass += v;
      cx += v * x;
      cy += v * y;
    }
  }
  cx /= mass;
  cy /= mass;
  const out = new Float32Array(784);
  const ox = Math.round(14 - cx - 0.5);
  const oy = Math.round(14 - cy - 0.5);
  for (let y = 0; y < sh; y++) {
    for (let x = 0; x < sw; x++) {
      const tx = x + ox;
      const ty = y + oy;
      if (tx >= 0 && tx < 28 && ty >= 0 && ty < 28) out[ty * 28 + tx] = data[(y * sw + x) * 4]! / 255;
    }
  }
  return out;
}
