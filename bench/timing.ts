/**
 * The measuring rule of the bench suite, the same in every peer script (bench/peers/*):
 * after a short warm-up, steps run back to back for at least `secs` seconds (and at least 3
 * steps); throughput is images over the wall time of all of them, garbage collection and
 * every pause included, and the median step time is reported beside it.
 */
import { ConvkitError } from '../src/tensor/errors.js';

export interface Measurement {
  /** Images per second over the whole measured wall time. */
  imagesPerS: number;
  medianMs: number;
  minMs: number;
  steps: number;
  wallS: number;
}

export interface TimingOptions {
  /** Seconds of measurement (at least 3 steps whatever it says). */
  secs: number;
  /** Seconds of warm-up (at least 1 step). */
  warmupS: number;
  /** Fewest measured steps (default MIN_STEPS; the smoke test asks for 1). */
  minSteps?: number;
}

export const MIN_STEPS = 3;

/** Warm-up seconds for a measurement of `secs` seconds: a tenth of it (to the millisecond), at most 1 s. */
export const warmupFor = (secs: number): number => Math.min(1, Math.round(secs * 100) / 1000);

export function measure(step: () => void, batch: number, opts: TimingOptions): Measurement {
  let t0 = performance.now();
  for (let n = 0; n < 1 || performance.now() - t0 < opts.warmupS * 1000; n++) step();
  const ts: number[] = [];
  t0 = performance.now();
  let now = t0;
  const minSteps = opts.minSteps ?? MIN_STEPS;
  while (now - t0 < opts.secs * 1000 || ts.length < minSteps) {
    step();
    const t = performance.now();
    ts.push(t - now);
    now = t;
  }
  const wallS = (now - t0) / 1000;
  ts.sort((a, b) => a - b);
  return { imagesPerS: (ts.length * batch) / wallS, medianMs: ts[ts.length >> 1]!, minMs: ts[0]!, steps: ts.length, wallS };
}

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/**
 * Several measurements of one run (the rounds of bench/run.ts) as one: images of all of them
 * over the wall time of all of them, so the figure stays throughput over wall time; the median
 * step is the median of their medians (the rounds keep no step times), the minimum their least.
 */
export function pool(ms: readonly Measurement[]): Measurement {
  if (!ms.length) throw new ConvkitError('pool: no measurements to pool');
  const wallS = ms.reduce((s, m) => s + m.wallS, 0);
  const images = ms.reduce((s, m) => s + m.imagesPerS * m.wallS, 0);
  return {
    imagesPerS: images / wallS,
    medianMs: median(ms.map((m) => m.medianMs)),
    minMs: Math.min(...ms.map((m) => m.minMs)),
    steps: ms.reduce((s, m) => s + m.steps, 0),
    wallS,
  };
}
