import { describe, expect, it } from 'vitest';
import { copyArray } from '../../src/tensor/copy-array.js';

describe('copyArray', () => {
  it('copies plain and shared-memory views into independent JS-heap arrays of the same type', () => {
    const shared = new SharedArrayBuffer(4 * 64);
    const cases = [
      new Float32Array([1.5, -0, NaN, Infinity, 3]),
      new Int32Array([7, -2, 0, 2 ** 31 - 1]),
      new Float32Array(shared, 8, 40).map((_, i) => i / 3),
      new Int32Array(shared, 200, 5).map((_, i) => -i),
      new Float32Array(0),
    ];
    for (const a of cases) {
      const c = copyArray(a);
      expect(c.constructor).toBe(a.constructor);
      expect(c.buffer).not.toBe(a.buffer);
      expect(c.buffer instanceof SharedArrayBuffer).toBe(false);
      expect(Array.from(c)).toEqual(Array.from(a));
      if (a.length) {
        a[0] = 42;
        expect(c[0]).not.toBe(42);
      }
    }
  });
});
