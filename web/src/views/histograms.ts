import uPlot from 'uplot';
import type { Histogram, ParamHistogram } from '../shared/protocol.js';
import { fill, h } from '../render/dom.js';
import type { Painter } from '../render/painter.js';

/**
 * A histogram of every parameter tensor's values and of its gradient (uPlot bars), with the
 * NaN and Inf counts in the caption: the first place a diverging run shows. Each row is
 * redrawn in its own turn of the painter, synchronously (uPlot's batch), so that one frame
 * never redraws every chart.
 */

interface Row {
  name: string;
  el: HTMLElement;
  weights: uPlot;
  grads: uPlot;
  wNote: HTMLElement;
  gNote: HTMLElement;
}

const bars = uPlot.paths.bars!({ size: [0.95, 40] });

/** The x range of bars centred on the bins: half a bin beyond the first and last centres. */
function barRange(u: uPlot, min: number, max: number): [number, number] {
  const n = (u.data[0]?.length ?? 2) - 1;
  const half = n > 0 ? (max - min) / n / 2 : 0.5;
  return [min - half, max + half];
}

function chart(box: HTMLElement, colour: string): uPlot {
  return new uPlot(
    {
      width: 200,
      height: 110,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: false, range: barRange } },
      axes: [{ size: 24, font: '10px sans-serif', ticks: { size: 3 } }, { size: 36, font: '10px sans-serif', ticks: { size: 3 } }],
      series: [{}, { stroke: colour, fill: `${colour}99`, paths: bars, points: { show: false } }],
    },
    [[], []],
    box,
  );
}

function data(hist: Histogram): uPlot.AlignedData {
  const n = hist.counts.length;
  const width = (hist.max - hist.min) / n || 1 / n;
  const x = hist.counts.map((_, i) => hist.min + (i + 0.5) * width);
  return [x, hist.counts];
}

function note(hist: Histogram | null): string {
  if (!hist) return 'no gradient yet';
  const bad = hist.nan || hist.inf ? `  NaN ${hist.nan} · Inf ${hist.inf} !` : '  NaN 0 · Inf 0';
  return `${hist.min.toPrecision(3)} … ${hist.max.toPrecision(3)}${bad}`;
}

export class HistogramsView {
  readonly el: HTMLElement;
  private readonly body = h('div', { class: 'histograms', id: 'histograms' });
  private rows: Row[] = [];

  constructor() {
    this.el = h('section', { class: 'panel histograms-panel' }, h('h2', {}, 'Weights and gradients per layer'), this.body);
  }

  update(hists: ParamHistogram[], step: number, painter: Painter): void {
    if (hists.map((p) => p.name).join() !== this.rows.map((r) => r.name).join()) this.build(hists);
    hists.forEach((p, i) => {
      const r = this.rows[i]!;
      painter.paint(r.el, () => {
        r.weights.batch(() => r.weights.setData(data(p.weights)));
        if (p.grads) r.grads.batch(() => r.grads!.setData(data(p.grads!)));
        r.wNote.textContent = note(p.weights);
        r.gNote.textContent = note(p.grads);
        r.wNote.classList.toggle('bad', p.weights.nan + p.weights.inf > 0);
        r.gNote.classList.toggle('bad', (p.grads?.nan ?? 0) + (p.grads?.inf ?? 0) > 0);
        r.el.dataset['step'] = String(step);
      });
    });
  }

  private build(hists: ParamHistogram[]): void {
    for (const r of this.rows) {
      r.weights.destroy();
      r.grads.destroy();
    }
    this.rows = [];
    const els = hists.map((p) => {
      const wBox = h('div', {});
      const gBox = h('div', {});
      const wNote = h('p', { class: 'hist-note' });
      const gNote = h('p', { class: 'hist-note' });
      const el = h('div', { class: 'hist-row', dataset: { param: p.name, step: '' } }, h('h3', {}, p.name), h('div', { class: 'pair' }, h('div', {}, h('h4', {}, 'values'), wBox, wNote), h('div', {}, h('h4', {}, 'gradients'), gBox, gNote)));
      this.rows.push({ name: p.name, el, weights: chart(wBox, '#1f77b4'), grads: chart(gBox, '#d62728'), wNote, gNote });
      return el;
    });
    fill(this.body, els);
  }
}
