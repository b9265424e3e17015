import type { KernelSignatures, KernelTensor } from '../../kernels.js';
import { gpuEmpty, type GpuArray } from '../gpu-array.js';
import { arg, asF32 } from '../kernel-args.js';
import { dispatch, flatIndex, grid } from '../program.js';
import { checkBindingSize } from './softmax.js';

/*
 * Batch normalization on the GPU, as the js kernels (src/backend/js/normalization.ts): x is
 * [N, C, ...] with channels on axis 1 and the trailing axes flattened into `inner`, so a
 * channel's M = N * inner values are x[(n * C + c) * inner + q].
 *
 * Per-channel reductions run in two levels: the M values of a channel are cut into `parts`
 * chunks, one workgroup per (channel, chunk) writes a partial, then one workgroup per channel
 * merges the partials. Channels of at most THREAD_CHANNEL_MAX values (BatchNorm1d on [N, C]
 * with a modest batch, small planes) run one thread per channel instead: neighbouring threads
 * read neighbouring channels, and no workgroup idles over a handful of values.
 *
 * The statistics are computed on the values shifted by the channel's first value K (a sample,
 * so within a few standard deviations of the mean): a large per-channel offset then costs no
 * precision in float32, where the mean's rounding would otherwise dominate a small variance.
 * The variance is a sum of squared deviations from a mean computed first, as in js: per
 * channel for short channels, per chunk otherwise, the chunks' (count, mean, M2) then joined by
 * Chan's merge. The mean is K plus the shifted mean.
 * Gradient sums are plain float32 sums (per thread, then trees).
 *
 * Absent weight/bias/ReLU output are separate shader texts without those bindings (layout
 * 'auto' rejects a declared binding the shader does not use).
 */

const WG = 128;
/** A chunk holds about this many values per thread; the chunk count is capped (bounded partials). */
const PER_THREAD = 8;
const MAX_PARTS = 256;
/** Channels of at most this many values are reduced by one thread each (no partials). */
export const THREAD_CHANNEL_MAX = 256;

function channelDims(shape: readonly number[]): { n: number; c: number; inner: number } {
  let inner = 1;
  for (let d = 2; d < shape.length; d++) inner *= shape[d]!;
  return { n: shape[0]!, c: shape[1]!, inner };
}

/** How a channel's `count` values are cut into chunks (at least one, possibly empty). */
function partition(count: number): { parts: number; chunk: number } {
  const parts = Math.max(1, Math.min(MAX_PARTS, Math.ceil(count / (WG * PER_THREAD))));
  return { parts, chunk: Math.max(1, Math.ceil(count / parts)) };
}

/** Declares storage bindings in order: [name, type, writable]. */
function bind(list: readonly (readonly [string, string, boolean])[], params: string): string {
  const lines = list.map(([nm, ty, rw], i) => `@group(0) @binding(${i}) var<storage, ${rw ? 'read_write' : 'read'}> ${nm}: ${ty};`);
  lines.push(`struct Params { ${params} }`, `@group(0) @binding(${list.length}) var<uniform> p: Params;`);
  return lines.join('\n');
}

const F = 'array<f32>';
const CHUNK_PARAMS = 'channels: u32, inner: u32, count: u32, chunk: u32, parts: u32';

/** The (channel c, chunk [start, end)) of this workgroup (the one-workgroup-per-chunk kernels). */
const CHUNK_HEAD = /* wgsl */ `
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
  let grp = wid.x + wid.y * nwg.x;
  // Uniform per workgroup: all of its threads return or none (the barriers stay uniform).
  if (grp >= p.channels * p.parts) { return; }
  let c = grp / p.parts;
  let start = (grp - c * p.parts) * p.chunk;
  let end = min(start + p.chunk, p.count);`;

/** The element index e of a channel's j-th value (j over n and the inner positions). */
const CHUNK_INDEX = 'let nn = j / p.inner; let e = (nn * p.channels + c) * p.inner + (j - nn * p.inner);';

/** Chan's merge of two (count, mean, M2) triples. */
const MERGE = /* wgsl */ `
fn merge(a: vec3<f32>, b: vec3<f32>) -> vec3<f32> {
  let n = a.x + b.x;
  if (b.x == 0.0) { return a; }
  if (a.x == 0.0) { return b; }
  let d = b.y - a.y;
  let f = b.x / n;
  return vec3<f32>(n, a.y + d * f, a.z + b.z + d * d * a.x * f);
}`;

/**
 * A tree over the workgroup in `arr` (array<T, WG>, each thread's value stored) with op(a, b);
 * the result is in arr[0] for every thread.
 */
