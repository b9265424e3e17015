import type { KernelSignatures, Window2D } from '../../kernels.js';
import { dims, type LcDims } from '../../js/locally-connected.js';
import { gpuEmpty } from '../gpu-array.js';
import { arg, asF32 } from '../kernel-args.js';
import { dispatch, flatIndex, grid, type Param } from '../program.js';

/*
 * The locally connected layer (src/backend/js/locally-connected.ts): x [N, C, H, W],
 * w [outH, outW, K, C, kh, kw], bias [K, outH, outW], y [N, K, outH, outW]. No weight sharing,
 * so nothing to tile: each kernel is direct, one thread per element of its output summing
 * over what reaches it. Taps outside the image contribute nothing (zero padding).
 */

const WG = 256;

/** The geometry every shader takes, in this order. */
const GEOMETRY = /* wgsl */ `n: u32, c: i32, h: i32, w: i32, k: i32, oh: i32, ow: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, top: i32, left: i32, dh: i32, dw: i32`;

function geometry(total: number, d: LcDims, attrs: Window2D): Param[] {
  return [
    ['u32', total],
    ['i32', d.c],
    ['i32', d.h],
    ['i32', d.w],
    ['i32', d.k],
    ['i32', attrs.out[0]],
    ['i32', attrs.out[1]],
    ['i32', attrs.kernel[0]],
    ['i32', attrs.kernel[1]],
    ['i32', attrs.stride[0]],
    ['i32', attrs.stride[1]],
    ['i32', attrs.pad[0]],
    ['i32', attrs.pad[2]],
    ['i32', attrs.dilation[0]],
    ['i32', attrs.dilation[1]],
  ];
}

/** y[b, k, oy, ox] = bias[k, oy, ox] + sum over (c, i, j) of w[oy, ox, k, c, i, j] x[b, c, y, x]. */
const forwardCode = (hasBias: boolean): string => /* wgsl */ `
@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read> ws: array<f32>;
${hasBias ? '@group(0) @binding(2) var<storage, read> bias: array<f32>;' : ''}
@group(0) @binding(${hasBias ? 3 : 2}) var<storage, read_write> out: array<f32>;
struct Params { ${GEOMETRY} }
@group(0) @binding(${hasBias ? 4 : 3}) var<uniform> p: Params;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = ${flatIndex(WG)};
  if (e >= p.n) { return; }
  let ie = i32(e);
  let ox = ie % p.ow;
  let oy = (ie / p.ow) % p.oh;
  let k = (ie / (p.ow * p.oh)) % p.k;
  let b = ie / (p.ow * p.oh * p.k);
  let pos = oy * p.ow + ox;
  let taps = p.kh * p.kw;
  let wOff = (pos * p.k + k) * p.c * taps;
  var s = ${hasBias ? 'bias[k * p.oh * p.ow + pos]' : '0.0'};
  for (var c = 0; c < p.c; c++) {
    let xPlane = (b * p.c + c) * p.h;
    for (var i = 0; i < p.kh; i++) {
      let y = oy * p.sh - p.top + i * p.dh;
      if (y < 0 || y >= p.h) { continue; }
      for (var j = 0; j < p.kw; j++) {
        let x = ox * p.sw - p.left + j * p.dw;
        if (x < 0 || x >= p.w) { continue; }
        s += ws[wOff + c * taps + i * p.kw + j] * xs[(xPlane + y) * p.w + x];
      }
    }
  }
  out[e] = s;
}`;

/**
 * dx[b, c, y, x] = sum over the taps (i, j) whose output position (oy, ox) reads (y, x), and
 * over k, of dy[b, k, oy, ox] w[oy, ox, k, c, i, j].
 */
