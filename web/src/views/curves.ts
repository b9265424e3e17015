import uPlot from 'uplot';
import type { CurvePoint, EvalResult } from '../shared/protocol.js';
import { h } from '../render/dom.js';

/**
 * Loss and accuracy against steps, training (averaged over a few steps) and validation (each
 * evaluation), drawn with uPlot. Points arrive out of step order at times (a validation pass
 * can land before the training point of the same step), so they are inserted in order;
 * redrawing is batched to one per animation frame.
 */

type Series = 'trainLoss' | 'valLoss' | 'trainAcc' | 'valAcc';

export class Curves {
  readonly el: HTMLElement;
  private x: number[] = [];
  private y: Record<Series, (number | null)[]> = { trainLoss: [], valLoss: [], trainAcc: [], valAcc: [] };
  private loss: uPlot | null = null;
  private acc: uPlot | null = null;
  private readonly lossBox = h('div', { class: 'chart', id: 'loss-chart' });
  private readonly accBox = h('div', { class: 'chart', id: 'acc-chart' });
  private frame = 0;
  lastTrain: CurvePoint | null = null;
  lastVal: EvalResult | null = null;

  constructor() {
    this.el = h('section', { class: 'panel curves', id: 'curves' }, h('h2', {}, 'Loss and accuracy'), h('div', { class: 'charts' }, this.lossBox, this.accBox));
  }

  private make(box: HTMLElement, title: string, names: [string, string], yRange?: [number, number]): uPlot {
    const width = Math.max(260, box.clientWidth || 360);
    return new uPlot(
      {
        title,
        width,
        height: 200,
        legend: { live: false },
        scales: { x: { time: false }, y: yRange ? { range: yRange } : {} },
        series: [
          { label: 'step' },
          { label: names[0], stroke: '#1f77b4', width: 1.5, spanGaps: true },
          { label: names[1], stroke: '#d62728', width: 2, spanGaps: true, points: { show: true, size: 5 } },
        ],
        axes: [{}, {}],
      },
      [[], [], []],
      box,
    );
  }

  reset(): void {
    this.x = [];
    this.y = { trainLoss: [], valLoss: [], trainAcc: [], valAcc: [] };
    this.lastTrain = null;
    this.lastVal = null;
    this.schedule();
  }

  private insert(step: number, values: Partial<Record<Series, number>>): void {
    let i = this.x.length;
    while (i > 0 && this.x[i - 1]! > step) i--;
    if (i > 0 && this.x[i - 1] === step) {
      for (const [k, v] of Object.entries(values)) this.y[k as Series][i - 1] = v;
      return;
    }
    this.x.splice(i, 0, step);
    for (const k of Object.keys(this.y) as Series[]) this.y[k].splice(i, 0, values[k] ?? null);
  }

  addTrain(points: CurvePoint[]): void {
    for (const p of points) {
      this.insert(p.step, { trainLoss: p.loss, trainAcc: p.accuracy });
      this.lastTrain = p;
    }
    if (points.length) this.schedule();
  }

  addVal(r: EvalResult): void {
    this.insert(r.step, { valLoss: r.loss, valAcc: r.accuracy });
    this.lastVal = r;
    this.schedule();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.loss ??= this.make(this.lossBox, 'loss', ['train', 'validation']);
      this.acc ??= this.make(this.accBox, 'accuracy', ['train', 'validation'], [0, 1]);
      const x = this.x.slice();
      this.loss.setData([x, this.y.trainLoss.slice(), this.y.valLoss.slice()] as uPlot.AlignedData);
      this.acc.setData([x, this.y.trainAcc.slice(), this.y.valAcc.slice()] as uPlot.AlignedData);
    });
  }
}
