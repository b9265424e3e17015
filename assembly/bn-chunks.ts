// Batch norm's training kernels split over channels AND images, so every shape keeps every
// thread busy (few channels included), reading memory in order, and the statistics take one
// pass over x.
//
// A row is one image's plane of one channel (`inner` floats). A unit is a contiguous run of
// rows: `ipc` whole images when CB == C, else CB channels of one image (ipc == 1); for [N, C]
// (inner == 1) it is four channels (one vector) down a chunk of `ipc` rows. The sums of a
// unit's rows go to float64 partials P[(chunk * C + c) * 2 + j], rows added in image order;
// a second job adds each channel's partials in chunk order. The grid comes from the shape alone
// (never from the thread count or timing), so results are the same bits on any number of
// threads. Sums and formulas are float64 as in the js reference (src/backend/js/normalization.ts),
// except the statistics' shifted sums, float32 within blocks of FLUSH steps (see statsRow).
import { arg, argf64 } from './job';
import { hi2, join4, lo2 } from './vmath';
import {
  BG_C, BG_CB, BG_CHUNKS, BG_COEF, BG_CPT, BG_COUNT, BG_DB, BG_DW, BG_DX, BG_DY, BG_EPS, BG_INNER, BG_IPC, BG_MEAN, BG_N, BG_PART, BG_STATS, BG_VAR, BG_W,
  BG_X, BG_Y, BS_C, BS_CB, BS_CHUNKS, BS_COUNT, BS_CPT, BS_INNER, BS_IPC, BS_MEAN, BS_N, BS_PART, BS_SHIFT, BS_VAR, BS_X, planeSum,
} from './batchnorm';

/** Elements of a channel the statistics' shift averages (see shiftOf). */
const SHIFT_SAMPLES = 256;

/**
 * Float32 partial sums reach float64 every FLUSH vector steps, so a float32 sum never adds more
 * than 2 * FLUSH terms: its error is a few float32 roundings of the block, never growing with
 * the channel's size.
 */
const FLUSH = 8;

/** dy at byte offset o, masked by a fused ReLU's output y (> 0) as the separate ReLU gradient (a product). */
// @ts-ignore: decorator
@inline function gradAt(dy: usize, y: usize, o: usize): v128 {
  const g = v128.load(dy + o);
  return y ? f32x4.mul(g, v128.and(f32x4.splat(1), f32x4.gt(v128.load(y + o), f32x4.splat(0)))) : g;
}
// @ts-ignore: decorator
@inline function gradScalar(dy: usize, y: usize, o: usize): f64 {
  const g = load<f32>(dy + o);
  return <f64>(y ? g * (load<f32>(y + o) > 0 ? <f32>1 : <f32>0) : g);
}
// @ts-ignore: decorator
@inline function hsum(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}
// @ts-ignore: decorator
@inline function widenSum(v: v128): v128 {
  return f64x2.add(lo2(v), hi2(v));
}
// @ts-ignore: decorator
@inline function pair(a: f64, b: f64): v128 {
  return f64x2.replace_lane(f64x2.splat(a), 1, b);
}
/** P[k][c] = s on a chunk's first image, else P[k][c] + s: rows are added in image order. */
// @ts-ignore: decorator
@inline function addPartial(P: usize, C: i32, k: i32, c: i32, s: v128, first: bool): void {
  const o = P + ((<usize>k * <usize>C + <usize>c) << 4);
  v128.store(o, first ? s : f64x2.add(v128.load(o), s));
}

/**
 * The shift K of channel c's one-pass statistics: the mean of SHIFT_SAMPLES values spread evenly
 * over the channel (all of them when it has fewer), rounded to float32, 0 if not finite. The
 * float32 sums of (x - K) and (x - K)^2 then lose nothing to cancellation while K is within a
 * fraction of a standard deviation of the mean; the combining job checks that and redoes the
 * channel in float64 and two passes when it is not (see bnStatsFinishTask).
 */
