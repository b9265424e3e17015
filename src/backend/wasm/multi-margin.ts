/**
 * MultiMarginLoss and its gradient on assembly/multi-margin.ts: the js reference's float64
 * arithmetic (src/backend/js/losses.ts), so the same bits, one task per run of samples.
 */
import type { KernelTensor } from '../kernels.js';
import { KIND, MM } from './job-layout.js';
import { argF64, unitsPerTask } from './args.js';
import { runtime } from './instance.js';

/** x [N, C] or [C] (one sample), as the reference's classLayout. */
function layout(shape: readonly number[]): { n: number; c: number } {
  return shape.length === 1 ? { n: 1, c: shape[0]! } : { n: shape[0]!, c: shape[1]! };
}

function run(kind: number, x: KernelTensor, target: Int32Array, dy: KernelTensor | null, p: 1 | 2, margin: number, weight: KernelTensor | null): Float32Array {
  const { n, c } = layout(x.shape);
  const outLen = dy ? x.data.length : n;
  const rt = runtime();
  rt.begin();
  const px = rt.put(x.data);
  const pt = rt.putI32(target);
  const pdy = dy ? rt.put(dy.data) : 0;
  const pw = weight ? rt.put(weight.data) : 0;
  const po = rt.alloc(outLen);
  const { per, tasks, parallel } = unitsPerTask(rt, n, x.data.length * 4);
  const v = [[MM.X, px], [MM.T, pt], [MM.DY, pdy], [MM.OUT, po], [MM.W, pw], [MM.N, n], [MM.C, c], [MM.P, p], [MM.RPT, per]] as const;
  for (const [s, val] of v) rt.arg(s, val);
  argF64(rt, MM.MARGIN, margin);
  rt.run(kind, tasks, 0, parallel);
  return rt.read(po, outLen);
}

export function multiMarginLoss(x: KernelTensor, target: Int32Array, p: 1 | 2, margin: number, weight: KernelTensor | null): Float32Array {
  return run(KIND.multiMargin, x, target, null, p, margin, weight);
}

export function multiMarginLossGrad(
  x: KernelTensor, target: Int32Array, dy: KernelTensor, p: 1 | 2, margin: number, weight: KernelTensor | null,
): Float32Array {
  return run(KIND.multiMarginGrad, x, target, dy, p, margin, weight);
}
