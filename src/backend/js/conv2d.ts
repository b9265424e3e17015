import type { Conv2DAttrs, KernelTensor } from '../kernels.js';
import { ConvkitError, fmtShape } from '../../tensor/errors.js';
import { gemm, reluInPlace } from './matmul.js';

/**
 * 2-d convolution as im2col + matrix multiply (CS231n, "Implementation as Matrix
 * Multiplication"). For one image and one group, every receptive field is stretched into a
 * column of `cols` [C/g*kh*kw, outH*outW]; the filters of the group are the rows of a
 * [K/g, C/g*kh*kw] matrix, so one GEMM gives [K/g, outH*outW]: that group's output channels,
 * already in NCHW order. The two gradients are the same machinery run backwards:
 *   input:  dcols = W^T dy, then col2im scatters (sums) the columns back onto the image;
 *   filter: dW += dy cols^T, summed over the batch.
 * Padding is zero padding: positions outside the input read as 0 (and receive no gradient).
 * The output size comes from attrs.out, which the op has already validated.
 */

interface ConvDims {
  n: number;
  c: number;
  h: number;
  w: number;
  k: number;
  groups: number;
  /** Input and output channels per group. */
  cg: number;
  kg: number;
  /** Rows of the im2col matrix: C/g * kh * kw. */
  rows: number;
  /** Columns of the im2col matrix: outH * outW. */
  cols: number;
}

function dims(xShape: readonly number[], wShape: readonly number[], attrs: Conv2DAttrs, kernelName: string): ConvDims {
  if (xShape.length !== 4 || wShape.length !== 4) {
    throw new ConvkitError(`${kernelName} kernel: expected 4-d input and filters, got ${fmtShape(xShape)} and ${fmtShape(wShape)}`);
  }
  const [n, c, h, w] = xShape as [number, number, number, number];
  const k = wShape[0]!;
  const groups = attrs.groups;
  if (c % groups !== 0 || k % groups !== 0 || wShape[1]! * groups !== c) {
    throw new ConvkitError(`${kernelName} kernel: input ${fmtShape(xShape)} and filters ${fmtShape(wShape)} do not match groups=${groups}`);
  }
  const [kh, kw] = attrs.kernel;
  if (wShape[2] !== kh || wShape[3] !== kw) {
    throw new ConvkitError(`${kernelName} kernel: filters ${fmtShape(wShape)} do not match attrs.kernel [${kh}, ${kw}]`);
  }
  const cg = c / groups;
  return { n, c, h, w, k, groups, cg, kg: k / groups, rows: cg * kh * kw, cols: attrs.out[0] * attrs.out[1] };
}

/**
 * A 1x1 filter with stride 1 and no padding reads each pixel once, in order: the image
 * itself is already its im2col matrix, so the copy is skipped (ResNet bottlenecks, NIN).
 */
function isPointwise(attrs: Conv2DAttrs, h: number, w: number): boolean {
  return (
    attrs.kernel[0] === 1 &&
    attrs.kernel[1] === 1 &&
    attrs.stride[0] === 1 &&
    attrs.stride[1] === 1 &&
    attrs.pad.every((p) => p === 0) &&
    attrs.out[0] === h &&
    attrs.out[1] === w
  );
}

/**
 * Walks the im2col matrix [channels*kh*kw, outH*outW] one output row at a time: for channel c,
 * filter tap (i, j) and output row oy, `col` is where that run of outW entries starts in the
 * matrix, `row` where input row y starts in the image block (-1 when y lies in the padding), and
 * `x0` the input column that output column 0 reads (ox reads x0 + ox * strideW).
 */
function forEachColRun(
  channels: number,
  h: number,
  w: number,
  attrs: Conv2DAttrs,
  visit: (col: number, row: number, x0: number) => void,
): void {
  const [kh, kw] = attrs.kernel;
  const sh = attrs.stride[0];
  const [dh, dw] = attrs.dilation;
  const padTop = attrs.pad[0];
  const padLeft = attrs.pad[2];
  const [oh, ow] = attrs.out;
  let matRow = 0;
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        for (let oy = 0; oy < oh; oy++) {
          const y = oy * sh - padTop + i * dh;
          visit((matRow * oh + oy) * ow, y < 0 || y >= h ? -1 : (c * h + y) * w, j * dw - padLeft);
        }
        matRow++;
      }
    }
  }
}

/**
 * Stretches the receptive fields of `channels` channels of one image (starting at xOff in x)
 * into cols [channels*kh*kw, outH*outW]. Row (c, i, j) holds filter tap (i, j) of channel c
 * at every output position.
 */
export function im2col(x: Float32Array, xOff: number, channels: number, h: number, w: number, attrs: Conv2DAttrs, cols: Float32Array): void {
  const sw = attrs.stride[1];
  const ow = attrs.out[1];
  forEachColRun(channels, h, w, attrs, (dst, row, x0) => {
    if (row < 0) {
      cols.fill(0, dst, dst + ow);
      return;
    }
    const src = xOff + row;
    for (let ox = 0; ox < ow; ox++) {
      const xx = x0 + ox * sw;
      cols[dst + ox] = xx >= 0 && xx < w ? x[src + xx]! : 0;
    }
  });
}