function shiftOf(x: usize, c: i32, N: i32, C: i32, inner: i32): f32 {
  const count = <i64>N * <i64>inner;
  const m = <i32>min<i64>(SHIFT_SAMPLES, count);
  // Sample j sits at index j * step (no division per sample): image n, offset q. A step
  // coprime to the plane's size walks all offsets, not one column (borders differ from the rest).
  let step = count / <i64>m;
  while (step > 1 && gcd(step, <i64>inner) > 1) step--;
  const stepN = <i32>(step / <i64>inner), stepQ = <i32>(step % <i64>inner);
  let n = 0, q = 0;
  let s: f64 = 0;
  for (let j = 0; j < m; j++) {
    s += <f64>load<f32>(x + ((<usize>n * <usize>C + <usize>c) * <usize>inner + <usize>q << 2));
    n += stepN; q += stepQ;
    if (q >= inner) { q -= inner; n++; }
  }
  const k = <f32>(s / <f64>m);
  return isFinite(k) ? k : 0;
}

function gcd(a: i64, b: i64): i64 {
  while (b) { const t = a % b; a = b; b = t; }
  return a;
}

/** Channels t * CPT .. : their shifts, as floats at BS_SHIFT. */
export function bnStatsShiftTask(job: usize, t: i32): void {
  const N = arg(job, BS_N), C = arg(job, BS_C), inner = arg(job, BS_INNER), cpt = arg(job, BS_CPT);
  const x = <usize>arg(job, BS_X), K = <usize>arg(job, BS_SHIFT);
  for (let c = t * cpt; c < min(C, t * cpt + cpt); c++) store<f32>(K + (<usize>c << 2), shiftOf(x, c, N, C, inner));
}

/** [sum (x - K), sum (x - K)^2] of one row of `inner` floats at p. */
function statsRow(p: usize, inner: i32, K: f32): v128 {
  const vk = f32x4.splat(K), zero = f32x4.splat(0);
  let a0 = zero, a1 = zero, q0 = zero, q1 = zero, steps = 0;
  let s = f64x2.splat(0), ss = s;
  let q = 0;
  for (; q + 8 <= inner; q += 8) {
    const r = p + (<usize>q << 2);
    const d0 = f32x4.sub(v128.load(r), vk), d1 = f32x4.sub(v128.load(r, 16), vk);
    a0 = f32x4.add(a0, d0); a1 = f32x4.add(a1, d1);
    q0 = f32x4.add(q0, f32x4.mul(d0, d0)); q1 = f32x4.add(q1, f32x4.mul(d1, d1));
    if (++steps == FLUSH) {
      s = f64x2.add(s, widenSum(f32x4.add(a0, a1))); ss = f64x2.add(ss, widenSum(f32x4.add(q0, q1)));
      a0 = zero; a1 = zero; q0 = zero; q1 = zero; steps = 0;
    }
  }
  s = f64x2.add(s, widenSum(f32x4.add(a0, a1))); ss = f64x2.add(ss, widenSum(f32x4.add(q0, q1)));
  let st: f64 = 0, sst: f64 = 0;
  for (; q < inner; q++) {
    const d = <f64>(load<f32>(p + (<usize>q << 2)) - K);
    st += d; sst += d * d;
  }
  return pair(hsum(s) + st, hsum(ss) + sst);
}

/** A unit's four channels' partial pairs (first sum, second sum) as float64 at o: lanes of s0/s1 and q0/q1. */
// @ts-ignore: decorator
@inline function storePartials(o: usize, s0: v128, s1: v128, q0: v128, q1: v128): void {
  v128.store(o, pair(f64x2.extract_lane(s0, 0), f64x2.extract_lane(q0, 0)));
  v128.store(o, pair(f64x2.extract_lane(s0, 1), f64x2.extract_lane(q0, 1)), 16);
  v128.store(o, pair(f64x2.extract_lane(s1, 0), f64x2.extract_lane(q1, 0)), 32);
  v128.store(o, pair(f64x2.extract_lane(s1, 1), f64x2.extract_lane(q1, 1)), 48);
}

