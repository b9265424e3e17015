/**
 * Reduce over any set of axes on wasm (assembly/reduce.ts): max and min, and sums or means the
 * per-channel kernel of planes.ts does not take (kept axes not contiguous). x collapses into
 * alternating runs of kept and reduced dims; the kernel reduces runs of contiguous floats
 * (reduced innermost) or accumulates contiguous rows of outputs (kept innermost).
 */
import type { KernelTensor, ReduceOp } from '../kernels.js';
import { reduce as jsReduce } from '../js/elementwise.js';
import { argF64, runSplit } from './args.js';
import { KIND, R, ROP } from './job-layout.js';
import { runtime } from './instance.js';

interface Run { size: number; stride: number; reduced: boolean }

/** x's dims without size-1 ones, adjacent dims of the same kind merged, with their strides in x. */
function runs(shape: readonly number[], axes: readonly number[]): Run[] {
  const out: Run[] = [];
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    const size = shape[d]!;
    if (size !== 1) {
      const reduced = axes.includes(d);
      const first = out[0];
      // A merged run keeps the stride of its innermost dim.
      if (first && first.reduced === reduced) first.size *= size;
      else out.unshift({ size, stride, reduced });
    }
    stride *= size;
  }
  return out;
}

/** Null where the kernel does not take the case (nothing reduced, too many runs): js does. */
export function reduceAny(x: KernelTensor, axes: readonly number[], op: ReduceOp): Float32Array | null {
  const n = x.data.length;
  const all = runs(x.shape, axes);
  const last = all[all.length - 1];
  if (n === 0 || !last || !all.some((r) => r.reduced)) return null;
  const mode = last.reduced ? 0 : 1;
  const inner = all.pop()!;
  const kept = all.filter((r) => !r.reduced);
  const red = all.filter((r) => r.reduced);
  if (kept.length > R.MAXD || red.length > R.MAXD) return null;
  const nOut = (mode === 0 ? 1 : inner.size) * kept.reduce((p, r) => p * r.size, 1);
  const rt = runtime();
  rt.begin();
  rt.arg(R.X, rt.put(x.data));
  const out = rt.alloc(nOut);
  rt.arg(R.OUT, out);
  rt.arg(R.OP, ROP[op]);
  rt.arg(R.MODE, mode);
  rt.arg(R.NK, kept.length);
  rt.arg(R.NR, red.length);
  rt.arg(R.INNER, inner.size);
  argF64(rt, R.DIV, n / nOut);
  kept.forEach((r, i) => { rt.arg(R.KD + i, r.size); rt.arg(R.KS + i, r.stride); });
  red.forEach((r, i) => { rt.arg(R.RD + i, r.size); rt.arg(R.RS + i, r.stride); });
  let units = nOut;
  if (mode === 1) {
    const chunks = Math.ceil(inner.size / R.KC);
    rt.arg(R.CHUNKS, chunks);
    units = (nOut / inner.size) * chunks;
  }
  rt.arg(R.UNITS, units);
  const scratch = mode === 1 && (op === 'sum' || op === 'mean') ? R.KC * 8 : 0;
  runSplit(rt, KIND.reduce, R.UPT, units, n, 1, scratch);
  return rt.read(out, nOut);
}

export function reduceGeneral(x: KernelTensor, axes: readonly number[], op: ReduceOp): Float32Array {
  return reduceAny(x, axes, op) ?? jsReduce(x, axes, op);
}
