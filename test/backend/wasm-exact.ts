import { expect } from 'vitest';

/** Same float32 values bit for bit (the sign of zero included), except that any NaN matches any NaN. */
export function expectIdentical(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)))) {
      throw new Error(`${what}: element ${i} is ${Object.is(a, -0) ? '-0' : a}, expected ${Object.is(e, -0) ? '-0' : e}`);
    }
  }
}

export function expectSameInts(actual: Int32Array, expected: Int32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) throw new Error(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

/** x with some elements replaced by NaN, +-Infinity, -0 and exact ties (every `every`-th element, by position). */
export function withSpecials(data: Float32Array, every = 7): Float32Array {
  const out = data.slice();
  const specials = [NaN, Infinity, -Infinity, -0, 0, 0.5, -0.5];
  for (let i = 3; i < out.length; i += every) out[i] = specials[(i / every) % specials.length | 0]!;
  return out;
}

/** Lcg integers below n. */
export function ints(count: number, n: number, seed: number): Int32Array {
  let s = seed >>> 0;
  return Int32Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 2 ** 32) * n);
  });
}
