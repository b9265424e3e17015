import type { KernelSignatures, ReduceOp } from '../../kernels.js';
import { contiguousStrides, sizeOf } from '../../../tensor/shape.js';
import { gpuEmpty, gpuMemory, gpuUpload, type GpuArray } from '../gpu-array.js';
import { arg, asF32 } from '../kernel-args.js';
import { dispatch, flatIndex, grid, type Param } from '../program.js';

/*
 * Reductions over any set of axes of a contiguous tensor. The axes are first folded: size-1
 * axes dropped, neighbours of the same kind (kept or reduced) merged, so [N, C, H, W] over
 * (0, 2, 3) becomes kept [C] with reduced [N, H*W]. Output element o then reads the elements
 * base(o) + offset(r), r < count, with the sizes and strides of both kinds in a small storage
 * buffer (one shader for every rank).
 *
 * Short reductions (or many outputs, each not long) run one invocation per output. Long ones
 * run workgroups that each reduce a chunk of r with a tree in workgroup memory; when the outputs
 * are too few to fill the GPU, each output is split into several chunks and a second pass
 * reduces the partial results (no float atomics in WGSL).
 */

const WG = 256;
const GROUP = 128;
/** Reductions at most this long always run one invocation per output. */
const SERIAL_MAX = 32;
/** With this many outputs, reductions up to SERIAL_LONG long also run one invocation per output. */
const MANY_OUTPUTS = 8192;
const SERIAL_LONG = 256;
/** Workgroups a long reduction aims at (outputs x chunks), and the least work per chunk. */
const TARGET_GROUPS = 512;
const MIN_CHUNK = 1024;

type Combine = 'sum' | 'max' | 'min';

/** The identity and the combining step of each reduction; max/min keep a NaN as the js kernel does. */
const INIT: Record<Combine, string> = { sum: '0.0', max: 'from_bits(0xff800000u)', min: 'from_bits(0x7f800000u)' };
const STEP: Record<Combine, (acc: string, v: string) => string> = {
  sum: (acc, v) => `${acc} + ${v}`,
  max: (acc, v) => `select(${acc}, ${v}, ${v} > ${acc} || ${v} != ${v})`,
  min: (acc, v) => `select(${acc}, ${v}, ${v} < ${acc} || ${v} != ${v})`,
};

/**
 * WGSL: the input offset of output element o (kept axes) and of reduced element r; from_bits
 * makes the infinities at run time (a constant infinity does not compile).
 */
const OFFSETS = /* wgsl */ `
fn from_bits(b: u32) -> f32 { return bitcast<f32>(b); }
fn kept_offset(o: u32) -> u32 {
  var rest = o;
  var off = 0u;
  for (var d = i32(p.nk) - 1; d >= 0; d--) {
    let size = dims[d];
    off += (rest % size) * dims[i32(p.nk) + d];
    rest /= size;
  }
  return off;
}
fn reduced_offset(r: u32) -> u32 {
  let at = 2 * i32(p.nk);
  var rest = r;
  var off = 0u;
  for (var d = i32(p.nr) - 1; d >= 0; d--) {
    let size = dims[at + d];
    off += (rest % size) * dims[at + i32(p.nr) + d];
    rest /= size;
  }
  return off;
}`;

const serialCode = (op: Combine): string => /* wgsl */ `
@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read> dims: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
struct Params { nOut: u32, nk: u32, nr: u32, count: u32, div: f32 }
@group(0) @binding(3) var<uniform> p: Params;
${OFFSETS}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = ${flatIndex(WG)};
  if (o >= p.nOut) { return; }
  let base = kept_offset(o);
  var acc: f32 = ${INIT[op]};
  for (var r = 0u; r < p.count; r++) {
    let v = xs[base + reduced_offset(r)];
    acc = ${STEP[op]('acc', 'v')};
  }
  out[o] = acc / p.div;
}`;

const groupCode = (op: Combine): string => /* wgsl */ `
@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read> dims: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
struct Params { nOut: u32, nk: u32, nr: u32, count: u32, div: f32, chunk: u32, chunks: u32 }
@group(0) @binding(3) var<uniform> p: Params;
var<workgroup> part: array<f32, ${GROUP}>;
${OFFSETS}
@compute @workgroup_size(${GROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  // One workgroup per (output, chunk); g is uniform across the workgroup, so the barriers below are too.
  let g = wid.x + wid.y * nwg.x;
  if (g >= p.nOut * p.chunks) { return; }
  let o = g / p.chunks;
  let begin = (g % p.chunks) * p.chunk;
  let end = min(begin + p.chunk, p.count);
  let base = kept_offset(o);
  var acc: f32 = ${INIT[op]};
  for (var r = begin + t; r < end; r += ${GROUP}u) {
    let v = xs[base + reduced_offset(r)];
    acc = ${STEP[op]('acc', 'v')};
  }
  part[t] = acc;
  workgroupBarrier();
  for (var s = ${GROUP / 2}u; s > 0u; s >>= 1u) {
    if (t < s) {
      let a = part[t];
      let v = part[t + s];
      part[t] = ${STEP[op]('a', 'v')};
    }
    workgroupBarrier();
  }
  if (t == 0u) { out[g] = part[0] / p.div; }
}`;

