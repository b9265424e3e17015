import type { UploadedIdx } from '../shared/protocol.js';
import type { DatasetName } from '../shared/run-config.js';
import { h } from '../render/dom.js';

/**
 * Dataset and seed. The digits always ship with the page; Fashion-MNIST when its files were
 * given at build time (otherwise: upload its four IDX files, as any MNIST-format dataset);
 * the colour shapes are generated from the seed.
 */

export interface DataEvents {
  dataset(name: DatasetName, upload?: UploadedIdx): void;
  seed(seed: number): void;
}

const LABELS: Record<DatasetName, string> = {
  digits: 'digits (MNIST, 10k subset)',
  'fashion-mnist': 'Fashion-MNIST (10k subset)',
  shapes: 'colour shapes (generated, RGB)',
  upload: 'IDX files you upload',
};

/** Which of the four IDX files a name is: train/test x images/labels. */
function slot(name: string): keyof UploadedIdx | null {
  const n = name.toLowerCase();
  const test = /t10k|test/.test(n);
  const train = !test && /train/.test(n);
  if (!test && !train) return null;
  if (/images|idx3/.test(n)) return test ? 'testImages' : 'trainImages';
  if (/labels|idx1/.test(n)) return test ? 'testLabels' : 'trainLabels';
  return null;
}

export class DataPanel {
  readonly el: HTMLElement;
  private readonly select: HTMLSelectElement;
  private readonly seedInput: HTMLInputElement;
  private readonly note = h('p', { class: 'muted', id: 'data-note' });
  private readonly upload: HTMLInputElement;

  constructor(private readonly events: DataEvents, dataset: DatasetName, seed: number, private readonly built: readonly string[]) {
    this.select = h(
      'select',
      { id: 'dataset', onchange: () => this.picked() },
      (Object.keys(LABELS) as DatasetName[]).map((d) => h('option', { value: d, selected: d === dataset }, LABELS[d] + (d === 'fashion-mnist' && !built.includes(d) ? ' — upload its files' : ''))),
    );
    this.seedInput = h('input', { id: 'seed', type: 'number', value: seed, step: 1, onchange: () => this.events.seed(Math.trunc(Number(this.seedInput.value))) });
    this.upload = h('input', { id: 'idx-upload', type: 'file', multiple: true, accept: '.gz,.idx,.idx1-ubyte,.idx3-ubyte,*', onchange: () => void this.uploaded() });
    this.el = h(
      'section',
      { class: 'panel data', id: 'data' },
      h('h2', {}, 'Data'),
      h('label', { class: 'field' }, h('span', {}, 'dataset'), this.select),
      h('label', { class: 'field' }, h('span', {}, 'seed'), this.seedInput),
      h('label', { class: 'field upload' }, h('span', {}, 'IDX files (train/t10k images and labels, .gz or raw)'), this.upload),
      this.note,
    );
    this.describe(dataset);
  }

  private describe(d: DatasetName): void {
    const needsFiles = d === 'upload' || (d === 'fashion-mnist' && !this.built.includes(d));
    this.upload.closest('label')!.hidden = !needsFiles;
    this.note.textContent = needsFiles ? 'pick the four files: train-images, train-labels, t10k-images, t10k-labels (MNIST format)' : '';
  }

  private picked(): void {
    const d = this.select.value as DatasetName;
    this.describe(d);
    // Without files there is nothing to load yet; the upload brings them.
    if (d === 'fashion-mnist' && !this.built.includes(d)) return;
    if (d !== 'upload') this.events.dataset(d);
  }

  private async uploaded(): Promise<void> {
    const files: Partial<UploadedIdx> = {};
    for (const f of this.upload.files ?? []) {
      const s = slot(f.name);
      if (s) files[s] = new Uint8Array(await f.arrayBuffer());
    }
    const missing = (['trainImages', 'trainLabels', 'testImages', 'testLabels'] as const).filter((k) => !files[k]);
    if (missing.length) {
      this.note.textContent = `missing: ${missing.join(', ')} (names must contain train or t10k/test, and images or labels)`;
      return;
    }
    this.note.textContent = 'uploaded';
    // Uploaded Fashion-MNIST files are an upload like any other (the class names are not known).
    this.events.dataset('upload', files as UploadedIdx);
  }

  set(dataset: DatasetName): void {
    this.select.value = dataset;
    this.describe(dataset);
  }
}
