/**
 * One instance of the WebAssembly kernels: the compiled module, its memory, the allocator on
 * that memory (heap.ts), and the worker pool. Kernels (gemm.ts, conv2d.ts, ...) get their
 * inputs into memory with `put`, publish a job, and hand the output back with `read`.
 *
 * With shared memory (threads), tensors made inside tidy scopes live in wasm memory: `read`
 * returns a view of the output block itself, which becomes the tensor's storage, and `put`
 * of such a view is free, so a network's activations go from kernel to kernel without a
 * copy. The block returns to the heap when its storages are disposed (the end of the scope)
 * or the view is garbage-collected (a tensor the scope returned). A shared
 * memory keeps old views valid when it grows; an unshared one (the single-threaded
 * fallback) detaches them, so there every output is copied out, as are int32 outputs.
 */
import { ConvkitError } from '../../tensor/errors.js';
import { inTidyScope } from '../../tensor/scope.js';
import { registerExternalBuffer, type ExternalMemory, type Storage, type TypedArray } from '../../tensor/storage.js';
import { JOB, JOB_BYTES } from './job-layout.js';
import { WasmHeap } from './heap.js';
import { canBlock, hostCores, startPool, type Pool } from './pool.js';

/** Must match abiVersion() in assembly/index.ts: a stale kernels.wasm would misread the jobs. */
const ABI_VERSION = 20;

interface KernelExports {
  abiVersion?(): number;
  run(job: number, kind: number, ntasks: number, workers: number): void;
  gemmScratch(): number;
}

const PAGE = 65536;
/** The job block sits below the heap; the module has no static data of its own. */
const JOB_AT = 1024;
const HEAP_BASE = PAGE;
const ALIGN = 64;

/** Outputs smaller than this go to the JS heap even inside tidy scopes (see output()). */
export const RESIDENT_MIN_ELEMENTS = 1024;

const GUARD_BYTES = 256;
const GUARD_WORD = 0xa5c3e1f7;

function guardFromEnv(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.CONVKIT_WASM_GUARD === '1';
}

/** A tensor block: its views' finalizers free it only if it was not freed and reused since. */
interface Resident { gen: number; refs: number; bytes: number; cell: { ptr: number; gen: number } }

export class WasmRuntime {
  readonly exports: KernelExports;
  readonly pool: Pool | null;
  readonly gemmScratch: number;
  /** Set by tests (and CONVKIT_THREADS=1) to compare the single-threaded path. */
  singleThreaded = false;
  /** Memory grew during this kernel call: run it on this thread alone (see grow). */
  private grew = false;
  private grewBetweenCalls = false;
  private f32view: Float32Array;
  private i32view: Int32Array;
  private readonly heap: WasmHeap;
  /** Blocks of the current kernel call, freed when the next one begins. */
  private temps = new Set<number>();
  /** Blocks that are tensors' storage, by address. */
  private readonly resident = new Map<number, Resident>();
  private generation = 0;
  /** Bytes of tensor blocks beyond which outputs are copied out to the JS heap instead. */
  readonly residentLimit: number;
  private residentBytes = 0;
  private readonly owner: ExternalMemory;
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private readonly finalizer: FinalizationRegistry<{ ptr: number; gen: number }>;

  constructor(
    module: WebAssembly.Module,
    private readonly memory: WebAssembly.Memory,
    readonly shared: boolean,
    workers: number,
    maximumBytes = 0,
    /** Built with relaxed SIMD: fused multiply-add in the GEMM and convolution loops. */
    readonly fma = false,
  ) {
    this.exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
    if (this.exports.abiVersion?.() !== ABI_VERSION) {
      throw new ConvkitError(`wasm backend: kernels.wasm is out of date (ABI ${this.exports.abiVersion?.() ?? 'unknown'}, expected ${ABI_VERSION}); run \`npm run build:wasm\``);
    }
    this.f32view = new Float32Array(memory.buffer);
    this.i32view = new Int32Array(memory.buffer);
    this.gemmScratch = this.exports.gemmScratch();
    this.heap = new WasmHeap(HEAP_BASE, (end) => this.grow(end));
    // A quarter of what the memory may grow to: beyond that (tensors nobody disposes, waiting
    // for the garbage collector, which does not see wasm memory), outputs go to the JS heap.
    this.residentLimit = shared ? maximumBytes / 4 : 0;
    this.owner = { retain: (a) => this.retain(a), release: (a) => this.release(a) };
    this.finalizer = new FinalizationRegistry(({ ptr, gen }) => {
      if (this.resident.get(ptr)?.gen === gen) this.freeResident(ptr);
    });
    if (shared) this.adoptBuffer(memory.buffer);
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
    if (this.shared) this.adoptBuffer(this.memory.buffer);
  }

