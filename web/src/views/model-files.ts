import { h } from '../render/dom.js';

/**
 * Save the trained model as a convkit model file (architecture, weights and the pattern,
 * dataset and class names as metadata), load one back to continue or inspect it, or export
 * it as ONNX.
 */

export interface ModelFileEvents {
  save(): Promise<{ bytes: Uint8Array; name: string }>;
  load(bytes: Uint8Array, name: string): Promise<void>;
  exportOnnx: (() => Promise<{ bytes: Uint8Array; name: string }>) | null;
}

function download(bytes: Uint8Array, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export class ModelFiles {
  readonly el: HTMLElement;
  private readonly status = h('p', { class: 'muted', id: 'model-status' });

  constructor(private readonly events: ModelFileEvents) {
    const file = h('input', { type: 'file', id: 'model-load', accept: '.convkit,.ckpt,application/octet-stream', onchange: (e: Event) => void this.load((e.target as HTMLInputElement)) });
    const onnx = h(
      'button',
      {
        type: 'button',
        id: 'model-onnx',
        disabled: events.exportOnnx === null,
        title: events.exportOnnx ? 'download the model as ONNX' : 'ONNX export is not available',
        onclick: () => void this.run(events.exportOnnx!),
      },
      'Export ONNX',
    );
    this.el = h(
      'section',
      { class: 'panel files', id: 'model-files' },
      h('h2', {}, 'Model file'),
      h('div', { class: 'buttons' }, h('button', { type: 'button', id: 'model-save', onclick: () => void this.run(events.save) }, 'Save'), h('label', { class: 'upload' }, 'Load ', file), onnx),
      this.status,
    );
  }

  private async run(make: () => Promise<{ bytes: Uint8Array; name: string }>): Promise<void> {
    try {
      const { bytes, name } = await make();
      download(bytes, name);
      this.status.textContent = `saved ${name} (${(bytes.length / 1024).toFixed(0)} KB)`;
    } catch (e) {
      this.status.textContent = `could not save: ${(e as Error).message}`;
    }
  }

  private async load(input: HTMLInputElement): Promise<void> {
    const f = input.files?.[0];
    if (!f) return;
    try {
      await this.events.load(new Uint8Array(await f.arrayBuffer()), f.name);
      this.status.textContent = `loaded ${f.name}`;
    } catch (e) {
      this.status.textContent = `could not load ${f.name}: ${(e as Error).message}`;
    }
    input.value = '';
  }
}
