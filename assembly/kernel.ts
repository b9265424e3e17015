// The register-blocked SIMD micro-kernel: a 4x8 tile of C held in eight f32x4 registers.
//
// Why 4x8: V8 gives WebAssembly 15 usable xmm registers; 8 accumulators + 2 B vectors + 1 A
// splat leave room to spare, and a microbenchmark (4x8, 6x8 and 4x12 on L1-resident panels)
// measured them all within noise of each other (~43 GFLOP/s per core with mul+add), so the
// shape with no waste on channel counts that are multiples of 4 wins.
//
// Packed panels: A is MR rows interleaved per k step (4 floats), B is NR columns per k step
// (8 floats), both contiguous, so the inner loop is two vector loads, four splat loads and
// eight mul+add pairs. (Relaxed-SIMD FMA was only ~15% faster and needs a V8 flag in Node 20.)
import { madd } from './madd';
import { copyFloats, zeroFloats } from './mem';

export const MR: i32 = 4;
export const NR: i32 = 8;

/** Epilogue flags of `storeTile`. */
export const EP_LOAD: i32 = 1; // add the tile to what C holds (later K blocks, accumulate)
export const EP_BIAS_ROW: i32 = 2; // add bias[row] (conv: one bias per output channel)
export const EP_BIAS_COL: i32 = 4; // add bias[col] (MatMul / linear: bias along the last axis)
export const EP_RELU: i32 = 8; // max(0, .) after the bias
export const EP_SCALE_ROW: i32 = 16; // multiply by scale[row] before the bias (a folded eval batch norm)

// @ts-ignore: decorator
@inline function relu(v: v128): v128 {
  // Same rule as the js reference: anything not > 0 (NaN included) becomes 0.
  return v128.and(v, f32x4.gt(v, f32x4.splat(0)));
}

/**
 * The per-channel epilogue of the convolutions that finish outside this kernel (Winograd,
 * direct): v * scale + bias, then ReLU. Without a scale, s is 1: v * 1 + b is exactly v + b,
 * fused or not, so the result does not change.
 */
// @ts-ignore: decorator
@inline export function finish(v: v128, s: v128, b: v128, withRelu: bool): v128 {
  const y = madd(v, s, b);
  return withRelu ? relu(y) : y;
}

/** splat(scale[k]), or 1 without a scale (pointer 0). */
// @ts-ignore: decorator
@inline export function scaleAt(scale: usize, k: i32): v128 {
  return f32x4.splat(scale ? load<f32>(scale + (<usize>k << 2)) : 1);
}

/**
 * C[0:mr, 0:nr] (+)= Apanel x Bpanel over kc steps, with the epilogue in `flags`. B's k steps
 * are `bstep` bytes apart: 32 in a packed panel, a row of B when B is read in place (small M,
 * where packing would cost more than the multiplies it speeds up).
 * c points at C(0, 0), ldc is C's row stride in floats. `tmp` is 128 bytes of per-thread
 * scratch for partial tiles. bias points at bias[row0] (row mode) or bias[col0] (col mode),
 * scale at scale[row0].
 */
