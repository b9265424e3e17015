// Softmax and log-softmax along one axis, and their gradients (src/backend/js/softmax.ts).
// x is [outer, n, inner]; a row is the n elements at stride `inner`. Exponentials, logs and
// sums run in float64 and round once to float32, as the reference (softmax even stores the
// float32-rounded exponential and divides that by the sum, as the reference does).
//
// A unit of work is a row when inner == 1 (contiguous, four elements a step), else four
// adjacent rows (four inner indices: lanes), so every load is contiguous either way.
import { arg } from './job';
import { exp2x, hi2, join4, lo2, log2x } from './vmath';

export const SM_X = 0, SM_DY = 1, SM_OUT = 2, SM_OUTER = 3, SM_N = 4, SM_INNER = 5, SM_OP = 6, SM_UPT = 7, SM_UNITS = 8;
export const SM_SOFTMAX = 0, SM_LOGSOFTMAX = 1, SM_SOFTMAX_GRAD = 2, SM_LOGSOFTMAX_GRAD = 3;

// @ts-ignore: decorator
@inline function exp1(d: f64): f64 { return f64x2.extract_lane(exp2x(f64x2.splat(d)), 0); }
// @ts-ignore: decorator
@inline function hsum(v: v128): f64 { return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1); }
/** m + log(s), lane by lane. */
// @ts-ignore: decorator
@inline function lse2(m: v128, s: v128): v128 { return f64x2.add(m, log2x(s)); }
// (Not Math.log: AssemblyScript's reads lookup tables from static data, which this module
// must not have: its memory below the heap is the job block.)
// @ts-ignore: decorator
@inline function log1(v: f64): f64 { return f64x2.extract_lane(log2x(f64x2.splat(v)), 0); }
// @ts-ignore: decorator
@inline function ld(p: usize, j: i32, step: i32): f32 { return load<f32>(p + (<usize>j * <usize>step << 2)); }

/** One row, element by element (the reference's loops): rows of a strided tail, and row tails. */
function rowScalar(op: i32, x: usize, dy: usize, out: usize, n: i32, step: i32): void {
  if (op == SM_SOFTMAX || op == SM_LOGSOFTMAX) {
    let m: f32 = -Infinity;
    for (let j = 0; j < n; j++) { const v = ld(x, j, step); if (v > m || v != v) m = v; }
    let sum: f64 = 0;
    for (let j = 0; j < n; j++) {
      const e = exp1(<f64>ld(x, j, step) - <f64>m);
      if (op == SM_SOFTMAX) store<f32>(out + (<usize>j * <usize>step << 2), <f32>e);
      sum += e;
    }
    if (op == SM_SOFTMAX) {
      for (let j = 0; j < n; j++) { const p = out + (<usize>j * <usize>step << 2); store<f32>(p, <f32>(<f64>load<f32>(p) / sum)); }
    } else {
      const lse = <f64>m + log1(sum);
      for (let j = 0; j < n; j++) store<f32>(out + (<usize>j * <usize>step << 2), <f32>(<f64>ld(x, j, step) - lse));
    }
  } else if (op == SM_SOFTMAX_GRAD) {
    let dot: f64 = 0;
    for (let j = 0; j < n; j++) dot += <f64>ld(dy, j, step) * <f64>ld(x, j, step);
    for (let j = 0; j < n; j++) store<f32>(out + (<usize>j * <usize>step << 2), <f32>(<f64>ld(x, j, step) * (<f64>ld(dy, j, step) - dot)));
  } else {
    let total: f64 = 0;
    for (let j = 0; j < n; j++) total += <f64>ld(dy, j, step);
    for (let j = 0; j < n; j++) store<f32>(out + (<usize>j * <usize>step << 2), <f32>(<f64>ld(dy, j, step) - exp1(<f64>ld(x, j, step)) * total));
  }
}