const tree = (op: (a: string, b: string) => string, arr = 'red'): string => /* wgsl */ `
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (t < s) { ${arr}[t] = ${op(`${arr}[t]`, `${arr}[t + s]`)}; }
    workgroupBarrier();
  }`;

/** Pass 1 of the statistics: a (count, mean, M2) triple per (channel, chunk). */
const STATS_PARTIAL = /* wgsl */ `${bind([['xs', F, false], ['part', F, true]], CHUNK_PARAMS)}
var<workgroup> sums: array<f32, ${WG}>;
${CHUNK_HEAD}
  // Two passes over the chunk (the second from cache): its mean, then M2 about that mean, of
  // the values shifted by the channel's first value.
  let k0 = xs[c * p.inner];
  var acc = 0.0;
  for (var j = start + t; j < end; j += ${WG}u) {
    ${CHUNK_INDEX}
    acc += xs[e] - k0;
  }
  sums[t] = acc;
  ${tree((a, b) => `${a} + ${b}`, 'sums')}
  let n = f32(max(end, start) - start);
  let m = sums[0] / max(n, 1.0);
  workgroupBarrier();
  acc = 0.0;
  for (var j = start + t; j < end; j += ${WG}u) {
    ${CHUNK_INDEX}
    let d = (xs[e] - k0) - m;
    acc += d * d;
  }
  sums[t] = acc;
  ${tree((a, b) => `${a} + ${b}`, 'sums')}
  if (t == 0u) {
    part[3u * grp] = n;
    part[3u * grp + 1u] = m;
    part[3u * grp + 2u] = sums[0];
  }
}`;

/** Pass 2 of the statistics: one workgroup per channel merges its partials. */
const STATS_FINAL = /* wgsl */ `${bind([['xs', F, false], ['part', F, false], ['mean', F, true], ['variance', F, true]], 'channels: u32, parts: u32, inner: u32')}
var<workgroup> red: array<vec3<f32>, ${WG}>;
${MERGE}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
  let c = wid.x + wid.y * nwg.x;
  if (c >= p.channels) { return; }
  var acc = vec3<f32>(0.0, 0.0, 0.0);
  for (var k = t; k < p.parts; k += ${WG}u) {
    let q = 3u * (c * p.parts + k);
    acc = merge(acc, vec3<f32>(part[q], part[q + 1u], part[q + 2u]));
  }
  red[t] = acc;
  ${tree((a, b) => `merge(${a}, ${b})`)}
  if (t == 0u) {
    mean[c] = xs[c * p.inner] + red[0].y;
    variance[c] = red[0].z / red[0].x;
  }
}`;

/** The statistics of short channels: one thread per channel, the mean, then the squared deviations. */
const STATS_THREAD = /* wgsl */ `${bind([['xs', F, false], ['mean', F, true], ['variance', F, true]], 'channels: u32, inner: u32, count: u32')}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let c = ${flatIndex(WG)};
  if (c >= p.channels) { return; }
  let k0 = xs[c * p.inner];
  var sum = 0.0;
  for (var j = 0u; j < p.count; j++) {
    ${CHUNK_INDEX}
    sum += xs[e] - k0;
  }
  let m = sum / f32(p.count);
  var sq = 0.0;
  for (var j = 0u; j < p.count; j++) {
    ${CHUNK_INDEX}
    let d = (xs[e] - k0) - m;
    sq += d * d;
  }
  mean[c] = k0 + m;
  variance[c] = sq / f32(p.count);
}`;

export const batchNormStats: KernelSignatures['BatchNormStats'] = (x) => {
  const { n, c, inner } = channelDims(x.shape);
  const count = n * inner;
  checkBindingSize(count * c, 'BatchNormStats');
  if (count <= THREAD_CHANNEL_MAX) {
    const mean = gpuEmpty(c);
    const variance = gpuEmpty(c);
    dispatch({ code: STATS_THREAD, inputs: [arg(x)], outputs: [mean, variance], params: [['u32', c], ['u32', inner], ['u32', count]], workgroups: grid(c, WG) });
    return { mean: asF32(mean), variance: asF32(variance) };
  }
  const { parts, chunk } = partition(count);
  const part = gpuEmpty(3 * c * parts);
  const mean = gpuEmpty(c);
  const variance = gpuEmpty(c);
  dispatch({
    code: STATS_PARTIAL,
    inputs: [arg(x)],
    outputs: [part],
    params: [['u32', c], ['u32', inner], ['u32', count], ['u32', chunk], ['u32', parts]],
    workgroups: grid(c * parts, 1),
  });
  dispatch({
    code: STATS_FINAL,
    inputs: [arg(x), part],
    outputs: [mean, variance],
    params: [['u32', c], ['u32', parts], ['u32', inner]],
    workgroups: grid(c, 1),
  });
  part.memory.release(part);
  return { mean: asF32(mean), variance: asF32(variance) };
};