const INPUT = /* wgsl */ `
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> ws: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
struct Params { ${GEOMETRY} }
@group(0) @binding(3) var<uniform> p: Params;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = ${flatIndex(WG)};
  if (e >= p.n) { return; }
  let ie = i32(e);
  let x = ie % p.w;
  let y = (ie / p.w) % p.h;
  let c = (ie / (p.w * p.h)) % p.c;
  let b = ie / (p.w * p.h * p.c);
  let taps = p.kh * p.kw;
  let len = p.c * taps;
  let plane = p.oh * p.ow;
  var s = 0.0;
  for (var i = 0; i < p.kh; i++) {
    let ty = y + p.top - i * p.dh;
    if (ty < 0 || ty % p.sh != 0) { continue; }
    let oy = ty / p.sh;
    if (oy >= p.oh) { continue; }
    for (var j = 0; j < p.kw; j++) {
      let tx = x + p.left - j * p.dw;
      if (tx < 0 || tx % p.sw != 0) { continue; }
      let ox = tx / p.sw;
      if (ox >= p.ow) { continue; }
      let pos = oy * p.ow + ox;
      let tap = c * taps + i * p.kw + j;
      for (var k = 0; k < p.k; k++) {
        s += dy[(b * p.k + k) * plane + pos] * ws[(pos * p.k + k) * len + tap];
      }
    }
  }
  dx[e] = s;
}`;

/** dw[oy, ox, k, c, i, j] = sum over the batch of dy[b, k, oy, ox] x[b, c, y, x] (0 off the image). */
const FILTER = /* wgsl */ `
@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;
struct Params { ${GEOMETRY}, batch: i32 }
@group(0) @binding(3) var<uniform> p: Params;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = ${flatIndex(WG)};
  if (e >= p.n) { return; }
  let ie = i32(e);
  let j = ie % p.kw;
  let i = (ie / p.kw) % p.kh;
  let c = (ie / (p.kw * p.kh)) % p.c;
  let k = (ie / (p.kw * p.kh * p.c)) % p.k;
  let pos = ie / (p.kw * p.kh * p.c * p.k);
  let ox = pos % p.ow;
  let oy = pos / p.ow;
  let y = oy * p.sh - p.top + i * p.dh;
  let x = ox * p.sw - p.left + j * p.dw;
  var s = 0.0;
  if (y >= 0 && y < p.h && x >= 0 && x < p.w) {
    let plane = p.oh * p.ow;
    for (var b = 0; b < p.batch; b++) {
      s += dy[(b * p.k + k) * plane + pos] * xs[((b * p.c + c) * p.h + y) * p.w + x];
    }
  }
  dw[e] = s;
}`;

export const locallyConnected2d: KernelSignatures['LocallyConnected2D'] = (x, w, bias, attrs) => {
  const d = dims(x.shape, w.shape, attrs, 'LocallyConnected2D');
  const total = d.n * d.k * attrs.out[0] * attrs.out[1];
  const out = gpuEmpty(total);
  dispatch({
    code: forwardCode(bias !== null),
    inputs: bias ? [arg(x), arg(w), arg(bias)] : [arg(x), arg(w)],
    outputs: [out],
    params: geometry(total, d, attrs),
    workgroups: grid(total, WG),
  });
  return asF32(out);
};

export const locallyConnected2dBackpropInput: KernelSignatures['LocallyConnected2DBackpropInput'] = (dy, w, inputShape, attrs) => {
  const d = dims(inputShape, w.shape, attrs, 'LocallyConnected2DBackpropInput');
  const total = d.n * d.c * d.h * d.w;
  const dx = gpuEmpty(total);
  dispatch({ code: INPUT, inputs: [arg(dy), arg(w)], outputs: [dx], params: geometry(total, d, attrs), workgroups: grid(total, WG) });
  return asF32(dx);
};

export const locallyConnected2dBackpropFilter: KernelSignatures['LocallyConnected2DBackpropFilter'] = (x, dy, filterShape, attrs) => {
  const d = dims(x.shape, filterShape, attrs, 'LocallyConnected2DBackpropFilter');
  const total = attrs.out[0] * attrs.out[1] * d.k * d.len;
  const dw = gpuEmpty(total);
  dispatch({
    code: FILTER,
    inputs: [arg(x), arg(dy)],
    outputs: [dw],
    params: [...geometry(total, d, attrs), ['i32', d.n]],
    workgroups: grid(total, WG),
  });
  return asF32(dw);
};
