import { ConvkitError } from '../../../tensor/errors.js';
import * as F from '../../../functional.js';
import { Tensor } from '../../../tensor/tensor.js';
import { asFloat, input } from './common.js';
import type { CheckContext, OperatorDef, RunContext } from './op-types.js';
import { checkWindow, lift, lower, resolveWindow, symmetric, type Window } from './window.js';

/**
 * MaxPool, AveragePool, LpPool and the global pools. convkit's pools take PyTorch's padding
 * (symmetric, at most half the kernel); ONNX allows any pads, so other pads are applied with
 * F.pad first (-inf for max pooling, zeros for average and Lp pooling) and the pool runs
 * unpadded. Without count_include_pad, the divisor then comes from pooling a mask of ones.
 */

type Fit = 'floor' | 'ceil';

function fitOf(ctx: RunContext): Fit {
  return ctx.opset >= 10 && ctx.attrs.int('ceil_mode', 0) === 1 ? 'ceil' : 'floor';
}

function kernelShape(ctx: RunContext): number[] {
  const k = ctx.attrs.ints('kernel_shape');
  if (!k) ctx.fail("attribute 'kernel_shape' is required");
  return k;
}

/** Whether convkit's pool can take these pads itself. */
function nativePads(win: Window): boolean {
  const [t, , l] = win.pads;
  return symmetric(win.pads) && t <= Math.floor(win.kernel[0] / 2) && l <= Math.floor(win.kernel[1] / 2);
}

/** Output size along one axis with PyTorch's (and onnxruntime's) rules for ceil mode. */
function outSize(size: number, k: number, s: number, d: number, before: number, after: number, fit: Fit): number {
  const span = size + before + after - ((k - 1) * d + 1);
  if (fit === 'floor') return Math.floor(span / s) + 1;
  let out = Math.ceil(span / s) + 1;
  if ((out - 1) * s >= size + before) out--;
  return out;
}

/** Pads x as ONNX asked, so the pool can run with no padding of its own. */
function prePad(x: Tensor, win: Window, value: number): Tensor {
  const [t, b, l, r] = win.pads;
  if (t + b + l + r === 0) return x;
  const [n, c, h, w] = x.shape as [number, number, number, number];
  // Corrupt files can declare pads in the billions: refuse before allocating the padded copy.
  if ((h + t + b) * (w + l + r) * n * c > 2 ** 28) {
    throw new ConvkitError(`pooling pads [${win.pads}] on input [${x.shape}] would make a padded copy of ${((h + t + b) * (w + l + r) * n * c).toExponential(3)} elements; refusing to allocate it`);
  }
  return F.pad(x, [l, r, t, b], { value });
}

/** Crops the windows that pre-padding let in beyond what ONNX's output size allows. */
function cropTo(y: Tensor, x: Tensor, win: Window, fit: Fit): Tensor {
  const want = [0, 1].map((a) =>
    outSize(x.shape[2 + a]!, win.kernel[a]!, win.stride[a]!, win.dilation[a]!, win.pads[2 * a]!, win.pads[2 * a + 1]!, fit),
  );
  const extraH = y.shape[2]! - want[0]!;
  const extraW = y.shape[3]! - want[1]!;
  return extraH > 0 || extraW > 0 ? F.pad(y, [0, -Math.max(extraW, 0), 0, -Math.max(extraH, 0)]) : y;
}

function checkMax(ctx: CheckContext): string[] {
  return checkWindow(ctx, undefined);
}

function checkAvg(ctx: CheckContext): string[] {
  const problems = checkWindow(ctx, undefined);
  if ((ctx.attrs.ints('dilations') ?? []).some((d) => d !== 1)) problems.push('dilated average pooling is not supported');
  return problems;
}

/** ONNX Indices: flat positions in the whole unpadded input, row- or column-major. */
function onnxIndices(ctx: RunContext, planeIdx: Tensor, x: Tensor, win: Window, padded: boolean): Tensor {
  const [h, w] = [x.shape[2]!, x.shape[3]!];
  const wp = padded ? w + win.pads[2] + win.pads[3] : w;
  const columnMajor = ctx.attrs.int('storage_order', 0) === 1;
  const src = planeIdx.values();
  const plane = planeIdx.shape[2]! * planeIdx.shape[3]!;
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const nc = Math.floor(i / plane);
    let row = Math.floor(src[i]! / wp);
    let col = src[i]! % wp;
    if (padded) {
      row -= win.pads[0];
      col -= win.pads[2];
    }
    out[i] = nc * h * w + (columnMajor ? row + col * h : row * w + col);
  }
  return new Tensor(out, planeIdx.shape);
}

