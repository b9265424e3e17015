import type { KernelSignatures, Pad2DMode } from '../../kernels.js';
import { paddedSize, planes } from '../../js/pad2d.js';
import { gpuEmpty } from '../gpu-array.js';
import { arg, asF32 } from '../kernel-args.js';
import { dispatch, flatIndex, grid } from '../program.js';

/*
 * Pad2D and its gradient, as the js kernels (src/backend/js/pad2d.ts): along each of the last
 * two axes, padded index i reads input index source(i) (-1: the constant). The forward gathers
 * through that map (one thread per output element, values moved as bits). The gradient is one
 * thread per input pixel summing dy over the preimage of its row times that of its column, in
 * ascending (row, column) order: the js kernel's order of additions, so the same bits.
 */

const WG = 256;

const MODES: Record<Pad2DMode, number> = { constant: 0, reflect: 1, replicate: 2, circular: 3 };

/** Positive remainder. */
const MAP = /* wgsl */ `
fn pmod(a: i32, m: i32) -> i32 { return ((a % m) + m) % m; }
// The input index that padded index i reads along an axis of \`size\`, -1 for the constant.
// Reflect pads are below the size (the op checks), so one mirror suffices; size 1 maps to 0.
fn source(i: i32, before: i32, size: i32, mode: u32) -> i32 {
  let s = i - before;
  if (s >= 0 && s < size) { return s; }
  switch (mode) {
    case 1u: {
      if (size == 1) { return 0; }
      let period = 2 * (size - 1);
      let r = pmod(s, period);
      return select(period - r, r, r < size);
    }
    case 2u: { return select(size - 1, 0, s < 0); }
    case 3u: { return pmod(s, size); }
    default: { return -1; }
  }
}`;

const FORWARD = /* wgsl */ `
@group(0) @binding(0) var<storage, read> xs: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
struct Params { n: u32, h: i32, w: i32, oh: i32, ow: i32, top: i32, left: i32, mode: u32, value: f32 }
@group(0) @binding(2) var<uniform> p: Params;
${MAP}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = ${flatIndex(WG)};
  if (e >= p.n) { return; }
  let plane = i32(e / u32(p.oh * p.ow));
  let rem = i32(e % u32(p.oh * p.ow));
  let r = source(rem / p.ow, p.top, p.h, p.mode);
  let c = source(rem % p.ow, p.left, p.w, p.mode);
  if (r < 0 || c < 0) {
    out[e] = bitcast<u32>(p.value);
  } else {
    out[e] = xs[(plane * p.h + r) * p.w + c];
  }
}`;

/**
 * The padded indices reading input index r along an axis, as progressions: for t from lo to
 * hi by step, the indices t + a and t + b (b == a: one). Ascending, possibly outside [0, n).
 */
const PREIMAGE = /* wgsl */ `
struct Pre { lo: i32, hi: i32, step: i32, a: i32, b: i32 }
fn preimage(r: i32, before: i32, size: i32, n: i32, mode: u32) -> Pre {
  switch (mode) {
    case 1u: {
      if (size == 1) { return Pre(0, n - 1, 1, 0, 0); }
      // i - before = +-r modulo the mirror's period.
      let period = 2 * (size - 1);
      let a = pmod(r + before, period);
      let b = pmod(before - r, period);
      return Pre(0, n - 1, period, min(a, b), max(a, b));
    }
    case 2u: {
      // The edge pixels also take every index beyond their edge.
      let lo = select(r + before, 0, r == 0);
      let hi = select(r + before, n - 1, r == size - 1);
      return Pre(lo, hi, 1, 0, 0);
    }
    case 3u: {
      let a = pmod(r + before, size);
      return Pre(0, n - 1, size, a, a);
    }
    default: { return Pre(r + before, r + before, 1, 0, 0); }
  }
}`;

const GRAD = /* wgsl */ `
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
struct Params { n: u32, h: i32, w: i32, oh: i32, ow: i32, top: i32, left: i32, mode: u32 }
@group(0) @binding(2) var<uniform> p: Params;
${MAP}
${PREIMAGE}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = ${flatIndex(WG)};
  if (e >= p.n) { return; }
  let plane = i32(e / u32(p.h * p.w));
  let rem = i32(e % u32(p.h * p.w));
  let rows = preimage(rem / p.w, p.top, p.h, p.oh, p.mode);
  let cols = preimage(rem % p.w, p.left, p.w, p.ow, p.mode);
  let src = plane * p.oh * p.ow;
  var s = 0.0;
  for (var ti = rows.lo; ti <= rows.hi; ti += rows.step) {
    for (var qi = 0; qi < 2; qi++) {
      if (qi == 1 && rows.b == rows.a) { break; }
      let i = ti + select(rows.a, rows.b, qi == 1);
      if (i < 0 || i >= p.oh) { continue; }
      for (var tj = cols.lo; tj <= cols.hi; tj += cols.step) {
        for (var qj = 0; qj < 2; qj++) {
          if (qj == 1 && cols.b == cols.a) { break; }
          let j = tj + select(cols.a, cols.b, qj == 1);
          if (j < 0 || j >= p.ow) { continue; }
          s += dy[src + i * p.ow + j];
        }
      }
    }
  }
  dx[e] = s;
}`;

export const pad2d: KernelSignatures['Pad2D'] = (x, pads, mode, value) => {
  const { count, h, w } = planes(x.shape, 'Pad2D');
  const [oh, ow] = paddedSize(h, w, pads, 'Pad2D');
  const n = count * oh * ow;
  const out = gpuEmpty(n);
  dispatch({
    code: FORWARD,
    inputs: [arg(x)],
    outputs: [out],
    params: [['u32', n], ['i32', h], ['i32', w], ['i32', oh], ['i32', ow], ['i32', pads[0]], ['i32', pads[2]], ['u32', MODES[mode]], ['f32', value]],
    workgroups: grid(n, WG),
  });
  return asF32(out);
};

export const pad2dGrad: KernelSignatures['Pad2DGrad'] = (dy, pads, mode, inputShape) => {
  const { count, h, w } = planes(inputShape, 'Pad2DGrad');
  const [oh, ow] = paddedSize(h, w, pads, 'Pad2DGrad');
  const n = count * h * w;
  const dx = gpuEmpty(n);
  dispatch({
    code: GRAD,
    inputs: [arg(dy)],
    outputs: [dx],
    params: [['u32', n], ['i32', h], ['i32', w], ['i32', oh], ['i32', ow], ['i32', pads[0]], ['i32', pads[2]], ['u32', MODES[mode]]],
    workgroups: grid(n, WG),
  });
  return asF32(dx);
};
