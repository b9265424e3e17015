import type { KernelTensor } from '../kernels.js';
import { asGpu, type GpuArray } from './gpu-array.js';

/**
 * The webgpu kernels implement KernelSignatures, whose buffers are typed as the host arrays of
 * the js and wasm backends. On this backend every such buffer is a GpuArray instead: the ops
 * layer hands them through without reading them (src/ops/kernel-io.ts), so the two casts below
 * are the only place where the types and the values differ.
 */

/** The GPU array of a kernel argument (a contiguous tensor: kin() gathers views first). */
export function arg(t: KernelTensor): GpuArray {
  return asGpu(t.data);
}

/** The GPU array of an index argument (targets, switches, gather indices: int32 on the GPU). */
export function intArg(a: Int32Array): GpuArray {
  return asGpu(a);
}

/** A GPU array returned where the signature says Float32Array. */
export function asF32(a: GpuArray): Float32Array {
  return a as unknown as Float32Array;
}

/** A GPU array returned where the signature says Int32Array. */
export function asI32(a: GpuArray): Int32Array {
  return a as unknown as Int32Array;
}
