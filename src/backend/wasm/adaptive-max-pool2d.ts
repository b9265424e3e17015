/**
 * AdaptiveMaxPool2D (with switches) on assembly/adaptive-max-pool.ts; its gradient is
 * MaxPool2DGrad (pool2d.ts). Windows are PyTorch's [floor(i H / OH), ceil((i + 1) H / OH)).
 */
import type { KernelTensor, PoolWithArgmax } from '../kernels.js';
import { ConvkitError, fmtShape } from '../../tensor/errors.js';
import { AMP, KIND } from './job-layout.js';
import { unitsPerTask } from './args.js';
import { runtime } from './instance.js';

export function adaptiveMaxPool2D(x: KernelTensor, outSize: readonly [number, number]): PoolWithArgmax {
  if (x.shape.length !== 4) throw new ConvkitError(`AdaptiveMaxPool2D kernel: expected an input [N, C, H, W], got ${fmtShape(x.shape)}`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [oh, ow] = outSize;
  const planes = n * c;
  const size = planes * oh * ow;
  const tab = new Int32Array(2 * (oh + ow));
  for (let i = 0; i < oh; i++) {
    tab[i] = Math.floor((i * h) / oh);
    tab[oh + i] = Math.ceil(((i + 1) * h) / oh);
  }
  for (let j = 0; j < ow; j++) {
    tab[2 * oh + j] = Math.floor((j * w) / ow);
    tab[2 * oh + ow + j] = Math.ceil(((j + 1) * w) / ow);
  }
  const rt = runtime();
  rt.begin();
  const px = rt.put(x.data);
  const pt = rt.putI32(tab);
  const po = rt.alloc(size);
  const pi = rt.alloc(size);
  // Work: every pixel about once (windows share at most a row or column when the output is
  // smaller than the input) plus the outputs.
  const { per, tasks, parallel } = unitsPerTask(rt, planes, planes * (h * w + oh * ow));
  const v = [[AMP.X, px], [AMP.OUT, po], [AMP.IDX, pi], [AMP.TAB, pt], [AMP.H, h], [AMP.W, w], [AMP.OH, oh], [AMP.OW, ow], [AMP.PPT, per],
    [AMP.PLANES, planes]] as const;
  for (const [s, val] of v) rt.arg(s, val);
  rt.run(KIND.adaptiveMaxPool, tasks, 0, parallel);
  return { output: rt.read(po, size), indices: rt.readI32(pi, size) };
}
