import type { Histogram } from '../shared/protocol.js';

/** Bins of a value histogram: enough to see a shape, few enough to draw as bars. */
export const BINS = 40;

/** A histogram of the finite values, with NaN and ±Infinity counted apart (they mean trouble). */
export function histogram(values: ArrayLike<number>): Histogram {
  let min = Infinity;
  let max = -Infinity;
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) nan++;
    else if (!Number.isFinite(v)) inf++;
    else {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const counts = new Array<number>(BINS).fill(0);
  const count = values.length - nan - inf;
  if (count === 0) return { min: 0, max: 0, counts, nan, inf, count };
  const width = max > min ? (max - min) / BINS : 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    counts[Math.min(BINS - 1, Math.floor((v - min) / width))]!++;
  }
  return { min, max, counts, nan, inf, count };
}
