import type { Storage, TypedArray } from './storage.js';

/**
 * Which storage an array handed out from external memory (a wasm block, or a subarray of one)
 * belongs to. Its own file so that both storage.ts (which records it) and scope.ts (whose tidy
 * asks it for survivors) can read it without importing each other.
 */
const storageOfArray = new WeakMap<TypedArray, Storage>();

/** Records that `array` (a whole external block or a part of one) is `storage`'s memory. */
export function noteExternalArray(array: TypedArray, storage: Storage): void {
  storageOfArray.set(array, storage);
}

/** The storage an array handed out by `values()`/`data` belongs to, for external memory. */
export function externalStorageOf(array: TypedArray): Storage | undefined {
  return storageOfArray.get(array);
}