/** The same for four adjacent channels c..c+3 of [N, C] over rows n0..n1, lane by lane, into P. */
function statsColumns(x: usize, P: usize, C: i32, c: i32, k: i32, n0: i32, n1: i32, K: usize): void {
  const stride = <usize>C << 2;
  const vk = v128.load(K + (<usize>c << 2)), zero = f32x4.splat(0);
  let a = zero, q = zero, steps = 0;
  let a0 = f64x2.splat(0), a1 = a0, q0 = a0, q1 = a0;
  const col = x + (<usize>c << 2);
  for (let n = n0; n < n1; n++) {
    const d = f32x4.sub(v128.load(col + <usize>n * stride), vk);
    a = f32x4.add(a, d); q = f32x4.add(q, f32x4.mul(d, d));
    if (++steps == FLUSH || n + 1 == n1) {
      a0 = f64x2.add(a0, lo2(a)); a1 = f64x2.add(a1, hi2(a)); q0 = f64x2.add(q0, lo2(q)); q1 = f64x2.add(q1, hi2(q));
      a = zero; q = zero; steps = 0;
    }
  }
  const o = P + ((<usize>k * <usize>C + <usize>c) << 4);
  storePartials(o, a0, a1, q0, q1);
}

/** Units t * CPT .. of the statistics: one pass of shifted sums into the partials. */
export function bnStatsPartTask(job: usize, t: i32): void {
  const N = arg(job, BS_N), C = arg(job, BS_C), inner = arg(job, BS_INNER), upt = arg(job, BS_CPT), ipc = arg(job, BS_IPC), cb = arg(job, BS_CB);
  const u0 = t * upt, u1 = min(arg(job, BS_COUNT), u0 + upt);
  const x = <usize>arg(job, BS_X), P = <usize>arg(job, BS_PART), K = <usize>arg(job, BS_SHIFT);
  const blocks = (C + cb - 1) / cb;
  for (let u = u0; u < u1; u++) {
    const k = u / blocks, c0 = (u % blocks) * cb, c1 = min(C, c0 + cb);
    const n0 = k * ipc, n1 = min(N, n0 + ipc);
    if (inner == 1 && c1 - c0 == 4) {
      statsColumns(x, P, C, c0, k, n0, n1, K);
      continue;
    }
    for (let n = n0; n < n1; n++) {
      for (let c = c0; c < c1; c++) {
        const row = x + ((<usize>n * <usize>C + <usize>c) * <usize>inner << 2);
        addPartial(P, C, k, c, statsRow(row, inner, load<f32>(K + (<usize>c << 2))), n == n0);
      }
    }
  }
}

/**
 * mean = K + s1 / count, variance = s2 / count - (s1 / count)^2, the partials added in chunk
 * order. The float32 blocks err by a few float32 roundings of sum (x - K)^2 = count * (var + d^2),
 * d = mean - K; where d^2 > var / 16, or the result is not finite (non-finite input, or a float32
 * block overflowed), the channel is redone in float64 and two passes, as the reference.
 */
export function bnStatsFinishTask(job: usize, t: i32): void {
  const N = arg(job, BS_N), C = arg(job, BS_C), inner = arg(job, BS_INNER), chunks = arg(job, BS_CHUNKS);
  const x = <usize>arg(job, BS_X), P = <usize>arg(job, BS_PART), K = <usize>arg(job, BS_SHIFT);
  const mean = <usize>arg(job, BS_MEAN), variance = <usize>arg(job, BS_VAR);
  const count = <f64>N * <f64>inner;
  const stride = <usize>C * <usize>inner << 2;
  for (let c = 0; c < C; c++) {
    let s = f64x2.splat(0);
    for (let k = 0; k < chunks; k++) s = f64x2.add(s, v128.load(P + ((<usize>k * <usize>C + <usize>c) << 4)));
    const d = f64x2.extract_lane(s, 0) / count;
    let m = <f64>load<f32>(K + (<usize>c << 2)) + d, v = f64x2.extract_lane(s, 1) / count - d * d;
    if (!(d * d * 16 <= v) || !isFinite(v)) {
      const base = x + (<usize>c * <usize>inner << 2);
      m = planeSum(base, N, stride, inner, 0, false) / count;
      v = planeSum(base, N, stride, inner, m, true) / count;
    }
    store<f32>(mean + (<usize>c << 2), <f32>m);
    store<f32>(variance + (<usize>c << 2), <f32>v);
  }
}

