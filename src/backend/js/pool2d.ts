import type { AvgPool2DAttrs, KernelTensor, PoolWithArgmax, Window2D } from '../kernels.js';

/**
 * Reference pooling kernels on NCHW buffers. Every (n, c) pair is an independent H x W
 * "plane"; windows never cross planes. Semantics follow PyTorch's CPU kernels exactly
 * (window clipping, divisors, which element wins a tie), because PyTorch is the oracle the
 * tests and fixtures compare against.
 */

function planeDims(shape: readonly number[]): { planes: number; h: number; w: number } {
  const [n, c, h, w] = shape as [number, number, number, number];
  return { planes: n * c, h, w };
}

/**
 * Max over each window, with the input treated as -inf outside the image (so padding never
 * wins). `indices` are the switches: the flat index (row * W + col) into the input plane of
 * the winner, as PyTorch's return_indices. A NaN wins over everything (PyTorch propagates
 * NaN); among equal values the first in row-major order wins. A window that lies wholly in
 * the padding (possible only with dilation) yields -inf and index -1, which routes no gradient.
 */
export function maxPool2DWithArgmax(x: KernelTensor, a: Window2D): PoolWithArgmax {
  const { planes, h: H, w: W } = planeDims(x.shape);
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.stride;
  const [dh, dw] = a.dilation;
  const [padTop, , padLeft] = a.pad;
  const [oh, ow] = a.out;
  const output = new Float32Array(planes * oh * ow);
  const indices = new Int32Array(planes * oh * ow);
  for (let p = 0; p < planes; p++) {
    const base = p * H * W;
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let best = -Infinity;
        let arg = -1;
        for (let ki = 0; ki < kh; ki++) {
          const r = i * sh - padTop + ki * dh;
          if (r < 0 || r >= H) continue;
          for (let kj = 0; kj < kw; kj++) {
            const c = j * sw - padLeft + kj * dw;
            if (c < 0 || c >= W) continue;
            const v = x.data[base + r * W + c]!;
            if (arg < 0 || v > best || Number.isNaN(v)) {
              best = v;
              arg = r * W + c;
            }
          }
        }
        const o = (p * oh + i) * ow + j;
        output[o] = best;
        indices[o] = arg;
      }
    }
  }
  return { output, indices };
}

/**
 * maxPool2DWithArgmax's output alone, by the same rules (a NaN in the window wins, -inf where
 * the window lies wholly in the padding; among equal values, +0 and -0 included, the first in
 * row-major order), without computing or storing the switches.
 */
export function maxPool2D(x: KernelTensor, a: Window2D): Float32Array {
  const { planes, h: H, w: W } = planeDims(x.shape);
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.stride;
  const [dh, dw] = a.dilation;
  const [padTop, , padLeft] = a.pad;
  const [oh, ow] = a.out;
  const data = x.data;
  const output = new Float32Array(planes * oh * ow);
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const base = p * H * W;
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let best = -Infinity;
        let nan = false;
        for (let ki = 0; ki < kh; ki++) {
          const r = i * sh - padTop + ki * dh;
          if (r < 0 || r >= H) continue;
          for (let kj = 0; kj < kw; kj++) {
            const c = j * sw - padLeft + kj * dw;
            if (c < 0 || c >= W) continue;
            const v = data[base + r * W + c]!;
            if (v > best) best = v;
            else if (v !== v) nan = true;
          }
        }
        output[o++] = nan ? NaN : best;
      }
    }
  }
  return output;
}

/** Routes each dy element to its switch; overlapping windows that share a winner accumulate. */
export function maxPool2DGrad(dy: KernelTensor, indices: Int32Array, inputShape: readonly number[]): Float32Array {
  const { planes, h: H, w: W } = planeDims(inputShape);
  const outPlane = dy.shape[2]! * dy.shape[3]!;
  const dx = new Float32Array(planes * H * W);
  for (let p = 0; p < planes; p++) {
    for (let o = 0; o < outPlane; o++) {
      const idx = indices[p * outPlane + o]!;
      if (idx >= 0) dx[p * H * W + idx]! += dy.data[p * outPlane + o]!;
    }
  }
  return dx;
}

/**
 * One average-pooling window along one axis, as at::avg_pool2d computes it: the window may
 * run past the padded edge in ceil mode and is clipped there; `padded` is the window length
 * within the padded input (the divisor with countIncludePad), [lo, hi) the part inside the
 * image (the divisor without it).
 */
function avgSpan(o: number, stride: number, kernel: number, padBefore: number, padAfter: number, size: number) {
  const start = o * stride - padBefore;
  const end = Math.min(start + kernel, size + padAfter);
  return { padded: end - start, lo: Math.max(start, 0), hi: Math.min(end, size) };
}

function avgDivisor(a: AvgPool2DAttrs, paddedArea: number, inside: number): number {
  if (a.divisorOverride !== null) return a.divisorOverride;
  return a.countIncludePad ? paddedArea : inside;
}

