// The filter gradient of the depthwise / small-group direct convolutions (KIND 52; see
// depthwise.ts): dW[f, c, i, j] = sum of dy[f, oy, ox] * slab[c, oy sh + i dh, ox sw + j dw],
// vectorised along ox (the reduction), eight accumulators at a time.
import { madd } from './madd';
import { arg, scratch } from './job';
import { copyFloats, roundUp, zeroFloats } from './mem';
import { buildSlab, DW_DH, DW_DW, DW_G, DW_CG, DW_H, DW_IPP, DW_KG, DW_KH, DW_KW, DW_N, DW_OH, DW_OW, DW_PL, DW_PSTRIDE, DW_PT, DW_RPB, DW_SH, DW_SW, DW_W, DW_W_, DW_X, DW_Y } from './depthwise';

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(f32x4.add(s, v128.shuffle<f32>(s, s, 1, 0, 3, 2)), 0);
}

// @ts-ignore: decorator
@inline function maddMasked(d: v128, s: usize, m: v128, acc: v128): v128 {
  return madd(d, v128.and(v128.load(s), m), acc);
}

/**
 * nt (1..4) taps at offs: acc[t] += sum over nr rows of dy . slab[+ offset t]: two vectors a
 * step in separate accumulators (eight dependency chains at nt = 4, so the adds' latency does
 * not bound the loop), then an odd last whole vector, then the masked tail (1..3 lanes).
 */
// @ts-ignore: decorator
@inline function gradBody(nt: i32, offs: usize, dyp: usize, slab: usize, nr: i32, nfull: i32, tail: i32, rs: usize, ds: usize, acc: usize): void {
  const o0 = <usize>load<i32>(offs);
  const o1 = nt > 1 ? <usize>load<i32>(offs, 4) : 0;
  const o2 = nt > 2 ? <usize>load<i32>(offs, 8) : 0;
  const o3 = nt > 3 ? <usize>load<i32>(offs, 12) : 0;
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  const mask = i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(tail));
  const all = i32x4.splat(-1);
  for (let rr = 0; rr < nr; rr++) {
    let d = dyp + <usize>rr * ds, s = slab + <usize>rr * rs;
    const de = d + (<usize>(nfull & ~1) << 4);
    while (d < de) {
      const v = v128.load(d), u = v128.load(d, 16);
      a0 = madd(v, v128.load(s + o0), a0);
      b0 = madd(u, v128.load(s + o0, 16), b0);
      if (nt > 1) { a1 = madd(v, v128.load(s + o1), a1); b1 = madd(u, v128.load(s + o1, 16), b1); }
      if (nt > 2) { a2 = madd(v, v128.load(s + o2), a2); b2 = madd(u, v128.load(s + o2, 16), b2); }
      if (nt > 3) { a3 = madd(v, v128.load(s + o3), a3); b3 = madd(u, v128.load(s + o3, 16), b3); }
      d += 32; s += 32;
    }
    // The odd whole vector (all lanes) and the tail (masked), one vector each.
    for (let e = 0; e < 2; e++) {
      if (e == 0 ? (nfull & 1) == 0 : tail == 0) continue;
      const m = e == 0 ? all : mask;
      const v = v128.load(d);
      a0 = maddMasked(v, s + o0, m, a0);
      if (nt > 1) a1 = maddMasked(v, s + o1, m, a1);
      if (nt > 2) a2 = maddMasked(v, s + o2, m, a2);
      if (nt > 3) a3 = maddMasked(v, s + o3, m, a3);
      d += 16; s += 16;
    }
  }
  store<f32>(acc, load<f32>(acc) + hsum(f32x4.add(a0, b0)));
  if (nt > 1) store<f32>(acc, load<f32>(acc, 4) + hsum(f32x4.add(a1, b1)), 4);
  if (nt > 2) store<f32>(acc, load<f32>(acc, 8) + hsum(f32x4.add(a2, b2)), 8);
  if (nt > 3) store<f32>(acc, load<f32>(acc, 12) + hsum(f32x4.add(a3, b3)), 12);
}

function grad(nt: i32, offs: usize, dyp: usize, slab: usize, nr: i32, nfull: i32, tail: i32, rs: usize, ds: usize, acc: usize): void {
  switch (nt) {
    case 1: gradBody(1, offs, dyp, slab, nr, nfull, tail, rs, ds, acc); break;
    case 2: gradBody(2, offs, dyp, slab, nr, nfull, tail, rs, ds, acc); break;
    case 3: gradBody(3, offs, dyp, slab, nr, nfull, tail, rs, ds, acc); break;
    default: gradBody(4, offs, dyp, slab, nr, nfull, tail, rs, ds, acc);
  }
}

