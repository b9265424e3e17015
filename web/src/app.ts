import type { BackendInfo, DatasetInfo, EvalResult, FromWorker, NetSpec, Snapshot, TrainStats, UploadedIdx, WebgpuProbe } from './shared/protocol.js';
import { DATASET_SHAPES, type BackendName, type DatasetName, type Hyper, type Preset, type RunConfig } from './shared/run-config.js';
import { netSummary } from './net/net-spec.js';
import { adaptPattern } from './net/pattern-text.js';
import { h } from './render/dom.js';
import { Painter } from './render/painter.js';
import { readRun, writeRun } from './state/url-state.js';
import { TrainerClient } from './trainer-client.js';
import { ActivationsView } from './views/activations.js';
import { ConfusionView } from './views/confusion.js';
import { Controls } from './views/controls.js';
import { ConvDemo } from './views/conv-demo.js';
import { Curves } from './views/curves.js';
import { DataPanel } from './views/data-panel.js';
import { DrawPredictView } from './views/draw-predict.js';
import { NetworkEditor } from './views/editor.js';
import { ExampleView } from './views/example-view.js';
import { FiltersView } from './views/filters.js';
import { HistogramsView } from './views/histograms.js';
import { ModelFiles } from './views/model-files.js';
import { WorstView } from './views/worst.js';

/**
 * The page: the run (from the URL), the views, and the training worker between them. The
 * page only draws; every tensor operation of training runs in the worker.
 */

/** What the browser test reads (the views also carry data-* attributes). */
export interface PageState {
  ready: boolean;
  stats: TrainStats | null;
  lastEval: { step: number; count: number; accuracy: number; loss: number; confusionTotal: number } | null;
  snapshotStep: number | null;
  dataset: DatasetInfo | null;
  /** The backend of the current run, as the worker set it up. */
  backend: BackendInfo | null;
  /** The worker's WebGPU probe: the adapter, or why there is none (null until it answers). */
  webgpu: WebgpuProbe | null;
  error: string | null;
}

export class App {
  private run: RunConfig = readRun(location.hash);
  private readonly client = new TrainerClient();
  private readonly editor: NetworkEditor;
  private readonly data: DataPanel;
  private readonly controls: Controls;
  private readonly curves = new Curves();
  private readonly example: ExampleView;
  private readonly activations = new ActivationsView();
  private readonly filters = new FiltersView();
  private readonly histograms = new HistogramsView();
  private readonly confusion: ConfusionView;
  private readonly worst: WorstView;
  private readonly draw: DrawPredictView;
  private readonly convDemo = new ConvDemo();
  private readonly files: ModelFiles;
  private readonly painter = new Painter();
  private readonly pageError = h('p', { class: 'error page-error', id: 'page-error', hidden: true });
  private expected = DATASET_SHAPES[this.run.dataset];
  private upload: UploadedIdx | undefined;
  private setupTimer = 0;
  private selected = 0;
  readonly state: PageState = { ready: false, stats: null, lastEval: null, snapshotStep: null, dataset: null, backend: null, webgpu: null, error: null };

  constructor(private readonly dataBase: string, builtDatasets: readonly string[]) {
    this.editor = new NetworkEditor({ onChange: (net, text) => this.netChanged(net, text), check: (net) => this.checkNet(net), preset: (p) => this.presetPicked(p) });
    this.data = new DataPanel({ dataset: (d, upload) => this.datasetChanged(d, upload), seed: (s) => this.seedChanged(s) }, this.run.dataset, this.run.seed, builtDatasets);
    this.controls = new Controls(
      {
        run: () => {
          this.client.run();
          this.controls.setRunning(true);
        },
        pause: () => this.client.pause(),
        step: () => this.client.step(),
        reset: () => this.setup(),
        hyper: (hy) => this.hyperChanged(hy),
        backend: (b) => this.backendChanged(b),
      },
      this.run.hyper,
      this.run.backend,
    );
    // (The controls refuse an optimizer the backend cannot run.)
    this.run.hyper = this.controls.hyper();
    const choose = (i: number) => this.choose(i);
    this.example = new ExampleView(choose);
    this.confusion = new ConfusionView({ images: (ix) => this.client.images(ix), choose });
    this.worst = new WorstView(choose);
    this.draw = new DrawPredictView((px) => this.client.predict(px));
    this.files = new ModelFiles({
      save: () => this.client.save(),
      load: (bytes, name) => this.loadModel(bytes, name),
      exportOnnx: () => this.client.exportOnnx(),
    });
    this.client.on((m) => this.receive(m));
    this.editor.setBatch(this.run.hyper.batchSize);
    // When the dataset was not built into the page (Fashion-MNIST), the URL cannot load it.
    if (this.run.dataset === 'upload' || (this.run.dataset === 'fashion-mnist' && !builtDatasets.includes('fashion-mnist'))) {
      this.run.dataset = 'digits';
      this.expected = DATASET_SHAPES.digits;
      this.data.set('digits');
    }
    this.editor.setText(this.run.net, false);
    writeRun(this.run);
    if (this.editor.net) this.setup();
  }

