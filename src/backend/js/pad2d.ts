import type { KernelTensor, Pad2DMode, Pads2D } from '../kernels.js';
import { ConvkitError, fmtShape } from '../../tensor/errors.js';
import { sizeOf } from '../../tensor/shape.js';

/**
 * Padding of the last two dimensions. Every mode is one rule: which input index an output
 * index reads along an axis (or -1 for the constant fill). The forward gathers through that
 * map; the gradient scatters (sums) through the same map, since several output pixels read
 * the same input pixel in reflect/replicate/circular modes.
 */

/** Source index along one axis of size `size` for padded index `i` (-1: the constant value). */
function sourceIndex(i: number, before: number, size: number, mode: Pad2DMode): number {
  const s = i - before;
  if (s >= 0 && s < size) return s;
  switch (mode) {
    case 'constant':
      return -1;
    case 'replicate':
      return s < 0 ? 0 : size - 1;
    case 'reflect': {
      // Mirror about the edge pixels without repeating them: -1 -> 1, size -> size-2.
      // The op keeps pads < size, so one reflection is enough; a size-1 axis maps to itself.
      if (size === 1) return 0;
      const period = 2 * (size - 1);
      const r = ((s % period) + period) % period;
      return r < size ? r : period - r;
    }
    case 'circular':
      return ((s % size) + size) % size;
  }
}

export function axisMap(outSize: number, before: number, size: number, mode: Pad2DMode): Int32Array {
  const map = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) map[i] = sourceIndex(i, before, size, mode);
  return map;
}

export function planes(shape: readonly number[], kernelName: string): { count: number; h: number; w: number } {
  if (shape.length < 2) throw new ConvkitError(`${kernelName} kernel: expected at least 2 dimensions, got ${fmtShape(shape)}`);
  return { count: sizeOf(shape.slice(0, -2)), h: shape[shape.length - 2]!, w: shape[shape.length - 1]! };
}

export function paddedSize(h: number, w: number, pads: Pads2D, kernelName: string): [number, number] {
  const oh = h + pads[0] + pads[1];
  const ow = w + pads[2] + pads[3];
  if (oh < 0 || ow < 0) throw new ConvkitError(`${kernelName} kernel: pads [${pads.join(', ')}] leave a negative size from [${h}, ${w}]`);
  return [oh, ow];
}

/** x [..., H, W] -> [..., H + top + bottom, W + left + right]; negative pads crop. */
export function pad2d(x: KernelTensor, pads: Pads2D, mode: Pad2DMode, value: number): Float32Array {
  const { count, h, w } = planes(x.shape, 'Pad2D');
  const [oh, ow] = paddedSize(h, w, pads, 'Pad2D');
  const rows = axisMap(oh, pads[0], h, mode);
  const colsMap = axisMap(ow, pads[2], w, mode);
  const out = new Float32Array(count * oh * ow);
  for (let p = 0; p < count; p++) {
    const src = p * h * w;
    const dst = p * oh * ow;
    for (let i = 0; i < oh; i++) {
      const r = rows[i]!;
      for (let j = 0; j < ow; j++) {
        const c = colsMap[j]!;
        out[dst + i * ow + j] = r < 0 || c < 0 ? value : x.data[src + r * w + c]!;
      }
    }
  }
  return out;
}

/** dy [..., H', W'] -> dx [..., H, W] = inputShape, summing every output that read a pixel. */
export function pad2dGrad(dy: KernelTensor, pads: Pads2D, mode: Pad2DMode, inputShape: readonly number[]): Float32Array {
  const { count, h, w } = planes(inputShape, 'Pad2DGrad');
  const [oh, ow] = paddedSize(h, w, pads, 'Pad2DGrad');
  if (dy.data.length !== count * oh * ow) {
    throw new ConvkitError(`Pad2DGrad kernel: dy ${fmtShape(dy.shape)} does not match the padded size [${oh}, ${ow}] of ${fmtShape(inputShape)}`);
  }
  const rows = axisMap(oh, pads[0], h, mode);
  const colsMap = axisMap(ow, pads[2], w, mode);
  const dx = new Float32Array(count * h * w);
  for (let p = 0; p < count; p++) {
    const dst = p * h * w;
    const src = p * oh * ow;
    for (let i = 0; i < oh; i++) {
      const r = rows[i]!;
      if (r < 0) continue;
      for (let j = 0; j < ow; j++) {
        const c = colsMap[j]!;
        if (c >= 0) dx[dst + r * w + c]! += dy.data[src + i * ow + j]!;
      }
    }
  }
  return dx;
}
