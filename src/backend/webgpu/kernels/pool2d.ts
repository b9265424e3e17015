import type { AvgPool2DAttrs, KernelSignatures, Window2D } from '../../kernels.js';
import { ConvkitError } from '../../../tensor/errors.js';
import { gpu } from '../device.js';
import { gpuEmpty, gpuZeros } from '../gpu-array.js';
import { arg, asF32, asI32, intArg } from '../kernel-args.js';
import { dispatch, flatIndex, grid, type Param } from '../program.js';

/*
 * Pooling on NCHW planes, by the rules of the js reference (src/backend/js/pool2d.ts, PyTorch's
 * CPU kernels): every (n, c) plane is independent. Forward kernels run one invocation per output
 * element; the average-pooling gradients gather, one invocation per input pixel, over the windows
 * that hold it (no float atomics in WGSL), adding in the reference's output order. The max-pooling
 * gradient only has the switches (no geometry), so one workgroup per plane scatters them in
 * output order (see maxGradCode).
 */

const WG = 128;

/** A GPU array of n float32/int32 elements must fit one storage binding. */
export function checkBinding(n: number, what: string): void {
  const limit = gpu().limits.maxStorageBufferBindingSize;
  if (n * 4 > limit) {
    throw new ConvkitError(
      `${what} needs a GPU buffer of ${n * 4} bytes, over this device's maxStorageBufferBindingSize of ${limit} bytes: use a smaller batch or the wasm backend`,
    );
  }
}

const count = (shape: readonly number[]): number => shape.reduce((s, d) => s * d, 1);

/** The output (i, j) and plane of invocation o, and the plane's first input index. */
const OUTPUT_POSITION = /* wgsl */ `
  let j = i32(o % u32(p.ow));
  let i = i32((o / u32(p.ow)) % u32(p.oh));
  let base = (o / u32(p.ow * p.oh)) * u32(p.h * p.w);`;

/** One output per invocation; p.n outputs of p.oh x p.ow planes read from p.h x p.w ones. */
const PARAMS = 'n: u32, h: i32, w: i32, oh: i32, ow: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32, ninf: f32';

/** The window of output (i, j) as rows r0 + a*dr (a < nr) and columns c0 + b*dc (b < nc), possibly outside the image. */
const WINDOW_SPANS = /* wgsl */ `
  let r0 = i * p.sh - p.ph; let nr = p.kh; let dr = p.dh;
  let c0 = j * p.sw - p.pw; let nc = p.kw; let dc = p.dw;`;

/** PyTorch's adaptive window [floor(i*H/oh), ceil((i+1)*H/oh)) per axis. */
const ADAPTIVE_SPANS = /* wgsl */ `
  let r0 = (i * p.h) / p.oh; let nr = ((i + 1) * p.h + p.oh - 1) / p.oh - r0; let dr = 1;
  let c0 = (j * p.w) / p.ow; let nc = ((j + 1) * p.w + p.ow - 1) / p.ow - c0; let dc = 1;`;

/**
 * Max with the switch of the winner: -inf (p.ninf: WGSL has no infinity literal) and -1 where
 * the window lies wholly outside the image; the first in row-major order wins a tie, +0 and -0
 * included, as in the reference.
 */
const maxCode = (spans: string, argmax: boolean): string => /* wgsl */ `
@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read_write> ys: array<f32>;
${argmax ? '@group(0) @binding(2) var<storage, read_write> switches: array<i32>;' : ''}
struct Params { ${PARAMS} }
@group(0) @binding(${argmax ? 3 : 2}) var<uniform> p: Params;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = ${flatIndex(WG)};
  if (o >= p.n) { return; }
  ${OUTPUT_POSITION}
  ${spans}
  var best = p.ninf;
  var at = -1;
  for (var a = 0; a < nr; a++) {
    let r = r0 + a * dr;
    if (r < 0 || r >= p.h) { continue; }
    for (var b = 0; b < nc; b++) {
      let c = c0 + b * dc;
      if (c < 0 || c >= p.w) { continue; }
      let v = xs[base + u32(r * p.w + c)];
      // v != v: a NaN wins where the GPU keeps NaN (WGSL does not promise it).
      if (at < 0 || v > best || v != v) { best = v; at = r * p.w + c; }
    }
  }
  ys[o] = best;
  ${argmax ? 'switches[o] = at;' : ''}
}`;

