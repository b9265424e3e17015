// Batch norm's training kernels split over channels AND images, so every shape keeps every
// thread busy (few channels included) and the statistics take one pass over x.
//
// A unit is one channel (four adjacent channels, one vector, when inner == 1: [N, C]) over a
// chunk of `ipc` images. Its sums go to float64 partials P[(chunk * C + c) * 2 + j]; a second
// job combines the partials of each channel in chunk order. The chunking comes from the shape
// alone (never from the thread count or timing), so results are the same bits on any number of
// threads. Sums and formulas are float64 as the js reference (src/backend/js/normalization.ts).
import { arg, argf64 } from './job';
import { hi2, join4, lo2 } from './vmath';
import {
  BG_C, BG_CHUNKS, BG_CPT, BG_COUNT, BG_DB, BG_DW, BG_DX, BG_DY, BG_EPS, BG_INNER, BG_IPC, BG_MEAN, BG_N, BG_PART, BG_STATS, BG_VAR, BG_W, BG_X, BG_Y,
  BS_C, BS_CHUNKS, BS_COUNT, BS_CPT, BS_INNER, BS_IPC, BS_MEAN, BS_N, BS_PART, BS_SHIFT, BS_VAR, BS_X, planeSum,
} from './batchnorm';

/** Elements of a channel the statistics' shift averages (see shiftOf). */
const SHIFT_SAMPLES = 256;

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
/** Floats p[0], p[1] as float64: a 64-bit load, no shuffle (the conversions are what these loops spend their time on). */
// @ts-ignore: decorator
@inline function ld2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}
// @ts-ignore: decorator
@inline function hsum(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
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
  const m = <i64>min<i64>(SHIFT_SAMPLES, count);
  let s: f64 = 0;
  for (let j: i64 = 0; j < m; j++) {
    const idx = j * count / m;
    const n = idx / <i64>inner, q = idx % <i64>inner;
    s += <f64>load<f32>(x + ((<usize>n * <usize>C + <usize>c) * <usize>inner + <usize>q << 2));
  }
  const k = <f32>(s / <f64>m);
  return isFinite(k) ? k : 0;
}

/** Channels t * CPT .. : their shifts, as floats at BS_SHIFT. */
export function bnStatsShiftTask(job: usize, t: i32): void {
  const N = arg(job, BS_N), C = arg(job, BS_C), inner = arg(job, BS_INNER), cpt = arg(job, BS_CPT);
  const x = <usize>arg(job, BS_X), K = <usize>arg(job, BS_SHIFT);
  for (let c = t * cpt; c < min(C, t * cpt + cpt); c++) store<f32>(K + (<usize>c << 2), shiftOf(x, c, N, C, inner));
}

/** Channels per unit: four (one vector across channels) for [N, C], else one. */
// @ts-ignore: decorator
@inline function perUnit(inner: i32): i32 {
  return inner == 1 ? 4 : 1;
}

/**
 * Float32 partial sums reach float64 every FLUSH vector steps, so a float32 sum never adds more
 * than 2 * FLUSH terms: with float64 across blocks its error is a few float32 roundings of the
 * block, not growing with the channel's size.
 */
const FLUSH = 8;

// @ts-ignore: decorator
@inline function widenSum(v: v128): v128 {
  return f64x2.add(f64x2.promote_low_f32x4(v), f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3)));
}

