import type { DType, TypedArray } from './storage.js';

/**
 * Values that live in a device's memory (the webgpu backend's GPU buffers) instead of a JS
 * array. A kernel of such a backend returns one where the js and wasm kernels return a typed
 * array; a Storage made on it is device-resident until read back with `await t.data()`.
 */
export interface DeviceArray {
  readonly length: number;
  readonly dtype: DType;
  readonly byteLength: number;
  /** The memory it belongs to, which reads, writes and frees it. */
  readonly memory: DeviceMemory;
}

/** A device's memory as storages use it: copies in and out, and freeing. */
export interface DeviceMemory {
  /** The backend's name, for messages ('webgpu'). */
  readonly name: string;
  /** Copies the values out (asynchronously: a GPU is read back in the background). */
  read(a: DeviceArray): Promise<TypedArray>;
  /**
   * The values of `host` on the device, written into `reuse` when it has the same length and
   * dtype (a `reuse` that does not fit is left as it is, for the caller to release).
   */
  write(host: TypedArray, reuse: DeviceArray | null): DeviceArray;
  /** Gives the array's memory back for reuse; it must not be used afterwards. */
  release(a: DeviceArray): void;
}

/** Is `v` a DeviceArray (and not a typed array)? */
export function isDeviceArray(v: unknown): v is DeviceArray {
  return typeof v === 'object' && v !== null && !ArrayBuffer.isView(v) && 'memory' in v && 'dtype' in v;
}
