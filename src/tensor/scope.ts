import { ConvkitError } from './errors.js';
import type { Storage } from './storage.js';
import type { Tensor, GradNode } from './tensor.js';

/**
 * `tidy(fn)` scopes, as in TensorFlow.js: every buffer allocated inside fn is released when fn
 * ends, unless a tensor using it is returned, is needed by the autograd graph of what is
 * returned, is kept (`keep`, Parameters, buffers, leaf gradients), or is a leaf that requires
 * grad. Only storage *created* in the scope is released: a view made inside the scope of a
 * tensor from outside (a reshaped weight, say) never frees the outside tensor's data.
 * Storage is garbage-collected anyway; scopes make release deterministic and let `memory()`
 * tell the truth during long loops.
 */
interface Scope {
  tensors: Tensor[];
  storages: Storage[];
}

const scopes: Scope[] = [];
const kept = new WeakSet<Tensor>();

export function trackTensor(t: Tensor): void {
  scopes[scopes.length - 1]?.tensors.push(t);
}

/** Records `s` in the innermost tidy scope; false outside scopes. */
export function trackStorage(s: Storage): boolean {
  const scope = scopes[scopes.length - 1];
  if (!scope) return false;
  scope.storages.push(s);
  return true;
}

/** Inside a tidy() callback: what is made now is freed deterministically unless returned or kept. */
export function inTidyScope(): boolean {
  return scopes.length > 0;
}

/** Kept by `keep` (parameters, buffers): a tensor meant to outlive the scopes it is used in. */
export function isKept(t: Tensor): boolean {
  return kept.has(t);
}

/** Keeps a tensor made inside a tidy scope alive after it ends. */
export function keep<T extends Tensor>(t: T): T {
  kept.add(t);
  return t;
}

/** Runs fn and releases every buffer it allocated that the result does not need (see above). */
export function tidy<T>(fn: () => T): T {
  scopes.push({ tensors: [], storages: [] });
  let result: T;
  try {
    result = fn();
  } catch (e) {
    // Nothing is freed when fn throws: what it made is left to the garbage collector.
    for (const s of scopes.pop()!.storages) s.registerFinalizer();
    throw e;
  }
  const scope = scopes.pop()!;
  if (result instanceof Promise) {
    for (const s of scope.storages) s.registerFinalizer();
    throw new ConvkitError('tidy() takes a synchronous function; async work would escape the scope');
  }
  const survivors = new Set<Storage>();
  const visitedNodes = new Set<GradNode>();
  const visit = (t: Tensor | null | undefined): void => {
    if (!t || survivors.has(t.storage)) return;
    survivors.add(t.storage);
    if (t.grad) visit(t.grad);
    visitNode(t.gradFn);
  };
  const visitNode = (n: GradNode | null): void => {
    if (!n || visitedNodes.has(n)) return;
    visitedNodes.add(n);
    n.inputs.forEach(visit);
    n.saved.forEach(visit);
  };
  // A returned array of external memory keeps the storage of this scope whose block holds it.
  const keepArray = (a: ArrayBufferView): void => {
    for (const s of scope.storages) if (s.isExternal && s.holds(a)) survivors.add(s);
  };
  collectTensors(result, visit, keepArray);
  for (const t of scope.tensors) {
    // Leaves that require grad are parameters or user inputs: never freed behind the user's back.
    if (kept.has(t) || (t.requiresGrad && t.gradFn === null)) visit(t);
  }
  for (const s of scope.storages) if (!survivors.has(s)) s.dispose();
  // What survives belongs to the enclosing scope now.
  const parent = scopes[scopes.length - 1];
  if (parent) {
    for (const s of scope.storages) if (survivors.has(s)) parent.storages.push(s);
    for (const t of scope.tensors) if (survivors.has(t.storage)) parent.tensors.push(t);
  } else {
    for (const s of scope.storages) if (survivors.has(s)) s.registerFinalizer();
  }
  return result;
}

/**
 * Tensors in what a tidy callback returns. A typed array returned from `values()`/`data` of a
 * tensor in external (wasm) memory keeps that storage too: its block would otherwise be
 * reused under the caller's feet (a JS-heap array simply stays alive with its reference).
 */
function collectTensors(value: unknown, visit: (t: Tensor) => void, keepArray: (a: ArrayBufferView) => void, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 4) return;
  if (isTensor(value)) {
    visit(value);
    return;
  }
  if (ArrayBuffer.isView(value)) {
    keepArray(value as ArrayBufferView);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collectTensors(v, visit, keepArray, depth + 1);
    return;
  }
  if (value instanceof Map) {
    for (const v of value.values()) collectTensors(v, visit, keepArray, depth + 1);
    return;
  }
  if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, visit, keepArray, depth + 1);
  }
}

function isTensor(v: object): v is Tensor {
  return 'storage' in v && 'shape' in v && 'strides' in v;
}