/** Sums of (x - K) and (x - K)^2 over images n0..n1 of channel c (inner floats per image), into P. */
function statsPlanar(x: usize, P: usize, C: i32, inner: i32, c: i32, k: i32, n0: i32, n1: i32, K: f32): void {
  const stride = <usize>C * <usize>inner << 2;
  const vk = f32x4.splat(K), zero = f32x4.splat(0);
  let a0 = zero, a1 = zero, q0 = zero, q1 = zero, steps = 0;
  let s = f64x2.splat(0), ss = s;
  let st: f64 = 0, sst: f64 = 0;
  for (let n = n0; n < n1; n++) {
    const row = x + <usize>n * stride + (<usize>c * <usize>inner << 2);
    let q = 0;
    for (; q + 8 <= inner; q += 8) {
      const p = row + (<usize>q << 2);
      const d0 = f32x4.sub(v128.load(p), vk), d1 = f32x4.sub(v128.load(p, 16), vk);
      a0 = f32x4.add(a0, d0); a1 = f32x4.add(a1, d1);
      q0 = f32x4.add(q0, f32x4.mul(d0, d0)); q1 = f32x4.add(q1, f32x4.mul(d1, d1));
      if (++steps == FLUSH) {
        s = f64x2.add(s, f64x2.add(widenSum(a0), widenSum(a1))); ss = f64x2.add(ss, f64x2.add(widenSum(q0), widenSum(q1)));
        a0 = zero; a1 = zero; q0 = zero; q1 = zero; steps = 0;
      }
    }
    for (; q < inner; q++) {
      const d = <f64>(load<f32>(row + (<usize>q << 2)) - K);
      st += d; sst += d * d;
    }
  }
  s = f64x2.add(s, f64x2.add(widenSum(a0), widenSum(a1))); ss = f64x2.add(ss, f64x2.add(widenSum(q0), widenSum(q1)));
  const o = P + ((<usize>k * <usize>C + <usize>c) << 4);
  store<f64>(o, hsum(s) + st);
  store<f64>(o, hsum(ss) + sst, 8);
}

/** The same for four adjacent channels c..c+3 of [N, C], lane by lane (shifts at K). */
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
  store<f64>(o, f64x2.extract_lane(a0, 0)); store<f64>(o, f64x2.extract_lane(q0, 0), 8);
  store<f64>(o, f64x2.extract_lane(a0, 1), 16); store<f64>(o, f64x2.extract_lane(q0, 1), 24);
  store<f64>(o, f64x2.extract_lane(a1, 0), 32); store<f64>(o, f64x2.extract_lane(q1, 0), 40);
  store<f64>(o, f64x2.extract_lane(a1, 1), 48); store<f64>(o, f64x2.extract_lane(q1, 1), 56);
}

/** Units t * CPT .. of the statistics: one pass of shifted sums into the partials. */
export function bnStatsPartTask(job: usize, t: i32): void {
  const N = arg(job, BS_N), C = arg(job, BS_C), inner = arg(job, BS_INNER), upt = arg(job, BS_CPT), ipc = arg(job, BS_IPC);
  const u0 = t * upt, u1 = min(arg(job, BS_COUNT), u0 + upt);
  const x = <usize>arg(job, BS_X), P = <usize>arg(job, BS_PART), K = <usize>arg(job, BS_SHIFT);
  const cpu = perUnit(inner), units = (C + cpu - 1) / cpu;
  for (let u = u0; u < u1; u++) {
    const k = u / units, c0 = (u % units) * cpu;
    const n0 = k * ipc, n1 = min(N, n0 + ipc);
    if (cpu == 4 && c0 + 4 <= C) {
      statsColumns(x, P, C, c0, k, n0, n1, K);
    } else {
      for (let c = c0; c < min(C, c0 + cpu); c++) statsPlanar(x, P, C, inner, c, k, n0, n1, load<f32>(K + (<usize>c << 2)));
    }
  }
}

/**
 * mean = K + s1 / count, variance = s2 / count - (s1 / count)^2, the partials added in chunk
 * order. The float32 blocks err by a few float32 roundings of sum (x - K)^2 = count * (var + d^2),
 * d = mean - K; where d^2 > var / 16, or the result is not finite (non-finite input, or a float32
 * block overflowed), the channel is redone in float64 and two passes, exactly as before.
 */
export function bnStatsFinishTask(job: usize, t: i32): void {
  const N = arg(job, BS_N), C = arg(job, BS_C), inner = arg(job, BS_INNER), chunks = arg(job, BS_CHUNKS);
  const x = <usize>arg(job, BS_X), P = <usize>arg(job, BS_PART), K = <usize>arg(job, BS_SHIFT);
  const mean = <usize>arg(job, BS_MEAN), variance = <usize>arg(job, BS_VAR);
  const count = <f64>N * <f64>inner;
  const stride = <usize>C * <usize>inner << 2;
  for (let c = 0; c < C; c++) {
    let s1: f64 = 0, s2: f64 = 0;
    for (let k = 0; k < chunks; k++) {
      const o = P + ((<usize>k * <usize>C + <usize>c) << 4);
      s1 += load<f64>(o); s2 += load<f64>(o, 8);
    }
    const d = s1 / count;
    let m = <f64>load<f32>(K + (<usize>c << 2)) + d, v = s2 / count - d * d;
    if (!(d * d * 16 <= v) || !isFinite(v)) {
      const base = x + (<usize>c * <usize>inner << 2);
      m = planeSum(base, N, stride, inner, 0, false) / count;
      v = planeSum(base, N, stride, inner, m, true) / count;
    }
    store<f32>(mean + (<usize>c << 2), <f32>m);
    store<f32>(variance + (<usize>c << 2), <f32>v);
  }
}