/** [sum g, sum g (x - m)] of one row (byte offset o into x, dy and y), g = dy masked by y > 0 when y is given. */
function gradRow(x: usize, dy: usize, y: usize, o: usize, inner: i32, m: f64): v128 {
  const vm = f64x2.splat(m);
  let g0 = f64x2.splat(0), g1 = g0, h0 = g0, h1 = g0;
  let q = 0;
  for (; q + 4 <= inner; q += 4) {
    const p = o + (<usize>q << 2);
    const g = gradAt(dy, y, p), xv = v128.load(x + p);
    const gl = lo2(g), gh = hi2(g);
    g0 = f64x2.add(g0, gl); g1 = f64x2.add(g1, gh);
    h0 = f64x2.add(h0, f64x2.mul(gl, f64x2.sub(lo2(xv), vm)));
    h1 = f64x2.add(h1, f64x2.mul(gh, f64x2.sub(hi2(xv), vm)));
  }
  let gs: f64 = 0, hs: f64 = 0;
  for (; q < inner; q++) {
    const p = o + (<usize>q << 2);
    const g = gradScalar(dy, y, p);
    gs += g;
    hs += g * (<f64>load<f32>(x + p) - m);
  }
  return pair(hsum(f64x2.add(g0, g1)) + gs, hsum(f64x2.add(h0, h1)) + hs);
}

/** The same for four adjacent channels c..c+3 of [N, C] over rows n0..n1, into P. */
function gradColumns(x: usize, dy: usize, y: usize, P: usize, C: i32, c: i32, k: i32, n0: i32, n1: i32, mv: v128): void {
  const stride = <usize>C << 2;
  const m0 = lo2(mv), m1 = hi2(mv);
  let g0 = f64x2.splat(0), g1 = g0, h0 = g0, h1 = g0;
  for (let n = n0; n < n1; n++) {
    const o = (<usize>c << 2) + <usize>n * stride;
    const g = gradAt(dy, y, o), xv = v128.load(x + o);
    const gl = lo2(g), gh = hi2(g);
    g0 = f64x2.add(g0, gl); g1 = f64x2.add(g1, gh);
    h0 = f64x2.add(h0, f64x2.mul(gl, f64x2.sub(lo2(xv), m0)));
    h1 = f64x2.add(h1, f64x2.mul(gh, f64x2.sub(hi2(xv), m1)));
  }
  const o = P + ((<usize>k * <usize>C + <usize>c) << 4);
  storePartials(o, g0, g1, h0, h1);
}

/** Units t * CPT .. of the gradient's sums (first pass). */
export function bnGradPartTask(job: usize, t: i32): void {
  const N = arg(job, BG_N), C = arg(job, BG_C), inner = arg(job, BG_INNER), upt = arg(job, BG_CPT), ipc = arg(job, BG_IPC), cb = arg(job, BG_CB);
  const u0 = t * upt, u1 = min(arg(job, BG_COUNT), u0 + upt);
  const x = <usize>arg(job, BG_X), dy = <usize>arg(job, BG_DY), y = <usize>arg(job, BG_Y), P = <usize>arg(job, BG_PART);
  const meanP = <usize>arg(job, BG_MEAN);
  const blocks = (C + cb - 1) / cb;
  for (let u = u0; u < u1; u++) {
    const k = u / blocks, c0 = (u % blocks) * cb, c1 = min(C, c0 + cb);
    const n0 = k * ipc, n1 = min(N, n0 + ipc);
    if (inner == 1 && c1 - c0 == 4) {
      gradColumns(x, dy, y, P, C, c0, k, n0, n1, v128.load(meanP + (<usize>c0 << 2)));
      continue;
    }
    for (let n = n0; n < n1; n++) {
      for (let c = c0; c < c1; c++) {
        const o = (<usize>n * <usize>C + <usize>c) * <usize>inner << 2;
        addPartial(P, C, k, c, gradRow(x, dy, y, o, inner, <f64>load<f32>(meanP + (<usize>c << 2))), n == n0);
      }
    }
  }
}