function maxPool(ctx: RunContext, inputs: readonly (Tensor | null)[]): (Tensor | null)[] {
  const x0 = asFloat(input(ctx, inputs, 0, 'X'));
  const oneD = x0.ndim === 3;
  const x = lift(ctx, x0);
  const win = resolveWindow(ctx, x0.shape.slice(2), kernelShape(ctx));
  const fit = fitOf(ctx);
  const wantIdx = ctx.outputUsed(1);
  const native = nativePads(win);
  const src = native ? x : prePad(x, win, -Infinity);
  const opts = { stride: win.stride, dilation: win.dilation, padding: native ? ([win.pads[0], win.pads[2]] as [number, number]) : undefined, fit };
  let y: Tensor;
  let idx: Tensor | null = null;
  if (wantIdx) {
    const r = F.maxPool2d(src, win.kernel, { ...opts, returnIndices: true });
    y = r.output;
    idx = r.indices;
  } else {
    y = F.maxPool2d(src, win.kernel, opts);
  }
  if (!native) y = cropTo(y, x, win, fit);
  if (idx) {
    if (idx.shape.join() !== y.shape.join()) idx = cropIdx(idx, y.shape);
    idx = onnxIndices(ctx, idx, x, win, !native);
  }
  return [lower(y, oneD), idx ? lower(idx, oneD) : null];
}

/** Crops an int32 index tensor to the (cropped) output's shape. */
function cropIdx(idx: Tensor, shape: readonly number[]): Tensor {
  const [n, c, h, w] = shape as [number, number, number, number];
  const [, , , iw] = idx.shape as [number, number, number, number];
  const ih = idx.shape[2]!;
  const src = idx.values();
  const out = new Int32Array(n * c * h * w);
  for (let p = 0; p < n * c; p++) {
    for (let r = 0; r < h; r++) {
      for (let q = 0; q < w; q++) out[(p * h + r) * w + q] = src[(p * ih + r) * iw + q]!;
    }
  }
  return new Tensor(out, shape);
}

function avgPool(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor {
  const x0 = asFloat(input(ctx, inputs, 0, 'X'));
  const x = lift(ctx, x0);
  const win = resolveWindow(ctx, x0.shape.slice(2), kernelShape(ctx));
  const fit = fitOf(ctx);
  const countIncludePad = ctx.opset >= 7 && ctx.attrs.int('count_include_pad', 0) === 1;
  let y: Tensor;
  if (nativePads(win)) {
    y = F.avgPool2d(x, win.kernel, { stride: win.stride, padding: [win.pads[0], win.pads[2]], fit, countIncludePad });
  } else {
    const opts = { stride: win.stride, fit, countIncludePad: true };
    y = cropTo(F.avgPool2d(prePad(x, win, 0), win.kernel, opts), x, win, fit);
    if (!countIncludePad) {
      // Average of the padded input over the average of a padded mask = sum / pixels inside.
      const mask = new Tensor(new Float32Array(x.shape[2]! * x.shape[3]!).fill(1), [1, 1, x.shape[2]!, x.shape[3]!]);
      const count = cropTo(F.avgPool2d(prePad(mask, win, 0), win.kernel, opts), mask, win, fit);
      y = F.div(y, count);
    }
  }
  return lower(y, x0.ndim === 3);
}

function lpPool(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor {
  const x0 = asFloat(input(ctx, inputs, 0, 'X'));
  const x = lift(ctx, x0);
  const win = resolveWindow(ctx, x0.shape.slice(2), kernelShape(ctx));
  const fit = fitOf(ctx);
  const p = ctx.opset < 2 ? ctx.attrs.float('p', 2) : ctx.attrs.int('p', 2);
  // Zeros add nothing to a sum of |x|^p, so pre-padding is exact.
  const y = cropTo(F.lpPool2d(prePad(x, win, 0), p, win.kernel, { stride: win.stride, fit }), x, win, fit);
  return lower(y, x0.ndim === 3);
}

function globalPool(reduce: 'mean' | 'amax'): OperatorDef {
  return {
    run(ctx, inputs) {
      const x = asFloat(input(ctx, inputs, 0, 'X'));
      if (x.ndim < 3) ctx.fail(`expected an input [N, C, ...] with spatial dimensions, got [${x.shape}]`);
      const axes = x.shape.map((_, i) => i).slice(2);
      return F[reduce](x, axes, { keepdim: true });
    },
  };
}

export const poolOperators: Record<string, OperatorDef> = {
  MaxPool: { check: checkMax, run: maxPool },
  AveragePool: { check: checkAvg, run: avgPool },
  LpPool: { check: checkAvg, run: lpPool },
  GlobalAveragePool: globalPool('mean'),
  GlobalMaxPool: globalPool('amax'),
};
