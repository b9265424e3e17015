import type { KernelSignatures, KernelTensor } from '../../kernels.js';
import { sizeOf } from '../../../tensor/shape.js';
import { gpuEmpty, gpuMemory } from '../gpu-array.js';
import { arg, asF32 } from '../kernel-args.js';
import { dispatch, flatIndex, grid, type Param } from '../program.js';
import { foldAxes, reduceFolded } from './reduce.js';

/*
 * The activations with more than one parameter (the js kernels of activations.ts): clamp and
 * hardtanh (two bounds), softplus (beta, threshold) and PReLU (a slope per channel, whose
 * gradient ends in a per-channel sum). Inputs are contiguous and as long as the output.
 */

const WG = 256;
const F32_MAX = 3.4028234663852886e38;

/** A shader over p.n elements: `bindings` (storage, by position), the params after n, `body` run for each i. */
const elementwise = (bindings: string, params: string, body: string, fns = ''): string => /* wgsl */ `
${bindings}
struct Params { n: u32, ${params} }
@group(0) @binding(${bindings.split('@binding').length - 1}) var<uniform> p: Params;
${fns}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${flatIndex(WG)};
  if (i >= p.n) { return; }
  ${body}
}`;

const X_OUT = `@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;`;
const X_DY_OUT = `@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read> dys: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;`;

const n = (t: KernelTensor): number => sizeOf(t.shape);

function run(code: string, inputs: KernelTensor[], count: number, params: Param[]): Float32Array {
  const out = gpuEmpty(count);
  dispatch({ code, inputs: inputs.map(arg), outputs: [out], params: [['u32', count], ...params], workgroups: grid(count, WG) });
  return asF32(out);
}

/** A bound as float32, infinities as the largest finite value (the same for finite x, no Inf in WGSL). */
const finiteBound = (v: number): number => Math.max(-F32_MAX, Math.min(F32_MAX, Math.fround(v)));

const CLAMP = elementwise(X_OUT, 'lo: f32, hi: f32', 'out[i] = min(max(xs[i], p.lo), p.hi);');

export const clamp: KernelSignatures['Clamp'] = (x, lo, hi) => run(CLAMP, [x], n(x), [['f32', finiteBound(lo)], ['f32', finiteBound(hi)]]);

/** Float32 neighbours, for turning a float64 bound into a float32 one with the same comparisons. */
const bits = new DataView(new ArrayBuffer(4));
function nextF32(v: number, up: boolean): number {
  if (v === 0) return up ? 1.401298464324817e-45 : -1.401298464324817e-45;
  bits.setFloat32(0, v);
  const u = bits.getUint32(0);
  bits.setUint32(0, v > 0 === up ? u + 1 : u - 1);
  return bits.getFloat32(0);
}

/**
 * The least float32 t with (x >= t) equal to (x >= lo) (inclusive) or (x > lo) for every float32
 * x, and the greatest t' with (x <= t') equal to (x <= hi) or (x < hi): the js kernel compares
 * float32 inputs with float64 bounds, these compare float32 with float32 and agree everywhere.
 */
function lowerThreshold(lo: number, inclusive: boolean): number {
  let t = Math.fround(lo);
  if (inclusive ? t < lo : t <= lo) t = nextF32(t, true);
  return Math.max(t, -F32_MAX);
}
function upperThreshold(hi: number, inclusive: boolean): number {
  let t = Math.fround(hi);
  if (inclusive ? t > hi : t >= hi) t = nextF32(t, false);
  return Math.min(t, F32_MAX);
}

const CLAMP_GRAD = elementwise(X_DY_OUT, 'lo: f32, hi: f32', 'let x = xs[i];\n  out[i] = select(0.0, dys[i], x >= p.lo && x <= p.hi);');

export const clampGrad: KernelSignatures['ClampGrad'] = (x, dy, lo, hi, inclusive) => {
  const l = lowerThreshold(lo, inclusive);
  const h = upperThreshold(hi, inclusive);
  // A bound no finite float32 passes: every gradient is 0 (a threshold beyond the range).
  if (!Number.isFinite(l) || !Number.isFinite(h)) return run(CLAMP_GRAD, [x, dy], n(dy), [['f32', 1], ['f32', 0]]);
  return run(CLAMP_GRAD, [x, dy], n(dy), [['f32', l], ['f32', h]]);
};

