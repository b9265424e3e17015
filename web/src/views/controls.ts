import type { BackendInfo, TrainStats, WebgpuProbe } from '../shared/protocol.js';
import { BACKENDS, checkHyper, checkOptimizerOn, DEVICE_OPTIMIZERS, OPTIMIZERS, type BackendName, type Hyper, type OptimizerName } from '../shared/run-config.js';
import { h } from '../render/dom.js';

/**
 * Training controls: train / pause, a single step, reset; the backend (wasm, or webgpu once the
 * worker has found an adapter), which restarts the run; the hyperparameters, applied to the
 * running worker as they change; and the readouts (step, epoch, images/s, forward and backward
 * ms) with the status line (backend, adapter or threads, parameters).
 */

export interface ControlEvents {
  run(): void;
  pause(): void;
  step(): void;
  reset(): void;
  hyper(h: Hyper): void;
  backend(b: BackendName): void;
}

const BACKEND_LABELS: Record<BackendName, string> = { wasm: 'wasm (WebAssembly, CPU)', webgpu: 'webgpu (GPU)' };

export class Controls {
  readonly el: HTMLElement;
  private readonly trainBtn = h('button', { type: 'button', id: 'train', class: 'primary', onclick: () => this.toggle() }, 'Train');
  private readonly stepBtn = h('button', { type: 'button', id: 'step', onclick: () => this.events.step() }, 'Step');
  private readonly resetBtn = h('button', { type: 'button', id: 'reset', onclick: () => this.events.reset() }, 'Reset');
  private readonly optimizer: HTMLSelectElement;
  private readonly backendSel: HTMLSelectElement;
  private readonly backendOpts: Record<BackendName, HTMLOptionElement>;
  private readonly inputs: Record<'lr' | 'momentum' | 'batchSize' | 'weightDecay', HTMLInputElement>;
  private readonly problem = h('p', { class: 'error', id: 'hyper-error', hidden: true });
  private readonly readout: Record<string, HTMLElement> = {};
  private readonly backendLine = h('p', { class: 'muted', id: 'backend-info' }, 'starting the worker…');
  running = false;
  private allowed = false;

  constructor(private readonly events: ControlEvents, hyper: Hyper, backend: BackendName) {
    this.backendOpts = {
      wasm: h('option', { value: 'wasm', selected: backend === 'wasm' }, BACKEND_LABELS.wasm),
      // Offered once the worker has found an adapter (showWebgpu).
      webgpu: h('option', { value: 'webgpu', selected: backend === 'webgpu', disabled: true }, 'webgpu (looking for a GPU…)'),
    };
    this.backendSel = h('select', { id: 'backend', onchange: () => this.backendChanged() }, BACKENDS.map((b) => this.backendOpts[b]));
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
        h('label', { class: 'field' }, h('span', {}, 'backend'), this.backendSel),
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
    this.fitOptimizer();
  }

  backend(): BackendName {
    return this.backendSel.value as BackendName;
  }

  /** What the worker found: webgpu is offered when it has an adapter, else greyed out with the reason. */
  showWebgpu(p: WebgpuProbe): void {
    const o = this.backendOpts.webgpu;
    o.disabled = p.adapter === null;
    o.textContent = p.adapter === null ? 'webgpu (unavailable)' : BACKEND_LABELS.webgpu;
    o.title = p.adapter ?? p.problem ?? '';
  }

  /**
   * The optimizers whose update runs on the backend (RMSprop and Adagrad update in JavaScript,
   * which cannot reach weights on the GPU); one that does not is replaced by SGD, and the note
   * says so. Returns whether it changed the optimizer.
   */
  private fitOptimizer(): boolean {
    const backend = this.backend();
    for (const o of this.optimizer.options) o.disabled = backend === 'webgpu' && !DEVICE_OPTIMIZERS.includes(o.value as OptimizerName);
    const why = checkOptimizerOn(this.optimizer.value as OptimizerName, backend);
    if (why === null) return false;
    this.optimizer.value = 'sgd';
    this.inputs.momentum.disabled = false;
    this.problem.hidden = false;
    this.problem.textContent = `${why}; switched to SGD`;
    return true;
  }

  private backendChanged(): void {
    if (this.fitOptimizer()) this.events.hyper(this.hyper());
    this.events.backend(this.backend());
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
    // (null on webgpu: a step only queues GPU work, so its parts have no time of their own)
    r['fwd']!.textContent = s.step && s.forwardMs !== null ? s.forwardMs.toFixed(1) : '–';
    r['bwd']!.textContent = s.step && s.backwardMs !== null ? s.backwardMs.toFixed(1) : '–';
    if (loss !== null) r['loss']!.textContent = loss.toFixed(4);
    if (accuracy !== null) r['acc']!.textContent = `${(accuracy * 100).toFixed(1)}%`;
  }

  showBackend(b: BackendInfo, params: number): void {
    const where =
      b.name === 'webgpu'
        ? `backend webgpu on ${b.adapter ?? 'an unnamed adapter'}`
        : `backend ${b.name}, ${b.threads} thread${b.threads === 1 ? '' : 's'}` + (b.isolated ? ' (cross-origin isolated)' : ' (not cross-origin isolated: one thread)');
    const fallback = b.fallback !== undefined ? ` · ${b.requested} is not available (${b.fallback})` : '';
    this.backendLine.textContent = `${where} · ${params.toLocaleString('en-US')} parameters${fallback}`;
    this.backendLine.dataset['backend'] = b.name;
    if (b.name === 'wasm' || b.name === 'webgpu') this.backendSel.value = b.name;
  }
}
