import type { ConvFilters } from '../shared/protocol.js';
import { fill, h } from '../render/dom.js';
import { paintPlane, paintRgb, range } from '../render/tiles.js';

/**
 * The filters of every CONV layer, and beside them the last step's gradients. A first layer
 * on a 3-channel input shows each filter as one RGB image (what it responds to in colour);
 * other layers show each filter's slices, blue negative and red positive on one scale per
 * layer. Small filters (3x3) are drawn as large squares, never shrunk away.
 */

interface Grid {
  key: string;
  weight: HTMLCanvasElement[];
  grad: HTMLCanvasElement[];
  gradNote: HTMLElement;
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
    if (!filters.length) return;
    filters.forEach((f, i) => {
      const g = this.grids[i]!;
      this.paint(g.weight, f.weight, f, i === 0);
      if (f.grad) this.paint(g.grad, f.grad, f, i === 0);
      g.gradNote.textContent = f.grad ? '' : '(no gradient yet: take a step)';
    });
  }

  private paint(canvases: HTMLCanvasElement[], v: Float32Array, f: ConvFilters, first: boolean): void {
    const [k, c, fh, fw] = f.shape;
    const size = fh * fw;
    if (FiltersView.rgb(f, first)) {
      for (let o = 0; o < k; o++) paintRgb(canvases[o]!, v, o * 3 * size, fw, fh);
      return;
    }
    const [min, max] = range(v);
    const m = Math.max(Math.abs(min), Math.abs(max));
    for (let o = 0; o < k; o++) {
      for (let ch = 0; ch < c; ch++) paintPlane(canvases[o * c + ch]!, v, (o * c + ch) * size, fw, fh, 'diverging', -m, m);
    }
  }

  private build(filters: ConvFilters[]): void {
    this.grids = [];
    const blocks = filters.map((f, i) => {
      const [k, c, fh, fw] = f.shape;
      const rgb = FiltersView.rgb(f, i === 0);
      const grid = (what: string): [HTMLElement, HTMLCanvasElement[]] => {
        const canvases: HTMLCanvasElement[] = [];
        const rows = Array.from({ length: k }, (_, o) =>
          h(
            'div',
            { class: 'filter', title: `filter ${o}` },
            Array.from({ length: rgb ? 1 : c }, (_, ch) => {
              const cv = h('canvas', { class: `kernel k${Math.min(fh, 7)}`, width: fw, height: fh, title: rgb ? `filter ${o} (RGB)` : `filter ${o}, input channel ${ch}` });
              canvases.push(cv);
              return cv;
            }),
          ),
        );
        return [h('div', { class: `filter-grid ${what}`, dataset: { kind: what } }, rows), canvases];
      };
      const [wEl, wCanvases] = grid('weights');
      const [gEl, gCanvases] = grid('gradients');
      const gradNote = h('span', { class: 'muted' });
      this.grids.push({ key: `${f.index}:${f.shape.join('x')}`, weight: wCanvases, grad: gCanvases, gradNote });
      return h(
        'div',
        { class: 'filter-block', dataset: { layer: f.index, shape: f.shape.join(',') } },
        h('h3', {}, `${f.index} ${f.label} `, h('span', { class: 'muted' }, `${k} filters of ${fw}x${fh}x${c}${rgb ? ' (RGB)' : ''}`)),
        h('div', { class: 'pair' }, h('div', {}, h('h4', {}, 'weights'), wEl), h('div', {}, h('h4', {}, 'gradients ', gradNote), gEl)),
      );
    });
    fill(this.body, blocks.length ? blocks : h('p', { class: 'muted' }, 'this network has no CONV layer'));
  }
}
