import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { ConvkitError } from '../../tensor/errors.js';
import { DEV_LOADER_HOOKS, WORKER_BOOTSTRAP } from './dev-loader.js';
import type { SampleResult, SampleTask } from './sample-task.js';

/**
 * A pool of worker threads running image SampleTasks (decode, preprocess, augment), so that all
 * cores work on data. Datasets and loaders are synchronous (DataLoader pulls samples in a
 * plain loop), so the pool is too: `submit` posts tasks and returns at once, `wait` blocks the
 * calling thread in Atomics.wait until the answers are in, reading them with
 * receiveMessageOnPort (which needs no event loop turn). Submitting the next batch before
 * waiting for the current one keeps workers busy while the caller trains.
 * Workers are unref'd: an idle pool never keeps Node alive.
 */

interface Reply {
  id: number;
  ok: boolean;
  result?: SampleResult;
  error?: string;
  convkit?: boolean;
}

interface Slot {
  worker: Worker;
  port: MessagePort;
}

/** How long `wait` tolerates no answer at all before calling the pool stuck. */
const STALL_MS = 300_000;

function workerEntry(): { entry: string; hooks?: string; esbuild?: string } {
  const js = new URL('./pipeline-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return { entry: js.href };
  const ts = new URL('./pipeline-worker.ts', import.meta.url);
  if (!existsSync(fileURLToPath(ts))) {
    throw new ConvkitError(`image workers: neither ${fileURLToPath(js)} nor its TypeScript source exists; rebuild convkit (npm run build)`);
  }
  let esbuild: string;
  try {
    esbuild = createRequire(import.meta.url).resolve('esbuild');
  } catch {
    throw new ConvkitError('image workers: running from TypeScript sources needs esbuild (installed with vitest or tsx); or build convkit first');
  }
  return { entry: ts.href, hooks: `data:text/javascript,${encodeURIComponent(DEV_LOADER_HOOKS)}`, esbuild };
}

/** Options of `ImageWorkerPool`. */
export interface WorkerPoolOptions {
  /** Extra modules each worker imports first, e.g. one that registers custom transforms. */
  modules?: string[];
}

/** Worker threads that decode, preprocess and augment images in parallel (Node). */
export class ImageWorkerPool {
  private readonly slots: Slot[] = [];
  private readonly counter = new Int32Array(new SharedArrayBuffer(4));
  private readonly replies = new Map<number, Reply>();
  /** Tasks posted and not yet answered. */
  private readonly pending = new Set<number>();
  /** Tasks whose caller gave up on them (a loop left early): their answers are dropped. */
  private readonly abandoned = new Set<number>();
  private nextId = 1;
  private turn = 0;
  private fatal: string | null = null;
  private closed = false;

  constructor(
    size: number,
    private readonly opts: WorkerPoolOptions = {},
  ) {
    if (!Number.isInteger(size) || size < 1) throw new ConvkitError(`ImageWorkerPool: size must be a whole number >= 1, got ${size}`);
    this.grow(size);
  }

  get size(): number {
    return this.slots.length;
  }

  /** Adds workers up to `size`. */
  grow(size: number): void {
    const { entry, hooks, esbuild } = workerEntry();
    while (this.slots.length < size) {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(WORKER_BOOTSTRAP, {
        eval: true,
        workerData: { entry, hooks, esbuild, port: port2, counter: this.counter, modules: this.opts.modules ?? [] },
        transferList: [port2],
      });
      worker.unref();
      port1.unref();
      worker.on('error', (e) => {
        this.fatal = `an image worker crashed: ${e.message}`;
      });
      this.slots.push({ worker, port: port1 });
    }
  }

  /** Posts tasks round-robin over the first `workers` workers; returns their ids for `wait`. */
  submit(tasks: readonly SampleTask[], workers = this.size): number[] {
    if (this.closed) throw new ConvkitError('ImageWorkerPool: the pool was closed');
    const n = Math.max(1, Math.min(workers, this.size));
    return tasks.map((task) => {
      const id = this.nextId++;
      this.pending.add(id);
      this.slots[this.turn++ % n]!.worker.postMessage({ id, task });
      return id;
    });
  }

  /** Blocks until every task in `ids` has answered; returns results in order, or throws the first error. */
  wait(ids: readonly number[]): SampleResult[] {
    let lastProgress = Date.now();
    for (;;) {
      const seen = Atomics.load(this.counter, 0);
      this.drain();
      if (ids.every((id) => this.replies.has(id))) break;
      if (this.fatal) throw new ConvkitError(this.fatal);
      if (Atomics.wait(this.counter, 0, seen, 1000) !== 'timed-out') lastProgress = Date.now();
      else if (Date.now() - lastProgress > STALL_MS) {
        throw new ConvkitError(`image workers: no answer for ${STALL_MS / 1000} s; a worker may have died (out of memory?)`);
      }
    }
    const out: SampleResult[] = [];
    let failure: Reply | null = null;
    for (const id of ids) {
      const r = this.replies.get(id)!;
      this.replies.delete(id);
      if (!r.ok) failure ??= r;
      else out.push(r.result!);
    }
    if (failure) {
      throw failure.convkit ? new ConvkitError(failure.error!) : new Error(`image worker: ${failure.error}`);
    }
    return out;
  }

  /** Drops the answers of tasks nobody will wait for (they still run). */
  forget(ids: readonly number[]): void {
    for (const id of ids) {
      if (this.pending.has(id)) this.abandoned.add(id);
      else this.replies.delete(id);
    }
  }

  /** Runs the tasks on the workers and waits for their results, in task order. */
  run(tasks: readonly SampleTask[], workers?: number): SampleResult[] {
    return this.wait(this.submit(tasks, workers));
  }

  private drain(): void {
    for (const { port } of this.slots) {
      for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
        const r = m.message as Reply;
        if (r.id === -1) {
          this.fatal = r.error ?? 'an image worker failed';
          continue;
        }
        this.pending.delete(r.id);
        if (this.abandoned.delete(r.id)) continue;
        this.replies.set(r.id, r);
      }
    }
  }

  /** Stops the workers (pending tasks are dropped). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
    if (shared === this) shared = null;
  }
}

/** Cores to use by default. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

let shared: ImageWorkerPool | null = null;

/** The process-wide pool, grown to at least `size` workers on demand. */
export function sharedImagePool(size = defaultWorkers()): ImageWorkerPool {
  if (!shared) shared = new ImageWorkerPool(size);
  else if (shared.size < size) shared.grow(size);
  return shared;
}

/** Splits `items` into about `parts * 4` chunks of consecutive items (small chunks balance uneven work). */
export function chunk<T>(items: readonly T[], parts: number): T[][] {
  const size = Math.max(1, Math.ceil(items.length / Math.max(1, parts * 4)));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