  /** The page's layout. */
  mount(root: HTMLElement): void {
    root.append(
      h(
        'header',
        {},
        h('h1', {}, 'convkit playground'),
        h(
          'p',
          { class: 'muted' },
          'Build a ConvNet, train it in your browser (in a Web Worker, on convkit’s WebAssembly backend, or on the GPU through WebGPU where the browser has it) and watch what it learns. The address bar holds the whole run: copy it to share.',
        ),
        this.pageError,
      ),
      h(
        'div',
        { class: 'layout' },
        h('div', { class: 'side' }, this.editor.el, this.data.el, this.controls.el, this.files.el),
        h(
          'main',
          {},
          this.curves.el,
          h('div', { class: 'row' }, this.example.el, this.draw.el),
          this.activations.el,
          this.filters.el,
          h('div', { class: 'row' }, this.confusion.el, this.worst.el),
          this.histograms.el,
          this.convDemo.el,
        ),
      ),
    );
  }

  private checkNet(net: NetSpec): string | null {
    const [c, hh, w] = net.input;
    const [ec, eh, ew] = this.expected.input;
    if (c !== ec || hh !== eh || w !== ew) {
      return `the dataset's images are ${ew}x${eh}x${ec} but the network starts with INPUT[${w}x${hh}x${c}]; write INPUT[${ew}x${eh}x${ec}]`;
    }
    const rows = netSummary(net, 1).rows;
    const out = rows[rows.length - 1]?.output ?? [];
    if (out.length !== 1 || out[0] !== this.expected.classes) {
      return `the network must end with ${this.expected.classes} outputs, one score per class (e.g. FC${this.expected.classes}); its last layer gives [${out.join('x')}]`;
    }
    return null;
  }

  private netChanged(net: NetSpec | null, text: string): void {
    this.run.net = text;
    writeRun(this.run);
    this.state.ready = false;
    this.controls.setAllowed(false);
    if (!net) {
      this.controls.setRunning(false);
      this.client.pause();
      return;
    }
    // Typing settles before the worker rebuilds.
    window.clearTimeout(this.setupTimer);
    this.setupTimer = window.setTimeout(() => this.setup(), 150);
  }

  private presetPicked(p: Preset): void {
    if (p.dataset && p.dataset !== this.run.dataset) {
      this.data.set(p.dataset);
      this.run.dataset = p.dataset;
      this.expected = DATASET_SHAPES[p.dataset];
      this.editor.setText(p.net);
    } else {
      this.editor.setText(adaptPattern(p.net, this.expected.input, this.expected.classes));
    }
  }

  private datasetChanged(d: DatasetName, upload?: UploadedIdx): void {
    this.run.dataset = d;
    this.upload = upload;
    this.expected = DATASET_SHAPES[d];
    this.editor.setText(adaptPattern(this.editor.value, this.expected.input, this.expected.classes));
  }

  private seedChanged(seed: number): void {
    this.run.seed = seed;
    writeRun(this.run);
    this.setup();
  }

  private hyperChanged(hyper: Hyper): void {
    this.run.hyper = hyper;
    writeRun(this.run);
    this.editor.setBatch(hyper.batchSize);
    this.client.hyper(hyper);
  }

