import * as ck from 'convkit';
import { fill, h } from '../render/dom.js';

/**
 * The CS231n notes' convolution animation, rebuilt, with the numbers computed by convkit's
 * own conv2d: by default a 5x5x3 input padded to 7x7x3, two 3x3x3 filters with biases, stride
 * 2, giving a 3x3x2 output. Each output cell in turn lights up its input window and its filter,
 * and the dot product is written out term by term. W, F, S, P and K can be changed: the
 * output size (W - F + 2P)/S + 1 is shown, and sizes that do not fit are refused with
 * convkit's strict output-size error. Small integers (inputs 0..2, weights -1..1, as in the
 * notes) keep the arithmetic readable; a seed redraws them.
 */

const DEPTH = 3;

interface Geometry {
  W: number;
  F: number;
  S: number;
  P: number;
  K: number;
}

interface Computed {
  g: Geometry;
  out: number;
  x: Float32Array;
  w: Float32Array;
  b: Float32Array;
  y: Float32Array;
}

const LIMITS: Record<keyof Geometry, [number, number]> = { W: [1, 11], F: [1, 7], S: [1, 5], P: [0, 3], K: [1, 4] };

export class ConvDemo {
  readonly el: HTMLElement;
  private g: Geometry = { W: 5, F: 3, S: 2, P: 1, K: 2 };
  private seed = 1;
  private data: Computed | null = null;
  /** Position in the animation: output cell number (k, then row, then column). */
  private pos = 0;
  private timer = 0;
  private readonly inputs = {} as Record<keyof Geometry, HTMLInputElement>;
  private readonly seedInput: HTMLInputElement;
  private readonly formula = h('p', { class: 'formula', id: 'conv-formula' });
  private readonly error = h('pre', { class: 'error', id: 'conv-error', hidden: true });
  private readonly stage = h('div', { class: 'conv-stage', id: 'conv-stage' });
  private readonly dot = h('div', { class: 'conv-dot', id: 'conv-dot' });
  private readonly playBtn = h('button', { type: 'button', id: 'conv-play', onclick: () => this.toggle() }, 'Play');
  private cells: { input: HTMLElement[][]; filters: HTMLElement[]; output: HTMLElement[] } = { input: [], filters: [], output: [] };

  constructor() {
    const field = (key: keyof Geometry, title: string) => {
      const input = h('input', { type: 'number', value: this.g[key], min: LIMITS[key][0], max: LIMITS[key][1], step: 1, id: `conv-${key}`, title, onchange: () => this.geometryChanged() });
      this.inputs[key] = input;
      return h('label', { class: 'param' }, key, input);
    };
    this.seedInput = h('input', { type: 'number', value: this.seed, id: 'conv-seed', step: 1, onchange: () => this.redraw() });
    this.el = h(
      'section',
      { class: 'panel conv-demo', id: 'conv-demo' },
      h('h2', {}, 'How a CONV layer computes (convkit’s conv2d)'),
      h(
        'div',
        { class: 'buttons' },
        this.playBtn,
        h('button', { type: 'button', id: 'conv-step', onclick: () => this.advance(1) }, 'Step'),
        h('label', { class: 'param' }, 'seed', this.seedInput),
        field('W', 'input width and height'),
        field('F', 'filter size'),
        field('S', 'stride'),
        field('P', 'zero padding'),
        field('K', 'number of filters'),
      ),
      this.formula,
      this.error,
      this.stage,
      this.dot,
    );
    this.redraw();
  }

  private readGeometry(): Geometry | string {
    const g = {} as Geometry;
    for (const key of Object.keys(LIMITS) as (keyof Geometry)[]) {
      const v = Number(this.inputs[key].value);
      const [lo, hi] = LIMITS[key];
      if (!Number.isInteger(v) || v < lo || v > hi) return `${key} must be a whole number from ${lo} to ${hi} in this demo, got ${this.inputs[key].value}`;
      g[key] = v;
    }
    return g;
  }

  private geometryChanged(): void {
    this.redraw();
  }

