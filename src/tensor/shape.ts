import { ConvkitError, fmtShape } from './errors.js';

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export function checkShape(shape: readonly number[], what = 'shape'): void {
  // Plain JS callers may pass a bare number (torch.zeros(3) style); fail with a message, not a TypeError.
  if (!Array.isArray(shape)) {
    throw new ConvkitError(`${what} must be an array of sizes such as [2, 3], got ${JSON.stringify(shape) ?? String(shape)}`);
  }
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ConvkitError(`${what} ${fmtShape(shape)} must hold non-negative integers, got ${d}`);
    }
  }
}

/** Resolves one `-1` in a requested shape; errors show both shapes. */
export function inferShape(from: readonly number[], requested: readonly number[]): number[] {
  const size = sizeOf(from);
  const minusOnes = requested.filter((d) => d === -1).length;
  if (minusOnes > 1) {
    throw new ConvkitError(
      `cannot reshape ${fmtShape(from)} to ${fmtShape(requested)}: only one dimension can be -1 (inferred), got ${minusOnes}`,
    );
  }
  for (const d of requested) {
    if (d !== -1 && (!Number.isInteger(d) || d < 0)) {
      throw new ConvkitError(`cannot reshape ${fmtShape(from)} to ${fmtShape(requested)}: invalid size ${d}`);
    }
  }
  const known = sizeOf(requested.filter((d) => d !== -1));
  if (minusOnes === 1) {
    if (known === 0 || size % known !== 0) {
      throw new ConvkitError(
        `cannot reshape ${fmtShape(from)} (${size} elements) to ${fmtShape(requested)}: ${size} is not divisible by ${known}`,
      );
    }
    return requested.map((d) => (d === -1 ? size / known : d));
  }
  if (known !== size) {
    throw new ConvkitError(
      `cannot reshape ${fmtShape(from)} (${size} elements) to ${fmtShape(requested)} (${known} elements)`,
    );
  }
  return [...requested];
}

/** Normalizes a possibly negative axis. */
export function normAxis(axis: number, ndim: number, what = 'dim'): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= Math.max(ndim, 1)) {
    throw new ConvkitError(`${what} ${axis} is out of range for a tensor with ${ndim} dimensions (expected ${-ndim}..${ndim - 1})`);
  }
  return axis < 0 ? axis + ndim : axis;
}

/** NumPy broadcasting of two shapes. */
export function broadcastShapes(a: readonly number[], b: readonly number[], op = 'broadcast'): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ConvkitError(
        `${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast (dimension ${i - n}: ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}