  /** Another backend: the run starts over on it (from the seed, as a reset). */
  private backendChanged(b: BackendName): void {
    this.run.backend = b;
    writeRun(this.run);
    this.setup();
  }

  private choose(index: number): void {
    this.selected = index;
    this.example.show(index);
    this.client.select(index);
  }

  /** (Re)starts the worker's run from the current network, dataset, seed and hyperparameters. */
  private setup(): void {
    const net = this.editor.net;
    if (!net) return;
    window.clearTimeout(this.setupTimer);
    this.state.ready = false;
    // What the page shows belongs to the old run until the new one reports.
    this.state.backend = null;
    this.state.snapshotStep = null;
    this.state.lastEval = null;
    this.controls.setAllowed(false);
    this.controls.setRunning(false);
    this.curves.reset();
    this.client.setup({ ...this.run, hyper: this.controls.hyper() }, net, this.dataBase, this.run.dataset === 'upload' ? this.upload : undefined);
  }

  private async loadModel(bytes: Uint8Array, name: string): Promise<void> {
    this.controls.setAllowed(false);
    this.curves.reset();
    const net = await this.client.load(bytes, name);
    this.editor.setText(net.pattern, false);
    this.run.net = net.pattern;
    writeRun(this.run);
  }

  private receive(m: FromWorker): void {
    switch (m.type) {
      case 'backends':
        this.state.webgpu = m.webgpu;
        this.controls.showWebgpu(m.webgpu);
        return;
      case 'ready':
        this.state.ready = true;
        this.state.dataset = m.dataset;
        this.pageError.hidden = true;
        for (const v of [this.example, this.confusion, this.worst, this.draw]) {
          v.classes = m.dataset.classes;
          v.shape = m.dataset.shape;
        }
        this.example.testSize = m.dataset.test;
        this.expected = { input: m.dataset.shape, classes: m.dataset.classes.length };
        this.state.backend = m.backend;
        this.controls.showBackend(m.backend, m.params);
        // The run records the backend it runs on (wasm when webgpu could not start).
        if ((m.backend.name === 'wasm' || m.backend.name === 'webgpu') && m.backend.name !== this.run.backend) {
          this.run.backend = m.backend.name;
          writeRun(this.run);
        }
        this.controls.setAllowed(this.editor.net !== null);
        void this.draw.refresh();
        return;
      case 'stats':
        return this.stats(m.stats);
      case 'snapshot':
        return this.snapshot(m.snapshot);
      case 'eval':
        return this.evaluated(m.result);
      case 'failed':
        this.state.error = m.message;
        this.pageError.hidden = false;
        this.pageError.textContent = m.message;
        this.controls.setRunning(false);
        return;
      default:
        return;
    }
  }

  private stats(s: TrainStats): void {
    this.state.stats = s;
    this.curves.addTrain(s.points);
    this.controls.setRunning(s.running);
    const p = this.curves.lastTrain;
    this.controls.showStats(s, p?.loss ?? null, p?.accuracy ?? null);
  }

  /** Draws a view when it is on screen; its data-step says which step it shows. */
  private paint(el: HTMLElement, step: number, draw: () => void): void {
    this.painter.paint(el, () => {
      draw();
      el.dataset['step'] = String(step);
    });
  }

  private snapshot(s: Snapshot): void {
    this.state.snapshotStep = s.step;
    if (s.example.index !== this.selected) this.example.show(s.example.index);
    this.paint(this.example.el, s.step, () => this.example.update(s));
    this.activations.update(s.activations, s.step, this.painter);
    this.paint(this.filters.el, s.step, () => this.filters.update(s.filters));
    this.histograms.update(s.histograms, s.step, this.painter);
  }

  private evaluated(r: EvalResult): void {
    this.state.lastEval = { step: r.step, count: r.count, accuracy: r.accuracy, loss: r.loss, confusionTotal: r.confusion.reduce((a, b) => a + b, 0) };
    this.curves.addVal(r);
    this.paint(this.confusion.el, r.step, () => this.confusion.update(r));
    this.paint(this.worst.el, r.step, () => this.worst.update(r));
  }
}
