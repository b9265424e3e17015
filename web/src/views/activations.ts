import type { LayerActivation } from '../shared/protocol.js';
import { fill, h } from '../render/dom.js';
import type { Painter } from '../render/painter.js';
import { paintPlane, range } from '../render/tiles.js';

/**
 * Every layer's activations for the chosen example: a volume [C, H, W] as C tiles of W x H
 * pixels (one canvas each, grey from the channel's min to its max, both written under it),
 * a vector [F] as one strip of F pixels. Canvases are made once per network and repainted in
 * place, each layer in its own turn of the painter (so a frame never draws them all).
 */

interface Block {
  key: string;
  el: HTMLElement;
  canvases: HTMLCanvasElement[];
  captions: HTMLElement[];
}

const fmt = (v: number): string => (Math.abs(v) >= 100 || v === 0 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2));

export class ActivationsView {
  readonly el: HTMLElement;
  private readonly body = h('div', { class: 'layers', id: 'activations' });
  private blocks: Block[] = [];

  constructor() {
    this.el = h('section', { class: 'panel activations-panel' }, h('h2', {}, 'Activations of every layer'), this.body);
  }

  /** Queues every layer's drawing; each block's data-step tells which step it shows. */
  update(layers: LayerActivation[], step: number, painter: Painter): void {
    const key = layers.map((l) => `${l.index}:${l.label}:${l.shape.join('x')}`).join('|');
    if (key !== this.blocks.map((b) => b.key).join('|')) this.build(layers);
    layers.forEach((l, i) => {
      const b = this.blocks[i]!;
      painter.paint(b.el, () => {
        this.draw(l, b);
        b.el.dataset['step'] = String(step);
      });
    });
  }

  private draw(l: LayerActivation, b: Block): void {
    {
      if (l.shape.length === 3) {
        const [c, hh, w] = l.shape as [number, number, number];
        for (let ch = 0; ch < c; ch++) {
          const [min, max] = range(l.data, ch * hh * w, (ch + 1) * hh * w);
          paintPlane(b.canvases[ch]!, l.data, ch * hh * w, w, hh, 'grey', min, max);
          b.captions[ch]!.textContent = `${fmt(min)} … ${fmt(max)}`;
        }
      } else {
        const n = l.data.length;
        const [min, max] = range(l.data);
        paintPlane(b.canvases[0]!, l.data, 0, n, 1, 'grey', min, max);
        b.captions[0]!.textContent = `${fmt(min)} … ${fmt(max)}`;
      }
    }
  }

  private build(layers: LayerActivation[]): void {
    this.blocks = [];
    const els = layers.map((l) => {
      const volume = l.shape.length === 3;
      const count = volume ? l.shape[0]! : 1;
      const canvases: HTMLCanvasElement[] = [];
      const captions: HTMLElement[] = [];
      const tiles = Array.from({ length: count }, (_, ch) => {
        const [w, hh] = volume ? [l.shape[2]!, l.shape[1]!] : [l.shape[0]!, 1];
        const c = h('canvas', { class: volume ? 'tile' : 'strip', width: w, height: hh, title: volume ? `channel ${ch}` : `${l.shape[0]} values` });
        const cap = h('span', { class: 'minmax' });
        canvases.push(c);
        captions.push(cap);
        return h('figure', { class: 'tile-box' }, c, cap);
      });
      const dims = volume ? `[${l.shape[2]}x${l.shape[1]}x${l.shape[0]}]` : `[1x1x${l.shape[0]}]`;
      const el = h(
        'div',
        { class: 'layer-block', dataset: { layer: l.index, label: l.label, shape: l.shape.join(','), step: '' } },
        h('h3', {}, `${l.index} ${l.label} `, h('span', { class: 'muted' }, dims)),
        h('div', { class: volume ? 'tiles' : 'tiles vector' }, tiles),
      );
      this.blocks.push({ key: `${l.index}:${l.label}:${l.shape.join('x')}`, el, canvases, captions });
      return el;
    });
    fill(this.body, els);
  }
}