/**
 * nt (1..8) taps at offs, one vector a step (enough dependency chains when taps are many):
 * acc[t] += sum over nr rows of dy . slab[+ offset t], whole vectors then the masked tail.
 */
// @ts-ignore: decorator
@inline function gradBody8(nt: i32, offs: usize, dyp: usize, slab: usize, nr: i32, nfull: i32, tail: i32, rs: usize, ds: usize, acc: usize): void {
  const o0 = <usize>load<i32>(offs);
  const o1 = nt > 1 ? <usize>load<i32>(offs, 4) : 0;
  const o2 = nt > 2 ? <usize>load<i32>(offs, 8) : 0;
  const o3 = nt > 3 ? <usize>load<i32>(offs, 12) : 0;
  const o4 = nt > 4 ? <usize>load<i32>(offs, 16) : 0;
  const o5 = nt > 5 ? <usize>load<i32>(offs, 20) : 0;
  const o6 = nt > 6 ? <usize>load<i32>(offs, 24) : 0;
  const o7 = nt > 7 ? <usize>load<i32>(offs, 28) : 0;
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  const mask = i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(tail));
  for (let rr = 0; rr < nr; rr++) {
    let d = dyp + <usize>rr * ds, s = slab + <usize>rr * rs;
    const de = d + (<usize>nfull << 4);
    while (d < de) {
      const v = v128.load(d);
      a0 = madd(v, v128.load(s + o0), a0);
      if (nt > 1) a1 = madd(v, v128.load(s + o1), a1);
      if (nt > 2) a2 = madd(v, v128.load(s + o2), a2);
      if (nt > 3) a3 = madd(v, v128.load(s + o3), a3);
      if (nt > 4) a4 = madd(v, v128.load(s + o4), a4);
      if (nt > 5) a5 = madd(v, v128.load(s + o5), a5);
      if (nt > 6) a6 = madd(v, v128.load(s + o6), a6);
      if (nt > 7) a7 = madd(v, v128.load(s + o7), a7);
      d += 16; s += 16;
    }
    if (tail) {
      const v = v128.load(d);
      a0 = madd(v, v128.and(v128.load(s + o0), mask), a0);
      if (nt > 1) a1 = madd(v, v128.and(v128.load(s + o1), mask), a1);
      if (nt > 2) a2 = madd(v, v128.and(v128.load(s + o2), mask), a2);
      if (nt > 3) a3 = madd(v, v128.and(v128.load(s + o3), mask), a3);
      if (nt > 4) a4 = madd(v, v128.and(v128.load(s + o4), mask), a4);
      if (nt > 5) a5 = madd(v, v128.and(v128.load(s + o5), mask), a5);
      if (nt > 6) a6 = madd(v, v128.and(v128.load(s + o6), mask), a6);
      if (nt > 7) a7 = madd(v, v128.and(v128.load(s + o7), mask), a7);
    }
  }
  store<f32>(acc, load<f32>(acc) + hsum(a0));
  if (nt > 1) store<f32>(acc, load<f32>(acc, 4) + hsum(a1), 4);
  if (nt > 2) store<f32>(acc, load<f32>(acc, 8) + hsum(a2), 8);
  if (nt > 3) store<f32>(acc, load<f32>(acc, 12) + hsum(a3), 12);
  if (nt > 4) store<f32>(acc, load<f32>(acc, 16) + hsum(a4), 16);
  if (nt > 5) store<f32>(acc, load<f32>(acc, 20) + hsum(a5), 20);
  if (nt > 6) store<f32>(acc, load<f32>(acc, 24) + hsum(a6), 24);
  if (nt > 7) store<f32>(acc, load<f32>(acc, 28) + hsum(a7), 28);
}

function grad8(nt: i32, offs: usize, dyp: usize, slab: usize, nr: i32, nfull: i32, tail: i32, rs: usize, ds: usize, acc: usize): void {
  switch (nt) {
    case 1: gradBody8(1, offs, dyp, slab, nr, nfull, tail, rs, ds, acc); break;
    case 2: gradBody8(2, offs, dyp, slab, nr, nfull, tail, rs, ds, acc); break;
    case 3: gradBody8(3, offs, dyp, slab, nr, nfull, tail, rs, ds, acc); break;
    case 4: gradBody8(4, offs, dyp, slab, nr, nfull, tail, rs, ds, acc); break;
    case 5: gradBody8(5, offs, dyp, slab, nr, nfull, tail, rs, ds, acc); break;
    case 6: gradBody8(6, offs, dyp, slab, nr, nfull, tail, rs, ds, acc); break;
    case 7: gradBody8(7, offs, dyp, slab, nr, nfull, tail, rs, ds, acc); break;
    default: gradBody8(8, offs, dyp, slab, nr, nfull, tail, rs, ds, acc);
  }
}

