import { ConvkitError } from '../tensor/errors.js';
import type { KernelName, KernelSignatures } from './kernels.js';
import type { Storage } from '../tensor/storage.js';
import type { DeviceArray, DeviceMemory } from '../tensor/device-array.js';
import { activeRecorder, timedKernel, type GradRole } from './profiler-hooks.js';

/**
 * A backend is a table of kernels. The `js` backend is complete and is the oracle; other
 * backends provide what they speed up, and every kernel they lack falls back to `js`.
 */
export interface Backend {
  readonly name: string;
  readonly kernels: Partial<KernelSignatures>;
  /** Asynchronous start-up (compiling WebAssembly, starting threads); called by setBackend. */
  init?(): Promise<void> | void;
  /**
   * Offered every long-lived tensor's storage (parameters, kept buffers) as kernels read it:
   * a backend with its own memory may move it there once (Storage.relocate) instead of
   * copying it in on every call.
   */
  adopt?(storage: Storage): void;
  /**
   * An uninitialized array of `n` elements for an op that writes a tensor's values in
   * TypeScript (concatenation, dropout masks, zeros): a backend with its own memory may hand
   * out a block of it, so the next kernel reads the tensor where it is instead of copying it
   * in. The caller writes every element and wraps the array in a tensor at once.
   */
  newArray?(n: number, dtype: 'float32' | 'int32'): Float32Array | Int32Array | null;
  /** Kernels that read strided views as they are (KernelTensor.strides/offset); others get copies. */
  readonly stridedInputs?: ReadonlySet<KernelName>;
  /** Started and usable (a backend with an asynchronous start-up); absent: always. */
  ready?(): boolean;
  /**
   * A device backend (webgpu): tensors live in its memory, kernels take and return its arrays
   * (src/tensor/device-array.ts), and the ops layer moves host values there (src/ops/kernel-io.ts).
   */
  readonly deviceMemory?: DeviceMemory;
  /** A device backend's copy of a strided view into a new contiguous array, on the device. */
  gatherStrided?(src: DeviceArray, shape: readonly number[], strides: readonly number[], offset: number): DeviceArray;
}

export interface ReferenceBackend extends Backend {
  readonly kernels: KernelSignatures;
}

const backends = new Map<string, Backend>();
let reference: ReferenceBackend | null = null;
let current: Backend | null = null;

/** Adds a backend under its name so that `setBackend(name)` can select it. */
export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
}

/** Installs the complete reference backend (done once, by backend/js/register.ts). */
export function registerReferenceBackend(backend: ReferenceBackend): void {
  reference = backend;
  registerBackend(backend);
  current ??= backend;
}

/** The names of the registered backends. */
export function listBackends(): string[] {
  return [...backends.keys()];
}

/** Selects the backend every later op runs on. Await it when the backend needs to start up. */
export async function setBackend(name: string): Promise<void> {
  const b = backends.get(name);
  if (!b) {
    throw new ConvkitError(
      `unknown backend '${name}'; registered backends: ${listBackends().join(', ')}` +
        (name === 'webgpu' ? ". The webgpu backend has its own entry: import 'convkit/webgpu' once (convkit/node includes it)" : ''),
    );
  }
  await b.init?.();
  current = b;
}

/** Synchronous selection of a backend that needs no start-up (or has already started). */
export function setBackendSync(name: string): void {
  const b = backends.get(name);
  if (!b) throw new ConvkitError(`unknown backend '${name}'; registered backends: ${listBackends().join(', ')}`);
  if (b.ready && !b.ready()) {
    throw new ConvkitError(`the ${name} backend has not started: select it with await ck.setBackend('${name}') first`);
  }
  current = b;
}

/** The backend that runs kernels now. */
export function getBackend(): Backend {
  if (!current) throw new ConvkitError('no backend registered; import convkit to register the js backend');
  return current;
}

/**
 * A fresh array of `n` elements where the current backend keeps tensors (Backend.newArray),
 * else on the JS heap, also when no backend is registered yet: building a model's layers
 * (zeros, full) must not need one. Not zeroed.
 */
export function backendArray(n: number, dtype: 'float32' | 'int32' = 'float32'): Float32Array | Int32Array {
  return current?.newArray?.(n, dtype) ?? (dtype === 'int32' ? new Int32Array(n) : new Float32Array(n));
}

/** The name of the backend that runs kernels now ('js', 'wasm' or 'webgpu'). */
export function getBackendName(): string {
  return getBackend().name;
}

/**
 * The implementation of kernel `name` on the current backend, or the js one. `role` says what a
 * kernel called in a backward pass computes (the input's or the weights' gradient); only a
 * profile (analysis/profile.ts) reads it.
 */
export function kernel<K extends KernelName>(name: K, role?: GradRole): KernelSignatures[K] {
  const b = getBackend();
  let fn = b.kernels[name] as KernelSignatures[K] | undefined;
  if (!fn) {
    // A device backend's tensors are not on the host: a js kernel would read nothing.
    if (b.deviceMemory) throw new ConvkitError(`the ${b.name} backend has no kernel '${name}'`);
    if (!reference) throw new ConvkitError('the js reference backend is not registered');
    fn = reference.kernels[name];
  }
  const recorder = activeRecorder();
  return recorder ? timedKernel(recorder, name, role, fn) : fn;
}

/** Does kernel `name`, as kernel(name) resolves it now, read strided views without a copy? */
export function acceptsStrided(name: KernelName): boolean {
  const b = getBackend();
  const owner = b.kernels[name] ? b : reference;
  return owner?.stridedInputs?.has(name) ?? false;
}

/** Which kernels a backend implements itself (the rest fall back to js). */
export function kernelCoverage(name: string): { own: KernelName[]; fallback: KernelName[] } {
  const b = backends.get(name);
  if (!b || !reference) throw new ConvkitError(`unknown backend '${name}'`);
  const all = Object.keys(reference.kernels) as KernelName[];
  return { own: all.filter((k) => k in b.kernels), fallback: all.filter((k) => !(k in b.kernels)) };
}
