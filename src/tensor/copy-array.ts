import type { TypedArray } from './storage.js';

/**
 * A copy of a typed array on the JS heap. Not `slice()`: on a view of shared memory (the wasm
 * backend's, where tensors made inside tidy scopes live) V8 copies slice() element by element,
 * some 30x slower than allocating and set(), which copies in bulk; on ordinary arrays both
 * cost the same.
 */
export function copyArray<T extends TypedArray>(a: T): T {
  const out = new (a.constructor as new (n: number) => T)(a.length);
  out.set(a as ArrayLike<number>);
  return out;
}