/** y = (x - mean) / sqrt(variance + eps) * weight + bias, then max(y, 0) with 'relu'. */
function forwardCode(weighted: boolean, biased: boolean, relu: boolean): string {
  const list: [string, string, boolean][] = [['xs', F, false], ['mean', F, false], ['variance', F, false]];
  if (weighted) list.push(['wt', F, false]);
  if (biased) list.push(['bias', F, false]);
  list.push(['ys', F, true]);
  return /* wgsl */ `${bind(list, 'total: u32, channels: u32, inner: u32, eps: f32')}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${flatIndex(WG)};
  if (i >= p.total) { return; }
  let c = (i / p.inner) % p.channels;
  let scale = ${weighted ? 'wt[c]' : '1.0'} / sqrt(variance[c] + p.eps);
  let y = (xs[i] - mean[c]) * scale + ${biased ? 'bias[c]' : '0.0'};
  ys[i] = ${relu ? 'select(0.0, y, y > 0.0)' : 'y'};
}`;
}

const codes = new Map<string, string>();
function cached(key: string, make: () => string): string {
  let s = codes.get(key);
  if (s === undefined) {
    s = make();
    codes.set(key, s);
  }
  return s;
}

export const batchNorm: KernelSignatures['BatchNorm'] = (x, mean, variance, weight, bias, eps, activation = 'none') => {
  const { c, inner } = channelDims(x.shape);
  const total = x.shape.reduce((s, d) => s * d, 1);
  checkBindingSize(total, 'BatchNorm');
  const out = gpuEmpty(total);
  const inputs: GpuArray[] = [arg(x), arg(mean), arg(variance)];
  if (weight) inputs.push(arg(weight));
  if (bias) inputs.push(arg(bias));
  const relu = activation === 'relu';
  dispatch({
    code: cached(`fwd/${weight !== null}/${bias !== null}/${relu}`, () => forwardCode(weight !== null, bias !== null, relu)),
    inputs,
    outputs: [out],
    params: [['u32', total], ['u32', c], ['u32', inner], ['f32', eps]],
    workgroups: grid(total, WG),
  });
  return asF32(out);
};

/** dy, masked by a fused ReLU's output as UnaryGrad 'relu' masks it (a product: NaN stays NaN). */
const grad = (relu: boolean, e: string): string => (relu ? `dys[${e}] * select(0.0, 1.0, ry[${e}] > 0.0)` : `dys[${e}]`);

const THREAD_HEAD = /* wgsl */ `
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let c = ${flatIndex(WG)};
  if (c >= p.channels) { return; }`;

/**
 * Gradient pass 1: the sums of g and g * (x - mean) per (channel, chunk), one workgroup each;
 * or per channel, one thread each (short channels: one part per channel).
 */
function gradPartialCode(relu: boolean, perThread: boolean): string {
  const head = bind(
    [['xs', F, false], ['dys', F, false], ['mean', F, false], ...(relu ? [['ry', F, false] as const] : []), ['part', F, true]],
    CHUNK_PARAMS,
  );
  const body = (from: string, to: string, step: string) => /* wgsl */ `
  let m = mean[c];
  var acc = vec2<f32>(0.0, 0.0);
  for (var j = ${from}; j < ${to}; j += ${step}) {
    ${CHUNK_INDEX}
    let g = ${grad(relu, 'e')};
    acc += vec2<f32>(g, g * (xs[e] - m));
  }`;
  if (perThread) {
    return /* wgsl */ `${head}
${THREAD_HEAD}
${body('0u', 'p.count', '1u')}
  part[2u * c] = acc.x;
  part[2u * c + 1u] = acc.y;
}`;
  }
  return /* wgsl */ `${head}
var<workgroup> red: array<vec2<f32>, ${WG}>;
${CHUNK_HEAD}
${body('start + t', 'end', `${WG}u`)}
  red[t] = acc;
  ${tree((a, b) => `${a} + ${b}`)}
  if (t == 0u) {
    part[2u * grp] = red[0].x;
    part[2u * grp + 1u] = red[0].y;
  }
}`;
}

/**
 * Gradient pass 2, per channel (a workgroup, or a thread for short channels): dbias = sum g,
 * dweight = invstd * sum g (x - m), and dx's coefficients (A, mdy, k) with
 * dx = A (g - mdy - (x - m) k): A = weight * invstd and, with batch statistics, mdy = dbias / M
 * and k = invstd * dweight / M (0 and 0 without).
 */
