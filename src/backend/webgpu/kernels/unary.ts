import type { KernelSignatures, UnaryOp } from '../../kernels.js';
import { ConvkitError } from '../../../tensor/errors.js';
import { gpuEmpty } from '../gpu-array.js';
import { arg, asF32 } from '../kernel-args.js';
import { dispatch, flatIndex, grid } from '../program.js';

/*
 * Elementwise unary functions and their gradients, one shader per function (the formula is
 * part of the text). x, y, dy are contiguous and as long as the output.
 */

const WG = 256;

/** y = f(x, a) for the ops known by name, in WGSL (f32); `a` is the op's parameter. */
const FORWARD: Record<string, string> = {
  relu: 'select(0.0, x, x > 0.0)',
  softplus: 'select(log(1.0 + exp(x)), x, x > 20.0)',
  exp: 'exp(x)',
  log: 'log(x)',
  neg: '-x',
  abs: 'abs(x)',
  sqrt: 'sqrt(x)',
  square: 'x * x',
  reciprocal: '1.0 / x',
};

/** dy/dx from x, y and a, for the ops known by name. */
const DERIVATIVE: Record<string, string> = {
  relu: 'select(0.0, 1.0, x > 0.0)',
  softplus: 'select(1.0 / (1.0 + exp(-x)), 1.0, x > 20.0)',
  exp: 'y',
  log: '1.0 / x',
  neg: '-1.0',
  abs: 'select(select(0.0, -1.0, x < 0.0), 1.0, x > 0.0)',
  sqrt: '0.5 / y',
  square: '2.0 * x',
  reciprocal: '-(y * y)',
};

function formula(op: UnaryOp, which: 'forward' | 'derivative'): string {
  if (typeof op === 'string') {
    const f = (which === 'forward' ? FORWARD : DERIVATIVE)[op];
    if (f) return f;
  } else if (op.wgsl) {
    return op.wgsl[which];
  }
  throw new ConvkitError(`the webgpu backend has no WGSL formula for '${typeof op === 'string' ? op : op.name}'`);
}

const unaryCode = (expr: string): string => /* wgsl */ `
@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read_write> ys: array<f32>;
struct Params { n: u32, a: f32 }
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${flatIndex(WG)};
  if (i >= p.n) { return; }
  let x = xs[i];
  let a = p.a;
  ys[i] = ${expr};
}`;

const gradCode = (expr: string): string => /* wgsl */ `
@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read> ys: array<f32>;
@group(0) @binding(2) var<storage, read> dys: array<f32>;
@group(0) @binding(3) var<storage, read_write> dxs: array<f32>;
struct Params { n: u32, a: f32 }
@group(0) @binding(4) var<uniform> p: Params;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${flatIndex(WG)};
  if (i >= p.n) { return; }
  let x = xs[i];
  let y = ys[i];
  let a = p.a;
  // The derivative times dy, as the js kernel: a zero derivative still passes NaN in dy on.
  dxs[i] = dys[i] * (${expr});
}`;

export const unary: KernelSignatures['Unary'] = (x, op, alpha) => {
  const n = x.shape.reduce((s, d) => s * d, 1);
  const out = gpuEmpty(n);
  dispatch({ code: unaryCode(formula(op, 'forward')), inputs: [arg(x)], outputs: [out], params: [['u32', n], ['f32', alpha]], workgroups: grid(n, WG) });
  return asF32(out);
};

export const unaryGrad: KernelSignatures['UnaryGrad'] = (x, y, dy, op, alpha) => {
  const n = x.shape.reduce((s, d) => s * d, 1);
  const out = gpuEmpty(n);
  dispatch({
    code: gradCode(formula(op, 'derivative')),
    inputs: [arg(x), arg(y), arg(dy)],
    outputs: [out],
    params: [['u32', n], ['f32', alpha]],
    workgroups: grid(n, WG),
  });
  return asF32(out);
};
