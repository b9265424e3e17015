/**
 * The worker threads: each instantiates the same compiled module on the same shared memory
 * and parks in the module's `workerLoop`, woken through the job block (assembly/job.ts). The
 * pool starts in the background; until every worker has checked in (the READY word), kernels
 * simply run on the calling thread. Workers are unref'd so they never keep Node alive.
 *
 * Node gets worker_threads through process.getBuiltinModule (no static import, so the browser
 * build stays free of Node built-ins); a browser gets Web Workers from a Blob URL, but only
 * when convkit itself runs inside a worker, since a page's main thread may not block.
 */
import { JOB } from './job-layout.js';

export interface Pool {
  /** Worker threads (the calling thread is extra). */
  readonly size: number;
  /** True once every worker waits in its loop (and none has failed). */
  ready(): boolean;
  /** A worker failed (its job's results are incomplete). */
  failed(): boolean;
}

// The whole worker: instantiate, then loop inside wasm until the process ends.
// A worker that fails marks the job block (DEAD), and checks out of the job in progress so the
// main thread wakes up instead of waiting forever.
const LOOP = `
function loop({ module, memory, job, tid }) {
  try {
    new WebAssembly.Instance(module, { env: { memory } }).exports.workerLoop(job, tid);
  } catch (e) {
    const v = new Int32Array(memory.buffer, job, 16);
    Atomics.store(v, ${JOB.dead}, 1);
    Atomics.add(v, ${JOB.fin}, 1);
    Atomics.notify(v, ${JOB.fin});
    throw e;
  }
}
`;
const NODE_WORKER = `${LOOP}
loop(require('node:worker_threads').workerData);
`;
const WEB_WORKER = `${LOOP}
onmessage = (e) => loop(e.data);
`;

interface NodeWorker {
  unref(): void;
  on(event: 'error', fn: (e: unknown) => void): void;
}
interface WorkerThreads {
  Worker: new (code: string, opts: { eval: true; workerData: unknown }) => NodeWorker;
}

type GetBuiltin = (id: string) => unknown;

function nodeBuiltin(id: string): unknown {
  const proc = (globalThis as { process?: { getBuiltinModule?: GetBuiltin } }).process;
  return proc?.getBuiltinModule?.(id);
}

/** Cores the host reports (Node: availableParallelism; browsers: hardwareConcurrency). */
export function hostCores(): number {
  const os = nodeBuiltin('node:os') as { availableParallelism?: () => number; cpus(): unknown[] } | undefined;
  if (os) return os.availableParallelism?.() ?? os.cpus().length;
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return nav?.hardwareConcurrency ?? 1;
}

/** Can this thread block in Atomics.wait? (Node: yes; browsers: only inside a worker.) */
export function canBlock(): boolean {
  if (nodeBuiltin('node:worker_threads')) return true;
  const g = globalThis as { document?: unknown; importScripts?: unknown };
  return g.document === undefined && typeof g.importScripts === 'function';
}

export function startPool(module: WebAssembly.Module, memory: WebAssembly.Memory, job: number, workers: number): Pool | null {
  if (workers <= 0 || !canBlock()) return null;
  const view = new Int32Array(memory.buffer, job, 16);
  let failed = false;
  const wt = nodeBuiltin('node:worker_threads') as WorkerThreads | undefined;
  try {
    for (let i = 0; i < workers; i++) {
      const data = { module, memory, job, tid: i + 1 };
      if (wt) {
        const w = new wt.Worker(NODE_WORKER, { eval: true, workerData: data });
        w.on('error', () => { failed = true; });
        w.unref();
      } else {
        const url = URL.createObjectURL(new Blob([WEB_WORKER], { type: 'text/javascript' }));
        const w = new Worker(url);
        w.onerror = () => { failed = true; };
        w.postMessage(data);
      }
    }
  } catch {
    return null;
  }
  return {
    size: workers,
    ready: () => !failed && Atomics.load(view, JOB.dead) === 0 && Atomics.load(view, JOB.ready) === workers,
    failed: () => failed || Atomics.load(view, JOB.dead) !== 0,
  };
}
