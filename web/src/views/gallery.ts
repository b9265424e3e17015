import { h } from '../render/dom.js';
import { paintImage } from '../render/tiles.js';

/** A row of small example images with captions; clicking one makes it the chosen example. */
export function gallery(
  items: { index: number; pixels: Float32Array; caption: string }[],
  shape: readonly number[],
  choose: (index: number) => void,
): HTMLElement {
  return h(
    'div',
    { class: 'gallery' },
    items.map((it) => {
      const c = h('canvas', { class: 'thumb' });
      paintImage(c, it.pixels, shape);
      return h('figure', { class: 'thumb-box', dataset: { index: it.index }, title: `test example ${it.index}: click to inspect`, onclick: () => choose(it.index) }, c, h('figcaption', {}, it.caption));
    }),
  );
}