function windowParams(n: number, shape: readonly number[], oh: number, ow: number, a: Window2D | null): Param[] {
  return [
    ['u32', n], ['i32', shape[2]!], ['i32', shape[3]!], ['i32', oh], ['i32', ow],
    ['i32', a?.kernel[0] ?? 0], ['i32', a?.kernel[1] ?? 0], ['i32', a?.stride[0] ?? 0], ['i32', a?.stride[1] ?? 0],
    ['i32', a?.pad[0] ?? 0], ['i32', a?.pad[2] ?? 0], ['i32', a?.dilation[0] ?? 0], ['i32', a?.dilation[1] ?? 0],
    ['f32', -Infinity],
  ];
}

/** Max pooling of x [N, C, H, W] to oh x ow, with or without switches. */
function maxPool(x: Parameters<KernelSignatures['MaxPool2D']>[0], oh: number, ow: number, a: Window2D | null, argmax: boolean) {
  const n = x.shape[0]! * x.shape[1]! * oh * ow;
  checkBinding(n, 'max pooling');
  const output = gpuEmpty(n);
  const indices = argmax ? gpuEmpty(n, 'int32') : null;
  dispatch({
    code: maxCode(a ? WINDOW_SPANS : ADAPTIVE_SPANS, argmax),
    inputs: [arg(x)],
    outputs: indices ? [output, indices] : [output],
    params: windowParams(n, x.shape, oh, ow, a),
    workgroups: grid(n, WG),
  });
  return { output, indices };
}

export const maxPool2DWithArgmax: KernelSignatures['MaxPool2DWithArgmax'] = (x, a) => {
  const { output, indices } = maxPool(x, a.out[0], a.out[1], a, true);
  return { output: asF32(output), indices: asI32(indices!) };
};

export const maxPool2D: KernelSignatures['MaxPool2D'] = (x, a) => asF32(maxPool(x, a.out[0], a.out[1], a, false).output);

export const adaptiveMaxPool2D: KernelSignatures['AdaptiveMaxPool2D'] = (x, [oh, ow]) => {
  const { output, indices } = maxPool(x, oh, ow, null, true);
  return { output: asF32(output), indices: asI32(indices!) };
};

const GWG = 64;

/**
 * The max-pooling gradient from the switches alone: one workgroup per plane walks the plane's
 * outputs GWG at a time. In each chunk, the first invocation holding a switch adds the dy of
 * every later holder in the chunk, in output order, to dx (the others skip), so each input pixel
 * sums its gradients in the reference's order without atomics; storageBarrier makes one chunk's
 * writes visible to the next chunk's readers.
 */
const maxGradCode = /* wgsl */ `
@group(0) @binding(0) var<storage, read> dys: array<f32>;
@group(0) @binding(1) var<storage, read> switches: array<i32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
struct Params { planes: u32, outPlane: u32, inPlane: u32 }
@group(0) @binding(3) var<uniform> p: Params;
var<workgroup> sk: array<i32, ${GWG}>;
var<workgroup> sg: array<f32, ${GWG}>;
@compute @workgroup_size(${GWG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let plane = wid.x + wid.y * nwg.x;
  if (plane >= p.planes) { return; }
  let ob = plane * p.outPlane;
  let ib = plane * p.inPlane;
  for (var c0 = 0u; c0 < p.outPlane; c0 += ${GWG}u) {
    var k = -1;
    var g = 0.0;
    if (c0 + t < p.outPlane) { k = switches[ob + c0 + t]; g = dys[ob + c0 + t]; }
    sk[t] = k;
    sg[t] = g;
    workgroupBarrier();
    if (k >= 0) {
      var lead = true;
      for (var u = 0u; u < t; u++) { if (sk[u] == k) { lead = false; break; } }
      if (lead) {
        var acc = dx[ib + u32(k)];
        for (var u = t; u < ${GWG}u; u++) { if (sk[u] == k) { acc += sg[u]; } }
        dx[ib + u32(k)] = acc;
      }
    }
    storageBarrier();
    workgroupBarrier();
  }
}`;

