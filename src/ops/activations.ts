import { getBackendName, kernel } from '../backend/registry.js';
import { isDeviceArray } from '../tensor/device-array.js';
import { activeRecorder } from '../backend/profiler-hooks.js';
import type { UnaryOp } from '../backend/kernels.js';
import { isGradEnabled, record } from '../autograd/tape.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { expectTensor, kin, kinStrided, kout } from './kernel-io.js';

/**
 * Elementwise math functions and the activations that are not declared in
 * src/ops/pointwise/table.ts: relu (its in-place form), softplus and clamp/hardtanh (two
 * parameters, their own kernels). Thin wrappers over the Unary and UnaryGrad kernels.
 */

function finite(v: unknown, op: string, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ConvkitError(`${op}: ${name} must be a finite number, got ${String(v)}`);
  }
  return v;
}

/** y = f(x) through the Unary kernel; the backward reads x and y (UnaryGrad). */
function unaryOp(x: Tensor, op: UnaryOp, alpha: number, name: string): Tensor {
  expectTensor(x, name, 'input');
  const y = kout(kernel('Unary')(kinStrided(x, 'Unary', name), op, alpha), x.shape);
  return record(y, name, [x], (g) => [kout(kernel('UnaryGrad')(kinStrided(x, 'UnaryGrad'), kinStrided(y, 'UnaryGrad'), kinStrided(g, 'UnaryGrad'), op, alpha), x.shape)], [y]);
}

/** Options of `F.relu`. */
export interface ReluOptions {
  /**
   * Overwrite the input's storage (every view of it sees the change) and return the input.
   * Refused for a leaf that requires grad, as in PyTorch. For a non-leaf, the backward is
   * rebuilt from the output (relu' is 1 exactly where the output is positive); the caller must
   * not have used the input's old values in another op that needs them for its backward.
   */
  inplace?: boolean;
}

/** max(0, x). */
export function relu(x: Tensor, opts: ReluOptions = {}): Tensor {
  if (!opts.inplace) return unaryOp(x, 'relu', 0, 'relu');
  expectTensor(x, 'relu', 'input');
  const tracking = isGradEnabled() && x.requiresGrad;
  if (tracking && x.gradFn === null) {
    throw new ConvkitError(
      `relu(inplace): the input ${fmtShape(x.shape)} is a leaf that requires grad, and overwriting it would lose the values ` +
        'its gradient refers to; use relu(x) without inplace, or apply it inside noGrad()',
    );
  }
  const y = kernel('Unary')(kinStrided(x, 'Unary', 'relu'), 'relu', 0);
  if (isDeviceArray(y)) {
    // On a device backend (webgpu) the result becomes x's storage's values on the device.
    if (!x.isContiguous() || x.offset !== 0 || x.size !== x.storage.length) {
      kout(y, x.shape).dispose();
      throw new ConvkitError(`relu(inplace): the input ${fmtShape(x.shape)} is a strided view or part of a larger tensor, which the ${getBackendName()} backend cannot overwrite in place; use relu(x) without inplace`);
    }
    x.storage.assignDevice(y);
  } else {
    writeInto(x, y);
    // y is garbage now; as a tensor's storage it gives a backend's block back at once instead
    // of at the next garbage collection (wasm memory the collector does not see).
    kout(y, x.shape).dispose();
  }
  if (tracking) {
    // The pre-relu value becomes a separate node holding x's old history; x now stands for the output.
    const before = new Tensor(x.storage, x.shape, x.strides, x.offset);
    before.requiresGrad = true;
    before.gradFn = x.gradFn;
    const out = x;
    x.gradFn = {
      name: 'relu_',
      inputs: [before],
      saved: [out],
      backward: (g: Tensor) => {
        const yk = kin(out);
        return [kout(kernel('UnaryGrad')(yk, yk, kin(g), 'relu', 0), out.shape)];
      },
    };
    activeRecorder()?.nodeRecorded(x.gradFn);
  }
  return x;
}