export function kernel4x8(
  kc: i32, pa: usize, pb: usize, bstep: usize, c: usize, ldc: i32, mr: i32, nr: i32, flags: i32, bias: usize, scale: usize, tmp: usize,
): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00;
  let c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    pa += 16; pb += bstep;
  }
  const full = mr == MR && nr == NR;
  const rs = <usize>ldc << 2;
  const dst = full ? c : tmp;
  const drs: usize = full ? rs : 32;
  if (!full || (flags & EP_LOAD)) {
    if (!full) {
      // Gather the valid part of C into the temporary tile (zeros elsewhere).
      zeroFloats(tmp, 32);
      if (flags & EP_LOAD) {
        for (let i = 0; i < mr; i++) copyFloats(tmp + (<usize>i << 5), c + <usize>i * rs, nr);
      }
    }
    if (flags & EP_LOAD) {
      c00 = f32x4.add(c00, v128.load(dst)); c01 = f32x4.add(c01, v128.load(dst, 16));
      c10 = f32x4.add(c10, v128.load(dst + drs)); c11 = f32x4.add(c11, v128.load(dst + drs, 16));
      c20 = f32x4.add(c20, v128.load(dst + 2 * drs)); c21 = f32x4.add(c21, v128.load(dst + 2 * drs, 16));
      c30 = f32x4.add(c30, v128.load(dst + 3 * drs)); c31 = f32x4.add(c31, v128.load(dst + 3 * drs, 16));
    }
  }
  if (flags & EP_SCALE_ROW) {
    // scale[row] for each of the (up to) four rows, as the bias below.
    let m = f32x4.splat(load<f32>(scale)); c00 = f32x4.mul(c00, m); c01 = f32x4.mul(c01, m);
    if (mr > 1) { m = f32x4.splat(load<f32>(scale, 4)); c10 = f32x4.mul(c10, m); c11 = f32x4.mul(c11, m); }
    if (mr > 2) { m = f32x4.splat(load<f32>(scale, 8)); c20 = f32x4.mul(c20, m); c21 = f32x4.mul(c21, m); }
    if (mr > 3) { m = f32x4.splat(load<f32>(scale, 12)); c30 = f32x4.mul(c30, m); c31 = f32x4.mul(c31, m); }
  }
  if (flags & EP_BIAS_ROW) {
    // bias[row] for each of the (up to) four rows; rows past mr are never written back.
    let b = f32x4.splat(load<f32>(bias)); c00 = f32x4.add(c00, b); c01 = f32x4.add(c01, b);
    if (mr > 1) { b = f32x4.splat(load<f32>(bias, 4)); c10 = f32x4.add(c10, b); c11 = f32x4.add(c11, b); }
    if (mr > 2) { b = f32x4.splat(load<f32>(bias, 8)); c20 = f32x4.add(c20, b); c21 = f32x4.add(c21, b); }
    if (mr > 3) { b = f32x4.splat(load<f32>(bias, 12)); c30 = f32x4.add(c30, b); c31 = f32x4.add(c31, b); }
  }
  if (flags & EP_BIAS_COL) {
    let b0: v128, b1: v128;
    if (nr == NR) { b0 = v128.load(bias); b1 = v128.load(bias, 16); } else {
      zeroFloats(tmp, 8); copyFloats(tmp, bias, nr);
      b0 = v128.load(tmp); b1 = v128.load(tmp, 16);
    }
    c00 = f32x4.add(c00, b0); c01 = f32x4.add(c01, b1); c10 = f32x4.add(c10, b0); c11 = f32x4.add(c11, b1);
    c20 = f32x4.add(c20, b0); c21 = f32x4.add(c21, b1); c30 = f32x4.add(c30, b0); c31 = f32x4.add(c31, b1);
  }
  if (flags & EP_RELU) {
    c00 = relu(c00); c01 = relu(c01); c10 = relu(c10); c11 = relu(c11);
    c20 = relu(c20); c21 = relu(c21); c30 = relu(c30); c31 = relu(c31);
  }
  v128.store(dst, c00); v128.store(dst, c01, 16);
  v128.store(dst + drs, c10); v128.store(dst + drs, c11, 16);
  v128.store(dst + 2 * drs, c20); v128.store(dst + 2 * drs, c21, 16);
  v128.store(dst + 3 * drs, c30); v128.store(dst + 3 * drs, c31, 16);
  if (!full) {
    for (let i = 0; i < mr; i++) copyFloats(c + <usize>i * rs, tmp + (<usize>i << 5), nr);
  }
}

/** Rows of the GEMM's (assembly/gemm.ts) main micro-kernel. */
export const MR6: i32 = 6;

/**
 * kernel4x8 for a 6x8 tile: twelve accumulators, which with fused multiply-adds (4-cycle
 * latency, two per cycle) keep both FMA pipes busy where eight leave no slack, and each B
 * vector feeds six rows instead of four. Same arguments and epilogue as kernel4x8; A panels
 * interleave 6 rows per k step (pack.ts, packA6); `tmp` is 416 bytes.
 * The sums go through `tmp` to the epilogue: 12 accumulators + 2 B vectors + 1 A splat fill
 * V8's 15 vector registers, and with anything else live in the same function (the epilogue,
 * the caller's loops once inlined) accumulators spilled out of the loop (half speed).
 */
