import type { EvalResult } from '../shared/protocol.js';
import { fill, h } from '../render/dom.js';
import { gallery } from './gallery.js';

/**
 * The confusion matrix of the last validation pass (row: true class, column: predicted),
 * shaded by the share of its row; its cells add up to the number of examples evaluated,
 * which the caption states. A cell opens its examples (up to 48) below the matrix.
 */

export interface ConfusionEvents {
  images(indices: number[]): Promise<{ pixels: Float32Array[]; labels: number[] }>;
  choose(index: number): void;
}

const SHOW = 48;

export class ConfusionView {
  readonly el: HTMLElement;
  private readonly table = h('table', { class: 'confusion', id: 'confusion' });
  private readonly caption = h('p', { class: 'muted', id: 'confusion-total' });
  private readonly examples = h('div', { class: 'cell-examples', id: 'cell-examples' });
  private last: EvalResult | null = null;
  classes: string[] = [];
  shape: readonly number[] = [1, 28, 28];

  constructor(private readonly events: ConfusionEvents) {
    this.el = h('section', { class: 'panel confusion-panel' }, h('h2', {}, 'Confusion matrix (validation)'), this.caption, this.table, this.examples);
  }

  update(r: EvalResult): void {
    this.last = r;
    const k = this.classes.length;
    const total = r.confusion.reduce((a, b) => a + b, 0);
    this.caption.textContent = `${r.count} test examples evaluated at step ${r.step} (cells sum to ${total}); accuracy ${(r.accuracy * 100).toFixed(1)}%, loss ${r.loss.toFixed(3)}. Rows: true class; columns: predicted. Click a cell for its examples.`;
    this.caption.dataset['count'] = String(r.count);
    const head = h('tr', {}, h('th', {}, 'true \\ predicted'), this.classes.map((c) => h('th', {}, c)));
    const rows = this.classes.map((name, i) => {
      let rowSum = 0;
      for (let j = 0; j < k; j++) rowSum += r.confusion[i * k + j]!;
      return h(
        'tr',
        {},
        h('th', {}, name),
        this.classes.map((_, j) => {
          const n = r.confusion[i * k + j]!;
          const share = rowSum ? n / rowSum : 0;
          const colour = i === j ? `rgba(44, 160, 44, ${share})` : `rgba(214, 39, 40, ${Math.min(1, share * 3)})`;
          return h('td', { class: 'cell', style: `background:${colour}`, dataset: { true: i, predicted: j, count: n }, onclick: () => void this.open(i, j) }, n ? String(n) : '');
        }),
      );
    });
    fill(this.table, h('thead', {}, head), h('tbody', {}, rows));
  }

  private async open(t: number, p: number): Promise<void> {
    const r = this.last;
    if (!r) return;
    const indices: number[] = [];
    for (let i = 0; i < r.count && indices.length < SHOW; i++) if (r.labels[i] === t && r.predicted[i] === p) indices.push(i);
    const title = h('h3', {}, `true ${this.classes[t]}, predicted ${this.classes[p]}: ${indices.length}${indices.length === SHOW ? '+' : ''} examples`);
    if (!indices.length) {
      fill(this.examples, title);
      return;
    }
    const { pixels } = await this.events.images(indices);
    fill(this.examples, title, gallery(indices.map((index, i) => ({ index, pixels: pixels[i]!, caption: `#${index}` })), this.shape, this.events.choose));
  }
}