function gradFinalCode(weighted: boolean, perThread: boolean): string {
  const head = bind(
    [['part', F, false], ['variance', F, false], ...(weighted ? [['wt', F, false] as const] : []),
      ['dweight', F, true], ['dbias', F, true], ['coef', F, true]],
    'channels: u32, parts: u32, count: f32, eps: f32, batchStats: u32',
  );
  const sum = (from: string, step: string) => /* wgsl */ `
  var acc = vec2<f32>(0.0, 0.0);
  for (var k = ${from}; k < p.parts; k += ${step}) {
    let q = 2u * (c * p.parts + k);
    acc += vec2<f32>(part[q], part[q + 1u]);
  }`;
  const write = (sums: string) => /* wgsl */ `
    let invstd = 1.0 / sqrt(variance[c] + p.eps);
    let sums = ${sums};
    let dw = invstd * sums.y;
    dbias[c] = sums.x;
    dweight[c] = dw;
    let stats = p.batchStats != 0u;
    coef[3u * c] = ${weighted ? 'wt[c]' : '1.0'} * invstd;
    coef[3u * c + 1u] = select(0.0, sums.x / p.count, stats);
    coef[3u * c + 2u] = select(0.0, invstd * dw / p.count, stats);`;
  if (perThread) {
    return /* wgsl */ `${head}
${THREAD_HEAD}
${sum('0u', '1u')}
${write('acc')}
}`;
  }
  return /* wgsl */ `${head}
var<workgroup> red: array<vec2<f32>, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
  let c = wid.x + wid.y * nwg.x;
  if (c >= p.channels) { return; }
${sum('t', `${WG}u`)}
  red[t] = acc;
  ${tree((a, b) => `${a} + ${b}`)}
  if (t == 0u) {${write('red[0]')}
  }
}`;
}

/** Gradient pass 3, elementwise: dx = A (g - mdy - (x - m) k). */
const gradDxCode = (relu: boolean): string => /* wgsl */ `${bind(
  [['xs', F, false], ['dys', F, false], ['mean', F, false], ['coef', F, false], ...(relu ? [['ry', F, false] as const] : []), ['dx', F, true]],
  'total: u32, channels: u32, inner: u32',
)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${flatIndex(WG)};
  if (i >= p.total) { return; }
  let c = (i / p.inner) % p.channels;
  let g = ${grad(relu, 'i')};
  dx[i] = coef[3u * c] * (g - coef[3u * c + 1u] - (xs[i] - mean[c]) * coef[3u * c + 2u]);
}`;

export const batchNormGrad: KernelSignatures['BatchNormGrad'] = (x, dy, mean, variance, weight, eps, batchStats, reluOutput = null) => {
  const { n, c, inner } = channelDims(x.shape);
  const count = n * inner;
  const total = count * c;
  checkBindingSize(total, 'BatchNormGrad');
  const relu = reluOutput !== null;
  const masked = (list: GpuArray[]): GpuArray[] => (reluOutput ? [...list, arg(reluOutput as KernelTensor)] : list);
  const perThread = count <= THREAD_CHANNEL_MAX;
  const { parts, chunk } = perThread ? { parts: 1, chunk: count } : partition(count);
  const part = gpuEmpty(2 * c * parts);
  const coef = gpuEmpty(3 * c);
  const dweight = gpuEmpty(c);
  const dbias = gpuEmpty(c);
  const dx = gpuEmpty(total);
  dispatch({
    code: cached(`gradPart/${relu}/${perThread}`, () => gradPartialCode(relu, perThread)),
    inputs: masked([arg(x), arg(dy), arg(mean)]),
    outputs: [part],
    params: [['u32', c], ['u32', inner], ['u32', count], ['u32', chunk], ['u32', parts]],
    workgroups: perThread ? grid(c, WG) : grid(c * parts, 1),
  });
  dispatch({
    code: cached(`gradFinal/${weight !== null}/${perThread}`, () => gradFinalCode(weight !== null, perThread)),
    inputs: weight ? [part, arg(variance), arg(weight)] : [part, arg(variance)],
    outputs: [dweight, dbias, coef],
    params: [['u32', c], ['u32', parts], ['f32', count], ['f32', eps], ['u32', batchStats ? 1 : 0]],
    workgroups: perThread ? grid(c, WG) : grid(c, 1),
  });
  dispatch({
    code: cached(`gradDx/${relu}`, () => gradDxCode(relu)),
    inputs: masked([arg(x), arg(dy), arg(mean), coef]),
    outputs: [dx],
    params: [['u32', total], ['u32', c], ['u32', inner]],
    workgroups: grid(total, WG),
  });
  part.memory.release(part);
  coef.memory.release(coef);
  return { dx: asF32(dx), dweight: asF32(dweight), dbias: asF32(dbias) };
};
