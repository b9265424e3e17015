import { h } from '../render/dom.js';
import { paintImage } from '../render/tiles.js';
import { renderTopK } from './topk.js';

/**
 * Draw a digit (or upload an image) and see the network's top-k predictions. Drawings are
 * prepared the way MNIST's digits were: the ink's bounding box scaled into 20x20, then moved
 * so that its centre of mass sits at the centre of the 28x28 frame. Uploaded photos are
 * fitted into the input size; for one channel they become grey, inverted when the
 * background is light (the datasets have light ink on black).
 */

const PAD = 224;

function ctx2d(c: HTMLCanvasElement | OffscreenCanvas): CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D {
  return c.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
}

/** [C, H, W] in [0, 1] from an RGBA canvas of the input's size. */
function toPixels(c: HTMLCanvasElement | OffscreenCanvas, channels: number): Float32Array {
  const { width: w, height: hh } = c;
  const rgba = ctx2d(c).getImageData(0, 0, w, hh).data;
  const plane = w * hh;
  const out = new Float32Array(channels * plane);
  for (let i = 0; i < plane; i++) {
    const [r, g, b] = [rgba[i * 4]!, rgba[i * 4 + 1]!, rgba[i * 4 + 2]!];
    if (channels === 1) out[i] = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    else for (let ch = 0; ch < 3; ch++) out[ch * plane + i] = [r, g, b][ch]! / 255;
  }
  return out;
}

/** MNIST-style framing of a drawing (light ink on black) into a `size` x `size` grey image. */
function frameDigit(src: HTMLCanvasElement, size: number): Float32Array {
  const { width: w, height: hh } = src;
  const data = ctx2d(src).getImageData(0, 0, w, hh).data;
  let [x0, y0, x1, y1] = [w, hh, -1, -1];
  for (let y = 0; y < hh; y++) {
    for (let x = 0; x < w; x++) {
      if (data[(y * w + x) * 4]! > 20) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x);
        y1 = Math.max(y1, y);
      }
    }
  }
  const out = new OffscreenCanvas(size, size);
  const o = ctx2d(out);
  o.fillStyle = '#000';
  o.fillRect(0, 0, size, size);
  if (x1 < 0) return toPixels(out, 1);
  const box = Math.round((size * 20) / 28);
  const scale = box / Math.max(x1 - x0 + 1, y1 - y0 + 1);
  const [bw, bh] = [(x1 - x0 + 1) * scale, (y1 - y0 + 1) * scale];
  o.imageSmoothingQuality = 'high';
  o.drawImage(src, x0, y0, x1 - x0 + 1, y1 - y0 + 1, (size - bw) / 2, (size - bh) / 2, bw, bh);
  // Shift so the centre of mass is at the centre, as MNIST's preparation did.
  const px = toPixels(out, 1);
  let [m, mx, my] = [0, 0, 0];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = px[y * size + x]!;
      m += v;
      mx += v * x;
      my += v * y;
    }
  }
  const [dx, dy] = [Math.round((size - 1) / 2 - mx / m), Math.round((size - 1) / 2 - my / m)];
  const shifted = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sx = x - dx;
      const sy = y - dy;
      if (sx >= 0 && sy >= 0 && sx < size && sy < size) shifted[y * size + x] = px[sy * size + sx]!;
    }
  }
  return shifted;
}

export class DrawPredictView {
  readonly el: HTMLElement;
  private readonly pad = h('canvas', { class: 'draw-pad', id: 'draw-pad', width: PAD, height: PAD });
  private readonly preview = h('canvas', { class: 'example', id: 'draw-input' });
  private readonly topk = h('div', { class: 'topk', id: 'draw-topk' });
  private readonly ink = h('input', { type: 'color', value: '#ffffff', title: 'ink colour' });
  private readonly paper = h('input', { type: 'color', value: '#000000', title: 'background colour', onchange: () => this.clear() });
  private last: Float32Array | null = null;
  classes: string[] = [];
  shape: [number, number, number] = [1, 28, 28];