/** Sum of g and of g * (x - m) over images n0..n1 of channel c, into P. */
function gradSumsPlanar(x: usize, dy: usize, y: usize, dx: usize, P: usize, C: i32, inner: i32, c: i32, k: i32, n0: i32, n1: i32, m: f64): void {
  const stride = <usize>C * <usize>inner << 2;
  const vm = f64x2.splat(m);
  let g0 = f64x2.splat(0), g1 = g0, h0 = g0, h1 = g0;
  let gs: f64 = 0, hs: f64 = 0;
  for (let n = n0; n < n1; n++) {
    const off = <usize>n * stride + (<usize>c * <usize>inner << 2);
    let q = 0;
    for (; q + 4 <= inner; q += 4) {
      const p = off + (<usize>q << 2);
      let gl: v128, gh: v128;
      if (y) {
        const g = gradAt(dy, y, p);
        v128.store(dx + p, g);
        gl = lo2(g); gh = hi2(g);
      } else {
        gl = ld2(dy + p); gh = ld2(dy + p + 8);
      }
      g0 = f64x2.add(g0, gl); g1 = f64x2.add(g1, gh);
      h0 = f64x2.add(h0, f64x2.mul(gl, f64x2.sub(ld2(x + p), vm)));
      h1 = f64x2.add(h1, f64x2.mul(gh, f64x2.sub(ld2(x + p + 8), vm)));
    }
    for (; q < inner; q++) {
      const p = off + (<usize>q << 2);
      const g = gradScalar(dy, y, p);
      if (y) store<f32>(dx + p, <f32>g);
      gs += g;
      hs += g * (<f64>load<f32>(x + p) - m);
    }
  }
  const o = P + ((<usize>k * <usize>C + <usize>c) << 4);
  store<f64>(o, hsum(f64x2.add(g0, g1)) + gs);
  store<f64>(o, hsum(f64x2.add(h0, h1)) + hs, 8);
}

/** The same for four adjacent channels c..c+3 of [N, C]. */
function gradSumsColumns(x: usize, dy: usize, y: usize, dx: usize, P: usize, C: i32, c: i32, k: i32, n0: i32, n1: i32, mv: v128): void {
  const stride = <usize>C << 2;
  const m0 = lo2(mv), m1 = hi2(mv);
  let g0 = f64x2.splat(0), g1 = g0, h0 = g0, h1 = g0;
  for (let n = n0; n < n1; n++) {
    const o = (<usize>c << 2) + <usize>n * stride;
    const g = gradAt(dy, y, o), xv = v128.load(x + o);
    if (y) v128.store(dx + o, g);
    const gl = lo2(g), gh = hi2(g);
    g0 = f64x2.add(g0, gl); g1 = f64x2.add(g1, gh);
    h0 = f64x2.add(h0, f64x2.mul(gl, f64x2.sub(lo2(xv), m0)));
    h1 = f64x2.add(h1, f64x2.mul(gh, f64x2.sub(hi2(xv), m1)));
  }
  const o = P + ((<usize>k * <usize>C + <usize>c) << 4);
  store<f64>(o, f64x2.extract_lane(g0, 0)); store<f64>(o, f64x2.extract_lane(h0, 0), 8);
  store<f64>(o, f64x2.extract_lane(g0, 1), 16); store<f64>(o, f64x2.extract_lane(h0, 1), 24);
  store<f64>(o, f64x2.extract_lane(g1, 0), 32); store<f64>(o, f64x2.extract_lane(h1, 0), 40);
  store<f64>(o, f64x2.extract_lane(g1, 1), 48); store<f64>(o, f64x2.extract_lane(h1, 1), 56);
}

