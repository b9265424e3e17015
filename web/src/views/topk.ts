import { fill, h } from '../render/dom.js';

/** The k most probable classes as bars; the full distribution sits in data-probabilities for tests. */
export function renderTopK(el: HTMLElement, probabilities: Float32Array, classes: readonly string[], k = 5): void {
  const order = Array.from(probabilities.keys()).sort((a, b) => probabilities[b]! - probabilities[a]!).slice(0, k);
  el.dataset['probabilities'] = JSON.stringify(Array.from(probabilities));
  el.dataset['top'] = String(order[0] ?? '');
  fill(
    el,
    order.map((c) =>
      h(
        'div',
        { class: 'topk-row' },
        h('span', { class: 'topk-name' }, classes[c] ?? String(c)),
        h('span', { class: 'topk-bar' }, h('span', { style: `width:${(probabilities[c]! * 100).toFixed(1)}%` })),
        h('span', { class: 'topk-p' }, `${(probabilities[c]! * 100).toFixed(1)}%`),
      ),
    ),
  );
}