/** Writes row-major values into a tensor's storage, following its strides (it may be a view). */
function writeInto(t: Tensor, values: Float32Array): void {
  const data = t.storage.data as Float32Array;
  if (t.isContiguous()) {
    data.set(values, t.offset);
    return;
  }
  const nd = t.ndim;
  const idx = new Array<number>(nd).fill(0);
  let pos = t.offset;
  for (let i = 0; i < values.length; i++) {
    data[pos] = values[i]!;
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]!++;
      pos += t.strides[d]!;
      if (idx[d]! < t.shape[d]!) break;
      pos -= t.strides[d]! * t.shape[d]!;
      idx[d] = 0;
    }
  }
}

/** e^x, elementwise. */
export function exp(x: Tensor): Tensor {
  return unaryOp(x, 'exp', 0, 'exp');
}

/** Natural logarithm (NaN below 0, -Infinity at 0, as in PyTorch). */
export function log(x: Tensor): Tensor {
  return unaryOp(x, 'log', 0, 'log');
}

/** Square root, elementwise (NaN below 0). */
export function sqrt(x: Tensor): Tensor {
  return unaryOp(x, 'sqrt', 0, 'sqrt');
}

/** |x|; its gradient at 0 is 0 (PyTorch's choice). */
export function abs(x: Tensor): Tensor {
  return unaryOp(x, 'abs', 0, 'abs');
}

/** -x, elementwise. */
export function neg(x: Tensor): Tensor {
  return unaryOp(x, 'neg', 0, 'neg');
}

/** Options of `F.softplus`. */
export interface SoftplusOptions {
  /** Sharpness: (1/beta) log(1 + e^(beta x)); default 1. */
  beta?: number;
  /** Above beta * x > threshold the result is x, for numerical stability; default 20. */
  threshold?: number;
}

/** (1/beta) log(1 + e^(beta x)), elementwise: a smooth ReLU. */
export function softplus(x: Tensor, opts: SoftplusOptions = {}): Tensor {
  expectTensor(x, 'softplus', 'input');
  const beta = finite(opts.beta ?? 1, 'softplus', 'beta');
  const threshold = finite(opts.threshold ?? 20, 'softplus', 'threshold');
  if (beta === 0) throw new ConvkitError('softplus: beta must be non-zero (it divides the result), got 0');
  const y = kout(kernel('Softplus')(kin(x, 'softplus'), beta, threshold), x.shape);
  return record(y, 'softplus', [x], (g) => [kout(kernel('SoftplusGrad')(kin(x), kin(g), beta, threshold), x.shape)]);
}

function clampOp(x: Tensor, lo: number, hi: number, inclusive: boolean, name: string): Tensor {
  const y = kout(kernel('Clamp')(kin(x, name), lo, hi), x.shape);
  return record(y, name, [x], (g) => [kout(kernel('ClampGrad')(kin(x), kin(g), lo, hi, inclusive), x.shape)]);
}

/** x clipped to [minVal, maxVal] (defaults -1, 1); the gradient is 0 outside and at the bounds. */
export function hardtanh(x: Tensor, opts: { minVal?: number; maxVal?: number } = {}): Tensor {
  expectTensor(x, 'hardtanh', 'input');
  const lo = finite(opts.minVal ?? -1, 'hardtanh', 'minVal');
  const hi = finite(opts.maxVal ?? 1, 'hardtanh', 'maxVal');
  if (lo > hi) throw new ConvkitError(`hardtanh: minVal (${lo}) must not be greater than maxVal (${hi})`);
  return clampOp(x, lo, hi, false, 'hardtanh');
}

/**
 * torch.clamp: x limited to [min, max]; either bound may be null/undefined for one side only.
 * When min > max every element becomes max (PyTorch's rule). The gradient passes where
 * min <= x <= max.
 */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  expectTensor(x, 'clamp', 'input');
  if ((min === undefined || min === null) && (max === undefined || max === null)) {
    throw new ConvkitError('clamp: give at least one of min and max (use null for the side to leave open)');
  }
  const lo = min === undefined || min === null ? -Infinity : min;
  const hi = max === undefined || max === null ? Infinity : max;
  for (const [name, v] of [['min', lo], ['max', hi]] as const) {
    if (typeof v !== 'number' || Number.isNaN(v)) throw new ConvkitError(`clamp: ${name} must be a number, got ${String(v)}`);
  }
  return clampOp(x, lo, hi, true, 'clamp');
}