export function kernel6x8(
  kc: i32, pa: usize, pb: usize, bstep: usize, c: usize, ldc: i32, mr: i32, nr: i32, flags: i32, bias: usize, scale: usize, tmp: usize,
): void {
  // Two call sites: Binaryen inlines a function called once (AssemblyScript has no way to
  // forbid it), which would put the loop back among the callers' locals.
  if (bstep == 32) sums6x8(kc, pa, pb, 32, tmp);
  else sums6x8(kc, pa, pb, bstep, tmp);
  finish6x8(tmp, c, ldc, mr, nr, flags, bias, scale, tmp + 192);
}

function sums6x8(kc: i32, pa: usize, pb: usize, bstep: usize, acc: usize): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  let c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    a = v128.load32_splat(pa, 16);
    c40 = madd(a, b0, c40); c41 = madd(a, b1, c41);
    a = v128.load32_splat(pa, 20);
    c50 = madd(a, b0, c50); c51 = madd(a, b1, c51);
    pa += 24; pb += bstep;
  }
  v128.store(acc, c00); v128.store(acc, c01, 16); v128.store(acc, c10, 32); v128.store(acc, c11, 48);
  v128.store(acc, c20, 64); v128.store(acc, c21, 80); v128.store(acc, c30, 96); v128.store(acc, c31, 112);
  v128.store(acc, c40, 128); v128.store(acc, c41, 144); v128.store(acc, c50, 160); v128.store(acc, c51, 176);
}

/**
 * C[0:mr, 0:nr] (+)= the 6x8 sums at acc (rows 32 bytes apart), with kernel4x8's epilogue, a
 * row at a time. `tmp` holds 8 floats of partial bias.
 */
function finish6x8(acc: usize, c: usize, ldc: i32, mr: i32, nr: i32, flags: i32, bias: usize, scale: usize, tmp: usize): void {
  const rs = <usize>ldc << 2;
  let b0 = f32x4.splat(0), b1 = b0;
  if (flags & EP_BIAS_COL) {
    if (nr == NR) { b0 = v128.load(bias); b1 = v128.load(bias, 16); } else {
      zeroFloats(tmp, 8); copyFloats(tmp, bias, nr);
      b0 = v128.load(tmp); b1 = v128.load(tmp, 16);
    }
  }
  for (let i = 0; i < mr; i++) {
    const s = acc + (<usize>i << 5), d = c + <usize>i * rs;
    let v0 = v128.load(s), v1 = v128.load(s, 16);
    if (nr == NR) {
      if (flags & EP_LOAD) { v0 = f32x4.add(v0, v128.load(d)); v1 = f32x4.add(v1, v128.load(d, 16)); }
    } else if (flags & EP_LOAD) {
      // Partial tile: the valid columns of C into the row's sums (the rest never written back).
      for (let j = 0; j < nr; j++) store<f32>(s + (<usize>j << 2), load<f32>(s + (<usize>j << 2)) + load<f32>(d + (<usize>j << 2)));
      v0 = v128.load(s); v1 = v128.load(s, 16);
    }
    if (flags & EP_SCALE_ROW) { const m = f32x4.splat(load<f32>(scale + (<usize>i << 2))); v0 = f32x4.mul(v0, m); v1 = f32x4.mul(v1, m); }
    if (flags & EP_BIAS_ROW) { const b = f32x4.splat(load<f32>(bias + (<usize>i << 2))); v0 = f32x4.add(v0, b); v1 = f32x4.add(v1, b); }
    if (flags & EP_BIAS_COL) { v0 = f32x4.add(v0, b0); v1 = f32x4.add(v1, b1); }
    if (flags & EP_RELU) { v0 = relu(v0); v1 = relu(v1); }
    if (nr == NR) { v128.store(d, v0); v128.store(d, v1, 16); } else {
      v128.store(s, v0); v128.store(s, v1, 16);
      copyFloats(d, s, nr);
    }
  }
}
