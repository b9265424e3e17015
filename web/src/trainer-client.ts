import type { FromWorker, NetSpec, ToWorker, UploadedIdx } from './shared/protocol.js';
import type { Hyper, RunConfig } from './shared/run-config.js';

/**
 * The page's side of the training worker: typed messages out, typed events in, and
 * request/reply pairs (predict, images, save, load) as promises.
 */

type Push = Exclude<FromWorker, { id: number }> | Extract<FromWorker, { type: 'failed' }>;
type Listener = (msg: Push) => void;
type Reply = Extract<FromWorker, { id: number }>;

export class TrainerClient {
  private readonly worker: Worker;
  private readonly listeners: Listener[] = [];
  private readonly waiting = new Map<number, { resolve: (m: Reply) => void; reject: (e: Error) => void }>();
  private nextId = 1;

  constructor() {
    this.worker = new Worker(new URL('./worker/train-worker.ts', import.meta.url), { type: 'module', name: 'convkit-trainer' });
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => this.receive(e.data);
    this.worker.onerror = (e) => this.emit({ type: 'failed', id: null, message: `the training worker failed: ${e.message}` });
  }

  private receive(msg: FromWorker): void {
    const id = 'id' in msg ? msg.id : null;
    const pending = id !== null ? this.waiting.get(id) : undefined;
    if (pending && id !== null) {
      this.waiting.delete(id);
      if (msg.type === 'failed') pending.reject(new Error(msg.message));
      else pending.resolve(msg as Reply);
      return;
    }
    this.emit(msg as Push);
  }

  private emit(msg: Push): void {
    for (const l of this.listeners) l(msg);
  }

  on(listener: Listener): void {
    this.listeners.push(listener);
  }

  private send(msg: ToWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(msg, transfer);
  }

  private request<T extends Reply['type']>(make: (id: number) => ToWorker, transfer: Transferable[] = []): Promise<Extract<Reply, { type: T }>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (m: Reply) => void, reject });
      this.send(make(id), transfer);
    });
  }

  setup(run: RunConfig, net: NetSpec, dataBase: string, upload?: UploadedIdx): void {
    this.send({ type: 'setup', run, net, dataBase, ...(upload ? { upload } : {}) });
  }

  run(): void {
    this.send({ type: 'run' });
  }

  pause(): void {
    this.send({ type: 'pause' });
  }

  step(): void {
    this.send({ type: 'step' });
  }

  hyper(hyper: Hyper): void {
    this.send({ type: 'hyper', hyper });
  }

  select(index: number): void {
    this.send({ type: 'select', index });
  }

  predict(pixels: Float32Array): Promise<Float32Array> {
    return this.request<'predicted'>((id) => ({ type: 'predict', id, pixels })).then((m) => m.probabilities);
  }

  images(indices: number[]): Promise<{ pixels: Float32Array[]; labels: number[] }> {
    return this.request<'images'>((id) => ({ type: 'images', id, indices }));
  }

  save(): Promise<{ bytes: Uint8Array; name: string }> {
    return this.request<'file'>((id) => ({ type: 'save', id }));
  }

  exportOnnx(): Promise<{ bytes: Uint8Array; name: string }> {
    return this.request<'file'>((id) => ({ type: 'export-onnx', id }));
  }

  load(bytes: Uint8Array, name: string): Promise<NetSpec> {
    return this.request<'loaded'>((id) => ({ type: 'load', id, bytes, name }), [bytes.buffer as ArrayBuffer]).then((m) => m.net);
  }
}
