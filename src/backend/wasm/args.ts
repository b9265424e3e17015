/** Job arguments that are not int32s, shared by the wasm kernel wrappers. */
import type { WasmRuntime } from './runtime.js';

const f64 = new Float64Array(1);
const f64words = new Int32Array(f64.buffer);

/** A float64 argument in slots i and i + 1 (little-endian, as wasm reads it). */
export function argF64(rt: WasmRuntime, i: number, v: number): void {
  f64[0] = v;
  rt.arg(i, f64words[0]!);
  rt.arg(i + 1, f64words[1]!);
}

/**
 * Units (planes, rows, lines) per task for `count` units: about a quarter of a thread's share
 * when `work` (elements touched) is worth waking the workers, else all in one task.
 */
export function unitsPerTask(rt: WasmRuntime, count: number, work: number): { per: number; tasks: number; parallel: boolean } {
  const threads = work >= 1 << 16 ? rt.threads() : 1;
  const per = Math.max(1, Math.ceil(count / (4 * threads)));
  return { per, tasks: Math.ceil(count / per), parallel: threads > 1 };
}
