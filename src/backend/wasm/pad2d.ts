/**
 * Pad2D and Pad2DGrad on assembly/pad.ts, every mode, crops included. The row and column maps
 * and the argument checks are the js reference's (src/backend/js/pad2d.ts), so the errors and
 * the meaning of each mode are defined in one place; the kernel copies or sums through them.
 */
import type { KernelTensor, Pad2DMode, Pads2D } from '../kernels.js';
import { axisMap, paddedSize, planes } from '../js/pad2d.js';
import { ConvkitError, fmtShape } from '../../tensor/errors.js';
import { KIND, PD } from './job-layout.js';
import { unitsPerTask } from './args.js';
import { runtime } from './instance.js';

/** The padded columns [j0, j1) that read input column j - left in order (no map lookup). */
function straightRun(ow: number, left: number, w: number): [number, number] {
  const j0 = Math.min(ow, Math.max(0, left));
  return [j0, Math.max(j0, Math.min(ow, left + w))];
}

function run(
  kind: number, src: Float32Array, count: number, h: number, w: number, oh: number, ow: number, pads: Pads2D, mode: Pad2DMode, value: number,
): Float32Array {
  const outLen = kind === KIND.pad ? count * oh * ow : count * h * w;
  const rows = axisMap(oh, pads[0], h, mode);
  const cols = axisMap(ow, pads[2], w, mode);
  const [j0, j1] = straightRun(ow, pads[2], w);
  const rt = runtime();
  rt.begin();
  const px = rt.put(src);
  const pr = rt.putI32(rows);
  const pc = rt.putI32(cols);
  const po = rt.alloc(outLen);
  const { per, tasks, parallel } = unitsPerTask(rt, count, count * (h * w + oh * ow));
  const v = [[PD.X, px], [PD.OUT, po], [PD.ROWS, pr], [PD.COLS, pc], [PD.H, h], [PD.W, w], [PD.OH, oh], [PD.OW, ow], [PD.J0, j0], [PD.J1, j1],
    [PD.SHIFT, pads[2]], [PD.PPT, per], [PD.PLANES, count]] as const;
  for (const [s, val] of v) rt.arg(s, val);
  rt.argf(PD.VALUE, value);
  rt.run(kind, tasks, 0, parallel);
  return rt.read(po, outLen);
}

export function pad2d(x: KernelTensor, pads: Pads2D, mode: Pad2DMode, value: number): Float32Array {
  const { count, h, w } = planes(x.shape, 'Pad2D');
  const [oh, ow] = paddedSize(h, w, pads, 'Pad2D');
  return run(KIND.pad, x.data, count, h, w, oh, ow, pads, mode, value);
}

export function pad2dGrad(dy: KernelTensor, pads: Pads2D, mode: Pad2DMode, inputShape: readonly number[]): Float32Array {
  const { count, h, w } = planes(inputShape, 'Pad2DGrad');
  const [oh, ow] = paddedSize(h, w, pads, 'Pad2DGrad');
  if (dy.data.length !== count * oh * ow) {
    throw new ConvkitError(`Pad2DGrad kernel: dy ${fmtShape(dy.shape)} does not match the padded size [${oh}, ${ow}] of ${fmtShape(inputShape)}`);
  }
  return run(KIND.padGrad, dy.data, count, h, w, oh, ow, pads, mode, 0);
}
