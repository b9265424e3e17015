import { backendArray } from '../backend/registry.js';
import { ConvkitError, fmtShape } from './errors.js';
import { Generator, globalGenerator } from './random.js';
import { checkShape, sizeOf } from './shape.js';
import type { DType } from './storage.js';
import { Tensor } from './tensor.js';

/** Options of the tensor constructors: element type and whether to track gradients. */
export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

/** Options of the random constructors: a seed or a generator to draw from. */
export interface RandomOptions extends CreateOptions {
  /** Draws from a fresh generator with this seed instead of the global one. */
  seed?: number;
  generator?: Generator;
}

type NestedInput = number | readonly NestedInput[];

function alloc(shape: readonly number[], dtype: DType = 'float32'): Float32Array | Int32Array {
  checkShape(shape);
  const n = sizeOf(shape);
  return dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
}

function finish(data: Float32Array | Int32Array, shape: readonly number[], opts?: CreateOptions): Tensor {
  const t = new Tensor(data, shape);
  if (opts?.requiresGrad) {
    if (t.dtype !== 'float32') throw new ConvkitError('only float32 tensors can require gradients');
    t.requiresGrad = true;
  }
  return t;
}

/**
 * A tensor from flat or nested data. With `shape`, flat data must have exactly that many
 * elements; without it, the shape is read from the nesting.
 */
export function tensor(
  data: NestedInput | ArrayLike<number>,
  shape?: readonly number[],
  opts?: CreateOptions,
): Tensor {
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (typeof data === 'number') {
    flat = [data];
    inferred = [];
  } else if (ArrayBuffer.isView(data) || (Array.isArray(data) && !data.some(Array.isArray))) {
    flat = data as ArrayLike<number>;
    inferred = [flat.length];
  } else {
    const r = flattenNested(data as readonly NestedInput[]);
    flat = r.flat;
    inferred = r.shape;
  }
  const finalShape = shape ?? inferred;
  checkShape(finalShape);
  if (sizeOf(finalShape) !== flat.length) {
    throw new ConvkitError(
      `tensor(): ${flat.length} values do not fill shape ${fmtShape(finalShape)} (${sizeOf(finalShape)} elements)`,
    );
  }
  const dtype = opts?.dtype ?? (data instanceof Int32Array ? 'int32' : 'float32');
  const buf = alloc(finalShape, dtype);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i]!;
    if (typeof v !== 'number') throw new ConvkitError(`tensor(): element ${i} is ${typeof v}, not a number`);
    buf[i] = v;
  }
  return finish(buf, finalShape, opts);
}

function flattenNested(data: readonly NestedInput[]): { flat: number[]; shape: number[] } {
  const shape: number[] = [];
  let level: NestedInput = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = (level as readonly NestedInput[])[0] as NestedInput;
  }
  const flat: number[] = [];
  const walk = (v: NestedInput, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (typeof v !== 'number') throw new ConvkitError(`tensor(): ragged nested array at ${path}`);
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new ConvkitError(
        `tensor(): ragged nested array at ${path}: expected ${shape[dim]} elements like the first row, got ${Array.isArray(v) ? v.length : typeof v}`,
      );
    }
    (v as readonly NestedInput[]).forEach((x, i) => walk(x, dim + 1, `${path}[${i}]`));
  };
  walk(data, 0, 'data');
  return { flat, shape };
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[], opts?: CreateOptions): Tensor {
  return full(shape, 0, opts);
}

/** A tensor of ones. */
export function ones(shape: readonly number[], opts?: CreateOptions): Tensor {
  return full(shape, 1, opts);
}

/** A tensor filled with `value`. */
export function full(shape: readonly number[], value: number, opts?: CreateOptions): Tensor {
  checkShape(shape);
  // In the backend's memory where it keeps tensors (inside tidy on wasm), as kernel outputs:
  // ResNet's zero-padded shortcuts make zeros every step.
  const dtype = opts?.dtype ?? 'float32';
  const buf = backendArray(sizeOf(shape), dtype);
  buf.fill(value);
  return finish(buf, shape, opts);
}

/** `arange(end)`, `arange(start, end, step?)` as in PyTorch (end excluded). */
export function arange(startOrEnd: number, end?: number, step = 1, opts?: CreateOptions): Tensor {
  const start = end === undefined ? 0 : startOrEnd;
  const stop = end === undefined ? startOrEnd : end;
  if (step === 0 || !Number.isFinite(step)) throw new ConvkitError(`arange: step must be a non-zero number, got ${step}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const buf = alloc([n], opts?.dtype);
  for (let i = 0; i < n; i++) buf[i] = start + i * step;
  return finish(buf, [n], opts);
}

function pickGenerator(opts?: RandomOptions): Generator {
  if (opts?.generator) return opts.generator;
  if (opts?.seed !== undefined) return new Generator(opts.seed);
  return globalGenerator;
}

/** Standard normal samples. */
export function randn(shape: readonly number[], opts?: RandomOptions): Tensor {
  const g = pickGenerator(opts);
  const buf = alloc(shape);
  for (let i = 0; i < buf.length; i++) buf[i] = g.normal();
  return finish(buf, shape, opts);
}

/** Uniform samples in [0, 1). */
export function rand(shape: readonly number[], opts?: RandomOptions): Tensor {
  const g = pickGenerator(opts);
  const buf = alloc(shape);
  for (let i = 0; i < buf.length; i++) buf[i] = g.uniform();
  return finish(buf, shape, opts);
}

/** Uniform integers in [low, high) as int32. */
export function randint(low: number, high: number, shape: readonly number[], opts?: RandomOptions): Tensor {
  if (!(high > low)) throw new ConvkitError(`randint: high (${high}) must be greater than low (${low})`);
  const g = pickGenerator(opts);
  const buf = alloc(shape, 'int32');
  for (let i = 0; i < buf.length; i++) buf[i] = low + g.int(high - low);
  return finish(buf, shape);
}