/** Units t * CPT .. of the gradient's sums (first pass). */
export function bnGradPartTask(job: usize, t: i32): void {
  const N = arg(job, BG_N), C = arg(job, BG_C), inner = arg(job, BG_INNER), upt = arg(job, BG_CPT), ipc = arg(job, BG_IPC);
  const u0 = t * upt, u1 = min(arg(job, BG_COUNT), u0 + upt);
  const x = <usize>arg(job, BG_X), dy = <usize>arg(job, BG_DY), y = <usize>arg(job, BG_Y), P = <usize>arg(job, BG_PART), dx = <usize>arg(job, BG_DX);
  const meanP = <usize>arg(job, BG_MEAN);
  const cpu = perUnit(inner), units = (C + cpu - 1) / cpu;
  for (let u = u0; u < u1; u++) {
    const k = u / units, c0 = (u % units) * cpu;
    const n0 = k * ipc, n1 = min(N, n0 + ipc);
    if (cpu == 4 && c0 + 4 <= C) {
      gradSumsColumns(x, dy, y, dx, P, C, c0, k, n0, n1, v128.load(meanP + (<usize>c0 << 2)));
    } else {
      for (let c = c0; c < min(C, c0 + cpu); c++) gradSumsPlanar(x, dy, y, dx, P, C, inner, c, k, n0, n1, <f64>load<f32>(meanP + (<usize>c << 2)));
    }
  }
}

/** Channel c's [sum g, sum g (x - m)]: its partials added in chunk order. */
function channelSums(job: usize, c: i32): v128 {
  const C = arg(job, BG_C), chunks = arg(job, BG_CHUNKS), P = <usize>arg(job, BG_PART);
  let s = f64x2.splat(0);
  for (let k = 0; k < chunks; k++) s = f64x2.add(s, v128.load(P + ((<usize>k * <usize>C + <usize>c) << 4)));
  return s;
}

/**
 * Channel c's constants as the reference: invstd = 1 / sqrt(var + eps), scale = weight * invstd;
 * with batch statistics dx = scale * (g - sumDy/M - xhat * sumDyXhat/M), written as
 * dx = S g + U + T (x - m): returns [S, T]; U is -S sumDy/M (see applyU). The unit of chunk 0
 * stores dbias and dweight.
 */
function channelST(job: usize, c: i32, sums: v128, store0: bool): v128 {
  const co = <usize>c << 2, wP = <usize>arg(job, BG_W);
  const count = <f64>arg(job, BG_N) * <f64>arg(job, BG_INNER);
  const invstd = 1 / Math.sqrt(<f64>load<f32>(<usize>arg(job, BG_VAR) + co) + argf64(job, BG_EPS));
  const scale = (wP ? <f64>load<f32>(wP + co) : 1) * invstd;
  const sumDy = f64x2.extract_lane(sums, 0), sumDyXhat = f64x2.extract_lane(sums, 1) * invstd;
  if (store0) {
    store<f32>(<usize>arg(job, BG_DB) + co, <f32>sumDy);
    store<f32>(<usize>arg(job, BG_DW) + co, <f32>sumDyXhat);
  }
  return f64x2.replace_lane(f64x2.splat(scale), 1, -scale * invstd * (sumDyXhat / count));
}

// @ts-ignore: decorator
@inline function applyU(job: usize, S: f64, sums: v128): f64 {
  return -S * (f64x2.extract_lane(sums, 0) / (<f64>arg(job, BG_N) * <f64>arg(job, BG_INNER)));
}

/** dx over images n0..n1 of channel c: S g + U + T (x - m) with batch statistics, else S g. */
function applyPlanar(x: usize, dy: usize, dx: usize, C: i32, inner: i32, c: i32, n0: i32, n1: i32, m: f64, S: f64, T: f64, U: f64, stats: bool): void {
  const stride = <usize>C * <usize>inner << 2;
  const vm = f64x2.splat(m), vs = f64x2.splat(S), vt = f64x2.splat(T), vu = f64x2.splat(U);
  for (let n = n0; n < n1; n++) {
    const off = <usize>n * stride + (<usize>c * <usize>inner << 2);
    let q = 0;
    for (; q + 4 <= inner; q += 4) {
      const p = off + (<usize>q << 2);
      const g = v128.load(dy + p);
      let r0 = f64x2.mul(vs, lo2(g)), r1 = f64x2.mul(vs, hi2(g));
      if (stats) {
        const xv = v128.load(x + p);
        r0 = f64x2.add(f64x2.add(r0, vu), f64x2.mul(vt, f64x2.sub(lo2(xv), vm)));
        r1 = f64x2.add(f64x2.add(r1, vu), f64x2.mul(vt, f64x2.sub(hi2(xv), vm)));
      }
      v128.store(dx + p, join4(r0, r1));
    }
    for (; q < inner; q++) {
      const p = off + (<usize>q << 2);
      const g = <f64>load<f32>(dy + p);
      store<f32>(dx + p, <f32>(stats ? S * g + U + T * (<f64>load<f32>(x + p) - m) : S * g));
    }
  }
}

