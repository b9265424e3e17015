import type { KernelSignatures, KernelTensor } from '../../kernels.js';
import { ConvkitError } from '../../../tensor/errors.js';
import { gpu } from '../device.js';
import { gpuEmpty, type GpuArray } from '../gpu-array.js';
import { arg, asF32 } from '../kernel-args.js';
import { dispatch, flatIndex, grid } from '../program.js';

/*
 * Softmax and log-softmax along one axis, and their gradients. x is seen as [outer, n, inner]:
 * a row (the n elements that differ only in `axis`) starts at o * n * inner + i and steps by
 * inner. Rows are shifted by their maximum before exponentiating (logits of 1000 give the
 * result of logits of 0, not Infinity/NaN).
 *
 * Short rows run one thread per row (neighbouring threads read neighbouring addresses when
 * inner > 1); long rows run one workgroup per row with tree reductions in workgroup memory.
 * Sums are float32 (the js reference sums in float64), so results agree to float32 rounding of
 * sums, not to the ulp. WGSL does not promise IEEE NaN/Inf behaviour (max with NaN), so rows
 * with NaN or infinite logits are not specified here as they are in js.
 */

const WG = 128;
/** Rows at most this long run one thread per row; longer ones one workgroup per row. */
export const ROW_PER_THREAD_MAX = 64;

type Mode = 'softmax' | 'logSoftmax' | 'softmaxGrad' | 'logSoftmaxGrad';

/**
 * Per mode: the row statistics (`a` from the first pass over `va`, `b` from the second over
 * `vb`, after `a` is known) and the output from them. `x` is the first input at the element
 * (x, or y for the gradients), `g` the second (dy).
 */
interface ModeCode {
  readonly inputs: 1 | 2;
  /** First reduction: 'max' of va or 'sum' of va. */
  readonly first: { readonly op: 'max' | 'sum'; readonly v: string };
  /** Second reduction (sum of vb given a), or null. */
  readonly second: string | null;
  readonly out: string;
}

const MODES: Record<Mode, ModeCode> = {
  softmax: { inputs: 1, first: { op: 'max', v: 'x' }, second: 'exp(x - a)', out: 'exp(x - a) / b' },
  // (x - max) - log(sum): exact where softmax underflows to 0; x - max first (exact near the
  // maximum), so an output near 0 is not rounded at the scale of the log-sum-exp.
  logSoftmax: { inputs: 1, first: { op: 'max', v: 'x' }, second: 'exp(x - a)', out: '(x - a) - log(b)' },
  // y (dy - sum(dy y))
  softmaxGrad: { inputs: 2, first: { op: 'sum', v: 'g * x' }, second: null, out: 'x * (g - a)' },
  // dy - exp(y) sum(dy)
  logSoftmaxGrad: { inputs: 2, first: { op: 'sum', v: 'g' }, second: null, out: 'g - exp(x) * a' },
};

function bindings(m: ModeCode): string {
  const ins = m.inputs === 2
    ? `@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read> gs: array<f32>;`
    : '@group(0) @binding(0) var<storage, read> xs: array<f32>;';
  return /* wgsl */ `${ins}
@group(0) @binding(${m.inputs}) var<storage, read_write> out: array<f32>;
struct Params { rows: u32, n: u32, inner: u32 }
@group(0) @binding(${m.inputs + 1}) var<uniform> p: Params;`;
}

/** Reads the element k of the inputs into `x` (and `g`). */
function load(m: ModeCode, k: string): string {
  return m.inputs === 2 ? `let x = xs[${k}]; let g = gs[${k}];` : `let x = xs[${k}];`;
}

const combine = (op: 'max' | 'sum', a: string, b: string): string => (op === 'max' ? `max(${a}, ${b})` : `${a} + ${b}`);
/** The lowest finite float32 for max (a decimal literal of it rounds out of range in WGSL). */
const identity = (op: 'max' | 'sum'): string => (op === 'max' ? '-0x1.fffffep+127f' : '0.0');

