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

/** The input rows (or columns) [lo, hi) one output position reads along one axis. */
interface Span {
  lo: number;
  hi: number;
}

/**
 * Visits every output position of a pooling from `planes` H x W planes to oh x ow, the window
 * along each axis given by `rowSpan` / `colSpan`; `base` is the plane's first input index and
 * `o` the flat output index.
 */
function forEachWindow<S extends Span>(
  planes: number,
  [H, W]: readonly [number, number],
  [oh, ow]: readonly [number, number],
  rowSpan: (i: number) => S,
  colSpan: (j: number) => S,
  visit: (base: number, o: number, rs: S, cs: S) => void,
): void {
  for (let p = 0; p < planes; p++) {
    const base = p * H * W;
    for (let i = 0; i < oh; i++) {
      const rs = rowSpan(i);
      for (let j = 0; j < ow; j++) visit(base, (p * oh + i) * ow + j, rs, colSpan(j));
    }
  }
}

/** Sum of the window, row-major (the order fixes the rounding). */
function windowSum(data: Float32Array, base: number, W: number, rs: Span, cs: Span): number {
  let sum = 0;
  for (let r = rs.lo; r < rs.hi; r++) {
    for (let c = cs.lo; c < cs.hi; c++) sum += data[base + r * W + c]!;
  }
  return sum;
}

/** Adds g to every input pixel of the window. */
function spreadOverWindow(dx: Float32Array, base: number, W: number, rs: Span, cs: Span, g: number): void {
  for (let r = rs.lo; r < rs.hi; r++) {
    for (let c = cs.lo; c < cs.hi; c++) dx[base + r * W + c]! += g;
  }
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

/**
 * Visits every average-pooling window that holds at least one input pixel (an empty one, only
 * padding, gives 0 as PyTorch), with the divisor its attributes ask for.
 */
function forEachAvgWindow(
  shape: readonly number[],
  a: AvgPool2DAttrs,
  visit: (base: number, o: number, rs: Span, cs: Span, divisor: number) => void,
): void {
  const { planes, h: H, w: W } = planeDims(shape);
  const [padTop, padBottom, padLeft, padRight] = a.pad;
  forEachWindow(
    planes,
    [H, W],
    a.out,
    (i) => avgSpan(i, a.stride[0], a.kernel[0], padTop, padBottom, H),
    (j) => avgSpan(j, a.stride[1], a.kernel[1], padLeft, padRight, W),
    (base, o, rs, cs) => {
      if (rs.hi <= rs.lo || cs.hi <= cs.lo) return;
      const inside = (rs.hi - rs.lo) * (cs.hi - cs.lo);
      const divisor = a.divisorOverride ?? (a.countIncludePad ? rs.padded * cs.padded : inside);
      visit(base, o, rs, cs, divisor);
    },
  );
}

/** Mean over each window; an empty window (only padding) gives 0, as PyTorch. */
export function avgPool2D(x: KernelTensor, a: AvgPool2DAttrs): Float32Array {
  const { planes, w: W } = planeDims(x.shape);
  const out = new Float32Array(planes * a.out[0] * a.out[1]);
  forEachAvgWindow(x.shape, a, (base, o, rs, cs, divisor) => {
    out[o] = windowSum(x.data, base, W, rs, cs) / divisor;
  });
  return out;
}

/** Spreads each dy element evenly (by the same divisor) over the input pixels of its window. */
export function avgPool2DGrad(dy: KernelTensor, inputShape: readonly number[], a: AvgPool2DAttrs): Float32Array {
  const { planes, h: H, w: W } = planeDims(inputShape);
  const dx = new Float32Array(planes * H * W);
  forEachAvgWindow(inputShape, a, (base, o, rs, cs, divisor) => {
    spreadOverWindow(dx, base, W, rs, cs, dy.data[o]! / divisor);
  });
  return dx;
}

/** PyTorch's adaptive window along one axis: [floor(o*in/out), ceil((o+1)*in/out)). */
function adaptiveSpan(o: number, size: number, out: number): Span {
  return { lo: Math.floor((o * size) / out), hi: Math.ceil(((o + 1) * size) / out) };
}

/** Visits every adaptive window of `inputShape`'s planes for an oh x ow output. */
function forEachAdaptiveWindow(
  inputShape: readonly number[],
  [oh, ow]: readonly [number, number],
  visit: (base: number, o: number, rs: Span, cs: Span) => void,
): void {
  const { planes, h: H, w: W } = planeDims(inputShape);
  forEachWindow(planes, [H, W], [oh, ow], (i) => adaptiveSpan(i, H, oh), (j) => adaptiveSpan(j, W, ow), visit);
}

const area = (rs: Span, cs: Span): number => (rs.hi - rs.lo) * (cs.hi - cs.lo);

export function adaptiveAvgPool2D(x: KernelTensor, outSize: readonly [number, number]): Float32Array {
  const { planes, w: W } = planeDims(x.shape);
  const out = new Float32Array(planes * outSize[0] * outSize[1]);
  forEachAdaptiveWindow(x.shape, outSize, (base, o, rs, cs) => {
    out[o] = windowSum(x.data, base, W, rs, cs) / area(rs, cs);
  });
  return out;
}

export function adaptiveAvgPool2DGrad(dy: KernelTensor, inputShape: readonly number[]): Float32Array {
  const { planes, h: H, w: W } = planeDims(inputShape);
  const dx = new Float32Array(planes * H * W);
  forEachAdaptiveWindow(inputShape, [dy.shape[2]!, dy.shape[3]!], (base, o, rs, cs) => {
    spreadOverWindow(dx, base, W, rs, cs, dy.data[o]! / area(rs, cs));
  });
  return dx;
}

/** Adaptive max with switches (same tie and NaN rules as maxPool2DWithArgmax); backward is MaxPool2DGrad. */
export function adaptiveMaxPool2D(x: KernelTensor, outSize: readonly [number, number]): PoolWithArgmax {
  const { planes, w: W } = planeDims(x.shape);
  const output = new Float32Array(planes * outSize[0] * outSize[1]);
  const indices = new Int32Array(output.length);
  forEachAdaptiveWindow(x.shape, outSize, (base, o, rs, cs) => {
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
    output[o] = best;
    indices[o] = arg;
  });
  return { output, indices };
}
