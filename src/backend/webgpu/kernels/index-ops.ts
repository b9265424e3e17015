import type { KernelSignatures, KernelTensor } from '../../kernels.js';
import { gpuEmpty, gpuMemory, gpuUpload, gpuZeros, type GpuArray } from '../gpu-array.js';
import { arg, asF32, asI32, intArg } from '../kernel-args.js';
import { dispatch, flatIndex, grid } from '../program.js';

/*
 * ArgMax, TopK, Gather and GatherGrad (scatter-add), as the js kernels (src/backend/js/index-ops.ts).
 * Values are moved as their 32-bit patterns (array<u32>), so copies are exact; comparisons
 * bitcast them to f32 and test NaN on the bits, because WGSL does not promise IEEE NaN
 * comparisons and NaN must rank as the largest value (PyTorch's rule, the js kernel's).
 * A reduction axis is addressed as [outer, n, inner]: element j of row (o, i) is at
 * o * n * inner + j * inner + i.
 */

const WG = 256;

/** NaN-aware ordering helpers shared by ArgMax and TopK (values given as bits). */
const ORDER = /* wgsl */ `
fn isNan(a: u32) -> bool { return (a & 0x7fffffffu) > 0x7f800000u; }
// a ranks before b in descending order (NaN first), as the js kernel's greater().
fn greater(a: u32, b: u32) -> bool {
  let na = isNan(a);
  let nb = isNan(b);
  if (na || nb) { return na && !nb; }
  return bitcast<f32>(a) > bitcast<f32>(b);
}`;

function rowDims(shape: readonly number[], axis: number): { outer: number; n: number; inner: number } {
  const size = (s: readonly number[]) => s.reduce((a, d) => a * d, 1);
  return { outer: size(shape.slice(0, axis)), n: shape[axis]!, inner: size(shape.slice(axis + 1)) };
}

const ARGMAX = /* wgsl */ `
@group(0) @binding(0) var<storage, read> xs: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<i32>;
struct Params { rows: u32, n: u32, inner: u32 }
@group(0) @binding(2) var<uniform> p: Params;
${ORDER}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = ${flatIndex(WG)};
  if (r >= p.rows) { return; }
  let base = (r / p.inner) * p.n * p.inner + r % p.inner;
  var best = 0u;
  var bv = xs[base];
  for (var j = 1u; j < p.n; j++) {
    let v = xs[base + j * p.inner];
    if (greater(v, bv)) { best = j; bv = v; }
  }
  out[r] = i32(best);
}`;

export const argMax: KernelSignatures['ArgMax'] = (x, axis) => {
  const { outer, n, inner } = rowDims(x.shape, axis);
  const rows = outer * inner;
  const out = gpuEmpty(rows, 'int32');
  dispatch({ code: ARGMAX, inputs: [arg(x)], outputs: [out], params: [['u32', rows], ['u32', n], ['u32', inner]], workgroups: grid(rows, WG) });
  return asI32(out);
};

/**
 * TopK's order: (value, index) `a` ranks before `b` (largest: larger values first, NaN
 * first; smallest: the reverse); equal values by lower index. A strict total order, so the
 * k first of it are the output, sorted.
 */
const topkOrder = (largest: boolean): string => /* wgsl */ `
${ORDER}
fn before(a: u32, ia: u32, b: u32, ib: u32) -> bool {
  ${largest ? 'if (greater(a, b)) { return true; } if (greater(b, a)) { return false; }' : 'if (greater(b, a)) { return true; } if (greater(a, b)) { return false; }'}
  return ia < ib;
}`;

const TOPK_HEAD = /* wgsl */ `
@group(0) @binding(0) var<storage, read> xs: array<u32>;
@group(0) @binding(1) var<storage, read_write> values: array<u32>;
@group(0) @binding(2) var<storage, read_write> indices: array<i32>;
struct Params { items: u32, n: u32, inner: u32, k: u32 }
@group(0) @binding(3) var<uniform> p: Params;`;

/**
 * One thread per row, k selection passes: pass j takes the first element (in the order)
 * among those after the one pass j-1 took. O(k n) per row: for small k.
 */