  /** Views on every buffer this memory has had (old ones stay valid after growth) are ours. */
  private adoptBuffer(buffer: ArrayBufferLike): void {
    this.buffers.add(buffer);
    registerExternalBuffer(buffer, this.owner);
  }

  /** Makes memory at least `end` bytes long. */
  private grow(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
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
      throw new ConvkitError(`wasm backend: out of WebAssembly memory (a kernel needs ${(end / 2 ** 20).toFixed(0)} MiB more than the ${(have / 2 ** 20).toFixed(0)} MiB in use); use a smaller batch, dispose tensors (tidy), or CONVKIT_BACKEND=js`);
    }
    this.refresh();
  }

  /** Starts a kernel call: the blocks of the previous one are free again. */
  begin(): void {
    for (const p of this.temps) this.heap.release(p);
    this.temps.clear();
    // Memory grown between calls (adopt) is as new to the workers as memory grown in one.
    this.grew = this.grewBetweenCalls;
    this.grewBetweenCalls = false;
  }

  /**
   * Moves a long-lived storage (a parameter) into wasm memory for good, so kernels stop
   * copying it in on every call: VGG-16's 553 MB of weights cost ~90 ms per inference.
   */
  adopt(storage: Storage): void {
    const data = storage.data;
    if (!this.shared || !(data instanceof Float32Array) || this.residentBytes + data.byteLength > this.residentLimit) return;
    const grewBefore = this.grew;
    const ptr = this.heap.alloc(data.byteLength);
    if (this.grew && !grewBefore) this.grewBetweenCalls = true;
    const view = new Float32Array(this.memory.buffer, ptr, data.length);
    view.set(data);
    this.track(ptr, view);
    if (!storage.relocate(view)) this.freeResident(ptr);
  }

  /**
   * A block of `n` elements to become a tensor's storage, for values an op writes in
   * TypeScript (Backend.newArray); null where output() would copy a kernel's output out (no
   * tidy scope, small, over the limit, unshared memory). Not zeroed: a reused block holds
   * old values, so the caller writes every element.
   */
  newArray(n: number, dtype: 'float32' | 'int32'): Float32Array | Int32Array | null {
    if (!this.shared || n < RESIDENT_MIN_ELEMENTS || this.residentBytes >= this.residentLimit || !inTidyScope()) return null;
    const grewBefore = this.grew;
    const ptr = this.heap.alloc(n * 4);
    // As in adopt: a kernel call in progress must not be told, the next one is.
    if (this.grew && !grewBefore) this.grewBetweenCalls = true;
    const view = dtype === 'int32' ? new Int32Array(this.memory.buffer, ptr, n) : new Float32Array(this.memory.buffer, ptr, n);
    this.track(ptr, view);
    return view;
  }

  /** `view` (at `ptr`) is a tensor's storage now: freed when its storages or the view go. */
  private track(ptr: number, view: TypedArray): void {
    const gen = ++this.generation;
    // The cell is also the unregister token: a block freed through its storages (the usual
    // end, at a tidy scope's end) leaves the garbage collector nothing to call back.
    const cell = { ptr, gen };
    this.resident.set(ptr, { gen, refs: 0, bytes: view.byteLength, cell });
    this.residentBytes += view.byteLength;
    this.finalizer.register(view, cell, cell);
  }

  /** `floats` float32 slots (64-byte aligned) for this kernel call; returns the byte offset. */
  alloc(floats: number): number {
    const ptr = this.heap.alloc(floats * 4);
    this.temps.add(ptr);
    return ptr;
  }

  /** The byte offset of `data` in wasm memory: where it lives already, or a copy. */
  put(data: Float32Array): number {
    if (this.isResident(data)) return data.byteOffset;
    const ptr = this.alloc(data.length);
    this.f32.set(data, ptr >>> 2);
    return ptr;
  }

  /**
   * The kernel's output, `n` floats at `ptr`: the block itself as a tensor's storage when
   * `ptr` is a block of this call and tensors may live here, else a copy on the JS heap.
   */
  read(ptr: number, n: number): Float32Array {
    return this.output(ptr, n, Float32Array);
  }

  /**
   * The sum of `parts` partial results of n floats each, laid out one after the other from ptr
   * (threads' partial sums), added up in part order so the bits never depend on timing.
   */
  readSum(ptr: number, n: number, parts: number): Float32Array {
    const out = this.read(ptr, n);
    const f32 = this.f32;
    for (let p = 1; p < parts; p++) {
      const base = (ptr >>> 2) + p * n;
      for (let i = 0; i < n; i++) out[i]! += f32[base + i]!;
    }
    return out;
  }

  /** An int32 output (pooling switches), as `read`. */
  readI32(ptr: number, n: number): Int32Array {
    return this.output(ptr, n, Int32Array);
  }

  private output<T extends TypedArray>(ptr: number, n: number, Type: { new (b: ArrayBufferLike, at: number, n: number): T; new (n: number): T }): T {
    // Only inside tidy scopes, which free what they do not return: the garbage collector
    // does not see wasm memory, so outputs it alone would free are better on the JS heap.
    // Small outputs (per-channel statistics, bias gradients) are copied too: copying them in
    // again costs nothing, while a block that no tensor ever claims (an op keeping the raw
    // array) would stay allocated until a garbage collection, splitting the free space that
    // the next step's large blocks need.
    if (this.shared && n >= RESIDENT_MIN_ELEMENTS && this.temps.has(ptr) && this.residentBytes < this.residentLimit && inTidyScope()) {
      this.temps.delete(ptr);
      const view = new Type(this.memory.buffer, ptr, n);
      this.track(ptr, view);
      return view;
    }
    // new + set: slice() of a view on shared memory copies element by element (4x slower).
    const out = new Type(n);
    out.set(new Type(this.memory.buffer, ptr, n) as never);
    return out;
  }

  /** Bytes of wasm memory held as tensors' storage now (outputs kept, adopted parameters). */
  get tensorBytes(): number {
    return this.residentBytes;
  }

  /** Lives in this memory already (a kernel's in-place writes to it need no copy back). */
  isResident(data: TypedArray): boolean {
    return this.shared && data.byteOffset >= HEAP_BASE && this.buffers.has(data.buffer);
  }

  private retain(data: TypedArray): boolean {
    const r = this.resident.get(data.byteOffset);
    if (!r || r.bytes !== data.byteLength || !this.isResident(data)) return false;
    r.refs++;
    return true;
  }

  private release(data: TypedArray): void {
    const r = this.resident.get(data.byteOffset);
    if (r && --r.refs <= 0) this.freeResident(data.byteOffset);
  }

  private freeResident(ptr: number): void {
    const r = this.resident.get(ptr)!;
    this.finalizer.unregister(r.cell);
    this.residentBytes -= r.bytes;
    this.resident.delete(ptr);
    this.heap.release(ptr);
  }

  /** Int32 data (pooling switches) in memory, as `put`. */
  putI32(data: Int32Array): number {
    if (this.isResident(data)) return data.byteOffset;
    const ptr = this.alloc(data.length);
    this.i32.set(data, ptr >>> 2);
    return ptr;
  }


  private get i32(): Int32Array {
    if (this.i32view.buffer.byteLength !== this.memory.buffer.byteLength) this.refresh();
    return this.i32view;
  }

  zero(ptr: number, n: number): void {
    this.f32.fill(0, ptr >>> 2, (ptr >>> 2) + n);
  }

  /** Sets argument slot `i` of the job (an int32). */
  arg(i: number, v: number): void {
    if (this.i32view.buffer.byteLength !== this.memory.buffer.byteLength) this.refresh();
    this.i32view[(JOB_AT >> 2) + JOB.args + i] = v;
  }

  /**
   * Sets a job's int32 arguments by name in one of job-layout.ts's slot tables:
   * `rt.args(BN, { X: px, Y: py, C: c })`. Slots not named keep what they held.
   */
  args<T extends Readonly<Record<string, number>>>(table: T, values: { readonly [K in keyof T]?: number }): void {
    for (const key of Object.keys(values) as (keyof T & string)[]) this.arg(table[key]!, values[key]!);
  }

  argf(i: number, v: number): void {
    this.f32[(JOB_AT >> 2) + JOB.args + i] = v;
  }

  /** Sets float32 arguments by name, as args does int32 ones: `rt.argsf(OA, { B1: beta1, EPS: eps })`. */
  argsf<T extends Readonly<Record<string, number>>>(table: T, values: { readonly [K in keyof T]?: number }): void {
    for (const key of Object.keys(values) as (keyof T & string)[]) this.argf(table[key]!, values[key]!);
  }

  /**
   * Runs `count` independent units (planes, channels) of `kind` in tasks of about a quarter of
   * a thread's share, telling the kernel the split in slots `slotPer` and `slotCount`;
   * threaded when `work` (elements touched) is large enough to pay for waking the workers.
   */
  runUnits(kind: number, slotPer: number, slotCount: number, count: number, work: number): void {
    const threads = work >= 1 << 16 ? this.threads() : 1;
    const per = Math.max(1, Math.ceil(count / (4 * threads)));
    this.arg(slotPer, per);
    this.arg(slotCount, count);
    this.run(kind, Math.ceil(count / per), 0, threads > 1);
  }

  /**
   * Runs `ntasks` tasks of `kind` with `scratchBytes` of scratch per thread, on as many
   * threads as are ready when `parallel` (callers pass false for work too small to split).
   */
  run(kind: number, ntasks: number, scratchBytes: number, parallel: boolean): void {
    // With the guard on, each thread's scratch is followed by GUARD_BYTES of a known pattern.
    const stride = Math.ceil(scratchBytes / ALIGN) * ALIGN + (this.guardScratch && scratchBytes > 0 ? GUARD_BYTES : 0);
    // Scratch for every thread first: if that grows the memory, the job runs on this thread.
    const most = this.pool ? this.pool.size + 1 : 1;
    const base = stride > 0 ? this.alloc((stride * most) / 4) : 0;
    const threads = parallel && ntasks > 1 ? this.threads() : 1;
    const h = (JOB_AT >> 2);
    this.i32view[h + JOB.scratch] = base;
    this.i32view[h + JOB.sstride] = stride;
    if (this.guardScratch && scratchBytes > 0) this.fillGuards(base, stride, most);
    this.exports.run(JOB_AT, kind, ntasks, threads - 1);
    if (threads > 1 && this.pool?.failed()) {
      throw new ConvkitError('wasm backend: a worker thread failed during this kernel; later kernels run on the calling thread (set CONVKIT_THREADS=1 to avoid threads)');
    }
    if (this.guardScratch && scratchBytes > 0 && !this.guardsIntact(base, stride, most)) {
      throw new ConvkitError(`wasm backend: a task of kind ${kind} wrote past its ${scratchBytes} bytes of scratch (a kernel sizing bug)`);
    }
  }

  /**
   * Tests (CONVKIT_WASM_GUARD=1, see vitest.config.ts) check after every job that no task wrote
   * past the scratch its caller asked for: an overrun would silently corrupt other threads'
   * scratch or the next heap block.
   */
  guardScratch = guardFromEnv();

  private fillGuards(base: number, stride: number, threads: number): void {
    const u32 = new Uint32Array(this.memory.buffer);
    for (let t = 0; t < threads; t++) u32.fill(GUARD_WORD, (base + (t + 1) * stride - GUARD_BYTES) >>> 2, (base + (t + 1) * stride) >>> 2);
  }

  private guardsIntact(base: number, stride: number, threads: number): boolean {
    const u32 = new Uint32Array(this.memory.buffer);
    for (let t = 0; t < threads; t++) {
      for (let i = (base + (t + 1) * stride - GUARD_BYTES) >>> 2; i < (base + (t + 1) * stride) >>> 2; i++) if (u32[i] !== GUARD_WORD) return false;
    }
    return true;
  }
}

/** Everything needed to build a runtime; compiled once, synchronously where possible. */
export interface WasmHost {
  module: WebAssembly.Module;
  shared: boolean;
  /** The relaxed-SIMD build (fused multiply-add in the inner loops). */
  fma: boolean;
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
  return new WasmRuntime(host.module, memory, host.shared, host.shared ? workers : 0, maximum * PAGE, host.fma);
}

function defaultWorkers(): number {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const want = Number(env?.CONVKIT_THREADS ?? 0);
  const threads = want > 0 ? want : Math.min(hostCores(), 8);
  return Math.max(0, threads - 1);
}