/** The adjoint of im2col: adds every column entry back onto the pixel it was read from. */
export function col2im(cols: Float32Array, channels: number, h: number, w: number, attrs: Conv2DAttrs, dx: Float32Array, dxOff: number): void {
  const sw = attrs.stride[1];
  const ow = attrs.out[1];
  forEachColRun(channels, h, w, attrs, (src, row, x0) => {
    if (row < 0) return;
    const dst = dxOff + row;
    for (let ox = 0; ox < ow; ox++) {
      const xx = x0 + ox * sw;
      if (xx >= 0 && xx < w) dx[dst + xx]! += cols[src + ox]!;
    }
  });
}

/**
 * Gives each (image n, group g) of x its im2col matrix [rows, outH*outW] as `cols` from
 * `colsOff`: one buffer refilled in turn, or x itself for a pointwise filter.
 */
function forEachColumnMatrix(
  x: Float32Array,
  d: ConvDims,
  attrs: Conv2DAttrs,
  visit: (n: number, g: number, cols: Float32Array, colsOff: number) => void,
): void {
  const pointwise = isPointwise(attrs, d.h, d.w);
  const cols = pointwise ? x : new Float32Array(d.rows * d.cols);
  for (let n = 0; n < d.n; n++) {
    for (let g = 0; g < d.groups; g++) {
      const xOff = (n * d.c + g * d.cg) * d.h * d.w;
      if (!pointwise) im2col(x, xOff, d.cg, d.h, d.w, attrs, cols);
      visit(n, g, cols, pointwise ? xOff : 0);
    }
  }
}

export function conv2d(x: KernelTensor, w: KernelTensor, bias: KernelTensor | null, attrs: Conv2DAttrs): Float32Array {
  const d = dims(x.shape, w.shape, attrs, 'Conv2D');
  const out = new Float32Array(d.n * d.k * d.cols);
  forEachColumnMatrix(x.data, d, attrs, (n, g, cols, colsOff) => {
    // out[n, group g's channels] = W_g [kg, rows] x cols [rows, outH*outW]
    gemm(d.kg, d.cols, d.rows, w.data, g * d.kg * d.rows, false, cols, colsOff, false, out, (n * d.k + g * d.kg) * d.cols, false);
  });
  const scale = attrs.scale;
  if (bias || scale) {
    for (let n = 0; n < d.n; n++) {
      for (let k = 0; k < d.k; k++) {
        const off = (n * d.k + k) * d.cols;
        const b = bias ? bias.data[k]! : 0;
        const s = scale ? scale.data[k]! : 1;
        for (let p = 0; p < d.cols; p++) out[off + p] = out[off + p]! * s + b;
      }
    }
  }
  if (attrs.activation === 'relu') reluInPlace(out);
  return out;
}

export function conv2dBackpropInput(dy: KernelTensor, w: KernelTensor, inputShape: readonly number[], attrs: Conv2DAttrs): Float32Array {
  const d = dims(inputShape, w.shape, attrs, 'Conv2DBackpropInput');
  if (dy.shape.join() !== [d.n, d.k, attrs.out[0], attrs.out[1]].join()) {
    throw new ConvkitError(`Conv2DBackpropInput kernel: dy ${fmtShape(dy.shape)} should be [${d.n}, ${d.k}, ${attrs.out[0]}, ${attrs.out[1]}]`);
  }
  const dx = new Float32Array(d.n * d.c * d.h * d.w);
  const pointwise = isPointwise(attrs, d.h, d.w);
  const dcols = pointwise ? dx : new Float32Array(d.rows * d.cols);
  for (let n = 0; n < d.n; n++) {
    for (let g = 0; g < d.groups; g++) {
      const dxOff = (n * d.c + g * d.cg) * d.h * d.w;
      // dcols [rows, outH*outW] = W_g^T [rows, kg] x dy_g [kg, outH*outW]
      gemm(d.rows, d.cols, d.kg, w.data, g * d.kg * d.rows, true, dy.data, (n * d.k + g * d.kg) * d.cols, false, dcols, pointwise ? dxOff : 0, false);
      if (!pointwise) col2im(dcols, d.cg, d.h, d.w, attrs, dx, dxOff);
    }
  }
  return dx;
}

export function conv2dBackpropFilter(x: KernelTensor, dy: KernelTensor, filterShape: readonly number[], attrs: Conv2DAttrs): Float32Array {
  const d = dims(x.shape, filterShape, attrs, 'Conv2DBackpropFilter');
  if (dy.shape.join() !== [d.n, d.k, attrs.out[0], attrs.out[1]].join()) {
    throw new ConvkitError(`Conv2DBackpropFilter kernel: dy ${fmtShape(dy.shape)} should be [${d.n}, ${d.k}, ${attrs.out[0]}, ${attrs.out[1]}]`);
  }
  const dw = new Float32Array(d.k * d.rows);
  forEachColumnMatrix(x.data, d, attrs, (n, g, cols, colsOff) => {
    // dW_g [kg, rows] += dy_g [kg, outH*outW] x cols^T [outH*outW, rows]
    gemm(d.kg, d.rows, d.cols, dy.data, (n * d.k + g * d.kg) * d.cols, false, cols, colsOff, true, dw, g * d.kg * d.rows, true);
  });
  return dw;
}
