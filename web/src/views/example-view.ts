import type { Snapshot } from '../shared/protocol.js';
import { h } from '../render/dom.js';
import { paintImage, paintPlane } from '../render/tiles.js';
import { renderTopK } from './topk.js';

/**
 * The chosen test example, which the activation views and the saliency map follow: the
 * image, its label, the top-k predictions and the saliency map (|d score / d pixel| of the
 * predicted class, the largest over the colour channels).
 */
export class ExampleView {
  readonly el: HTMLElement;
  private readonly image = h('canvas', { class: 'example', id: 'example-image' });
  private readonly saliency = h('canvas', { class: 'example', id: 'saliency' });
  private readonly indexInput: HTMLInputElement;
  private readonly label = h('p', { id: 'example-label' });
  private readonly salNote = h('p', { class: 'muted', id: 'saliency-note' });
  private readonly topk = h('div', { class: 'topk', id: 'example-topk' });
  classes: string[] = [];
  shape: readonly number[] = [1, 28, 28];
  testSize = 1;

  constructor(private readonly choose: (index: number) => void) {
    this.indexInput = h('input', { id: 'example-index', type: 'number', min: 0, value: 0, onchange: () => this.go(Number(this.indexInput.value)) });
    this.el = h(
      'section',
      { class: 'panel example-panel' },
      h('h2', {}, 'Chosen example'),
      h(
        'div',
        { class: 'example-nav' },
        h('button', { type: 'button', onclick: () => this.go(Number(this.indexInput.value) - 1) }, '‹'),
        h('label', {}, 'test example ', this.indexInput),
        h('button', { type: 'button', onclick: () => this.go(Number(this.indexInput.value) + 1) }, '›'),
        h('button', { type: 'button', onclick: () => this.go(Math.floor(Math.random() * this.testSize)) }, 'random'),
      ),
      h('div', { class: 'pair' }, h('figure', {}, this.image, h('figcaption', {}, 'input')), h('figure', {}, this.saliency, h('figcaption', {}, 'saliency'))),
      this.label,
      this.salNote,
      h('h3', {}, 'top-5 predictions'),
      this.topk,
    );
  }

  private go(index: number): void {
    const i = Math.max(0, Math.min(this.testSize - 1, Math.trunc(index) || 0));
    this.indexInput.value = String(i);
    this.choose(i);
  }

  show(index: number): void {
    this.indexInput.value = String(index);
  }

  update(s: Snapshot): void {
    const [, hh, w] = this.shape as [number, number, number];
    paintImage(this.image, s.example.pixels, this.shape);
    paintPlane(this.saliency, s.saliency, 0, w, hh, 'heat');
    this.label.textContent = `label: ${this.classes[s.example.label] ?? s.example.label} · predicted: ${this.classes[argmax(s.probabilities)] ?? '?'}`;
    this.salNote.textContent = `gradient of the score of “${this.classes[s.saliencyClass] ?? s.saliencyClass}” with respect to the input pixels (step ${s.step})`;
    renderTopK(this.topk, s.probabilities, this.classes);
    this.el.dataset['step'] = String(s.step);
  }
}

function argmax(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}
