/**
 * One instance of the WebAssembly kernels: the compiled module, its memory, an arena
 * allocator on that memory, and the worker pool. Kernels (gemm.ts, conv2d.ts, ...) copy their
 * inputs into the arena, publish a job, and copy the output out into a fresh Float32Array.
 *
 * The arena is a bump allocator reset at the start of every kernel call and grown (never
 * shrunk) to the largest call seen; with shared memory the buffer grows in place, so workers
 * see it too. Nothing survives between calls: optimizers update weights in place, so packed
 * weights are never cached.
 */
import { ConvkitError } from '../../tensor/errors.js';
import { JOB, JOB_BYTES } from './job-layout.js';
import { canBlock, hostCores, startPool, type Pool } from './pool.js';

/** Must match abiVersion() in assembly/index.ts: a stale kernels.wasm would misread the jobs. */
const ABI_VERSION = 6;

interface KernelExports {
  abiVersion?(): number;
  run(job: number, kind: number, ntasks: number, workers: number): void;
  gemmScratch(): number;
}

const PAGE = 65536;
/** The job block sits below the arena; the module has no static data of its own. */
const JOB_AT = 1024;
const ARENA_BASE = PAGE;
const ALIGN = 64;

export class WasmRuntime {
  readonly exports: KernelExports;
  readonly pool: Pool | null;
  readonly gemmScratch: number;
  /** Set by tests (and CONVKIT_THREADS=1) to compare the single-threaded path. */
  singleThreaded = false;
  private top = ARENA_BASE;
  /** Memory grew during this kernel call: run it on this thread alone (see alloc). */
  private grew = false;
  private f32view: Float32Array;
  private i32view: Int32Array;

  constructor(
    module: WebAssembly.Module,
    private readonly memory: WebAssembly.Memory,
    readonly shared: boolean,
    workers: number,
  ) {
    this.exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
    if (this.exports.abiVersion?.() !== ABI_VERSION) {
      throw new ConvkitError(`wasm backend: kernels.wasm is out of date (ABI ${this.exports.abiVersion?.() ?? 'unknown'}, expected ${ABI_VERSION}); run \`npm run build:wasm\``);
    }
    this.f32view = new Float32Array(memory.buffer);
    this.i32view = new Int32Array(memory.buffer);
    this.gemmScratch = this.exports.gemmScratch();
    this.pool = shared ? startPool(module, memory, JOB_AT, workers) : null;
  }

  /**
   * Threads the pool will have once started. Work whose float summation order depends on how
   * it is split must plan with this, not with threads(), so results never depend on timing.
   */
  plannedThreads(): number {
    return !this.singleThreaded && this.pool ? this.pool.size + 1 : 1;
  }

  /** Threads a job may use right now (1 = the calling thread alone). */
  threads(): number {
    return !this.singleThreaded && !this.grew && this.pool?.ready() ? this.pool.size + 1 : 1;
  }

  get f32(): Float32Array {
    if (this.f32view.buffer.byteLength !== this.memory.buffer.byteLength) this.refresh();
    return this.f32view;
  }

  private refresh(): void {
    this.f32view = new Float32Array(this.memory.buffer);
    this.i32view = new Int32Array(this.memory.buffer);
  }

  /** Starts a kernel call: everything allocated by the previous one is free again. */
  begin(): void {
    this.top = ARENA_BASE;
    this.grew = false;
  }