const topkSelect = (largest: boolean): string => /* wgsl */ `
${TOPK_HEAD}
${topkOrder(largest)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = ${flatIndex(WG)};
  if (r >= p.items) { return; }
  let o = r / p.inner;
  let i = r % p.inner;
  let base = o * p.n * p.inner + i;
  let dst = o * p.k * p.inner + i;
  var pv = 0u;
  var pi = 0u;
  for (var j = 0u; j < p.k; j++) {
    var found = false;
    var bv = 0u;
    var bi = 0u;
    for (var e = 0u; e < p.n; e++) {
      let v = xs[base + e * p.inner];
      if (j > 0u && !before(pv, pi, v, e)) { continue; }
      if (!found || before(v, e, bv, bi)) { found = true; bv = v; bi = e; }
    }
    values[dst + j * p.inner] = bv;
    indices[dst + j * p.inner] = i32(bi);
    pv = bv;
    pi = bi;
  }
}`;

/**
 * One thread per element: its rank is the number of elements of its row before it in the
 * order; ranks below k are written there. O(n) per element, for large k.
 */
const topkRank = (largest: boolean): string => /* wgsl */ `
${TOPK_HEAD}
${topkOrder(largest)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = ${flatIndex(WG)};
  if (t >= p.items) { return; }
  // t = (o * n + e) * inner + i: element e of row (o, i), its own position in x.
  let i = t % p.inner;
  let e = (t / p.inner) % p.n;
  let o = t / (p.inner * p.n);
  let base = o * p.n * p.inner + i;
  let v = xs[t];
  var rank = 0u;
  for (var f = 0u; f < p.n; f++) {
    if (before(xs[base + f * p.inner], f, v, e)) { rank++; }
  }
  if (rank < p.k) {
    let dst = o * p.k * p.inner + rank * p.inner + i;
    values[dst] = v;
    indices[dst] = i32(e);
  }
}`;

/** Up to this k, one thread per row selects; above it, one thread per element ranks. */
const SELECT_MAX_K = 16;

export const topK: KernelSignatures['TopK'] = (x, k, axis, largest) => {
  const { outer, n, inner } = rowDims(x.shape, axis);
  const values = gpuEmpty(outer * k * inner);
  const indices = gpuEmpty(outer * k * inner, 'int32');
  if (k > 0) {
    const select = k <= SELECT_MAX_K;
    const items = select ? outer * inner : outer * n * inner;
    dispatch({
      code: select ? topkSelect(largest) : topkRank(largest),
      inputs: [arg(x)],
      outputs: [values, indices],
      params: [['u32', items], ['u32', n], ['u32', inner], ['u32', k]],
      workgroups: grid(items, WG),
    });
  }
  return { values: asF32(values), indices: asI32(indices) };
};

/*
 * Gather and its gradient address x through the index's shape, which may be smaller than x's
 * on every axis but `axis` (torch.gather), so no folding into [outer, n, inner]: both shapes
 * travel in a small storage buffer `dims` = [index shape..., x shape...] and strides are
 * computed in the shader (one text for every rank).
 */

const GATHER = /* wgsl */ `
@group(0) @binding(0) var<storage, read> xs: array<u32>;
@group(0) @binding(1) var<storage, read> index: array<i32>;
@group(0) @binding(2) var<storage, read> dims: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;
struct Params { n: u32, ndim: u32, axis: u32 }
@group(0) @binding(4) var<uniform> p: Params;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let pos = ${flatIndex(WG)};
  if (pos >= p.n) { return; }
  var rest = pos;
  var src = 0u;
  var xStride = 1u;
  for (var d = i32(p.ndim) - 1; d >= 0; d--) {
    let size = dims[d];
    var c = rest % size;
    rest /= size;
    if (u32(d) == p.axis) { c = u32(index[pos]); }
    src += c * xStride;
    xStride *= dims[i32(p.ndim) + d];
  }
  out[pos] = xs[src];
}`;

/**
 * GatherGrad, one thread per element of dx: the sum of dy over the index entries of its row
 * that point at it, in index order (the js kernel's order of additions, so the same bits).
 * Elements off the index's extent get 0. O(index length along axis) per element: for short ones.
 */
