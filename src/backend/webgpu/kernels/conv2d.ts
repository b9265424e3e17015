import type { Conv2DAttrs, KernelSignatures } from '../../kernels.js';
import { ConvkitError, fmtShape } from '../../../tensor/errors.js';
import { gpuEmpty } from '../gpu-array.js';
import { arg, asF32 } from '../kernel-args.js';
import { dispatch, flatIndex, grid, type Param } from '../program.js';
import { BIAS_FLAG, checkBindable, dispatchGemm, gemmShader, gemmTile, placeholderArray, RELU_FLAG, SCALE_FLAG, type GemmTile } from './gemm-tile.js';

/*
 * Conv2D forward as an implicit GEMM on the tiled GEMM (gemm-tile.ts): for group g,
 *   Y_g [K/g, N*outH*outW] = W_g [K/g, C/g*kh*kw] x cols_g [C/g*kh*kw, N*outH*outW],
 * where cols is the im2col matrix of the js kernel (src/backend/js/conv2d.ts) with the images
 * side by side. cols is never stored: each element is computed from x while the tile is loaded
 * into workgroup memory (zero in the padding). One launch covers every group (z = g).
 * A 1x1 filter with stride 1 and no padding reads x as it lies (cols row c = channel c), so
 * its load skips the window arithmetic. Depthwise-like convolutions (one input channel per
 * group) have a reduction of only kh*kw and K/g rows per group, which would leave most of a
 * 64 x 64 tile empty: they run a direct kernel, one thread per output element.
 * scale (per output channel), bias and relu are applied as each output is stored, as flags in
 * the parameters (absent operands bound to a placeholder): one pipeline serves every epilogue.
 *
 * The building blocks are exported for the convolution gradients: convGeometry (the sizes,
 * checked), CONV_FIELDS / convParams (the geometry as shader parameters), IM2COL_COLUMN +
 * im2colAt (an im2col element, its column decoded once: a GemmShader's bSetup and loadB) and
 * im2col (the same in one call).
 */

/** The convolution geometry as Params fields (names distinct from the GEMM's m, n, k). */
export const CONV_FIELDS =
  'cin: u32, hin: u32, win: u32, kout: u32, cg: u32, kg: u32, kh: u32, kw: u32, sh: u32, sw: u32, dh: u32, dw: u32, padT: i32, padL: i32, oh: u32, ow: u32';

/** The sizes of a convolution, checked against each other. */
export interface ConvGeometry {
  n: number;
  c: number;
  h: number;
  w: number;
  k: number;
  groups: number;
  /** Input and output channels per group. */
  cg: number;
  kg: number;
  /** The reduction per group: C/g * kh * kw. */
  rows: number;
  /** Output pixels per image: outH * outW. */
  pixels: number;
}

export function convGeometry(xShape: readonly number[], wShape: readonly number[], attrs: Conv2DAttrs, kernelName: string): ConvGeometry {
  if (xShape.length !== 4 || wShape.length !== 4) {
    throw new ConvkitError(`${kernelName} kernel: expected 4-d input and filters, got ${fmtShape(xShape)} and ${fmtShape(wShape)}`);
  }
  const [n, c, h, w] = xShape as [number, number, number, number];
  const k = wShape[0]!;
  const groups = attrs.groups;
  if (c % groups !== 0 || k % groups !== 0 || wShape[1]! * groups !== c) {
    throw new ConvkitError(`${kernelName} kernel: input ${fmtShape(xShape)} and filters ${fmtShape(wShape)} do not match groups=${groups}`);
  }
  if (wShape[2] !== attrs.kernel[0] || wShape[3] !== attrs.kernel[1]) {
    throw new ConvkitError(`${kernelName} kernel: filters ${fmtShape(wShape)} do not match attrs.kernel [${attrs.kernel.join(', ')}]`);
  }
  const cg = c / groups;
  return { n, c, h, w, k, groups, cg, kg: k / groups, rows: cg * attrs.kernel[0] * attrs.kernel[1], pixels: attrs.out[0] * attrs.out[1] };
}

