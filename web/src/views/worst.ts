import type { EvalResult } from '../shared/protocol.js';
import { fill, h } from '../render/dom.js';
import { gallery } from './gallery.js';

/** The validation examples the network gets most wrong: lowest probability on the true class. */
export class WorstView {
  readonly el: HTMLElement;
  private readonly body = h('div', { id: 'worst' });
  classes: string[] = [];
  shape: readonly number[] = [1, 28, 28];

  constructor(private readonly choose: (index: number) => void) {
    this.el = h('section', { class: 'panel worst-panel' }, h('h2', {}, 'Worst-classified examples'), this.body);
  }

  update(r: EvalResult): void {
    fill(
      this.body,
      gallery(
        r.worst.map((w) => ({ index: w.index, pixels: w.pixels, caption: `${this.classes[w.label]} → ${this.classes[w.predicted]} (p=${w.probability.toFixed(2)})` })),
        this.shape,
        this.choose,
      ),
    );
  }
}
