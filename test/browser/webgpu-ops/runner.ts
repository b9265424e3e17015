import type { KernelName, KernelSignatures, KernelTensor } from '../../../src/backend/kernels.js';
import { asGpu, gpuRead, gpuUpload } from '../../../src/backend/webgpu/gpu-array.js';
import { throwPendingGpuError } from '../../../src/backend/webgpu/device.js';
import { compare, type Tolerance } from './compare.js';

/** One kernel output that differs from the reference, or a case that threw. */
export interface Mismatch {
  kernel: KernelName;
  case: string;
  message: string;
}

/** What the page reports: every mismatch, the kernels compared at least once, the comparison count. */
export interface OpsReport {
  adapter: string;
  mismatches: Mismatch[];
  exercised: KernelName[];
  comparisons: number;
  ms: number;
  /** The slowest cases (milliseconds; a case that flushed the read-backs in flight includes their GPU work). */
  slowest: { kernel: KernelName; case: string; ms: number }[];
}

const MAX_PENDING = 32;

/**
 * Runs cases on the webgpu kernels (`gpu`) and the js reference (`js`): operands go up with
 * `up`/`upInt`, `check` reads a GPU output back and compares it with the reference's (call flush() at the end); a case
 * that throws (a shader that does not compile, a validation error) is a mismatch of its kernel.
 */
export class Runner {
  readonly mismatches: Mismatch[] = [];
  readonly exercised = new Set<KernelName>();
  comparisons = 0;
  readonly times: { kernel: KernelName; case: string; ms: number }[] = [];

  constructor(
    readonly gpu: KernelSignatures,
    readonly js: KernelSignatures,
  ) {}

  up(t: KernelTensor): KernelTensor {
    return { data: gpuUpload(t.data) as unknown as Float32Array, shape: t.shape };
  }

  upInt(a: Int32Array): Int32Array {
    return gpuUpload(a) as unknown as Int32Array;
  }

  async read<T extends Float32Array | Int32Array>(a: T): Promise<T> {
    const host = (await gpuRead(asGpu(a))) as T;
    throwPendingGpuError();
    return host;
  }

  /** Read-backs in flight: each costs a round trip to the GPU process, so up to MAX_PENDING overlap. */
  private pending: Promise<void>[] = [];

  /**
   * Compares the GPU array `got` with the reference `want`, recording a mismatch under `kernel`
   * and `what`. The read-back is started now and judged on a later flush(); the GPU runs queued
   * work in order, so later kernels (the optimizers' next in-place step) do not change what it
   * reads. A GPU validation error surfaces at a read: it is recorded under that read's case.
   */
  async check(kernel: KernelName, what: string, got: Float32Array | Int32Array, want: ArrayLike<number>, tol: Tolerance): Promise<void> {
    this.exercised.add(kernel);
    this.comparisons++;
    this.pending.push(
      this.read(got).then(
        (host) => {
          const why = compare(host, want, tol);
          if (why) this.mismatches.push({ kernel, case: what, message: why });
        },
        (e: unknown) => {
          this.mismatches.push({ kernel, case: what, message: `read-back threw: ${e instanceof Error ? e.message : String(e)}` });
        },
      ),
    );
    if (this.pending.length >= MAX_PENDING) await this.flush();
  }

  /** Waits for every read-back in flight and judges it. */
  async flush(): Promise<void> {
    const all = this.pending;
    this.pending = [];
    await Promise.all(all);
  }

  /** Runs one case; an exception is recorded as a mismatch of `kernel`. */
  async run(kernel: KernelName, what: string, body: () => Promise<void>): Promise<void> {
    const t0 = performance.now();
    try {
      await body();
    } catch (e) {
      this.exercised.add(kernel);
      this.mismatches.push({ kernel, case: what, message: `threw: ${e instanceof Error ? e.message : String(e)}` });
    }
    this.times.push({ kernel, case: what, ms: Math.round(performance.now() - t0) });
  }

  /** The `n` slowest cases. */
  slowest(n: number): { kernel: KernelName; case: string; ms: number }[] {
    return [...this.times].sort((a, b) => b.ms - a.ms).slice(0, n);
  }
}
