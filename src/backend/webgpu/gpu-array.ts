/// <reference types="@webgpu/types" />
import { ConvkitError } from '../../tensor/errors.js';
import type { DeviceArray, DeviceMemory } from '../../tensor/device-array.js';
import type { DType, TypedArray } from '../../tensor/storage.js';
import { gpu, throwPendingGpuError } from './device.js';
import { BufferPool } from './buffer-pool.js';

/**
 * A tensor's values in a GPU buffer: what the webgpu kernels take and return where the other
 * backends use Float32Array/Int32Array. Buffers come from a pool by size class (buffer-pool.ts)
 * and go back to it when the storage using them is disposed.
 */
export class GpuArray implements DeviceArray {
  constructor(
    readonly buffer: GPUBuffer,
    readonly length: number,
    readonly dtype: DType,
  ) {}

  get byteLength(): number {
    return this.length * 4;
  }

  get memory(): DeviceMemory {
    return gpuMemory;
  }
}

/** Counters a test reads: read-backs (GPU to CPU copies) and uploads since the start. */
export const gpuCounters = { readBacks: 0, uploads: 0, dispatches: 0 };

let pool: BufferPool | null = null;
let poolDevice: GPUDevice | null = null;

/** The buffer pool of the current device (a new device gets a new pool). */
export function bufferPool(): BufferPool {
  const { device } = gpu();
  if (pool === null || poolDevice !== device) {
    pool = new BufferPool(device);
    poolDevice = device;
  }
  return pool;
}

/** An uninitialized array of n elements on the GPU (a kernel writes every element). */
export function gpuEmpty(n: number, dtype: DType = 'float32'): GpuArray {
  const limit = gpu().limits.maxStorageBufferBindingSize;
  if (n * 4 > limit) {
    throw new ConvkitError(
      `a tensor of ${n} elements (${n * 4} bytes) is larger than this GPU's largest storage buffer binding (maxStorageBufferBindingSize ${limit} bytes); use a smaller batch, or the wasm backend`,
    );
  }
  return new GpuArray(bufferPool().acquire(n * 4), n, dtype);
}

/** An array of n zeros on the GPU. */
export function gpuZeros(n: number, dtype: DType = 'float32'): GpuArray {
  const a = gpuEmpty(n, dtype);
  if (n > 0) {
    const { device } = gpu();
    const enc = device.createCommandEncoder();
    enc.clearBuffer(a.buffer, 0, roundUp4(n * 4));
    device.queue.submit([enc.finish()]);
  }
  return a;
}

/** The values of `host` in a new GPU array (or written into `reuse` when it fits). */
export function gpuUpload(host: TypedArray, reuse: GpuArray | null = null): GpuArray {
  const dtype: DType = host instanceof Int32Array ? 'int32' : 'float32';
  // A reuse that does not fit is left to the caller, which releases it.
  const a = reuse && reuse.length === host.length && reuse.dtype === dtype ? reuse : gpuEmpty(host.length, dtype);
  if (host.length > 0) gpu().device.queue.writeBuffer(a.buffer, 0, host.buffer, host.byteOffset, host.byteLength);
  gpuCounters.uploads++;
  return a;
}

/** Reads the values back (counts one read-back). */
export async function gpuRead(a: GpuArray): Promise<TypedArray> {
  const out = a.dtype === 'int32' ? new Int32Array(a.length) : new Float32Array(a.length);
  gpuCounters.readBacks++;
  if (a.length === 0) return out;
  const { device } = gpu();
  const bytes = roundUp4(a.length * 4);
  const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(a.buffer, 0, staging, 0, bytes);
  device.queue.submit([enc.finish()]);
  try {
    await staging.mapAsync(GPUMapMode.READ);
  } catch (e) {
    throwPendingGpuError();
    throw new ConvkitError(`reading a tensor back from the GPU failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  throwPendingGpuError();
  const mapped = staging.getMappedRange(0, bytes);
  (out as Float32Array).set(new (a.dtype === 'int32' ? Int32Array : Float32Array)(mapped, 0, a.length) as Float32Array);
  staging.unmap();
  staging.destroy();
  return out;
}

/** A new GPU array holding elements [begin, begin + n) of `a` (a GPU-side copy). */
export function gpuSlice(a: GpuArray, begin: number, n: number): GpuArray {
  const out = gpuEmpty(n, a.dtype);
  if (n > 0) {
    const { device } = gpu();
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(a.buffer, begin * 4, out.buffer, 0, n * 4);
    device.queue.submit([enc.finish()]);
  }
  return out;
}

/** The webgpu backend's memory as storages see it (src/tensor/device-array.ts). */
export const gpuMemory: DeviceMemory = {
  name: 'webgpu',
  read: (a) => gpuRead(asGpu(a)),
  write: (host, reuse) => gpuUpload(host, reuse ? asGpu(reuse) : null),
  release: (a) => {
    const g = asGpu(a);
    if (pool && poolDevice === (context() ?? null)) pool.release(g.buffer);
  },
};

function context(): GPUDevice | null {
  try {
    return gpu().device;
  } catch {
    return null;
  }
}

/** A DeviceArray that must be this backend's. */
export function asGpu(a: unknown): GpuArray {
  if (a instanceof GpuArray) return a;
  throw new ConvkitError(
    'internal error: a webgpu kernel was given values that are not on the GPU (a host array or another backend\'s); please report it',
  );
}

function roundUp4(n: number): number {
  return (n + 3) & ~3;
}
