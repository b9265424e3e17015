import type { KernelTensor, Window2D } from '../kernels.js';
import { ConvkitError, fmtShape } from '../../tensor/errors.js';

/**
 * Locally connected 2-d layer: a convolution without weight sharing (DeepFace). Each output
 * position (oy, ox) has its own bank of K filters, so the weight is
 * w [outH, outW, K, C, kh, kw] and the bias b [K, outH, outW] (the output's own layout).
 * For each image and position the receptive field is gathered into a patch of C*kh*kw values;
 * the output is the dot product of the patch with each of that position's filters. There is
 * nothing to batch into one big GEMM here, so plain loops are as good as any.
 */

export interface LcDims {
  n: number;
  c: number;
  h: number;
  w: number;
  k: number;
  /** Patch length C*kh*kw. */
  len: number;
}

export function dims(xShape: readonly number[], wShape: readonly number[], attrs: Window2D, kernelName: string): LcDims {
  const [oh, ow] = attrs.out;
  const [kh, kw] = attrs.kernel;
  if (xShape.length !== 4 || wShape.length !== 6 || wShape[0] !== oh || wShape[1] !== ow || wShape[3] !== xShape[1] || wShape[4] !== kh || wShape[5] !== kw) {
    throw new ConvkitError(
      `${kernelName} kernel: input ${fmtShape(xShape)} and weight ${fmtShape(wShape)} do not match [outH, outW, K, C, kh, kw] with out [${oh}, ${ow}] and kernel [${kh}, ${kw}]`,
    );
  }
  const [n, c, h, w] = xShape as [number, number, number, number];
  return { n, c, h, w, k: wShape[2]!, len: c * kh * kw };
}

/** Walks the receptive field of output (oy, ox): calls visit(patchIndex, inputIndex) for in-bounds taps. */
function forEachTap(d: LcDims, attrs: Window2D, n: number, oy: number, ox: number, visit: (p: number, xi: number) => void): void {
  const [kh, kw] = attrs.kernel;
  const [sh, sw] = attrs.stride;
  const [dh, dw] = attrs.dilation;
  let p = 0;
  for (let c = 0; c < d.c; c++) {
    for (let i = 0; i < kh; i++) {
      const y = oy * sh - attrs.pad[0] + i * dh;
      for (let j = 0; j < kw; j++, p++) {
        const x = ox * sw - attrs.pad[2] + j * dw;
        if (y >= 0 && y < d.h && x >= 0 && x < d.w) visit(p, ((n * d.c + c) * d.h + y) * d.w + x);
      }
    }
  }
}

/** Copies the receptive field of (n, oy, ox) into patch (zeros where it overhangs the input). */
function gather(x: Float32Array, d: LcDims, attrs: Window2D, n: number, oy: number, ox: number, patch: Float32Array): void {
  patch.fill(0);
  forEachTap(d, attrs, n, oy, ox, (p, xi) => (patch[p] = x[xi]!));
}

export function locallyConnected2d(x: KernelTensor, w: KernelTensor, bias: KernelTensor | null, attrs: Window2D): Float32Array {
  const d = dims(x.shape, w.shape, attrs, 'LocallyConnected2D');
  const [oh, ow] = attrs.out;
  const out = new Float32Array(d.n * d.k * oh * ow);
  const patch = new Float32Array(d.len);
  for (let n = 0; n < d.n; n++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        gather(x.data, d, attrs, n, oy, ox, patch);
        const pos = oy * ow + ox;
        for (let k = 0; k < d.k; k++) {
          const wOff = (pos * d.k + k) * d.len;
          let s = bias ? bias.data[k * oh * ow + pos]! : 0;
          for (let p = 0; p < d.len; p++) s += w.data[wOff + p]! * patch[p]!;
          out[((n * d.k + k) * oh + oy) * ow + ox] = s;
        }
      }
    }
  }
  return out;
}

export function locallyConnected2dBackpropInput(dy: KernelTensor, w: KernelTensor, inputShape: readonly number[], attrs: Window2D): Float32Array {
  const d = dims(inputShape, w.shape, attrs, 'LocallyConnected2DBackpropInput');
  const [oh, ow] = attrs.out;
  const dx = new Float32Array(d.n * d.c * d.h * d.w);
  const dpatch = new Float32Array(d.len);
  for (let n = 0; n < d.n; n++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const pos = oy * ow + ox;
        dpatch.fill(0);
        for (let k = 0; k < d.k; k++) {
          const g = dy.data[((n * d.k + k) * oh + oy) * ow + ox]!;
          const wOff = (pos * d.k + k) * d.len;
          for (let p = 0; p < d.len; p++) dpatch[p]! += g * w.data[wOff + p]!;
        }
        forEachTap(d, attrs, n, oy, ox, (p, xi) => (dx[xi]! += dpatch[p]!));
      }
    }
  }
  return dx;
}

export function locallyConnected2dBackpropFilter(x: KernelTensor, dy: KernelTensor, filterShape: readonly number[], attrs: Window2D): Float32Array {
  const d = dims(x.shape, filterShape, attrs, 'LocallyConnected2DBackpropFilter');
  const [oh, ow] = attrs.out;
  const dw = new Float32Array(oh * ow * d.k * d.len);
  const patch = new Float32Array(d.len);
  for (let n = 0; n < d.n; n++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        gather(x.data, d, attrs, n, oy, ox, patch);
        const pos = oy * ow + ox;
        for (let k = 0; k < d.k; k++) {
          const g = dy.data[((n * d.k + k) * oh + oy) * ow + ox]!;
          const wOff = (pos * d.k + k) * d.len;
          for (let p = 0; p < d.len; p++) dw[wOff + p]! += g * patch[p]!;
        }
      }
    }
  }
  return dw;
}
