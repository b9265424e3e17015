import type { Tensor, GradNode } from './tensor.js';

/**
 * `tidy(fn)` scopes, as in TensorFlow.js: every tensor made inside fn and not returned (nor
 * needed by the autograd graph of what is returned, nor kept) is disposed when fn ends.
 * Storage is garbage-collected anyway; scopes make release deterministic and let
 * `memory()` tell the truth during long loops.
 */
const scopes: Tensor[][] = [];
const kept = new WeakSet<Tensor>();

export function trackTensor(t: Tensor): void {
  const top = scopes[scopes.length - 1];
  if (top) top.push(t);
}

/** Keeps a tensor made inside a tidy scope alive after it ends. */
export function keep<T extends Tensor>(t: T): T {
  kept.add(t);
  return t;
}

export function tidy<T>(fn: () => T): T {
  scopes.push([]);
  let result: T;
  let made: Tensor[];
  try {
    result = fn();
  } finally {
    made = scopes.pop()!;
  }
  if (result instanceof Promise) {
    throw new Error('tidy() takes a synchronous function; async work would escape the scope');
  }
  const survivors = new Set<unknown>();
  const visit = (t: Tensor | null | undefined): void => {
    if (!t || survivors.has(t.storage)) return;
    survivors.add(t.storage);
    if (t.grad) visit(t.grad);
    visitNode(t.gradFn);
  };
  const visitedNodes = new Set<GradNode>();
  const visitNode = (n: GradNode | null): void => {
    if (!n || visitedNodes.has(n)) return;
    visitedNodes.add(n);
    n.inputs.forEach(visit);
    n.saved.forEach(visit);
  };
  collectTensors(result, visit);
  for (const t of made) {
    if (kept.has(t)) visit(t);
  }
  for (const t of made) {
    // Leaves that require grad are parameters or user inputs: never freed behind the user's back.
    if (!survivors.has(t.storage) && !(t.requiresGrad && t.gradFn === null)) t.storage.dispose();
  }
  // A surviving tensor made here belongs to the enclosing scope now.
  const parent = scopes[scopes.length - 1];
  if (parent) for (const t of made) if (survivors.has(t.storage)) parent.push(t);
  return result;
}

function collectTensors(value: unknown, visit: (t: Tensor) => void, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 4) return;
  if (isTensor(value)) {
    visit(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collectTensors(v, visit, depth + 1);
    return;
  }
  if (value instanceof Map) {
    for (const v of value.values()) collectTensors(v, visit, depth + 1);
    return;
  }
  if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, visit, depth + 1);
  }
}

function isTensor(v: object): v is Tensor {
  return 'storage' in v && 'shape' in v && 'strides' in v;
}