  constructor(private readonly predict: (pixels: Float32Array) => Promise<Float32Array>) {
    const upload = h('input', { type: 'file', accept: 'image/*', id: 'image-upload', onchange: (e: Event) => void this.upload((e.target as HTMLInputElement).files?.[0]) });
    this.el = h(
      'section',
      { class: 'panel draw-panel' },
      h('h2', {}, 'Draw or upload an image'),
      h('div', { class: 'pair' }, this.pad, h('div', {}, h('figure', {}, this.preview, h('figcaption', {}, 'what the network sees')), this.topk)),
      h('div', { class: 'buttons' }, h('button', { type: 'button', id: 'draw-clear', onclick: () => this.clear() }, 'Clear'), h('label', {}, 'ink ', this.ink), h('label', {}, 'background ', this.paper), h('label', { class: 'upload' }, 'upload ', upload)),
    );
    this.clear();
    this.listen();
  }

  private listen(): void {
    const c = this.pad;
    let drawing = false;
    const at = (e: PointerEvent): [number, number] => {
      const r = c.getBoundingClientRect();
      return [((e.clientX - r.left) / r.width) * c.width, ((e.clientY - r.top) / r.height) * c.height];
    };
    c.addEventListener('pointerdown', (e) => {
      drawing = true;
      c.setPointerCapture(e.pointerId);
      const g = ctx2d(c);
      g.strokeStyle = this.ink.value;
      g.lineWidth = PAD / 12;
      g.lineCap = g.lineJoin = 'round';
      g.beginPath();
      g.moveTo(...at(e));
    });
    c.addEventListener('pointermove', (e) => {
      if (!drawing) return;
      const g = ctx2d(c);
      g.lineTo(...at(e));
      g.stroke();
    });
    const end = (): void => {
      if (!drawing) return;
      drawing = false;
      void this.classifyPad();
    };
    c.addEventListener('pointerup', end);
    c.addEventListener('pointercancel', end);
  }

  clear(): void {
    const g = ctx2d(this.pad);
    g.fillStyle = this.paper.value;
    g.fillRect(0, 0, PAD, PAD);
    this.topk.replaceChildren();
    this.last = null;
  }

  private async classifyPad(): Promise<void> {
    const [c, hh, w] = this.shape;
    let pixels: Float32Array;
    if (c === 1 && hh === w && this.paper.value === '#000000') {
      pixels = frameDigit(this.pad, w);
    } else {
      const small = new OffscreenCanvas(w, hh);
      ctx2d(small).drawImage(this.pad, 0, 0, w, hh);
      pixels = toPixels(small, c);
    }
    await this.classify(pixels);
  }

  private async upload(file: File | undefined): Promise<void> {
    if (!file) return;
    const [c, hh, w] = this.shape;
    const bitmap = await createImageBitmap(file);
    const small = new OffscreenCanvas(w, hh);
    const g = ctx2d(small);
    // Fit (contain) on black, keeping the aspect ratio.
    const s = Math.min(w / bitmap.width, hh / bitmap.height);
    g.fillStyle = '#000';
    g.fillRect(0, 0, w, hh);
    g.drawImage(bitmap, (w - bitmap.width * s) / 2, (hh - bitmap.height * s) / 2, bitmap.width * s, bitmap.height * s);
    const pixels = toPixels(small, c);
    if (c === 1 && pixels.reduce((a, b) => a + b, 0) / pixels.length > 0.5) for (let i = 0; i < pixels.length; i++) pixels[i] = 1 - pixels[i]!;
    await this.classify(pixels);
  }

  private async classify(pixels: Float32Array): Promise<void> {
    this.last = pixels;
    paintImage(this.preview, pixels, this.shape);
    const probabilities = await this.predict(pixels.slice());
    renderTopK(this.topk, probabilities, this.classes);
  }

  /** Predicts the last drawing again (the network changed). */
  async refresh(): Promise<void> {
    if (this.last) await this.classify(this.last);
  }
}