/** Filter gradient: the partial dW of one part of the images and one group, out[part][grp kg + f][k]. */
export function dwFilterTask(job: usize, t: i32, tid: i32): void {
  const G = arg(job, DW_G), cg = arg(job, DW_CG), kg = arg(job, DW_KG), h = arg(job, DW_H), w = arg(job, DW_W_);
  const kh = arg(job, DW_KH), kw = arg(job, DW_KW), sh = arg(job, DW_SH), sw = arg(job, DW_SW);
  const pt = arg(job, DW_PT), pl = arg(job, DW_PL), dh = arg(job, DW_DH), dw = arg(job, DW_DW);
  const oh = arg(job, DW_OH), ow = arg(job, DW_OW), rpb = arg(job, DW_RPB);
  const n = arg(job, DW_N), ipp = arg(job, DW_IPP);
  const part = t / G, grp = t - part * G;
  const i0 = part * ipp, i1 = min(n, i0 + ipp);
  const K = cg * kh * kw;
  const owq = roundUp(ow, 4);
  const wq = owq + (kw - 1) * dw / sw;
  const rowF = sw * wq;
  const srMax = (rpb - 1) * sh + (kh - 1) * dh + 1;
  const offs = scratch(job, tid);
  const acc = offs + <usize>roundUp(K * 4, 64);
  const slab = acc + <usize>roundUp(kg * K * 4, 64);
  const dyb = slab + <usize>roundUp(cg * srMax * rowF * 4, 64);
  zeroFloats(acc, kg * K);
  const ohw = oh * ow;
  const nfull = ow >> 2, tail = ow & 3;
  const rs = <usize>(sh * rowF) << 2, ds = <usize>owq << 2;
  // Taps in groups of near-equal size: many taps (5x5, 7x7, grouped) 8 at a time, one vector a
  // step (fewer passes over dy); few (3x3 depthwise) at most 4, two vectors a step.
  const wide = K >= 16;
  const ng = wide ? (K + 7) / 8 : (K + 3) / 4;
  for (let img = i0; img < i1; img++) {
    const x = <usize>arg(job, DW_X) + (<usize>(img * G + grp) * <usize>(cg * h * w) << 2);
    const dy = <usize>arg(job, DW_W) + (<usize>(img * G + grp) * <usize>(kg * ohw) << 2);
    for (let oy0 = 0; oy0 < oh; oy0 += rpb) {
      const nr = min(rpb, oh - oy0);
      const sr = (nr - 1) * sh + (kh - 1) * dh + 1;
      buildSlab(x, cg, h * w, h, w, oy0 * sh, sr, pt, pl, sw, wq, slab);
      for (let c = 0; c < cg; c++) {
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            store<i32>(offs + (<usize>((c * kh + i) * kw + j) << 2), ((c * sr + i * dh) * rowF + (j * dw) % sw * wq + j * dw / sw) << 2);
          }
        }
      }
      for (let f = 0; f < kg; f++) {
        for (let r = 0; r < nr; r++) {
          const d = dyb + (<usize>((f * rpb + r) * owq) << 2);
          copyFloats(d, dy + (<usize>(f * ohw + (oy0 + r) * ow) << 2), ow);
          if (owq > ow) zeroFloats(d + (<usize>ow << 2), owq - ow);
        }
      }
      for (let f = 0; f < kg; f++) {
        const dyf = dyb + (<usize>(f * rpb * owq) << 2);
        let k0 = 0;
        for (let gi = 0; gi < ng; gi++) {
          const nt = K / ng + (gi < K % ng ? 1 : 0);
          if (wide) grad8(nt, offs + (<usize>k0 << 2), dyf, slab, nr, nfull, tail, rs, ds, acc + (<usize>(f * K + k0) << 2));
          else grad(nt, offs + (<usize>k0 << 2), dyf, slab, nr, nfull, tail, rs, ds, acc + (<usize>(f * K + k0) << 2));
          k0 += nt;
        }
      }
    }
  }
  const out = <usize>arg(job, DW_Y) + (<usize>part * <usize>arg(job, DW_PSTRIDE) + <usize>(grp * kg * K) << 2);
  copyFloats(out, acc, kg * K);
}
