import * as ck from '../../src/node.js';
import type { KernelTensor } from '../../src/backend/kernels.js';
import { gpuRead, gpuUpload, asGpu } from '../../src/backend/webgpu/gpu-array.js';
import { throwPendingGpuError } from '../../src/backend/webgpu/device.js';

/**
 * The webgpu backend in tests: started once on whatever adapter this machine gives (a GPU, or
 * Mesa's llvmpipe through Dawn's OpenGL ES backend with EGL_PLATFORM=surfaceless). Without one,
 * the webgpu tests skip with one line saying why.
 */
let started: Promise<string | null> | null = null;

/** Starts the backend; resolves to null when ready, else to the reason it cannot run here. */
export function startWebgpu(): Promise<string | null> {
  started ??= (async () => {
    const previous = ck.getBackendName();
    try {
      await ck.setBackend('webgpu');
      return null;
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      console.log(`webgpu tests skipped: ${why}`);
      return why;
    } finally {
      ck.setBackendSync(previous);
    }
  })();
  return started;
}

/** A host kernel argument copied to the GPU (the webgpu kernels take GPU arrays). */
export function toGpu(t: KernelTensor): KernelTensor {
  return { data: gpuUpload(t.data) as unknown as Float32Array, shape: t.shape };
}

/** An int32 host array copied to the GPU, as the kernels take indices. */
export function intToGpu(a: Int32Array): Int32Array {
  return gpuUpload(a) as unknown as Int32Array;
}

/** A webgpu kernel's output read back to the host. */
export async function fromGpu<T extends Float32Array | Int32Array>(a: T): Promise<T> {
  const host = (await gpuRead(asGpu(a))) as T;
  throwPendingGpuError();
  return host;
}

/**
 * A tensor with t's values on the GPU only (no host copy), as the output of an earlier kernel
 * or a trained parameter is there: an op that reads such a tensor synchronously throws, which
 * a tensor made on the host would hide. Keeps requiresGrad. Call with the webgpu backend current.
 */
export function gpuOnly(t: ck.Tensor): ck.Tensor {
  const out = new ck.Tensor(gpuUpload(t.values()) as unknown as Float32Array, t.shape);
  out.requiresGrad = t.requiresGrad;
  return out;
}