/** One thread walks its whole row. */
function threadCode(mode: Mode): string {
  const m = MODES[mode];
  return /* wgsl */ `${bindings(m)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = ${flatIndex(WG)};
  if (r >= p.rows) { return; }
  let o = r / p.inner;
  let base = o * p.n * p.inner + (r - o * p.inner);
  var a = ${identity(m.first.op)};
  for (var j = 0u; j < p.n; j++) {
    ${load(m, 'base + j * p.inner')}
    a = ${combine(m.first.op, 'a', m.first.v)};
  }
  var b = 0.0;
  ${m.second === null ? '' : `for (var j = 0u; j < p.n; j++) {
    ${load(m, 'base + j * p.inner')}
    b += ${m.second};
  }`}
  for (var j = 0u; j < p.n; j++) {
    let k = base + j * p.inner;
    ${load(m, 'k')}
    out[k] = ${m.out};
  }
}`;
}

/** One workgroup per row: each thread folds every WG-th element, then a tree in workgroup memory. */
function groupCode(mode: Mode): string {
  const m = MODES[mode];
  const reduce = (name: string, op: 'max' | 'sum') => /* wgsl */ `
fn ${name}(v: f32, t: u32) -> f32 {
  red[t] = v;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (t < s) { red[t] = ${combine(op, 'red[t]', 'red[t + s]')}; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}`;
  return /* wgsl */ `${bindings(m)}
var<workgroup> red: array<f32, ${WG}>;
${reduce('reduceFirst', m.first.op)}
${m.second === null ? '' : reduce('reduceSum', 'sum')}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
  let r = wid.x + wid.y * nwg.x;
  // Uniform per workgroup: every thread of it returns or none (the barriers stay uniform).
  if (r >= p.rows) { return; }
  let o = r / p.inner;
  let base = o * p.n * p.inner + (r - o * p.inner);
  var va = ${identity(m.first.op)};
  for (var j = t; j < p.n; j += ${WG}u) {
    ${load(m, 'base + j * p.inner')}
    va = ${combine(m.first.op, 'va', m.first.v)};
  }
  let a = reduceFirst(va, t);
  var b = 0.0;
  ${m.second === null ? '' : `var vb = 0.0;
  for (var j = t; j < p.n; j += ${WG}u) {
    ${load(m, 'base + j * p.inner')}
    vb += ${m.second};
  }
  b = reduceSum(vb, t);`}
  for (var j = t; j < p.n; j += ${WG}u) {
    let k = base + j * p.inner;
    ${load(m, 'k')}
    out[k] = ${m.out};
  }
}`;
}

/**
 * Throws a ConvkitError when an array of n 4-byte elements is over the device's storage binding
 * limit, which a dispatch would otherwise report as a failed validation long after the call.
 */
export function checkBindingSize(n: number, kernel: string): void {
  const limit = gpu().limits.maxStorageBufferBindingSize;
  if (n * 4 > limit) {
    throw new ConvkitError(
      `${kernel} on webgpu: an array of ${n} elements (${n * 4} bytes) is over this GPU's maxStorageBufferBindingSize (${limit} bytes); use a smaller batch or another backend`,
    );
  }
}

const codes = new Map<string, string>();
function code(mode: Mode, perThread: boolean): string {
  const key = `${mode}/${perThread}`;
  let c = codes.get(key);
  if (c === undefined) {
    c = perThread ? threadCode(mode) : groupCode(mode);
    codes.set(key, c);
  }
  return c;
}

function run(mode: Mode, inputs: readonly KernelTensor[], axis: number): Float32Array {
  const shape = inputs[0]!.shape;
  let outer = 1;
  let inner = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d]!;
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d]!;
  const n = shape[axis]!;
  const rows = outer * inner;
  checkBindingSize(rows * n, mode[0]!.toUpperCase() + mode.slice(1));
  const out: GpuArray = gpuEmpty(rows * n);
  if (rows * n === 0) return asF32(out);
  const perThread = n <= ROW_PER_THREAD_MAX;
  dispatch({
    code: code(mode, perThread),
    inputs: inputs.map(arg),
    outputs: [out],
    params: [['u32', rows], ['u32', n], ['u32', inner]],
    workgroups: perThread ? grid(rows, WG) : grid(rows, 1),
  });
  return asF32(out);
}

export const softmax: KernelSignatures['Softmax'] = (x, axis) => run('softmax', [x], axis);
export const logSoftmax: KernelSignatures['LogSoftmax'] = (x, axis) => run('logSoftmax', [x], axis);
export const softmaxGrad: KernelSignatures['SoftmaxGrad'] = (y, dy, axis) => run('softmaxGrad', [y, dy], axis);
export const logSoftmaxGrad: KernelSignatures['LogSoftmaxGrad'] = (y, dy, axis) => run('logSoftmaxGrad', [y, dy], axis);
