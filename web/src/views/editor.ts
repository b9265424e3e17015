import type { NetSpec } from '../shared/protocol.js';
import { PRESETS, type Preset } from '../shared/run-config.js';
import { expandPattern, parsePattern, type PatternLayer } from '../net/analysis.js';
import { netFromPattern } from '../net/net-spec.js';
import { patternText } from '../net/pattern-text.js';
import { fill, h } from '../render/dom.js';
import { ShapeTable } from './shape-table.js';

/**
 * The network editor: the same network as text in the pattern language and as a form (one
 * row per layer, repeats unrolled; editing the form writes the text back, folding repeats).
 * Every change is checked at once with convkit's own pattern builder: a syntax error or a
 * geometry that does not fit (the strict output-size error, with its arithmetic) is shown
 * and the network is refused (`net` is null, so Train stays disabled). The shape table below
 * follows live.
 */

type Kind = 'conv' | 'pool' | 'avgpool' | 'fc' | 'relu' | 'bn' | 'norm' | 'dropout' | 'gap' | 'flatten';
const KINDS: Kind[] = ['conv', 'pool', 'avgpool', 'fc', 'relu', 'bn', 'norm', 'dropout', 'gap', 'flatten'];

function kindOf(l: PatternLayer): Kind {
  return l.kind === 'pool' && l.avg ? 'avgpool' : l.kind;
}

function defaultLayer(kind: Kind): PatternLayer {
  switch (kind) {
    case 'conv':
      return { kind, size: 3, filters: 8, stride: null, pad: null };
    case 'pool':
    case 'avgpool':
      return { kind: 'pool', size: 2, stride: null, pad: 0, avg: kind === 'avgpool' };
    case 'fc':
      return { kind, units: 10 };
    case 'dropout':
      return { kind, p: 0.5 };
    default:
      return { kind };
  }
}

export interface EditorEvents {
  /** A checked network (null when refused) and the text it came from. */
  onChange(net: NetSpec | null, text: string): void;
  /** Extra checks against the dataset (input volume, class count); a message refuses the network. */
  check(net: NetSpec): string | null;
  /** A preset was picked (the page fits it to the dataset, or switches to the preset's). */
  preset(p: Preset): void;
}

export class NetworkEditor {
  readonly el: HTMLElement;
  private readonly text: HTMLTextAreaElement;
  private readonly form = h('div', { class: 'layer-form', id: 'layer-form' });
  private readonly error = h('pre', { class: 'error', id: 'net-error', hidden: true });
  private readonly table = new ShapeTable();
  private layers: PatternLayer[] = [];
  private input: [number, number, number] = [1, 28, 28];
  private timer = 0;
  net: NetSpec | null = null;
  batch = 32;

  constructor(private readonly events: EditorEvents) {
    const presets = h(
      'select',
      { id: 'net-preset', 'aria-label': 'preset networks', onchange: (e: Event) => this.pickPreset((e.target as HTMLSelectElement).value) },
      h('option', { value: '' }, 'presets…'),
      PRESETS.map((p, i) => h('option', { value: String(i) }, p.name)),
    );
    this.text = h('textarea', {
      id: 'net-text',
      rows: 3,
      spellcheck: 'false',
      'aria-label': 'network in the pattern language',
      oninput: () => {
        window.clearTimeout(this.timer);
        this.timer = window.setTimeout(() => this.check(this.text.value, true), 250);
      },
    });
    this.el = h(
      'section',
      { class: 'panel editor', id: 'editor' },
      h('h2', {}, 'Network ', presets),
      this.text,
      h('p', { class: 'hint' }, 'CONV<F>-<K>[/S][p<P>], POOL<F>[/S], AVGPOOL<F>, FC<K>, RELU, BN, NORM, DROPOUT, GAP; A -> B; [ ... ]*N repeats'),
      this.error,
      h('details', { open: true }, h('summary', {}, 'layers as a form'), this.form),
      this.table.el,
    );
  }

  /** Sets the text (from the URL, a preset, a loaded model) and checks it. */
  setText(text: string, notify = true): void {
    this.text.value = text;
    this.check(text, true, notify);
  }

  get value(): string {
    return this.text.value;
  }

  setBatch(batch: number): void {
    this.batch = batch;
    if (this.net) this.table.update(this.net, batch);
  }

  /** Re-runs the checks (e.g. after the dataset changed). */
  recheck(): void {
    this.check(this.text.value, false);
  }

  private pickPreset(value: string): void {
    const preset = PRESETS[Number(value)];
    if (!preset || value === '') return;
    this.events.preset(preset);
  }