/** log(1 + e) for e in [0, 1]: the series where 1 + e would lose e's digits. */
const LOG1P = /* wgsl */ `
fn log1p_small(e: f32) -> f32 {
  if (e < 0.1) {
    return e * (1.0 - e * (0.5 - e * (0.33333334 - e * (0.25 - e * (0.2 - e * (0.16666667 - e * (0.14285715 - e * 0.125)))))));
  }
  return log(1.0 + e);
}`;

const SOFTPLUS = elementwise(
  X_OUT,
  'beta: f32, threshold: f32',
  `let x = xs[i];
  let z = p.beta * x;
  // max(z, 0) + log1p(exp(-|z|)): log(1 + exp(z)) without overflow (the js kernel's form).
  out[i] = select((max(z, 0.0) + log1p_small(exp(-abs(z)))) / p.beta, x, z > p.threshold);`,
  LOG1P,
);

export const softplus: KernelSignatures['Softplus'] = (x, beta, threshold) => run(SOFTPLUS, [x], n(x), [['f32', beta], ['f32', finiteBound(threshold)]]);

const SOFTPLUS_GRAD = elementwise(
  X_DY_OUT,
  'beta: f32, threshold: f32',
  `let z = p.beta * xs[i];
  // sigmoid(z) from exp(-|z|), which never overflows.
  let e = exp(-abs(z));
  let s = select(e / (1.0 + e), 1.0 / (1.0 + e), z >= 0.0);
  out[i] = select(dys[i] * s, dys[i], z > p.threshold);`,
);

export const softplusGrad: KernelSignatures['SoftplusGrad'] = (x, dy, beta, threshold) =>
  run(SOFTPLUS_GRAD, [x, dy], n(dy), [['f32', beta], ['f32', finiteBound(threshold)]]);

/** PReLU's channel layout (the js kernel's): axis 1 of [N, C, ...], one channel for a single weight or x of rank < 2. */
function preluLayout(x: KernelTensor, w: KernelTensor): { outer: number; channels: number; inner: number } {
  const total = n(x);
  if (n(w) === 1 || x.shape.length < 2) return { outer: 1, channels: 1, inner: total };
  const channels = x.shape[1]!;
  const inner = sizeOf(x.shape.slice(2));
  return { outer: x.shape[0]!, channels, inner };
}

const PRELU = elementwise(
  `@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read> ws: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;`,
  'channels: u32, inner: u32',
  `let x = xs[i];
  let w = ws[(i / p.inner) % p.channels];
  out[i] = select(w * x, x, x > 0.0);`,
);

export const prelu: KernelSignatures['PRelu'] = (x, w) => {
  const { channels, inner } = preluLayout(x, w);
  return run(PRELU, [x, w], n(x), [['u32', channels], ['u32', Math.max(1, inner)]]);
};

const PRELU_GRAD = elementwise(
  `@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read> ws: array<f32>;
@group(0) @binding(2) var<storage, read> dys: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<storage, read_write> prod: array<f32>;`,
  'channels: u32, inner: u32',
  `let x = xs[i];
  let g = dys[i];
  let w = ws[(i / p.inner) % p.channels];
  let pos = x > 0.0;
  dx[i] = select(w * g, g, pos);
  // dw's terms: dy * x where x is not positive (summed per channel afterwards).
  prod[i] = select(g * x, 0.0, pos);`,
);

export const preluGrad: KernelSignatures['PReluGrad'] = (x, w, dy) => {
  const { outer, channels, inner } = preluLayout(x, w);
  const count = n(x);
  const dx = gpuEmpty(count);
  const prod = gpuEmpty(count);
  dispatch({
    code: PRELU_GRAD,
    inputs: [arg(x), arg(w), arg(dy)],
    outputs: [dx, prod],
    params: [['u32', count], ['u32', channels], ['u32', Math.max(1, inner)]],
    workgroups: grid(count, WG),
  });
  const dw = reduceFolded(prod, foldAxes([outer, channels, inner], [0, 2]), 'sum', 1);
  gpuMemory.release(prod);
  return { dx: asF32(dx), dw: asF32(dw) };
};
