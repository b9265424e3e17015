import type { ConvFilters } from '../shared/protocol.js';
import { fill, h } from '../render/dom.js';
import { range } from '../render/tiles.js';

/**
 * The filters of every CONV layer, and beside them the last step's gradients. A first layer
 * on a 3-channel input shows each filter as one RGB image (what it responds to in colour);
 * other layers show each filter's slices, blue negative and red positive on one scale per
 * layer (one-slice filters side by side, several slices as one row per filter). Each grid is one canvas (row = filter, column = input channel) with every weight
 * drawn as a square of several pixels, so 3x3 filters are large and crisp: hundreds of
 * little canvases would each be a compositing layer, and repainting them a few times a
 * second would cost the page more than the drawing itself.
 */

const GAP = 2;

/** Pixels per weight: large for small filters, at least 2. */
function cellSize(f: number): number {
  return Math.max(2, Math.min(10, Math.floor(30 / f)));
}

interface Grid {
  key: string;
  weight: HTMLCanvasElement;
  grad: HTMLCanvasElement;
  gradNote: HTMLElement;
}

/** Geometry of a layer's grid: tiles per row and column, and the canvas size. */
function layout(f: ConvFilters, rgb: boolean): { rows: number; cols: number; cell: number; tile: number; width: number; height: number } {
  const [k, c, fh, fw] = f.shape;
  const cell = cellSize(Math.max(fh, fw));
  const tile = Math.max(fh, fw) * cell;
  // One tile per filter (RGB, or a single slice) in rows of up to 16; else a row per filter.
  const single = rgb || c === 1;
  const cols = single ? Math.min(k, 16) : c;
  const rows = single ? Math.ceil(k / cols) : k;
  return { rows, cols, cell, tile, width: cols * (tile + GAP) - GAP, height: rows * (tile + GAP) - GAP };
}

function paintGrid(canvas: HTMLCanvasElement, v: Float32Array, f: ConvFilters, rgb: boolean): void {
  const [k, c, fh, fw] = f.shape;
  const g = layout(f, rgb);
  if (canvas.width !== g.width) canvas.width = g.width;
  if (canvas.height !== g.height) canvas.height = g.height;
  const img = new ImageData(g.width, g.height);
  const px = img.data;
  const size = fh * fw;
  const put = (x0: number, y0: number, r: number, gr: number, b: number): void => {
    for (let y = y0; y < y0 + g.cell; y++) {
      for (let x = x0; x < x0 + g.cell; x++) {
        const o = (y * g.width + x) * 4;
        px[o] = r;
        px[o + 1] = gr;
        px[o + 2] = b;
        px[o + 3] = 255;
      }
    }
  };
  if (rgb) {
    for (let o = 0; o < k; o++) {
      const [min, max] = range(v, o * 3 * size, (o + 1) * 3 * size);
      const s = 255 / (max - min || 1);
      const [tx, ty] = [(o % g.cols) * (g.tile + GAP), Math.floor(o / g.cols) * (g.tile + GAP)];
      for (let i = 0; i < size; i++) {
        const at = o * 3 * size + i;
        put(tx + (i % fw) * g.cell, ty + Math.floor(i / fw) * g.cell, (v[at]! - min) * s, (v[at + size]! - min) * s, (v[at + 2 * size]! - min) * s);
      }
    }
  } else {
    const [min, max] = range(v);
    const m = Math.max(Math.abs(min), Math.abs(max)) || 1;
    for (let o = 0; o < k; o++) {
      for (let ch = 0; ch < c; ch++) {
        const t0 = c === 1 ? o : ch;
        const [tx, ty] = c === 1 ? [(t0 % g.cols) * (g.tile + GAP), Math.floor(t0 / g.cols) * (g.tile + GAP)] : [ch * (g.tile + GAP), o * (g.tile + GAP)];
        for (let i = 0; i < size; i++) {
          const t = v[(o * c + ch) * size + i]! / m;
          // white at 0, red for positive, blue for negative
          put(tx + (i % fw) * g.cell, ty + Math.floor(i / fw) * g.cell, t < 0 ? 255 * (1 + t) : 255, 255 * (1 - Math.abs(t)), t > 0 ? 255 * (1 - t) : 255);
        }
      }
    }
  }
  canvas.getContext('2d')!.putImageData(img, 0, 0);
}

export class FiltersView {
  readonly el: HTMLElement;
  private readonly body = h('div', { class: 'filters', id: 'filters' });
  private grids: Grid[] = [];

  constructor() {
    this.el = h('section', { class: 'panel filters-panel' }, h('h2', {}, 'CONV filters and their gradients'), this.body);
  }

  private static rgb(f: ConvFilters, first: boolean): boolean {
    return first && f.shape[1] === 3;
  }

  update(filters: ConvFilters[]): void {
    const key = filters.map((f) => `${f.index}:${f.shape.join('x')}`).join('|');
    if (key !== this.grids.map((g) => g.key).join('|')) this.build(filters);
    filters.forEach((f, i) => {
      const g = this.grids[i]!;
      const rgb = FiltersView.rgb(f, i === 0);
      paintGrid(g.weight, f.weight, f, rgb);
      if (f.grad) paintGrid(g.grad, f.grad, f, rgb);
      g.gradNote.textContent = f.grad ? '' : '(none yet: take a step)';
    });
  }

  private build(filters: ConvFilters[]): void {
    this.grids = [];
    const blocks = filters.map((f, i) => {
      const [k, c, fh, fw] = f.shape;
      const rgb = FiltersView.rgb(f, i === 0);
      const g = layout(f, rgb);
      const canvas = (what: string) =>
        h('canvas', {
          class: 'filter-grid',
          width: g.width,
          height: g.height,
          dataset: { kind: what, rows: g.rows, cols: g.cols, tile: g.tile, gap: GAP, cell: g.cell },
          title: rgb ? `${k} filters as RGB images` : c === 1 ? `${k} filters` : `one row per filter (${k}), one column per input channel (${c})`,
        });
      const weight = canvas('weights');
      const grad = canvas('gradients');
      const gradNote = h('span', { class: 'muted' });
      this.grids.push({ key: `${f.index}:${f.shape.join('x')}`, weight, grad, gradNote });
      return h(
        'div',
        { class: 'filter-block', dataset: { layer: f.index, shape: f.shape.join(','), rgb: rgb ? 1 : 0 } },
        h('h3', {}, `${f.index} ${f.label} `, h('span', { class: 'muted' }, `${k} filters of ${fw}x${fh}x${c}${rgb ? ' (RGB)' : c > 1 ? ', rows: filters, columns: input channels' : ''}`)),
        h('div', { class: 'pair' }, h('div', { class: 'scroll' }, h('h4', {}, 'weights'), weight), h('div', { class: 'scroll' }, h('h4', {}, 'gradients ', gradNote), grad)),
      );
    });
    fill(this.body, blocks.length ? blocks : h('p', { class: 'muted' }, 'this network has no CONV layer'));
  }
}