/** A contiguous row, four elements a step. */
function rowContig(op: i32, x: usize, dy: usize, out: usize, n: i32): void {
  const n4 = n & ~3;
  if (op == SM_SOFTMAX || op == SM_LOGSOFTMAX) {
    let vm = f32x4.splat(-Infinity);
    for (let j = 0; j < n4; j += 4) vm = f32x4.max(vm, v128.load(x + (<usize>j << 2))); // NaN wins, as in the reference
    let ms: f32 = -Infinity;
    for (let k = 0; k < 4; k++) { const v = f32x4.extract_lane(vm, 0); if (v > ms || v != v) ms = v; vm = v128.shuffle<f32>(vm, vm, 1, 2, 3, 0); }
    for (let j = n4; j < n; j++) { const v = load<f32>(x + (<usize>j << 2)); if (v > ms || v != v) ms = v; }
    const m2 = f64x2.splat(<f64>ms);
    let s0 = f64x2.splat(0), s1 = s0;
    for (let j = 0; j < n4; j += 4) {
      const v = v128.load(x + (<usize>j << 2));
      const e0 = exp2x(f64x2.sub(lo2(v), m2)), e1 = exp2x(f64x2.sub(hi2(v), m2));
      if (op == SM_SOFTMAX) v128.store(out + (<usize>j << 2), join4(e0, e1));
      s0 = f64x2.add(s0, e0); s1 = f64x2.add(s1, e1);
    }
    let sum = hsum(f64x2.add(s0, s1));
    for (let j = n4; j < n; j++) {
      const e = exp1(<f64>load<f32>(x + (<usize>j << 2)) - <f64>ms);
      if (op == SM_SOFTMAX) store<f32>(out + (<usize>j << 2), <f32>e);
      sum += e;
    }
    if (op == SM_SOFTMAX) {
      const vs = f64x2.splat(sum);
      for (let j = 0; j < n4; j += 4) {
        const p = out + (<usize>j << 2);
        const v = v128.load(p);
        v128.store(p, join4(f64x2.div(lo2(v), vs), f64x2.div(hi2(v), vs)));
      }
      for (let j = n4; j < n; j++) { const p = out + (<usize>j << 2); store<f32>(p, <f32>(<f64>load<f32>(p) / sum)); }
    } else {
      const lse = <f64>ms + log1(sum);
      const vl = f64x2.splat(lse);
      for (let j = 0; j < n4; j += 4) {
        const v = v128.load(x + (<usize>j << 2));
        v128.store(out + (<usize>j << 2), join4(f64x2.sub(lo2(v), vl), f64x2.sub(hi2(v), vl)));
      }
      for (let j = n4; j < n; j++) store<f32>(out + (<usize>j << 2), <f32>(<f64>load<f32>(x + (<usize>j << 2)) - lse));
    }
    return;
  }
  // Gradients: a float64 sum over the row, then one float64 expression per element.
  let s0 = f64x2.splat(0), s1 = s0;
  for (let j = 0; j < n4; j += 4) {
    const g = v128.load(dy + (<usize>j << 2));
    if (op == SM_SOFTMAX_GRAD) {
      const y = v128.load(x + (<usize>j << 2));
      s0 = f64x2.add(s0, f64x2.mul(lo2(g), lo2(y))); s1 = f64x2.add(s1, f64x2.mul(hi2(g), hi2(y)));
    } else {
      s0 = f64x2.add(s0, lo2(g)); s1 = f64x2.add(s1, hi2(g));
    }
  }
  let s = hsum(f64x2.add(s0, s1));
  for (let j = n4; j < n; j++) {
    const g = <f64>load<f32>(dy + (<usize>j << 2));
    s += op == SM_SOFTMAX_GRAD ? g * <f64>load<f32>(x + (<usize>j << 2)) : g;
  }
  const vs = f64x2.splat(s);
  for (let j = 0; j < n4; j += 4) {
    const o = <usize>j << 2;
    const g = v128.load(dy + o), y = v128.load(x + o);
    let r0: v128, r1: v128;
    if (op == SM_SOFTMAX_GRAD) {
      r0 = f64x2.mul(lo2(y), f64x2.sub(lo2(g), vs)); r1 = f64x2.mul(hi2(y), f64x2.sub(hi2(g), vs));
    } else {
      r0 = f64x2.sub(lo2(g), f64x2.mul(exp2x(lo2(y)), vs)); r1 = f64x2.sub(hi2(g), f64x2.mul(exp2x(hi2(y)), vs));
    }
    v128.store(out + o, join4(r0, r1));
  }
  for (let j = n4; j < n; j++) {
    const o = <usize>j << 2;
    const g = <f64>load<f32>(dy + o), y = <f64>load<f32>(x + o);
    store<f32>(out + o, <f32>(op == SM_SOFTMAX_GRAD ? y * (g - s) : g - exp1(y) * s));
  }
}

