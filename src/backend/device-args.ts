import { ConvkitError } from '../tensor/errors.js';
import { Storage } from '../tensor/storage.js';
import { contiguousStrides } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { DeviceArray, DeviceMemory } from '../tensor/device-array.js';
import { getBackend } from './registry.js';

/**
 * Tensors as a device backend's kernel arguments (webgpu): the values in its memory,
 * contiguous from element 0. Host values are uploaded (and kept there while current, see
 * Storage.onDevice); views are gathered into a temporary array on the device.
 */

/** The device memory of the current backend, or null for a host backend (js, wasm). */
export function currentDeviceMemory(): DeviceMemory | null {
  return getBackend().deviceMemory ?? null;
}

/**
 * Temporary device arrays made for one kernel call (a gathered view, uploaded indices) stay
 * alive, and their memory out of the pool, for as long as the argument that holds them is
 * reachable: a storage owns each (freed by its tidy scope or the garbage collector), keyed here
 * by the array itself.
 */
const temporaries = new WeakMap<DeviceArray, Storage>();

/** Gives a temporary device array a storage that frees it when it is no longer used. */
export function keepWhileUsed(a: DeviceArray): DeviceArray {
  temporaries.set(a, new Storage(a));
  return a;
}

/** A tensor's values on the device, contiguous from element 0 (a copy made there for views). */
export function deviceValues(t: Tensor, memory: DeviceMemory): DeviceArray {
  const s = t.storage;
  if (t.isContiguous() && t.offset === 0 && t.size === s.length) return s.onDevice(memory);
  const gather = getBackend().gatherStrided;
  if (!gather) throw new ConvkitError(`the ${getBackend().name} backend cannot copy a strided view`);
  const strides = t.isContiguous() ? contiguousStrides(t.shape) : t.strides;
  return keepWhileUsed(gather(s.onDevice(memory), t.shape, strides, t.offset));
}

/** A new device array with t's values in row-major order (a copy, also of a whole storage). */
export function deviceCopy(t: Tensor, memory: DeviceMemory): DeviceArray {
  const gather = getBackend().gatherStrided;
  if (!gather) throw new ConvkitError(`the ${getBackend().name} backend cannot copy a tensor`);
  const strides = t.isContiguous() ? contiguousStrides(t.shape) : t.strides;
  return gather(t.storage.onDevice(memory), t.shape, strides, t.offset);
}

Tensor.deviceCopy = (t) => {
  const memory = t.storage.onHost ? null : currentDeviceMemory();
  if (!memory) throw new ConvkitError(`this tensor's values are on a device, and the current backend (${getBackend().name}) cannot copy them`);
  return new Tensor(deviceCopy(t, memory) as unknown as Float32Array, t.shape);
};