  /** Draws new numbers from the seed and recomputes the output with conv2d. */
  private redraw(): void {
    this.stop();
    const g = this.readGeometry();
    this.seed = Math.trunc(Number(this.seedInput.value)) || 0;
    if (typeof g === 'string') return this.refuse(g, null);
    this.g = g;
    const span = g.W - g.F + 2 * g.P;
    const exact = span / g.S + 1;
    this.formula.textContent = `output size = (W - F + 2P)/S + 1 = (${g.W} - ${g.F} + 2·${g.P})/${g.S} + 1 = ${Number.isInteger(exact) ? exact : exact.toFixed(2)}`;
    const gen = new ck.Generator(this.seed);
    const x = Float32Array.from({ length: DEPTH * g.W * g.W }, () => gen.int(3));
    const w = Float32Array.from({ length: g.K * DEPTH * g.F * g.F }, () => gen.int(3) - 1);
    const b = Float32Array.from({ length: g.K }, () => gen.int(2));
    let y: Float32Array;
    try {
      y = ck.tidy(() =>
        ck.F.conv2d(ck.tensor(x, [1, DEPTH, g.W, g.W]), ck.tensor(w, [g.K, DEPTH, g.F, g.F]), ck.tensor(b, [g.K]), { stride: g.S, padding: g.P }).dataSync(),
      );
    } catch (e) {
      return this.refuse(e instanceof Error ? e.message : String(e), g);
    }
    this.error.hidden = true;
    this.playBtn.disabled = false;
    this.data = { g, out: exact, x, w, b, y };
    this.pos = 0;
    this.build();
    this.highlight();
  }

  private refuse(message: string, g: Geometry | null): void {
    this.data = null;
    this.error.hidden = false;
    this.error.textContent = `refused: ${message}`;
    this.playBtn.disabled = true;
    if (!g) this.formula.textContent = '';
    fill(this.stage);
    fill(this.dot);
  }

  private grid(rows: number, cols: number, value: (r: number, c: number) => string, attrs: (r: number, c: number) => Record<string, unknown>): [HTMLElement, HTMLElement[]] {
    const cells: HTMLElement[] = [];
    const table = h(
      'table',
      { class: 'num-grid' },
      Array.from({ length: rows }, (_, r) =>
        h(
          'tr',
          {},
          Array.from({ length: cols }, (_, c) => {
            const td = h('td', attrs(r, c), value(r, c));
            cells.push(td);
            return td;
          }),
        ),
      ),
    );
    return [table, cells];
  }

  private build(): void {
    const d = this.data!;
    const { W, F, P, K } = d.g;
    const padded = W + 2 * P;
    const out = d.out;
    this.cells = { input: [], filters: [], output: [] };
    const inputCols = Array.from({ length: DEPTH }, (_, ch) => {
      const [table, cells] = this.grid(
        padded,
        padded,
        (r, c) => {
          const [yy, xx] = [r - P, c - P];
          return yy < 0 || xx < 0 || yy >= W || xx >= W ? '0' : String(d.x[(ch * W + yy) * W + xx]);
        },
        (r, c) => ({ class: r < P || c < P || r >= P + W || c >= P + W ? 'pad' : '', dataset: { d: ch, y: r, x: c } }),
      );
      this.cells.input.push(cells);
      return h('div', { class: 'slice' }, h('h4', {}, `x[:,:,${ch}]`), table);
    });
    const filterCols = Array.from({ length: K }, (_, k) => {
      const slices = Array.from({ length: DEPTH }, (_, ch) => {
        const [table, cells] = this.grid(F, F, (r, c) => String(d.w[((k * DEPTH + ch) * F + r) * F + c]), (r, c) => ({ dataset: { k, d: ch, y: r, x: c } }));
        this.cells.filters.push(...cells);
        return h('div', { class: 'slice' }, h('h4', {}, `w${k}[:,:,${ch}]`), table);
      });
      return h('div', { class: 'filter-col', dataset: { k } }, slices, h('p', { class: 'bias', dataset: { k, bias: d.b[k] } }, `bias b${k} = ${d.b[k]}`));
    });
    const outCols = Array.from({ length: K }, (_, k) => {
      const [table, cells] = this.grid(out, out, (r, c) => String(d.y[(k * out + r) * out + c]), (r, c) => ({ dataset: { k, y: r, x: c } }));
      this.cells.output.push(...cells);
      return h('div', { class: 'slice' }, h('h4', {}, `o[:,:,${k}]`), table);
    });
    fill(
      this.stage,
      h('div', { class: 'volume', id: 'conv-input', dataset: { w: W, p: P, depth: DEPTH } }, h('h3', {}, `input ${W}x${W}x${DEPTH}, padded to ${padded}x${padded}x${DEPTH}`), inputCols),
      h('div', { class: 'volume', id: 'conv-filters', dataset: { f: this.g.F, k: K, s: this.g.S } }, h('h3', {}, `${K} filters ${F}x${F}x${DEPTH}, stride ${this.g.S}`), filterCols),
      h('div', { class: 'volume', id: 'conv-output', dataset: { size: out, k: K } }, h('h3', {}, `output ${out}x${out}x${K}`), outCols),
    );
  }

