/**
 * Small helpers the wasm kernel wrappers share: float64 job arguments, rounding up to a
 * multiple, and the split of a job into tasks of whole units (channels, rows) over the threads.
 */
import type { WasmRuntime } from './runtime.js';

const f64 = new Float64Array(1);
const f64words = new Int32Array(f64.buffer);

/** A float64 argument in slots i and i + 1 (little-endian, as wasm reads it). */
export function argF64(rt: WasmRuntime, i: number, v: number): void {
  f64[0] = v;
  rt.arg(i, f64words[0]!);
  rt.arg(i + 1, f64words[1]!);
}

/** The smallest multiple of `b` (> 0) that is at least `a`. */
export function roundUp(a: number, b: number): number {
  return Math.ceil(a / b) * b;
}

/**
 * Units (planes, rows, lines) per task for `count` units: about a quarter of a thread's share
 * when `work` (elements touched) is worth waking the workers, else all in one task.
 */
export function unitsPerTask(rt: WasmRuntime, count: number, work: number): { per: number; tasks: number; parallel: boolean } {
  const threads = work >= THREADED_WORK ? rt.threads() : 1;
  const per = Math.max(1, Math.ceil(count / (4 * threads)));
  return { per, tasks: Math.ceil(count / per), parallel: threads > 1 };
}

/** Elements a job must touch before waking the worker threads pays. */
export const THREADED_WORK = 1 << 16;

/**
 * Runs `count` units of `kind`, `per` units a task (a multiple of `multiple`, about a quarter of
 * a thread's share), telling the kernel `per` in slot `slotPer`; threaded when `work` is large.
 * `scratchBytes`: per-thread scratch the tasks use.
 */
export function runSplit(rt: WasmRuntime, kind: number, slotPer: number, count: number, work: number, multiple = 1, scratchBytes = 0): void {
  const threads = work >= THREADED_WORK ? rt.threads() : 1;
  let per = Math.max(1, Math.ceil(count / (4 * threads)));
  per = roundUp(per, multiple);
  rt.arg(slotPer, per);
  rt.run(kind, Math.ceil(count / per), scratchBytes, threads > 1);
}