export const maxPool2DGrad: KernelSignatures['MaxPool2DGrad'] = (dy, indices, inputShape) => {
  const planes = inputShape[0]! * inputShape[1]!;
  const inPlane = inputShape[2]! * inputShape[3]!;
  checkBinding(planes * inPlane, 'the max-pooling gradient');
  const dx = gpuZeros(planes * inPlane);
  dispatch({
    code: maxGradCode,
    inputs: [arg(dy), intArg(indices)],
    outputs: [dx],
    params: [['u32', planes], ['u32', dy.shape[2]! * dy.shape[3]!], ['u32', inPlane]],
    workgroups: grid(planes, 1),
  });
  return asF32(dx);
};

/** Average pooling: p.mode 0 divides by the pixels inside the image, 1 by the padded window, 2 by p.div. */
const AVG_PARAMS = 'n: u32, h: i32, w: i32, oh: i32, ow: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pb: i32, pl: i32, pr: i32, mode: u32, div: f32';

/**
 * at::avg_pool2d's window of output (i, j): it may run past the padded edge in ceil mode and is
 * clipped there; [rlo, rhi) x [clo, chi) is its part inside the image. A WGSL function so that
 * forward and gradient agree.
 */
const AVG_WINDOW = /* wgsl */ `
struct Win { lo: vec2<i32>, hi: vec2<i32>, divisor: f32 }
fn avgWindow(i: i32, j: i32) -> Win {
  let rs = i * p.sh - p.pt;
  let re = min(rs + p.kh, p.h + p.pb);
  let cs = j * p.sw - p.pl;
  let ce = min(cs + p.kw, p.w + p.pr);
  var w: Win;
  w.lo = vec2<i32>(max(rs, 0), max(cs, 0));
  w.hi = vec2<i32>(min(re, p.h), min(ce, p.w));
  let inside = f32((w.hi.x - w.lo.x) * (w.hi.y - w.lo.y));
  w.divisor = select(select(inside, f32((re - rs) * (ce - cs)), p.mode == 1u), p.div, p.mode == 2u);
  return w;
}`;

/** PyTorch's adaptive window [floor(i*H/oh), ceil((i+1)*H/oh)) per axis, divided by its area. */
const ADAPTIVE_WINDOW = /* wgsl */ `
struct Win { lo: vec2<i32>, hi: vec2<i32>, divisor: f32 }
fn avgWindow(i: i32, j: i32) -> Win {
  var w: Win;
  w.lo = vec2<i32>((i * p.h) / p.oh, (j * p.w) / p.ow);
  w.hi = vec2<i32>(((i + 1) * p.h + p.oh - 1) / p.oh, ((j + 1) * p.w + p.ow - 1) / p.ow);
  w.divisor = f32((w.hi.x - w.lo.x) * (w.hi.y - w.lo.y));
  return w;
}`;

/** Mean over each window, row-major; a window without pixels (only padding) gives 0, as PyTorch. */
const avgCode = (window: string): string => /* wgsl */ `
@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read_write> ys: array<f32>;
struct Params { ${AVG_PARAMS} }
@group(0) @binding(2) var<uniform> p: Params;
${window}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = ${flatIndex(WG)};
  if (o >= p.n) { return; }
  ${OUTPUT_POSITION}
  let win = avgWindow(i, j);
  if (win.hi.x <= win.lo.x || win.hi.y <= win.lo.y) { ys[o] = 0.0; return; }
  var sum = 0.0;
  for (var r = win.lo.x; r < win.hi.x; r++) {
    for (var c = win.lo.y; c < win.hi.y; c++) { sum += xs[base + u32(r * p.w + c)]; }
  }
  ys[o] = sum / win.divisor;
}`;

/**
 * The gradient, one invocation per input pixel (r, c): the output rows whose windows can hold
 * row r are [iFrom, iTo] (AVG_RANGE / ADAPTIVE_RANGE below, from the windows' starts and lengths), each
 * checked against the window itself; dy / divisor of every window holding the pixel is added in
 * output order.
 */
const avgGradCode = (window: string, range: string): string => /* wgsl */ `
@group(0) @binding(0) var<storage, read> dys: array<f32>;
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
struct Params { ${AVG_PARAMS} }
@group(0) @binding(2) var<uniform> p: Params;
${window}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let q = ${flatIndex(WG)};
  if (q >= p.n) { return; }
  let c = i32(q % u32(p.w));
  let r = i32((q / u32(p.w)) % u32(p.h));
  let ob = (q / u32(p.w * p.h)) * u32(p.oh * p.ow);
  ${range}
  var acc = 0.0;
  for (var i = iFrom; i <= iTo; i++) {
    for (var j = jFrom; j <= jTo; j++) {
      let win = avgWindow(i, j);
      if (r >= win.lo.x && r < win.hi.x && c >= win.lo.y && c < win.hi.y) {
        acc += dys[ob + u32(i * p.ow + j)] / win.divisor;
      }
    }
  }
  dx[q] = acc;
}`;

