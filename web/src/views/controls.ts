import type { BackendInfo, TrainStats } from '../shared/protocol.js';
import { checkHyper, OPTIMIZERS, type Hyper, type OptimizerName } from '../shared/run-config.js';
import { h } from '../render/dom.js';

/**
 * Training controls: train / pause, a single step, reset; the hyperparameters, applied to
 * the running worker as they change; and the readouts (step, epoch, images/s, forward and
 * backward ms).
 */

export interface ControlEvents {
  run(): void;
  pause(): void;
  step(): void;
  reset(): void;
  hyper(h: Hyper): void;
}

export class Controls {
  readonly el: HTMLElement;
  private readonly trainBtn = h('button', { type: 'button', id: 'train', class: 'primary', onclick: () => this.toggle() }, 'Train');
  private readonly stepBtn = h('button', { type: 'button', id: 'step', onclick: () => this.events.step() }, 'Step');
  private readonly resetBtn = h('button', { type: 'button', id: 'reset', onclick: () => this.events.reset() }, 'Reset');
  private readonly optimizer: HTMLSelectElement;
  private readonly inputs: Record<'lr' | 'momentum' | 'batchSize' | 'weightDecay', HTMLInputElement>;
  private readonly problem = h('p', { class: 'error', id: 'hyper-error', hidden: true });
  private readonly readout: Record<string, HTMLElement> = {};
  private readonly backendLine = h('p', { class: 'muted', id: 'backend-info' }, 'starting the worker…');
  running = false;
  private allowed = false;

  constructor(private readonly events: ControlEvents, hyper: Hyper) {
    this.optimizer = h('select', { id: 'optimizer', onchange: () => this.changed() }, OPTIMIZERS.map((o) => h('option', { value: o, selected: o === hyper.optimizer }, o === 'sgd' ? 'SGD' : o === 'rmsprop' ? 'RMSprop' : o[0]!.toUpperCase() + o.slice(1))));
    const input = (id: string, value: number, attrs: Record<string, unknown>) => h('input', { id, type: 'number', value, onchange: () => this.changed(), ...attrs });
    this.inputs = {
      lr: input('lr', hyper.lr, { min: 0, step: 'any' }),
      momentum: input('momentum', hyper.momentum, { min: 0, max: 0.999, step: 0.05 }),
      batchSize: input('batch-size', hyper.batchSize, { min: 1, max: 1024, step: 1 }),
      weightDecay: input('weight-decay', hyper.weightDecay, { min: 0, step: 'any' }),
    };
    const stat = (key: string, label: string) => {
      const v = h('span', { class: 'value', id: `stat-${key}` }, '–');
      this.readout[key] = v;
      return h('div', { class: 'stat' }, h('span', { class: 'label' }, label), v);
    };
    this.el = h(
      'section',
      { class: 'panel controls', id: 'controls' },
      h('h2', {}, 'Training'),
      h('div', { class: 'buttons' }, this.trainBtn, this.stepBtn, this.resetBtn),
      h(
        'div',
        { class: 'hyper' },
        h('label', { class: 'field' }, h('span', {}, 'optimizer'), this.optimizer),
        h('label', { class: 'field' }, h('span', {}, 'learning rate'), this.inputs.lr),
        h('label', { class: 'field' }, h('span', {}, 'momentum'), this.inputs.momentum),
        h('label', { class: 'field' }, h('span', {}, 'batch size'), this.inputs.batchSize),
        h('label', { class: 'field' }, h('span', {}, 'weight decay'), this.inputs.weightDecay),
      ),
      this.problem,
      h(
        'div',
        { class: 'stats' },
        stat('step', 'step'),
        stat('epoch', 'epoch'),
        stat('ips', 'images/s'),
        stat('wall-ips', 'images/s incl. views'),
        stat('fwd', 'forward ms'),
        stat('bwd', 'backward ms'),
        stat('loss', 'train loss'),
        stat('acc', 'train accuracy'),
      ),
      this.backendLine,
    );
    this.setAllowed(false);
  }

  hyper(): Hyper {
    return {
      optimizer: this.optimizer.value as OptimizerName,
      lr: Number(this.inputs.lr.value),
      momentum: Number(this.inputs.momentum.value),
      batchSize: Math.trunc(Number(this.inputs.batchSize.value)),
      weightDecay: Number(this.inputs.weightDecay.value),
    };
  }

  private changed(): void {
    const hyper = this.hyper();
    const problem = checkHyper(hyper);
    this.problem.hidden = problem === null;
    this.problem.textContent = problem ?? '';
    this.inputs.momentum.disabled = hyper.optimizer === 'adagrad';
    if (!problem) this.events.hyper(hyper);
  }

  private toggle(): void {
    if (this.running) this.events.pause();
    else this.events.run();
  }

  /** Train and Step are allowed only with a valid network and a ready worker. */
  setAllowed(ok: boolean): void {
    this.allowed = ok;
    this.trainBtn.disabled = !ok;
    this.stepBtn.disabled = !ok || this.running;
    this.resetBtn.disabled = !ok;
  }

  setRunning(running: boolean): void {
    this.running = running;
    this.trainBtn.textContent = running ? 'Pause' : 'Train';
    this.trainBtn.classList.toggle('running', running);
    this.stepBtn.disabled = !this.allowed || running;
  }

  showStats(s: TrainStats, loss: number | null, accuracy: number | null): void {
    const r = this.readout;
    r['step']!.textContent = String(s.step);
    r['epoch']!.textContent = `${s.epoch} (${(s.epochProgress * 100).toFixed(0)}%)`;
    r['ips']!.textContent = s.imagesPerSecond ? s.imagesPerSecond.toFixed(0) : '–';
    r['wall-ips']!.textContent = s.wallImagesPerSecond ? s.wallImagesPerSecond.toFixed(0) : '–';
    r['fwd']!.textContent = s.step ? s.forwardMs.toFixed(1) : '–';
    r['bwd']!.textContent = s.step ? s.backwardMs.toFixed(1) : '–';
    if (loss !== null) r['loss']!.textContent = loss.toFixed(4);
    if (accuracy !== null) r['acc']!.textContent = `${(accuracy * 100).toFixed(1)}%`;
  }

  showBackend(b: BackendInfo, params: number): void {
    this.backendLine.textContent =
      `backend ${b.name}, ${b.threads} thread${b.threads === 1 ? '' : 's'}` +
      (b.isolated ? ' (cross-origin isolated)' : ' (not cross-origin isolated: one thread)') +
      ` · ${params.toLocaleString('en-US')} parameters`;
  }
}