/** The values of CONV_FIELDS, in order. */
export function convParams(d: ConvGeometry, attrs: Conv2DAttrs): Param[] {
  return [
    ['u32', d.c],
    ['u32', d.h],
    ['u32', d.w],
    ['u32', d.k],
    ['u32', d.cg],
    ['u32', d.kg],
    ['u32', attrs.kernel[0]],
    ['u32', attrs.kernel[1]],
    ['u32', attrs.stride[0]],
    ['u32', attrs.stride[1]],
    ['u32', attrs.dilation[0]],
    ['u32', attrs.dilation[1]],
    ['i32', attrs.pad[0]],
    ['i32', attrs.pad[2]],
    ['u32', attrs.out[0]],
    ['u32', attrs.out[1]],
  ];
}

/**
 * Statements decoding im2col column `bcol` (image, output row, output column) into what
 * im2colAt needs: `bBase` (the image's first element), `bY0`, `bX0` (the input position of tap
 * (0, 0), negative in the padding). Needs CONV_FIELDS in `p`.
 */
export const IM2COL_COLUMN = /* wgsl */ `let bPixels = p.oh * p.ow;
  let bPix = bcol % bPixels;
  let bBase = (bcol / bPixels) * p.cin * p.hin * p.win;
  let bY0 = i32((bPix / p.ow) * p.sh) - p.padT;
  let bX0 = i32((bPix % p.ow) * p.sw) - p.padL;`;

/**
 * WGSL `fn im2colAt(g, r, base, y0, x0) -> f32` (IM2COL_COLUMN's values) and
 * `fn im2col(g: u32, r: u32, col: u32) -> f32`: element (r, col) of group g's im2col matrix
 * of the input array `src` [N, C, H, W]: r = (channel in group, tap i, tap j), col = (image,
 * output row, output column); 0 in the padding. Needs CONV_FIELDS in `p`.
 */
export function im2colFn(src: string): string {
  return /* wgsl */ `
fn im2colAt(g: u32, r: u32, base: u32, y0: i32, x0: i32) -> f32 {
  let taps = p.kh * p.kw;
  let ch = r / taps;
  let tap = r % taps;
  let y = y0 + i32((tap / p.kw) * p.dh);
  let x = x0 + i32((tap % p.kw) * p.dw);
  if (y < 0 || y >= i32(p.hin) || x < 0 || x >= i32(p.win)) { return 0.0; }
  return ${src}[base + ((g * p.cg + ch) * p.hin + u32(y)) * p.win + u32(x)];
}
fn im2col(g: u32, r: u32, bcol: u32) -> f32 {
  ${IM2COL_COLUMN}
  return im2colAt(g, r, bBase, bY0, bX0);
}`;
}

/** Bindings: x, w, scale, bias (placeholders when absent, see placeholderArray), y. */
const BINDINGS = /* wgsl */ `
@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read> ws: array<f32>;
@group(0) @binding(2) var<storage, read> scale: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> ys: array<f32>;`;

/** Statements turning the sum `v` of output channel `ko` into `y`: scale, bias, relu as p.flags says. */
const EPILOGUE = /* wgsl */ `var y = v;
      if ((p.flags & ${SCALE_FLAG}u) != 0u) { y = y * scale[ko]; }
      if ((p.flags & ${BIAS_FLAG}u) != 0u) { y = y + bias[ko]; }
      if ((p.flags & ${RELU_FLAG}u) != 0u) { y = select(0.0, y, y > 0.0); }`;

const gemmCode = (tile: GemmTile, pointwise: boolean): string =>
  gemmShader({
    tile,
    decls: `${BINDINGS}\n${pointwise ? '' : im2colFn('xs')}`,
    bindings: 5,
    fields: `${CONV_FIELDS}, flags: u32`,
    prologue: 'let pixels = p.oh * p.ow;',
    bSetup: pointwise ? 'let bOff = (bcol / pixels) * p.cin * pixels + bcol % pixels;' : IM2COL_COLUMN,
    // W_g row `row` = filter z * kg + row, stored [K, C/g*kh*kw].
    loadA: 'ws[(z * p.m + row) * p.k + kk]',
    // Pointwise: cols row kk is channel z * cg + kk of image col / pixels, read in place.
    loadB: pointwise ? 'xs[bOff + (z * p.cg + kk) * pixels]' : 'im2colAt(z, kk, bBase, bY0, bX0)',
    store: /* wgsl */ `let ko = z * p.m + row;
      ${EPILOGUE}
      ys[((col / pixels) * p.kout + ko) * pixels + col % pixels] = y;`,
    aMajor: 'k',
    bMajor: 'n',
  });