/**
 * Channels t * CPT .. : their partials added in chunk order, then the constants as the
 * reference: invstd = 1 / sqrt(var + eps), scale = weight * invstd; with batch statistics
 * dx = scale * (g - sumDy/M - xhat * sumDyXhat/M), written dx = S g + U + T (x - m). S, T and U
 * go to float64 arrays of C at COEF, COEF + 8C and COEF + 16C; dbias = sumDy, dweight = sumDyXhat.
 */
export function bnGradCoefTask(job: usize, t: i32): void {
  const C = arg(job, BG_C), chunks = arg(job, BG_CHUNKS), cpt = arg(job, BG_CPT);
  const P = <usize>arg(job, BG_PART), wP = <usize>arg(job, BG_W), coef = <usize>arg(job, BG_COEF);
  const count = <f64>arg(job, BG_N) * <f64>arg(job, BG_INNER);
  const eps = argf64(job, BG_EPS);
  for (let c = t * cpt; c < min(C, t * cpt + cpt); c++) {
    let s = f64x2.splat(0);
    for (let k = 0; k < chunks; k++) s = f64x2.add(s, v128.load(P + ((<usize>k * <usize>C + <usize>c) << 4)));
    const co = <usize>c << 2;
    const invstd = 1 / Math.sqrt(<f64>load<f32>(<usize>arg(job, BG_VAR) + co) + eps);
    const scale = (wP ? <f64>load<f32>(wP + co) : 1) * invstd;
    const sumDy = f64x2.extract_lane(s, 0), sumDyXhat = f64x2.extract_lane(s, 1) * invstd;
    store<f32>(<usize>arg(job, BG_DB) + co, <f32>sumDy);
    store<f32>(<usize>arg(job, BG_DW) + co, <f32>sumDyXhat);
    const c8 = <usize>c << 3, C8 = <usize>C << 3;
    store<f64>(coef + c8, scale);
    store<f64>(coef + C8 + c8, -scale * invstd * (sumDyXhat / count));
    store<f64>(coef + 2 * C8 + c8, -scale * (sumDy / count));
  }
}

/** dx of one row (byte offset o): S g + U + T (x - m) with batch statistics, else S g. */
function applyRow(x: usize, dy: usize, y: usize, dx: usize, o: usize, inner: i32, m: f64, S: f64, T: f64, U: f64, stats: bool): void {
  const vm = f64x2.splat(m), vs = f64x2.splat(S), vt = f64x2.splat(T), vu = f64x2.splat(U);
  let q = 0;
  if (stats) {
    for (; q + 4 <= inner; q += 4) {
      const p = o + (<usize>q << 2);
      const g = gradAt(dy, y, p), xv = v128.load(x + p);
      const r0 = f64x2.add(f64x2.add(f64x2.mul(vs, lo2(g)), vu), f64x2.mul(vt, f64x2.sub(lo2(xv), vm)));
      const r1 = f64x2.add(f64x2.add(f64x2.mul(vs, hi2(g)), vu), f64x2.mul(vt, f64x2.sub(hi2(xv), vm)));
      v128.store(dx + p, join4(r0, r1));
    }
  } else {
    for (; q + 4 <= inner; q += 4) {
      const p = o + (<usize>q << 2);
      const g = gradAt(dy, y, p);
      v128.store(dx + p, join4(f64x2.mul(vs, lo2(g)), f64x2.mul(vs, hi2(g))));
    }
  }
  for (; q < inner; q++) {
    const p = o + (<usize>q << 2);
    const g = gradScalar(dy, y, p);
    store<f32>(dx + p, <f32>(stats ? S * g + U + T * (<f64>load<f32>(x + p) - m) : S * g));
  }
}

