/**
 * The kernel tests' tolerances as plain functions (no vitest, so a browser page can use them):
 * the webgpu kernel tests in Node (test/backend/webgpu-*.test.ts) and the page that runs the same
 * comparisons in Chromium judge a GPU result against the js reference by these rules.
 */

/**
 * 'bits': the same floats (Object.is: -0 is not 0; any NaN matches any NaN) or the same ints.
 * Otherwise |got - want| <= atol + atolRel * scale + rtol * |want|, scale being the largest
 * finite |want| but at least `floor` (default 1e-30): sums of many terms cancel, so their
 * absolute error follows the output's largest magnitude.
 */
export type Tolerance = 'bits' | { rtol: number; atol?: number; atolRel?: number; floor?: number };

/** wasm-helpers' expectSame: float32 reordering of sums (rtol 1e-4, atol 1e-5 of max(1, scale)). */
export const SAME: Tolerance = { rtol: 1e-4, atolRel: 1e-5, floor: 1 };
/** The pooling/LRN tests' expectNear: float32 rounding against float64 sums. */
export const NEAR: Tolerance = { rtol: 1e-5, atolRel: 1e-6, floor: 1 };
/** Batch norm, softmax and loss tests: rtol with an atol from the output's own scale. */
export const scaled = (rtol: number, atolRel: number): Tolerance => ({ rtol, atolRel });

function scaleOf(want: ArrayLike<number>, floor: number): number {
  let m = floor;
  for (let i = 0; i < want.length; i++) {
    const v = Math.abs(want[i]!);
    if (Number.isFinite(v) && v > m) m = v;
  }
  return m;
}

const show = (v: number | undefined): string => (v === undefined ? 'missing' : Object.is(v, -0) ? '-0' : String(v));

/** null when `got` matches `want` under `tol`, else a line naming the worst element and both values. */
export function compare(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance): string | null {
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`;
  if (tol === 'bits') {
    for (let i = 0; i < want.length; i++) {
      const a = got[i]!;
      const e = want[i]!;
      if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)))) return `element ${i} is ${show(a)}, expected ${show(e)} (bit for bit)`;
    }
    return null;
  }
  const atol = (tol.atol ?? 0) + (tol.atolRel ?? 0) * scaleOf(want, tol.floor ?? 1e-30);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < want.length; i++) {
    const a = got[i]!;
    const e = want[i]!;
    if (a === e || (Number.isNaN(a) && Number.isNaN(e))) continue;
    const excess = Math.abs(a - e) - (atol + tol.rtol * Math.abs(e));
    if (!(excess <= 0) && (worst < 0 || Number.isNaN(excess) || excess > worstExcess)) {
      worst = i;
      worstExcess = excess;
    }
  }
  return worst < 0 ? null : `element ${worst} is ${show(got[worst])}, expected ${show(want[worst])} (rtol ${tol.rtol}, atol ${atol.toPrecision(3)})`;
}