  /** `floats` float32 slots (64-byte aligned); returns the byte offset. */
  alloc(floats: number): number {
    const ptr = this.top;
    const end = ptr + Math.ceil((floats * 4) / ALIGN) * ALIGN;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      // Other threads learn of a grown shared memory asynchronously (V8 interrupts them), so
      // the call that grows it keeps to this thread; growing by half again at least makes
      // that rare after the first few calls.
      this.grew = true;
      const need = Math.ceil((end - have) / PAGE);
      try {
        try {
          this.memory.grow(Math.max(need, Math.ceil(have / 2 / PAGE)));
        } catch {
          this.memory.grow(need);
        }
      } catch {
        throw new ConvkitError(`wasm backend: out of WebAssembly memory (a kernel needs ${(end / 2 ** 20).toFixed(0)} MiB); use a smaller batch or CONVKIT_BACKEND=js`);
      }
      this.refresh();
    }
    this.top = end;
    return ptr;
  }

  /** Copies `data` into the arena. */
  put(data: Float32Array): number {
    const ptr = this.alloc(data.length);
    this.f32.set(data, ptr >> 2);
    return ptr;
  }

  /** A fresh Float32Array with `n` floats from `ptr`. */
  read(ptr: number, n: number): Float32Array {
    return this.f32.slice(ptr >> 2, (ptr >> 2) + n);
  }

  /** Copies int32 data (pooling switches) into the arena. */
  putI32(data: Int32Array): number {
    const ptr = this.alloc(data.length);
    this.i32.set(data, ptr >> 2);
    return ptr;
  }

  readI32(ptr: number, n: number): Int32Array {
    return this.i32.slice(ptr >> 2, (ptr >> 2) + n);
  }

  private get i32(): Int32Array {
    if (this.i32view.buffer.byteLength !== this.memory.buffer.byteLength) this.refresh();
    return this.i32view;
  }

  zero(ptr: number, n: number): void {
    this.f32.fill(0, ptr >> 2, (ptr >> 2) + n);
  }

  /** Sets argument slot `i` of the job (an int32). */
  arg(i: number, v: number): void {
    if (this.i32view.buffer.byteLength !== this.memory.buffer.byteLength) this.refresh();
    this.i32view[(JOB_AT >> 2) + JOB.args + i] = v;
  }

  argf(i: number, v: number): void {
    this.f32[(JOB_AT >> 2) + JOB.args + i] = v;
  }

  /**
   * Runs `ntasks` tasks of `kind` with `scratchBytes` of scratch per thread, on as many
   * threads as are ready when `parallel` (callers pass false for work too small to split).
   */
  run(kind: number, ntasks: number, scratchBytes: number, parallel: boolean): void {
    const stride = Math.ceil(scratchBytes / ALIGN) * ALIGN;
    // Scratch for every thread first: if that grows the memory, the job runs on this thread.
    const most = this.pool ? this.pool.size + 1 : 1;
    const base = stride > 0 ? this.alloc((stride * most) / 4) : 0;
    const threads = parallel && ntasks > 1 ? this.threads() : 1;
    const h = (JOB_AT >> 2);
    this.i32view[h + JOB.scratch] = base;
    this.i32view[h + JOB.sstride] = stride;
    this.exports.run(JOB_AT, kind, ntasks, threads - 1);
    if (threads > 1 && this.pool?.failed()) {
      throw new ConvkitError('wasm backend: a worker thread failed during this kernel; later kernels run on the calling thread (set CONVKIT_THREADS=1 to avoid threads)');
    }
  }
}

/** Everything needed to build a runtime; compiled once, synchronously where possible. */
export interface WasmHost {
  module: WebAssembly.Module;
  shared: boolean;
}

const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/** WebAssembly with 128-bit SIMD available? */
export function simdSupported(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
}

/** Shared memory (threads) available? */
export function sharedMemorySupported(): boolean {
  if (typeof SharedArrayBuffer !== 'function') return false;
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}

export function createRuntime(host: WasmHost, workers = defaultWorkers()): WasmRuntime {
  const initial = 32;
  // Shared memories reserve their maximum up front: 4 GiB is fine in 64-bit Node, browsers
  // get 1 GiB.
  const maximum = canBlock() && typeof (globalThis as { process?: unknown }).process === 'object' ? 65536 : 16384;
  const memory = new WebAssembly.Memory(host.shared ? { initial, maximum, shared: true } : { initial, maximum });
  return new WasmRuntime(host.module, memory, host.shared, host.shared ? workers : 0);
}

function defaultWorkers(): number {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const want = Number(env?.CONVKIT_THREADS ?? 0);
  const threads = want > 0 ? want : Math.min(hostCores(), 8);
  return Math.max(0, threads - 1);
}