/** Mean over each window; an empty window (only padding) gives 0, as PyTorch. */
export function avgPool2D(x: KernelTensor, a: AvgPool2DAttrs): Float32Array {
  const { planes, h: H, w: W } = planeDims(x.shape);
  const [oh, ow] = a.out;
  const [padTop, padBottom, padLeft, padRight] = a.pad;
  const out = new Float32Array(planes * oh * ow);
  for (let p = 0; p < planes; p++) {
    const base = p * H * W;
    for (let i = 0; i < oh; i++) {
      const rs = avgSpan(i, a.stride[0], a.kernel[0], padTop, padBottom, H);
      for (let j = 0; j < ow; j++) {
        const cs = avgSpan(j, a.stride[1], a.kernel[1], padLeft, padRight, W);
        const inside = (rs.hi - rs.lo) * (cs.hi - cs.lo);
        if (rs.hi <= rs.lo || cs.hi <= cs.lo) continue;
        let sum = 0;
        for (let r = rs.lo; r < rs.hi; r++) {
          for (let c = cs.lo; c < cs.hi; c++) sum += x.data[base + r * W + c]!;
        }
        out[(p * oh + i) * ow + j] = sum / avgDivisor(a, rs.padded * cs.padded, inside);
      }
    }
  }
  return out;
}

/** Spreads each dy element evenly (by the same divisor) over the input pixels of its window. */
export function avgPool2DGrad(dy: KernelTensor, inputShape: readonly number[], a: AvgPool2DAttrs): Float32Array {
  const { planes, h: H, w: W } = planeDims(inputShape);
  const [oh, ow] = a.out;
  const [padTop, padBottom, padLeft, padRight] = a.pad;
  const dx = new Float32Array(planes * H * W);
  for (let p = 0; p < planes; p++) {
    const base = p * H * W;
    for (let i = 0; i < oh; i++) {
      const rs = avgSpan(i, a.stride[0], a.kernel[0], padTop, padBottom, H);
      for (let j = 0; j < ow; j++) {
        const cs = avgSpan(j, a.stride[1], a.kernel[1], padLeft, padRight, W);
        const inside = (rs.hi - rs.lo) * (cs.hi - cs.lo);
        if (rs.hi <= rs.lo || cs.hi <= cs.lo) continue;
        const g = dy.data[(p * oh + i) * ow + j]! / avgDivisor(a, rs.padded * cs.padded, inside);
        for (let r = rs.lo; r < rs.hi; r++) {
          for (let c = cs.lo; c < cs.hi; c++) dx[base + r * W + c]! += g;
        }
      }
    }
  }
  return dx;
}

/** PyTorch's adaptive window along one axis: [floor(o*in/out), ceil((o+1)*in/out)). */
function adaptiveSpan(o: number, size: number, out: number): { lo: number; hi: number } {
  return { lo: Math.floor((o * size) / out), hi: Math.ceil(((o + 1) * size) / out) };
}

export function adaptiveAvgPool2D(x: KernelTensor, outSize: readonly [number, number]): Float32Array {
  const { planes, h: H, w: W } = planeDims(x.shape);
  const [oh, ow] = outSize;
  const out = new Float32Array(planes * oh * ow);
  for (let p = 0; p < planes; p++) {
    const base = p * H * W;
    for (let i = 0; i < oh; i++) {
      const rs = adaptiveSpan(i, H, oh);
      for (let j = 0; j < ow; j++) {
        const cs = adaptiveSpan(j, W, ow);
        let sum = 0;
        for (let r = rs.lo; r < rs.hi; r++) {
          for (let c = cs.lo; c < cs.hi; c++) sum += x.data[base + r * W + c]!;
        }
        out[(p * oh + i) * ow + j] = sum / ((rs.hi - rs.lo) * (cs.hi - cs.lo));
      }
    }
  }
  return out;
}

export function adaptiveAvgPool2DGrad(dy: KernelTensor, inputShape: readonly number[]): Float32Array {
  const { planes, h: H, w: W } = planeDims(inputShape);
  const [oh, ow] = [dy.shape[2]!, dy.shape[3]!];
  const dx = new Float32Array(planes * H * W);
  for (let p = 0; p < planes; p++) {
    const base = p * H * W;
    for (let i = 0; i < oh; i++) {
      const rs = adaptiveSpan(i, H, oh);
      for (let j = 0; j < ow; j++) {
        const cs = adaptiveSpan(j, W, ow);
        const g = dy.data[(p * oh + i) * ow + j]! / ((rs.hi - rs.lo) * (cs.hi - cs.lo));
        for (let r = rs.lo; r < rs.hi; r++) {
          for (let c = cs.lo; c < cs.hi; c++) dx[base + r * W + c]! += g;
        }
      }
    }
  }
  return dx;
}

/** Adaptive max with switches (same tie and NaN rules as maxPool2DWithArgmax); backward is MaxPool2DGrad. */
export function adaptiveMaxPool2D(x: KernelTensor, outSize: readonly [number, number]): PoolWithArgmax {
  const { planes, h: H, w: W } = planeDims(x.shape);
  const [oh, ow] = outSize;
  const output = new Float32Array(planes * oh * ow);
  const indices = new Int32Array(planes * oh * ow);
  for (let p = 0; p < planes; p++) {
    const base = p * H * W;
    for (let i = 0; i < oh; i++) {
      const rs = adaptiveSpan(i, H, oh);
      for (let j = 0; j < ow; j++) {
        const cs = adaptiveSpan(j, W, ow);
        let best = -Infinity;
        let arg = -1;
        for (let r = rs.lo; r < rs.hi; r++) {
          for (let c = cs.lo; c < cs.hi; c++) {
            const v = x.data[base + r * W + c]!;
            if (arg < 0 || v > best || Number.isNaN(v)) {
              best = v;
              arg = r * W + c;
            }
          }
        }
        output[(p * oh + i) * ow + j] = best;
        indices[(p * oh + i) * ow + j] = arg;
      }
    }
  }
  return { output, indices };
}