/** Windows starting at i*s - pad, k long, hold r when i is in [ceil((r+pad-k+1)/s), floor((r+pad)/s)]. */
const AVG_RANGE = /* wgsl */ `
  let rn = r + p.pt - p.kh + 1;
  let cn = c + p.pl - p.kw + 1;
  let iFrom = select(0, (rn + p.sh - 1) / p.sh, rn > 0);
  let jFrom = select(0, (cn + p.sw - 1) / p.sw, cn > 0);
  let iTo = min(p.oh - 1, (r + p.pt) / p.sh);
  let jTo = min(p.ow - 1, (c + p.pl) / p.sw);`;

/** Adaptive windows hold r when i is in [floor(r*oh/H), floor(((r+1)*oh - 1)/H)]. */
const ADAPTIVE_RANGE = /* wgsl */ `
  let iFrom = (r * p.oh) / p.h;
  let jFrom = (c * p.ow) / p.w;
  let iTo = min(p.oh - 1, ((r + 1) * p.oh - 1) / p.h);
  let jTo = min(p.ow - 1, ((c + 1) * p.ow - 1) / p.w);`;

function avgParams(n: number, inputShape: readonly number[], oh: number, ow: number, a: AvgPool2DAttrs | null): Param[] {
  const mode = !a ? 0 : a.divisorOverride !== null ? 2 : a.countIncludePad ? 1 : 0;
  return [
    ['u32', n], ['i32', inputShape[2]!], ['i32', inputShape[3]!], ['i32', oh], ['i32', ow],
    ['i32', a?.kernel[0] ?? 0], ['i32', a?.kernel[1] ?? 0], ['i32', a?.stride[0] ?? 1], ['i32', a?.stride[1] ?? 1],
    ['i32', a?.pad[0] ?? 0], ['i32', a?.pad[1] ?? 0], ['i32', a?.pad[2] ?? 0], ['i32', a?.pad[3] ?? 0],
    ['u32', mode], ['f32', a?.divisorOverride ?? 1],
  ];
}

function avgForward(x: Parameters<KernelSignatures['AvgPool2D']>[0], oh: number, ow: number, a: AvgPool2DAttrs | null): Float32Array {
  const n = x.shape[0]! * x.shape[1]! * oh * ow;
  checkBinding(n, 'average pooling');
  const out = gpuEmpty(n);
  dispatch({
    code: avgCode(a ? AVG_WINDOW : ADAPTIVE_WINDOW),
    inputs: [arg(x)],
    outputs: [out],
    params: avgParams(n, x.shape, oh, ow, a),
    workgroups: grid(n, WG),
  });
  return asF32(out);
}

function avgBackward(dy: Parameters<KernelSignatures['AvgPool2DGrad']>[0], inputShape: readonly number[], a: AvgPool2DAttrs | null): Float32Array {
  const n = count(inputShape);
  checkBinding(n, 'the average-pooling gradient');
  const dx = gpuEmpty(n);
  dispatch({
    code: a ? avgGradCode(AVG_WINDOW, AVG_RANGE) : avgGradCode(ADAPTIVE_WINDOW, ADAPTIVE_RANGE),
    inputs: [arg(dy)],
    outputs: [dx],
    params: avgParams(n, inputShape, dy.shape[2]!, dy.shape[3]!, a),
    workgroups: grid(n, WG),
  });
  return asF32(dx);
}

export const avgPool2D: KernelSignatures['AvgPool2D'] = (x, a) => avgForward(x, a.out[0], a.out[1], a);
export const avgPool2DGrad: KernelSignatures['AvgPool2DGrad'] = (dy, inputShape, a) => avgBackward(dy, inputShape, a);
export const adaptiveAvgPool2D: KernelSignatures['AdaptiveAvgPool2D'] = (x, [oh, ow]) => avgForward(x, oh, ow, null);
export const adaptiveAvgPool2DGrad: KernelSignatures['AdaptiveAvgPool2DGrad'] = (dy, inputShape) => avgBackward(dy, inputShape, null);