/** The same for four adjacent channels c..c+3 of [N, C] (constants per lane). */
function applyColumns(x: usize, dy: usize, dx: usize, C: i32, c: i32, n0: i32, n1: i32, mv: v128,
  s0: v128, s1: v128, t0: v128, t1: v128, u0: v128, u1: v128, stats: bool): void {
  const stride = <usize>C << 2;
  const m0 = lo2(mv), m1 = hi2(mv);
  for (let n = n0; n < n1; n++) {
    const o = (<usize>c << 2) + <usize>n * stride;
    const g = v128.load(dy + o);
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

/** Units t * CPT .. of the gradient's second pass: each unit combines its channel's partials, then writes dx. */
export function bnGradApplyTask(job: usize, t: i32): void {
  const N = arg(job, BG_N), C = arg(job, BG_C), inner = arg(job, BG_INNER), upt = arg(job, BG_CPT), ipc = arg(job, BG_IPC);
  const u0 = t * upt, u1 = min(arg(job, BG_COUNT), u0 + upt);
  // With a fused ReLU the first pass left the masked dy in dx: read it there, in place.
  const x = <usize>arg(job, BG_X), dx = <usize>arg(job, BG_DX), dy = arg(job, BG_Y) ? dx : <usize>arg(job, BG_DY);
  const meanP = <usize>arg(job, BG_MEAN);
  const stats = arg(job, BG_STATS) != 0;
  const cpu = perUnit(inner), units = (C + cpu - 1) / cpu;
  for (let u = u0; u < u1; u++) {
    const k = u / units, c0 = (u % units) * cpu;
    const n0 = k * ipc, n1 = min(N, n0 + ipc);
    if (cpu == 4 && c0 + 4 <= C) {
      const a = channelSums(job, c0), b = channelSums(job, c0 + 1), e = channelSums(job, c0 + 2), f = channelSums(job, c0 + 3);
      const sa = channelST(job, c0, a, k == 0), sb = channelST(job, c0 + 1, b, k == 0);
      const se = channelST(job, c0 + 2, e, k == 0), sf = channelST(job, c0 + 3, f, k == 0);
      const S0 = f64x2.extract_lane(sa, 0), S1 = f64x2.extract_lane(sb, 0), S2 = f64x2.extract_lane(se, 0), S3 = f64x2.extract_lane(sf, 0);
      applyColumns(x, dy, dx, C, c0, n0, n1, v128.load(meanP + (<usize>c0 << 2)),
        f64x2.replace_lane(f64x2.splat(S0), 1, S1), f64x2.replace_lane(f64x2.splat(S2), 1, S3),
        f64x2.replace_lane(f64x2.splat(f64x2.extract_lane(sa, 1)), 1, f64x2.extract_lane(sb, 1)),
        f64x2.replace_lane(f64x2.splat(f64x2.extract_lane(se, 1)), 1, f64x2.extract_lane(sf, 1)),
        f64x2.replace_lane(f64x2.splat(applyU(job, S0, a)), 1, applyU(job, S1, b)),
        f64x2.replace_lane(f64x2.splat(applyU(job, S2, e)), 1, applyU(job, S3, f)), stats);
    } else {
      for (let c = c0; c < min(C, c0 + cpu); c++) {
        const sums = channelSums(job, c), st = channelST(job, c, sums, k == 0);
        const S = f64x2.extract_lane(st, 0);
        applyPlanar(x, dy, dx, C, inner, c, n0, n1, <f64>load<f32>(meanP + (<usize>c << 2)), S, f64x2.extract_lane(st, 1), applyU(job, S, sums), stats);
      }
    }
  }
}
