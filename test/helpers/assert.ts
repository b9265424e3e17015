import { expect } from 'vitest';
import * as ck from '../../src/index.js';

type Values = ck.Tensor | ArrayLike<number>;

function flat(v: Values): Float32Array | number[] {
  return v instanceof ck.Tensor ? v.dataSync() : Array.from(v);
}

/**
 * Element-wise |a - b| <= atol + rtol * |b| (b is the reference), reporting the worst
 * element, its index and both values when it fails.
 */
export function expectClose(actual: Values, expected: Values, opts: { rtol?: number; atol?: number; what?: string } = {}): void {
  const rtol = opts.rtol ?? 1e-4;
  const atol = opts.atol ?? 1e-5;
  const a = flat(actual);
  const b = flat(expected);
  if (actual instanceof ck.Tensor && expected instanceof ck.Tensor) {
    expect(actual.shape, `${opts.what ?? 'tensor'} shape`).toEqual(expected.shape);
  }
  expect(a.length, `${opts.what ?? 'tensor'} element count`).toBe(b.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if ((Number.isNaN(y) && Number.isNaN(x)) || x === y) continue;
    const excess = Math.abs(x - y) - (atol + rtol * Math.abs(y));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${opts.what ?? 'values'} differ at index ${worst}: got ${a[worst]}, expected ${b[worst]} (rtol ${rtol}, atol ${atol})`,
    );
  }
}

/** Asserts fn throws a ConvkitError whose message matches every pattern. */
export function expectConvkitError(fn: () => unknown, ...patterns: (string | RegExp)[]): ck.ConvkitError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  if (!(caught instanceof ck.ConvkitError)) {
    throw new Error(`expected a ConvkitError, got ${caught === undefined ? 'no error' : String(caught)}`);
  }
  for (const p of patterns) expect(caught.message).toMatch(p);
  return caught;
}