/** The same for four adjacent channels c..c+3 of [N, C] over rows n0..n1 (constants per lane). */
function applyColumns(x: usize, dy: usize, y: usize, dx: usize, coef: usize, mean: usize, C: i32, c: i32, n0: i32, n1: i32, stats: bool): void {
  const stride = <usize>C << 2;
  const c8 = <usize>c << 3, C8 = <usize>C << 3;
  const s0 = v128.load(coef + c8), s1 = v128.load(coef + c8, 16);
  const t0 = v128.load(coef + C8 + c8), t1 = v128.load(coef + C8 + c8, 16);
  const u0 = v128.load(coef + 2 * C8 + c8), u1 = v128.load(coef + 2 * C8 + c8, 16);
  const mv = v128.load(mean + (<usize>c << 2)), m0 = lo2(mv), m1 = hi2(mv);
  for (let n = n0; n < n1; n++) {
    const o = (<usize>c << 2) + <usize>n * stride;
    const g = gradAt(dy, y, o);
    let r0: v128, r1: v128;
    if (stats) {
      const xv = v128.load(x + o);
      r0 = f64x2.add(f64x2.add(f64x2.mul(s0, lo2(g)), u0), f64x2.mul(t0, f64x2.sub(lo2(xv), m0)));
      r1 = f64x2.add(f64x2.add(f64x2.mul(s1, hi2(g)), u1), f64x2.mul(t1, f64x2.sub(hi2(xv), m1)));
    } else {
      r0 = f64x2.mul(s0, lo2(g)); r1 = f64x2.mul(s1, hi2(g));
    }
    v128.store(dx + o, join4(r0, r1));
  }
}

/** Units t * CPT .. of the gradient's second pass: dx from the channel constants. */
export function bnGradApplyTask(job: usize, t: i32): void {
  const N = arg(job, BG_N), C = arg(job, BG_C), inner = arg(job, BG_INNER), upt = arg(job, BG_CPT), ipc = arg(job, BG_IPC), cb = arg(job, BG_CB);
  const u0 = t * upt, u1 = min(arg(job, BG_COUNT), u0 + upt);
  const x = <usize>arg(job, BG_X), dx = <usize>arg(job, BG_DX), dy = <usize>arg(job, BG_DY), y = <usize>arg(job, BG_Y);
  const meanP = <usize>arg(job, BG_MEAN), coef = <usize>arg(job, BG_COEF);
  const stats = arg(job, BG_STATS) != 0;
  const blocks = (C + cb - 1) / cb;
  const C8 = <usize>C << 3;
  for (let u = u0; u < u1; u++) {
    const k = u / blocks, c0 = (u % blocks) * cb, c1 = min(C, c0 + cb);
    const n0 = k * ipc, n1 = min(N, n0 + ipc);
    if (inner == 1 && c1 - c0 == 4) {
      applyColumns(x, dy, y, dx, coef, meanP, C, c0, n0, n1, stats);
      continue;
    }
    for (let n = n0; n < n1; n++) {
      for (let c = c0; c < c1; c++) {
        const o = (<usize>n * <usize>C + <usize>c) * <usize>inner << 2;
        const c8 = <usize>c << 3;
        applyRow(x, dy, y, dx, o, inner, <f64>load<f32>(meanP + (<usize>c << 2)),
          load<f64>(coef + c8), load<f64>(coef + C8 + c8), load<f64>(coef + 2 * C8 + c8), stats);
      }
    }
  }
}
