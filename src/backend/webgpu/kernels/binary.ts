import type { BinaryOp, KernelSignatures } from '../../kernels.js';
import { contiguousStrides, sizeOf } from '../../../tensor/shape.js';
import { gpuEmpty, gpuMemory, gpuUpload } from '../gpu-array.js';
import { arg, asF32 } from '../kernel-args.js';
import { dispatch, flatIndex, grid } from '../program.js';

/*
 * Elementwise binary functions with NumPy broadcasting (the js kernel's rules, elementwise.ts),
 * with an optional fused relu. Operands as long as the output, or single values, take a shader
 * without index arithmetic; any other broadcast passes the output shape and both operands'
 * strides (0 along broadcast axes) in a small storage buffer, so one shader serves every rank.
 */

const WG = 256;

/** Helpers every binary shader carries: Math.pow's rules (WGSL's pow is undefined for x < 0). */
const POW_FN = /* wgsl */ `
// Infinity and NaN made at run time (as constants they do not compile).
fn from_bits(b: u32) -> f32 { return bitcast<f32>(b); }
fn pow_js(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  // Small integer exponents by repeated squaring: exact for squares, right sign for x < 0.
  if (abs(y) <= 64.0 && floor(y) == y) {
    var k = u32(abs(y));
    var base = x;
    var r = 1.0;
    loop {
      if ((k & 1u) == 1u) { r *= base; }
      k = k >> 1u;
      if (k == 0u) { break; }
      base *= base;
    }
    return select(r, 1.0 / r, y < 0.0);
  }
  let ax = abs(x);
  if (ax == 0.0) { return select(0.0, from_bits(0x7f800000u), y < 0.0); }
  let r = exp2(y * log2(ax));
  if (x < 0.0) {
    // A negative base needs an integer exponent (else NaN); floats above 2^24 are even integers.
    if (floor(y) != y) { return from_bits(0x7fc00000u); }
    return select(r, -r, y * 0.5 != floor(y * 0.5));
  }
  return r;
}`;

/** out = f(a, b) in WGSL; maximum/minimum keep a NaN in a as the js kernel does. */
const OPS: Record<BinaryOp, string> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  pow: 'pow_js(a, b)',
  maximum: 'select(b, a, a >= b || a != a)',
  minimum: 'select(b, a, a <= b || a != a)',
};

/** The fused epilogue: the Unary relu rule on the float32 result (NaN and -0 become 0). */
const epilogue = (relu: boolean): string => (relu ? 'select(0.0, v, v > 0.0)' : 'v');

const flatCode = (op: BinaryOp, relu: boolean): string => /* wgsl */ `
@group(0) @binding(0) var<storage, read> as_: array<f32>;
@group(0) @binding(1) var<storage, read> bs: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
struct Params { n: u32, aStep: u32, bStep: u32 }
@group(0) @binding(3) var<uniform> p: Params;
${op === 'pow' ? POW_FN : ''}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${flatIndex(WG)};
  if (i >= p.n) { return; }
  // Step 1: an operand as long as the output; step 0: a single value.
  let a = as_[i * p.aStep];
  let b = bs[i * p.bStep];
  let v = ${OPS[op]};
  out[i] = ${epilogue(relu)};
}`;

const broadcastCode = (op: BinaryOp, relu: boolean): string => /* wgsl */ `
@group(0) @binding(0) var<storage, read> as_: array<f32>;
@group(0) @binding(1) var<storage, read> bs: array<f32>;
@group(0) @binding(2) var<storage, read> dims: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
struct Params { n: u32, ndim: u32 }
@group(0) @binding(4) var<uniform> p: Params;
${op === 'pow' ? POW_FN : ''}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${flatIndex(WG)};
  if (i >= p.n) { return; }
  // dims: the output shape, then a's strides, then b's (0 where broadcast); last axis fastest.
  let nd = i32(p.ndim);
  var rest = i;
  var ia = 0;
  var ib = 0;
  for (var d = nd - 1; d >= 0; d--) {
    let size = u32(dims[d]);
    let k = i32(rest % size);
    rest /= size;
    ia += k * dims[nd + d];
    ib += k * dims[2 * nd + d];
  }
  let a = as_[ia];
  let b = bs[ib];
  let v = ${OPS[op]};
  out[i] = ${epilogue(relu)};
}`;

/** Strides of `shape` as seen from `outShape` (0 where broadcast), as the js kernel computes them. */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = contiguousStrides(shape);
  const lead = outShape.length - shape.length;
  return outShape.map((_, i) => (i < lead || shape[i - lead] === 1 ? 0 : own[i - lead]!));
}

export const binary: KernelSignatures['Binary'] = (a, b, op, outShape, activation = 'none') => {
  const n = sizeOf(outShape);
  const out = gpuEmpty(n);
  if (n === 0) return asF32(out);
  const relu = activation === 'relu';
  const ga = arg(a);
  const gb = arg(b);
  const na = sizeOf(a.shape);
  const nb = sizeOf(b.shape);
  if ((na === n || na === 1) && (nb === n || nb === 1)) {
    dispatch({
      code: flatCode(op, relu),
      inputs: [ga, gb],
      outputs: [out],
      params: [['u32', n], ['u32', na === n ? 1 : 0], ['u32', nb === n ? 1 : 0]],
      workgroups: grid(n, WG),
    });
    return asF32(out);
  }
  const dims = gpuUpload(Int32Array.from([...outShape, ...broadcastStrides(a.shape, outShape), ...broadcastStrides(b.shape, outShape)]));
  dispatch({
    code: broadcastCode(op, relu),
    inputs: [ga, gb, dims],
    outputs: [out],
    params: [['u32', n], ['u32', outShape.length]],
    workgroups: grid(n, WG),
  });
  gpuMemory.release(dims);
  return asF32(out);
};