/** A reduction with its axes folded: kept and reduced sizes, their strides in the input. */
export interface FoldedReduction {
  readonly kept: readonly number[];
  readonly keptStrides: readonly number[];
  readonly reduced: readonly number[];
  readonly reducedStrides: readonly number[];
}

/** Folds `axes` of a contiguous `shape` (see the file comment). */
export function foldAxes(shape: readonly number[], axes: readonly number[]): FoldedReduction {
  const strides = contiguousStrides(shape);
  const kept: number[] = [], keptStrides: number[] = [], reduced: number[] = [], reducedStrides: number[] = [];
  let last: 'k' | 'r' | null = null;
  shape.forEach((size, d) => {
    if (size === 1) return;
    const kind = axes.includes(d) ? 'r' : 'k';
    const [sizes, str] = kind === 'k' ? [kept, keptStrides] : [reduced, reducedStrides];
    if (last === kind) {
      // The merged axis steps by the inner one's stride (the input is contiguous).
      sizes[sizes.length - 1]! *= size;
      str[str.length - 1] = strides[d]!;
    } else {
      sizes.push(size);
      str.push(strides[d]!);
    }
    last = kind;
  });
  return { kept, keptStrides, reduced, reducedStrides };
}

/**
 * The reduction of a contiguous GPU array: one value per kept element, `op` over the reduced
 * ones, divided by `div` (mean: the count; else 1). Used by Reduce and by the gradients that
 * end in a channel sum (ReluGradChannelSum, PReluGrad).
 */
export function reduceFolded(x: GpuArray, f: FoldedReduction, op: Combine, div: number): GpuArray {
  const nOut = sizeOf(f.kept);
  const count = sizeOf(f.reduced);
  if (nOut === 0) return gpuEmpty(0);
  // Sizes and strides as u32 bits (all below 2^31: buffers are smaller).
  const dims = gpuUpload(Int32Array.from([...f.kept, ...f.keptStrides, ...f.reduced, ...f.reducedStrides, 0]));
  const base: Param[] = [['u32', nOut], ['u32', f.kept.length], ['u32', f.reduced.length], ['u32', count]];
  let out: GpuArray;
  if (count <= SERIAL_MAX || (nOut >= MANY_OUTPUTS && count <= SERIAL_LONG)) {
    out = gpuEmpty(nOut);
    dispatch({ code: serialCode(op), inputs: [x, dims], outputs: [out], params: [...base, ['f32', div]], workgroups: grid(nOut, WG) });
  } else {
    const wanted = Math.max(1, Math.min(Math.ceil(count / MIN_CHUNK), Math.ceil(TARGET_GROUPS / nOut)));
    const chunk = Math.ceil(count / wanted);
    const chunks = Math.ceil(count / chunk);
    if (chunks === 1) {
      out = gpuEmpty(nOut);
      dispatch({ code: groupCode(op), inputs: [x, dims], outputs: [out], params: [...base, ['f32', div], ['u32', chunk], ['u32', 1]], workgroups: grid(nOut, 1) });
    } else {
      const partial = gpuEmpty(nOut * chunks);
      dispatch({ code: groupCode(op), inputs: [x, dims], outputs: [partial], params: [...base, ['f32', 1], ['u32', chunk], ['u32', chunks]], workgroups: grid(nOut * chunks, 1) });
      // The partials are [nOut, chunks]: a second pass reduces the last axis (and divides).
      out = reduceFolded(partial, { kept: [nOut], keptStrides: [chunks], reduced: [chunks], reducedStrides: [1] }, op, div);
      gpuMemory.release(partial);
    }
  }
  gpuMemory.release(dims);
  return out;
}

export const reduce: KernelSignatures['Reduce'] = (x, axes, op: ReduceOp) => {
  const f = foldAxes(x.shape, axes);
  const count = sizeOf(axes.map((a) => x.shape[a]!));
  return asF32(reduceFolded(arg(x), f, op === 'mean' ? 'sum' : op, op === 'mean' ? count : 1));
};

const reluGradCode = /* wgsl */ `
@group(0) @binding(0) var<storage, read> ys: array<f32>;
@group(0) @binding(1) var<storage, read> dys: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;
struct Params { n: u32 }
@group(0) @binding(3) var<uniform> p: Params;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${flatIndex(WG)};
  if (i >= p.n) { return; }
  // UnaryGrad's relu rule: dy times 0 (not 0) where y <= 0, so a NaN in dy passes on.
  grad[i] = dys[i] * select(0.0, 1.0, ys[i] > 0.0);
}`;

export const reluGradChannelSum: KernelSignatures['ReluGradChannelSum'] = (y, dy) => {
  const n = sizeOf(dy.shape);
  const grad = gpuEmpty(n);
  dispatch({ code: reluGradCode, inputs: [arg(y), arg(dy)], outputs: [grad], params: [['u32', n]], workgroups: grid(n, WG) });
  const axes = dy.shape.map((_, i) => i).filter((i) => i !== 1);
  const sum = reduceFolded(grad, foldAxes(dy.shape, axes), 'sum', 1);
  return { grad: asF32(grad), sum: asF32(sum) };
};