  private check(text: string, rebuildForm: boolean, notify = true): void {
    let net: NetSpec | null = null;
    let problem: string | null = null;
    try {
      net = netFromPattern(text);
      problem = this.events.check(net);
    } catch (e) {
      problem = e instanceof Error ? e.message : String(e);
    }
    if (rebuildForm) this.readLayers(text);
    if (problem) {
      this.error.hidden = false;
      this.error.textContent = problem;
      this.net = null;
      this.markRow(problem);
    } else {
      this.error.hidden = true;
      this.error.textContent = '';
      this.net = net;
      this.markRow(null);
    }
    this.table.update(net, this.batch);
    this.el.classList.toggle('refused', problem !== null);
    if (notify) this.events.onChange(this.net, text);
  }

  /** The form follows the text whenever the text parses (the layers, repeats unrolled). */
  private readLayers(text: string): void {
    try {
      const ast = parsePattern(text);
      if (ast.input) this.input = [ast.input.depth, ast.input.height, ast.input.width];
      this.layers = expandPattern(ast).map((n) => ({ ...n.layer }));
      this.renderForm();
    } catch {
      // A syntax error: keep the last good form; the error box says what is wrong.
    }
  }

  /** Highlights the form row of the layer a geometry error points at (by its column). */
  private markRow(problem: string | null): void {
    const rows = [...this.form.querySelectorAll<HTMLElement>('.layer-row')];
    rows.forEach((r) => r.classList.remove('bad'));
    const m = problem ? /column (\d+)/.exec(problem) : null;
    if (!m) return;
    const col = Number(m[1]);
    // The form's rows are the unrolled layers; find the one whose text sits at that column.
    try {
      const nodes = expandPattern(parsePattern(this.text.value));
      const i = nodes.findIndex((n) => n.column === col);
      if (i >= 0) rows[i]?.classList.add('bad');
    } catch {
      /* no rows to mark */
    }
  }

  private fromForm(): void {
    const text = patternText(this.input, this.layers);
    this.text.value = text;
    this.check(text, false);
    this.renderForm();
  }

  private renderForm(): void {
    const rows = this.layers.map((l, i) => this.row(l, i));
    fill(
      this.form,
      h('div', { class: 'layer-row input-row' }, h('span', { class: 'kind' }, 'INPUT'), `${this.input[2]}x${this.input[1]}x${this.input[0]} (from the dataset)`),
      rows,
      h('button', { type: 'button', id: 'add-layer', onclick: () => ((this.layers = [...this.layers, defaultLayer('relu')]), this.fromForm()) }, '+ layer'),
    );
  }

  private row(l: PatternLayer, i: number): HTMLElement {
    const set = (patch: Record<string, number | null>): void => {
      this.layers[i] = { ...l, ...patch } as PatternLayer;
      this.fromForm();
    };
    const field = (name: string, key: string, value: number | null, opts: { min?: number; step?: number; placeholder?: string } = {}) =>
      h(
        'label',
        { class: 'param' },
        name,
        h('input', {
          type: 'number',
          value: value ?? '',
          min: opts.min ?? 1,
          step: opts.step ?? 1,
          placeholder: opts.placeholder,
          dataset: { field: key },
          onchange: (e: Event) => {
            const v = (e.target as HTMLInputElement).value;
            set({ [key]: v === '' ? null : Number(v) });
          },
        }),
      );
    const params: HTMLElement[] = [];
    if (l.kind === 'conv') {
      params.push(field('F', 'size', l.size), field('K', 'filters', l.filters), field('S', 'stride', l.stride, { placeholder: '1' }), field('P', 'pad', l.pad, { min: 0, placeholder: 'auto' }));
    } else if (l.kind === 'pool') {
      params.push(field('F', 'size', l.size), field('S', 'stride', l.stride, { placeholder: 'F' }), field('P', 'pad', l.pad, { min: 0 }));
    } else if (l.kind === 'fc') {
      params.push(field('K', 'units', l.units));
    } else if (l.kind === 'dropout') {
      params.push(field('p', 'p', l.p, { min: 0, step: 0.05 }));
    }
    const kind = h(
      'select',
      {
        'aria-label': `layer ${i + 1} type`,
        onchange: (e: Event) => {
          this.layers[i] = defaultLayer((e.target as HTMLSelectElement).value as Kind);
          this.fromForm();
        },
      },
      KINDS.map((k) => h('option', { value: k, selected: k === kindOf(l) }, k.toUpperCase())),
    );
    return h(
      'div',
      { class: 'layer-row', dataset: { index: i } },
      kind,
      params,
      h('button', { type: 'button', class: 'small', title: 'insert a copy below', onclick: () => ((this.layers.splice(i + 1, 0, { ...l }), this.fromForm())) }, '+'),
      h('button', { type: 'button', class: 'small', title: 'remove', onclick: () => ((this.layers.splice(i, 1), this.fromForm())) }, '×'),
    );
  }
}
