import type { KernelName, KernelTensor } from '../backend/kernels.js';
import { acceptsStrided, backendArray, getBackend } from '../backend/registry.js';
import { isKept } from '../tensor/scope.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { deviceValues, keepWhileUsed } from '../backend/device-args.js';

/** Is `v` a Tensor? Errors name the op and the argument when it is not. */
export function expectTensor(v: unknown, op: string, arg: string): Tensor {
  if (!(v instanceof Tensor)) {
    throw new ConvkitError(`${op}: ${arg} must be a Tensor, got ${v === null ? 'null' : typeof v}`);
  }
  return v;
}

/** A float32 tensor's values as a kernel argument (contiguous; copies only strided views). */
export function kin(t: Tensor, op = 'op', arg = 'input'): KernelTensor {
  if (t.dtype !== 'float32') {
    throw new ConvkitError(`${op}: ${arg} must be float32, got ${t.dtype} with shape ${fmtShape(t.shape)}`);
  }
  const device = getBackend().deviceMemory;
  if (device) return { data: deviceValues(t, device) as unknown as Float32Array, shape: t.shape };
  offerToBackend(t);
  return { data: t.values() as Float32Array, shape: t.shape };
}

/**
 * An int32 tensor (class targets, switches, gather indices) as a kernel's index argument:
 * its values, or on a device backend its device array (uploaded if it is on the host).
 */
export function kinIndex(t: Tensor, op = 'op', arg = 'indices'): Int32Array {
  if (t.dtype !== 'int32') {
    throw new ConvkitError(`${op}: ${arg} must be int32, got ${t.dtype} with shape ${fmtShape(t.shape)}`);
  }
  const device = getBackend().deviceMemory;
  if (device) return deviceValues(t, device) as unknown as Int32Array;
  return t.values() as Int32Array;
}

/** Host index values (validated by the op) as a kernel argument; on a device backend, uploaded. */
export function kernelIndices(values: Int32Array): Int32Array {
  const device = getBackend().deviceMemory;
  if (!device) return values;
  return keepWhileUsed(device.write(values, null)) as unknown as Int32Array;
}

/**
 * As kin, for kernel `name`: a strided view goes as it is (storage, strides, offset; no copy)
 * when the backend running `name` reads strided inputs, else contiguous as kin gives it.
 * `data` spans only the elements the view can reach, so a backend that copies it in copies
 * no more of the storage than the view covers.
 */
export function kinStrided(t: Tensor, name: KernelName, op = 'op', arg = 'input'): KernelTensor {
  if (t.dtype !== 'float32' || t.isContiguous() || t.size === 0 || !acceptsStrided(name)) return kin(t, op, arg);
  offerToBackend(t);
  let lo = t.offset;
  let hi = t.offset;
  t.shape.forEach((d, i) => {
    const reach = (d - 1) * t.strides[i]!;
    if (reach < 0) lo += reach;
    else hi += reach;
  });
  return { data: t.storage.subarray(lo, hi + 1) as Float32Array, shape: t.shape, strides: t.strides, offset: t.offset - lo };
}

/** Storages smaller than this are cheap to copy in; not worth a block of their own. */
const ADOPT_MIN_ELEMENTS = 1024;

/** Parameters and kept buffers may move into the backend's memory (Backend.adopt). */
function offerToBackend(t: Tensor): void {
  const s = t.storage;
  if (!s.onHost || s.isExternal || s.bytes < 4 * ADOPT_MIN_ELEMENTS || !(isKept(t) || (t.requiresGrad && t.gradFn === null))) return;
  getBackend().adopt?.(s);
}

/**
 * An array of n elements for an op that writes a tensor's values in TypeScript: in the
 * backend's memory where it keeps tensors (Backend.newArray: the next kernel then reads it in
 * place), else a fresh one on the JS heap. Not zeroed: write every element, then wrap it in a
 * tensor at once.
 */
export function outputArray(n: number, dtype: 'int32'): Int32Array;
export function outputArray(n: number, dtype?: 'float32'): Float32Array;
export function outputArray(n: number, dtype?: 'float32' | 'int32'): Float32Array | Int32Array;
export function outputArray(n: number, dtype: 'float32' | 'int32' = 'float32'): Float32Array | Int32Array {
  return backendArray(n, dtype);
}

/** A copy of t on its own storage, in place of t (which is disposed): for returning switches a caller may edit. */
export function ownCopy(t: Tensor): Tensor {
  const copy = t.clone();
  t.dispose();
  return copy;
}

/** Wraps a kernel's output buffer. */
export function kout(data: Float32Array, shape: readonly number[]): Tensor {
  return new Tensor(data, shape);
}

/** Checks the number of dimensions, e.g. 4 for NCHW. */
export function expectRank(t: Tensor, rank: number, op: string, arg: string, layout = ''): void {
  if (t.ndim !== rank) {
    throw new ConvkitError(
      `${op}: ${arg} must be ${rank}-d${layout ? ` (${layout})` : ''}, got shape ${fmtShape(t.shape)}` +
        (rank === 4 && t.ndim === 3 ? '; for a single image add a batch dimension with .view(1, C, H, W)' : ''),
    );
  }
}