  /** Marks the current output cell, its input window and its filter, and writes out its dot product. */
  private highlight(): void {
    const d = this.data;
    if (!d) return;
    const { W, F, S, P, K } = d.g;
    const out = d.out;
    const padded = W + 2 * P;
    const k = Math.floor(this.pos / (out * out));
    const oy = Math.floor((this.pos % (out * out)) / out);
    const ox = this.pos % out;
    const inWindow = (r: number, c: number) => r >= oy * S && r < oy * S + F && c >= ox * S && c < ox * S + F;
    this.cells.input.forEach((cells) => cells.forEach((td, i) => td.classList.toggle('on', inWindow(Math.floor(i / padded), i % padded))));
    this.cells.filters.forEach((td) => td.classList.toggle('on', Number(td.dataset['k']) === k));
    this.cells.output.forEach((td, i) => td.classList.toggle('on', i === this.pos));
    const terms: HTMLElement[] = [];
    let total = 0;
    for (let ch = 0; ch < DEPTH; ch++) {
      const products: string[] = [];
      let sum = 0;
      for (let r = 0; r < F; r++) {
        for (let c = 0; c < F; c++) {
          const [yy, xx] = [oy * S + r - P, ox * S + c - P];
          const xv = yy < 0 || xx < 0 || yy >= W || xx >= W ? 0 : d.x[(ch * W + yy) * W + xx]!;
          const wv = d.w[((k * DEPTH + ch) * F + r) * F + c]!;
          products.push(`${xv}·${wv < 0 ? `(${wv})` : wv}`);
          sum += xv * wv;
        }
      }
      total += sum;
      terms.push(h('p', {}, `x[:,:,${ch}] · w${k}[:,:,${ch}] = ${products.join(' + ')} = `, h('b', {}, String(sum))));
    }
    total += d.b[k]!;
    const shown = d.y[this.pos]!;
    fill(
      this.dot,
      h('h3', {}, `o[${oy},${ox},${k}] (output cell ${this.pos + 1} of ${K * out * out})`),
      terms,
      h('p', { class: 'dot-total', dataset: { k, y: oy, x: ox, value: shown } }, `sum + b${k} = ${total - d.b[k]!} + ${d.b[k]} = `, h('b', {}, String(shown)), total === shown ? '' : ` (by hand: ${total})`),
    );
  }

  private advance(n: number): void {
    const d = this.data;
    if (!d) return;
    const count = d.g.K * d.out * d.out;
    this.pos = (this.pos + n + count) % count;
    this.highlight();
  }

  private toggle(): void {
    if (this.timer) this.stop();
    else {
      this.timer = window.setInterval(() => this.advance(1), 700);
      this.playBtn.textContent = 'Pause';
    }
  }

  private stop(): void {
    window.clearInterval(this.timer);
    this.timer = 0;
    this.playBtn.textContent = 'Play';
  }
}