/** Four adjacent rows (lanes), each n elements at stride `step`. */
function rows4(op: i32, x: usize, dy: usize, out: usize, n: i32, step: i32): void {
  const stride = <usize>step << 2;
  if (op == SM_SOFTMAX || op == SM_LOGSOFTMAX) {
    let m = f32x4.splat(-Infinity);
    for (let j = 0; j < n; j++) m = f32x4.max(m, v128.load(x + <usize>j * stride));
    const m0 = lo2(m), m1 = hi2(m);
    let s0 = f64x2.splat(0), s1 = s0;
    for (let j = 0; j < n; j++) {
      const v = v128.load(x + <usize>j * stride);
      const e0 = exp2x(f64x2.sub(lo2(v), m0)), e1 = exp2x(f64x2.sub(hi2(v), m1));
      if (op == SM_SOFTMAX) v128.store(out + <usize>j * stride, join4(e0, e1));
      s0 = f64x2.add(s0, e0); s1 = f64x2.add(s1, e1);
    }
    if (op == SM_SOFTMAX) {
      for (let j = 0; j < n; j++) {
        const p = out + <usize>j * stride;
        const v = v128.load(p);
        v128.store(p, join4(f64x2.div(lo2(v), s0), f64x2.div(hi2(v), s1)));
      }
    } else {
      const l0 = lse2(m0, s0), l1 = lse2(m1, s1);
      for (let j = 0; j < n; j++) {
        const v = v128.load(x + <usize>j * stride);
        v128.store(out + <usize>j * stride, join4(f64x2.sub(lo2(v), l0), f64x2.sub(hi2(v), l1)));
      }
    }
    return;
  }
  let s0 = f64x2.splat(0), s1 = s0;
  for (let j = 0; j < n; j++) {
    const g = v128.load(dy + <usize>j * stride);
    if (op == SM_SOFTMAX_GRAD) {
      const y = v128.load(x + <usize>j * stride);
      s0 = f64x2.add(s0, f64x2.mul(lo2(g), lo2(y))); s1 = f64x2.add(s1, f64x2.mul(hi2(g), hi2(y)));
    } else {
      s0 = f64x2.add(s0, lo2(g)); s1 = f64x2.add(s1, hi2(g));
    }
  }
  for (let j = 0; j < n; j++) {
    const o = <usize>j * stride;
    const g = v128.load(dy + o), y = v128.load(x + o);
    let r0: v128, r1: v128;
    if (op == SM_SOFTMAX_GRAD) {
      r0 = f64x2.mul(lo2(y), f64x2.sub(lo2(g), s0)); r1 = f64x2.mul(hi2(y), f64x2.sub(hi2(g), s1));
    } else {
      r0 = f64x2.sub(lo2(g), f64x2.mul(exp2x(lo2(y)), s0)); r1 = f64x2.sub(hi2(g), f64x2.mul(exp2x(hi2(y)), s1));
    }
    v128.store(out + o, join4(r0, r1));
  }
}

export function softmaxTask(job: usize, t: i32): void {
  const op = arg(job, SM_OP), n = arg(job, SM_N), inner = arg(job, SM_INNER), upt = arg(job, SM_UPT);
  const x = <usize>arg(job, SM_X), dy = <usize>arg(job, SM_DY), out = <usize>arg(job, SM_OUT);
  const u0 = t * upt, u1 = min(arg(job, SM_UNITS), u0 + upt);
  const rowBytes = <usize>n * <usize>inner << 2;
  if (inner == 1) {
    for (let u = u0; u < u1; u++) {
      const o = <usize>u * rowBytes;
      rowContig(op, x + o, dy + o, out + o, n);
    }
    return;
  }
  // Units: outer index o, then blocks of four inner indices (the last block maybe fewer).
  const blocks = (inner + 3) >> 2;
  for (let u = u0; u < u1; u++) {
    const ob = u / blocks, i = (u % blocks) << 2;
    const o = <usize>ob * rowBytes + (<usize>i << 2);
    if (i + 4 <= inner) rows4(op, x + o, dy + o, out + o, n, inner);
    else for (let k = 0; i + k < inner; k++) rowScalar(op, x + o + (<usize>k << 2), dy + o + (<usize>k << 2), out + o + (<usize>k << 2), n, inner);
  }
}