const DIRECT_WG = 128;

/** One thread per output element, for convolutions with one input channel per group. */
const DIRECT = /* wgsl */ `
${BINDINGS}
struct Params { total: u32, ${CONV_FIELDS}, flags: u32 }
@group(0) @binding(5) var<uniform> p: Params;
@compute @workgroup_size(${DIRECT_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = ${flatIndex(DIRECT_WG)};
  if (idx >= p.total) { return; }
  let ox = idx % p.ow;
  let oy = (idx / p.ow) % p.oh;
  let ko = (idx / (p.ow * p.oh)) % p.kout;
  let img = idx / (p.ow * p.oh * p.kout);
  // cg = 1: the group of output channel ko is its one input channel.
  let xBase = (img * p.cin + ko / p.kg) * p.hin * p.win;
  let wBase = ko * p.kh * p.kw;
  let y0 = i32(oy * p.sh) - p.padT;
  let x0 = i32(ox * p.sw) - p.padL;
  var v = 0.0;
  for (var i = 0u; i < p.kh; i++) {
    let yy = y0 + i32(i * p.dh);
    if (yy < 0 || yy >= i32(p.hin)) { continue; }
    for (var j = 0u; j < p.kw; j++) {
      let xx = x0 + i32(j * p.dw);
      if (xx < 0 || xx >= i32(p.win)) { continue; }
      v = fma(ws[wBase + i * p.kw + j], xs[xBase + u32(yy) * p.win + u32(xx)], v);
    }
  }
  ${EPILOGUE}
  ys[idx] = y;
}`;

/** A 1x1 filter, stride 1, no padding: x is its own im2col matrix. */
function isPointwise(attrs: Conv2DAttrs, d: ConvGeometry): boolean {
  return (
    attrs.kernel[0] === 1 &&
    attrs.kernel[1] === 1 &&
    attrs.stride[0] === 1 &&
    attrs.stride[1] === 1 &&
    attrs.pad.every((v) => v === 0) &&
    attrs.out[0] === d.h &&
    attrs.out[1] === d.w
  );
}

export const conv2d: KernelSignatures['Conv2D'] = (x, w, bias, attrs) => {
  const d = convGeometry(x.shape, w.shape, attrs, 'Conv2D');
  const scale = attrs.scale ?? null;
  for (const [name, t] of [['bias', bias], ['scale', scale]] as const) {
    if (t && t.shape.reduce((s, v) => s * v, 1) !== d.k) {
      throw new ConvkitError(`Conv2D kernel: ${name} ${fmtShape(t.shape)} should have ${d.k} elements (one per output channel)`);
    }
  }
  const total = d.n * d.k * d.pixels;
  checkBindable(total, `Conv2D's output ${fmtShape([d.n, d.k, attrs.out[0], attrs.out[1]])}`);
  const out = gpuEmpty(total);
  if (total === 0) return asF32(out);
  const flags = (scale ? SCALE_FLAG : 0) | (bias ? BIAS_FLAG : 0) | (attrs.activation === 'relu' ? RELU_FLAG : 0);
  const inputs = [arg(x), arg(w), scale ? arg(scale) : placeholderArray(), bias ? arg(bias) : placeholderArray()];
  if (d.cg === 1 && d.groups > 1) {
    dispatch({
      code: DIRECT,
      inputs,
      outputs: [out],
      params: [['u32', total], ...convParams(d, attrs), ['u32', flags]],
      workgroups: grid(total, DIRECT_WG),
    });
    return asF32(out);
  }
  const tile = gemmTile();
  dispatchGemm({
    code: gemmCode(tile, isPointwise(attrs, d)),
    tile,
    inputs,
    outputs: [out],
    m: d.kg,
    n: d.n * d.pixels,
    k: d.rows,
    batch: d.groups,
    params: [...convParams(d, attrs), ['u32', flags]],
  });
  return asF32(out);
};
