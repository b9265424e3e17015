import type { KernelSignatures, LRNAttrs } from '../../kernels.js';
import { bufferPool, gpuEmpty } from '../gpu-array.js';
import { arg, asF32 } from '../kernel-args.js';
import { dispatch, flatIndex, grid, type Param } from '../program.js';
import { checkBinding } from './pool2d.js';

/*
 * Across-channel local response normalization on [N, C, ...] (the trailing axes flattened into
 * `inner`), PyTorch's formula and window as the js reference (src/backend/js/normalization.ts):
 *   s_c = k + alpha/size * sum of x^2 over channels [c - floor(size/2), c + floor((size-1)/2)]
 * clipped to the real channels, y = x s^-beta. One invocation per element, in f32.
 */

const WG = 128;

/** Field order of every LRN shader's Params. */
const PARAMS = 'n: u32, c: i32, inner: u32, before: i32, after: i32, k: f32, alphaOverSize: f32, beta: f32, coef: f32';

/** The invocation's element e, its channel ch, and plane0: the element of channel 0 at the same (n, q). */
const POSITION = /* wgsl */ `
  let e = ${flatIndex(WG)};
  if (e >= p.n) { return; }
  let ch = i32((e / p.inner) % u32(p.c));
  let plane0 = e - u32(ch) * p.inner;`;

/** s of channel `at` (a channel of the invocation's (n, q)). */
const SCALE_FN = /* wgsl */ `
fn scale(plane0: u32, at: i32) -> f32 {
  var sum = 0.0;
  for (var j = max(0, at - p.before); j <= min(p.c - 1, at + p.after); j++) {
    let v = xs[plane0 + u32(j) * p.inner];
    sum += v * v;
  }
  return p.k + p.alphaOverSize * sum;
}`;

const forwardCode = /* wgsl */ `
@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read_write> ys: array<f32>;
struct Params { ${PARAMS} }
@group(0) @binding(2) var<uniform> p: Params;
${SCALE_FN}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  ${POSITION}
  ys[e] = xs[e] * pow(scale(plane0, ch), -p.beta);
}`;

/** Pass 1 of the gradient: s of every element. */
const scaleCode = /* wgsl */ `
@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read_write> ss: array<f32>;
struct Params { ${PARAMS} }
@group(0) @binding(2) var<uniform> p: Params;
${SCALE_FN}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  ${POSITION}
  ss[e] = scale(plane0, ch);
}`;

/**
 * Pass 2, the exact gradient: with y_i = x_i s_i^-beta,
 *   dx_j = dy_j s_j^-beta - (2 alpha beta / size) x_j * sum over i in [j - after, j + before] of dy_i x_i s_i^(-beta-1)
 * (channel j is in channel i's window exactly for those i).
 */
const gradCode = /* wgsl */ `
@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read> dys: array<f32>;
@group(0) @binding(2) var<storage, read> ss: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
struct Params { ${PARAMS} }
@group(0) @binding(4) var<uniform> p: Params;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  ${POSITION}
  var acc = 0.0;
  for (var i = max(0, ch - p.after); i <= min(p.c - 1, ch + p.before); i++) {
    let at = plane0 + u32(i) * p.inner;
    acc += dys[at] * xs[at] * pow(ss[at], -p.beta - 1.0);
  }
  dx[e] = dys[e] * pow(ss[e], -p.beta) - p.coef * xs[e] * acc;
}`;

function params(shape: readonly number[], a: LRNAttrs): { n: number; list: Param[] } {
  let inner = 1;
  for (let d = 2; d < shape.length; d++) inner *= shape[d]!;
  const n = shape[0]! * shape[1]! * inner;
  return {
    n,
    list: [
      ['u32', n], ['i32', shape[1]!], ['u32', inner], ['i32', Math.floor(a.size / 2)], ['i32', Math.floor((a.size - 1) / 2)],
      ['f32', a.k], ['f32', a.alpha / a.size], ['f32', a.beta], ['f32', (2 * a.alpha * a.beta) / a.size],
    ],
  };
}

export const lrn: KernelSignatures['LRN'] = (x, a) => {
  const { n, list } = params(x.shape, a);
  checkBinding(n, 'LRN');
  const y = gpuEmpty(n);
  dispatch({ code: forwardCode, inputs: [arg(x)], outputs: [y], params: list, workgroups: grid(n, WG) });
  return asF32(y);
};

export const lrnGrad: KernelSignatures['LRNGrad'] = (x, dy, a) => {
  const { n, list } = params(x.shape, a);
  checkBinding(n, 'the LRN gradient');
  const s = gpuEmpty(n);
  dispatch({ code: scaleCode, inputs: [arg(x)], outputs: [s], params: list, workgroups: grid(n, WG) });
  const dx = gpuEmpty(n);
  dispatch({ code: gradCode, inputs: [arg(x), arg(dy), s], outputs: [dx], params: list, workgroups: grid(n, WG) });
  // Safe at once: work queued later that reuses the buffer runs after this pass has read it.
  bufferPool().release(s.buffer);
  return asF32(dx);
};
