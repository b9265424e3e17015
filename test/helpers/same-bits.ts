import { expect } from 'vitest';
import * as ck from '../../src/index.js';

/**
 * Expects two float tensors to hold the same float32 values bit for bit (Object.is per
 * element: -0 differs from 0; any NaN equals any NaN), naming the first element that differs.
 */
export function expectSameBits(actual: ck.Tensor | null, expected: ck.Tensor | null, what = 'values'): void {
  expect(actual === null, `${what}: presence`).toBe(expected === null);
  if (!actual || !expected) return;
  expect(actual.shape, `${what}: shape`).toEqual(expected.shape);
  const a = actual.dataSync();
  const b = expected.dataSync();
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) throw new Error(`${what} differ at index ${i}: got ${a[i]}, expected ${b[i]}`);
  }
}
