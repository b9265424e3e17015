/**
 * The process-wide runtime the wasm kernels run on, created on first use (or by the
 * backend's init). Node builds it synchronously; browsers after `await setBackend('wasm')`.
 */
import { ConvkitError } from '../../tensor/errors.js';
import { loadAsync, loadSync } from './loader.js';
import { createRuntime, type WasmRuntime } from './runtime.js';

let rt: WasmRuntime | null = null;

export function runtime(): WasmRuntime {
  if (rt) return rt;
  const host = loadSync();
  if (!host) throw new ConvkitError("wasm backend: not started; call `await ck.setBackend('wasm')` first");
  rt = createRuntime(host);
  return rt;
}

/** Starts the runtime (and its worker threads) ahead of the first kernel. */
export async function startRuntime(): Promise<WasmRuntime> {
  if (!rt) rt = createRuntime(await loadAsync());
  return rt;
}