const GATHER_GRAD_PULL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> index: array<i32>;
@group(0) @binding(2) var<storage, read> dims: array<u32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
struct Params { n: u32, ndim: u32, axis: u32 }
@group(0) @binding(4) var<uniform> p: Params;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = ${flatIndex(WG)};
  if (e >= p.n) { return; }
  var rest = e;
  var ibase = 0u;
  var iStride = 1u;
  var axisStride = 1u;
  var t = 0u;
  var inside = true;
  for (var d = i32(p.ndim) - 1; d >= 0; d--) {
    let isize = dims[d];
    let xsize = dims[i32(p.ndim) + d];
    let c = rest % xsize;
    rest /= xsize;
    if (u32(d) == p.axis) {
      t = c;
      axisStride = iStride;
    } else {
      if (c >= isize) { inside = false; }
      ibase += c * iStride;
    }
    iStride *= isize;
  }
  var s = 0.0;
  if (inside) {
    let len = dims[p.axis];
    for (var j = 0u; j < len; j++) {
      let ip = ibase + j * axisStride;
      if (u32(index[ip]) == t) { s += dy[ip]; }
    }
  }
  dx[e] = s;
}`;

/**
 * GatherGrad, one thread per row of the index along `axis` (into zeros): each row scatters
 * into its own row of dx, which no other thread touches, in index order. For long rows.
 */
const GATHER_GRAD_ROWS = /* wgsl */ `
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> index: array<i32>;
@group(0) @binding(2) var<storage, read> dims: array<u32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
struct Params { n: u32, ndim: u32, axis: u32 }
@group(0) @binding(4) var<uniform> p: Params;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = ${flatIndex(WG)};
  if (r >= p.n) { return; }
  var rest = r;
  var ibase = 0u;
  var xbase = 0u;
  var iStride = 1u;
  var xStride = 1u;
  var iAxis = 1u;
  var xAxis = 1u;
  for (var d = i32(p.ndim) - 1; d >= 0; d--) {
    let isize = dims[d];
    if (u32(d) == p.axis) {
      iAxis = iStride;
      xAxis = xStride;
    } else {
      let c = rest % isize;
      rest /= isize;
      ibase += c * iStride;
      xbase += c * xStride;
    }
    iStride *= isize;
    xStride *= dims[i32(p.ndim) + d];
  }
  let len = dims[p.axis];
  for (var j = 0u; j < len; j++) {
    let ip = ibase + j * iAxis;
    let dst = xbase + u32(index[ip]) * xAxis;
    dx[dst] += dy[ip];
  }
}`;

/** Up to this index length along the axis, GatherGrad pulls per dx element; above it, rows push. */
const PULL_MAX_LEN = 16;

function shapesBuffer(indexShape: readonly number[], xShape: readonly number[]): GpuArray {
  return gpuUpload(Int32Array.from([...indexShape, ...xShape]));
}

export const gather: KernelSignatures['Gather'] = (x, axis, index, indexShape) => {
  const n = indexShape.reduce((s, d) => s * d, 1);
  const out = gpuEmpty(n);
  if (n === 0) return asF32(out);
  const dims = shapesBuffer(indexShape, x.shape);
  dispatch({
    code: GATHER,
    inputs: [arg(x), intArg(index), dims],
    outputs: [out],
    params: [['u32', n], ['u32', indexShape.length], ['u32', axis]],
    workgroups: grid(n, WG),
  });
  gpuMemory.release(dims);
  return asF32(out);
};

export const gatherGrad: KernelSignatures['GatherGrad'] = (dy: KernelTensor, axis, index, xShape) => {
  const nx = xShape.reduce((s, d) => s * d, 1);
  const len = dy.shape[axis]!;
  const pull = len <= PULL_MAX_LEN;
  const dx = pull ? gpuEmpty(nx) : gpuZeros(nx);
  const rows = pull ? nx : dy.shape.reduce((s, d) => s * d, 1) / len;
  if (rows === 0) return asF32(dx);
  const dims = shapesBuffer(dy.shape, xShape);
  dispatch({
    code: pull ? GATHER_GRAD_PULL : GATHER_GRAD_ROWS,
    inputs: [arg(dy), intArg(index), dims],
    outputs: [dx],
    params: [['u32', rows], ['u32', xShape.length], ['u32', axis]],
    workgroups: grid(rows, WG),
  });
  gpuMemory.release(dims);
  return asF32(dx);
};
