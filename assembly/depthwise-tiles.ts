// The micro-kernels of the depthwise / small-group direct convolutions (depthwise.ts): rows
// of outputs summed over a tap table of (byte offset into the slab, weight) entries.
//   rowTiles: one filter, 2 rows x 16 pixels in eight f32x4 accumulators, one weight splat and
//     8 loads per tap (depthwise layers: each filter has its own input plane).
//   quadRow: 4 filters x 8 pixels of one row, 2 loads and 4 weight splats per tap (grouped
//     layers and channel multipliers, where filters share their inputs).
import { madd } from './madd';
import { storeLanes } from './mem';
import { finish } from './kernel';

// Epilogue constants live in scratch (sb: the scales of 4 filters, then their biases), not in
// v128 arguments of exported functions, which not every embedding can pass.

// @ts-ignore: decorator
@inline function put(dst: usize, v: v128, s: v128, b: v128, r: bool, n: i32): void {
  storeLanes(dst, finish(v, s, b, r), n);
}

/**
 * out rows A (and B, at slab offset rd, when `two`) of nv vectors: sum over the taps [tab, end)
 * of weight * slab[src + offset ..], then the epilogue; the last vector's first `lanes` lanes.
 */
// @ts-ignore: decorator
@inline function tileBody(nv: i32, two: bool, tab: usize, end: usize, src: usize, rd: usize, oa: usize, ob: usize, lanes: i32, s: v128, b: v128, r: bool): void {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  for (let p = tab; p < end; p += 8) {
    const x = src + <usize>load<i32>(p);
    const wv = v128.load32_splat(p, 4);
    a0 = madd(wv, v128.load(x), a0);
    if (nv > 1) a1 = madd(wv, v128.load(x, 16), a1);
    if (nv > 2) a2 = madd(wv, v128.load(x, 32), a2);
    if (nv > 3) a3 = madd(wv, v128.load(x, 48), a3);
    if (two) {
      const y = x + rd;
      b0 = madd(wv, v128.load(y), b0);
      if (nv > 1) b1 = madd(wv, v128.load(y, 16), b1);
      if (nv > 2) b2 = madd(wv, v128.load(y, 32), b2);
      if (nv > 3) b3 = madd(wv, v128.load(y, 48), b3);
    }
  }
  put(oa, a0, s, b, r, nv == 1 ? lanes : 4);
  if (nv > 1) put(oa + 16, a1, s, b, r, nv == 2 ? lanes : 4);
  if (nv > 2) put(oa + 32, a2, s, b, r, nv == 3 ? lanes : 4);
  if (nv > 3) put(oa + 48, a3, s, b, r, lanes);
  if (two) {
    put(ob, b0, s, b, r, nv == 1 ? lanes : 4);
    if (nv > 1) put(ob + 16, b1, s, b, r, nv == 2 ? lanes : 4);
    if (nv > 2) put(ob + 32, b2, s, b, r, nv == 3 ? lanes : 4);
    if (nv > 3) put(ob + 48, b3, s, b, r, lanes);
  }
}

function t1(tab: usize, end: usize, src: usize, rd: usize, oa: usize, ob: usize, lanes: i32, s: v128, b: v128, r: bool): void { tileBody(1, false, tab, end, src, rd, oa, ob, lanes, s, b, r); }
function t2(tab: usize, end: usize, src: usize, rd: usize, oa: usize, ob: usize, lanes: i32, s: v128, b: v128, r: bool): void { tileBody(2, false, tab, end, src, rd, oa, ob, lanes, s, b, r); }
function t3(tab: usize, end: usize, src: usize, rd: usize, oa: usize, ob: usize, lanes: i32, s: v128, b: v128, r: bool): void { tileBody(3, false, tab, end, src, rd, oa, ob, lanes, s, b, r); }
function t4(tab: usize, end: usize, src: usize, rd: usize, oa: usize, ob: usize, lanes: i32, s: v128, b: v128, r: bool): void { tileBody(4, false, tab, end, src, rd, oa, ob, lanes, s, b, r); }
function u1(tab: usize, end: usize, src: usize, rd: usize, oa: usize, ob: usize, lanes: i32, s: v128, b: v128, r: bool): void { tileBody(1, true, tab, end, src, rd, oa, ob, lanes, s, b, r); }
function u2(tab: usize, end: usize, src: usize, rd: usize, oa: usize, ob: usize, lanes: i32, s: v128, b: v128, r: bool): void { tileBody(2, true, tab, end, src, rd, oa, ob, lanes, s, b, r); }
function u3(tab: usize, end: usize, src: usize, rd: usize, oa: usize, ob: usize, lanes: i32, s: v128, b: v128, r: bool): void { tileBody(3, true, tab, end, src, rd, oa, ob, lanes, s, b, r); }
function u4(tab: usize, end: usize, src: usize, rd: usize, oa: usize, ob: usize, lanes: i32, s: v128, b: v128, r: bool): void { tileBody(4, true, tab, end, src, rd, oa, ob, lanes, s, b, r); }

/** One row (or two, `two`) of n outputs, 16 at a time; see tileBody (scale at sb, bias at sb + 16). */
export function rowTiles(two: bool, tab: usize, end: usize, src: usize, rd: usize, oa: usize, ob: usize, n: i32, sb: usize, r: bool): void {
  const s = v128.load32_splat(sb), b = v128.load32_splat(sb, 16);
  for (let q = 0; q < n; q += 16) {
    const o = <usize>q << 2;
    const rem = n - q;
    const nv = rem >= 16 ? 4 : (rem + 3) >> 2;
    const lanes = rem >= 16 ? 4 : rem - 4 * (nv - 1);
    if (two) {
      if (nv == 4) u4(tab, end, src + o, rd, oa + o, ob + o, lanes, s, b, r);
      else if (nv == 3) u3(tab, end, src + o, rd, oa + o, ob + o, lanes, s, b, r);
      else if (nv == 2) u2(tab, end, src + o, rd, oa + o, ob + o, lanes, s, b, r);
      else u1(tab, end, src + o, rd, oa + o, ob + o, lanes, s, b, r);
    } else {
      if (nv == 4) t4(tab, end, src + o, rd, oa + o, ob + o, lanes, s, b, r);
      else if (nv == 3) t3(tab, end, src + o, rd, oa + o, ob + o, lanes, s, b, r);
      else if (nv == 2) t2(tab, end, src + o, rd, oa + o, ob + o, lanes, s, b, r);
      else t1(tab, end, src + o, rd, oa + o, ob + o, lanes, s, b, r);
    }
  }
}

/**
 * Filters (or dx channels) of a group that the multi-filter tiles take: whole quads, and a last
 * one of 3 or 2 (a pair, which quadRow runs 16 pixels wide); a last single filter takes rowTiles.
 */
// @ts-ignore: decorator
@inline export function quadFilters(kg: i32): i32 {
  return kg < 2 ? 0 : min(kg, ((kg >> 2) + ((kg & 3) >= 2 ? 1 : 0)) << 2);
}

/**
 * 4 filters x nv (1, 2) vectors of one row: taps [tab, end) of 32 bytes (byte offset, then the
 * 4 filters' weights at +16), so the x loads serve four filters (grouped layers, channel
 * multipliers). Rows of filters past nf are not stored; sb holds 4 scales then 4 biases.
 */
// @ts-ignore: decorator
@inline function quadBody(nv: i32, tab: usize, end: usize, src: usize, out: usize, os: usize, nf: i32, lanes: i32, sb: usize, r: bool): void {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
  for (let p = tab; p < end; p += 32) {
    const x = src + <usize>load<i32>(p);
    const v0 = v128.load(x);
    const v1 = nv > 1 ? v128.load(x, 16) : v0;
    let w = v128.load32_splat(p, 16);
    a0 = madd(w, v0, a0);
    if (nv > 1) c0 = madd(w, v1, c0);
    w = v128.load32_splat(p, 20);
    a1 = madd(w, v0, a1);
    if (nv > 1) c1 = madd(w, v1, c1);
    w = v128.load32_splat(p, 24);
    a2 = madd(w, v0, a2);
    if (nv > 1) c2 = madd(w, v1, c2);
    w = v128.load32_splat(p, 28);
    a3 = madd(w, v0, a3);
    if (nv > 1) c3 = madd(w, v1, c3);
  }
  const l0 = nv == 1 ? lanes : 4;
  put(out, a0, v128.load32_splat(sb), v128.load32_splat(sb, 16), r, l0);
  if (nv > 1) put(out + 16, c0, v128.load32_splat(sb), v128.load32_splat(sb, 16), r, lanes);
  if (nf < 2) return;
  put(out + os, a1, v128.load32_splat(sb, 4), v128.load32_splat(sb, 20), r, l0);
  if (nv > 1) put(out + os + 16, c1, v128.load32_splat(sb, 4), v128.load32_splat(sb, 20), r, lanes);
  if (nf < 3) return;
  put(out + 2 * os, a2, v128.load32_splat(sb, 8), v128.load32_splat(sb, 24), r, l0);
  if (nv > 1) put(out + 2 * os + 16, c2, v128.load32_splat(sb, 8), v128.load32_splat(sb, 24), r, lanes);
  if (nf < 4) return;
  put(out + 3 * os, a3, v128.load32_splat(sb, 12), v128.load32_splat(sb, 28), r, l0);
  if (nv > 1) put(out + 3 * os + 16, c3, v128.load32_splat(sb, 12), v128.load32_splat(sb, 28), r, lanes);
}

function q1(tab: usize, end: usize, src: usize, out: usize, os: usize, nf: i32, lanes: i32, sb: usize, r: bool): void { quadBody(1, tab, end, src, out, os, nf, lanes, sb, r); }
function q2(tab: usize, end: usize, src: usize, out: usize, os: usize, nf: i32, lanes: i32, sb: usize, r: bool): void { quadBody(2, tab, end, src, out, os, nf, lanes, sb, r); }

/** 2 filters x nv (1..4) vectors of one row, from the same 32-byte taps as quadBody (weights at +16, +20). */
// @ts-ignore: decorator
@inline function pairBody(nv: i32, tab: usize, end: usize, src: usize, out: usize, os: usize, lanes: i32, sb: usize, r: bool): void {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
  for (let p = tab; p < end; p += 32) {
    const x = src + <usize>load<i32>(p);
    const w0 = v128.load32_splat(p, 16), w1 = v128.load32_splat(p, 20);
    const v0 = v128.load(x);
    a0 = madd(w0, v0, a0); c0 = madd(w1, v0, c0);
    if (nv > 1) { const v = v128.load(x, 16); a1 = madd(w0, v, a1); c1 = madd(w1, v, c1); }
    if (nv > 2) { const v = v128.load(x, 32); a2 = madd(w0, v, a2); c2 = madd(w1, v, c2); }
    if (nv > 3) { const v = v128.load(x, 48); a3 = madd(w0, v, a3); c3 = madd(w1, v, c3); }
  }
  const s0 = v128.load32_splat(sb), b0 = v128.load32_splat(sb, 16);
  const s1 = v128.load32_splat(sb, 4), b1 = v128.load32_splat(sb, 20);
  const o1 = out + os;
  put(out, a0, s0, b0, r, nv == 1 ? lanes : 4);
  put(o1, c0, s1, b1, r, nv == 1 ? lanes : 4);
  if (nv > 1) { put(out + 16, a1, s0, b0, r, nv == 2 ? lanes : 4); put(o1 + 16, c1, s1, b1, r, nv == 2 ? lanes : 4); }
  if (nv > 2) { put(out + 32, a2, s0, b0, r, nv == 3 ? lanes : 4); put(o1 + 32, c2, s1, b1, r, nv == 3 ? lanes : 4); }
  if (nv > 3) { put(out + 48, a3, s0, b0, r, lanes); put(o1 + 48, c3, s1, b1, r, lanes); }
}

function p1(tab: usize, end: usize, src: usize, out: usize, os: usize, lanes: i32, sb: usize, r: bool): void { pairBody(1, tab, end, src, out, os, lanes, sb, r); }
function p2(tab: usize, end: usize, src: usize, out: usize, os: usize, lanes: i32, sb: usize, r: bool): void { pairBody(2, tab, end, src, out, os, lanes, sb, r); }
function p3(tab: usize, end: usize, src: usize, out: usize, os: usize, lanes: i32, sb: usize, r: bool): void { pairBody(3, tab, end, src, out, os, lanes, sb, r); }
function p4(tab: usize, end: usize, src: usize, out: usize, os: usize, lanes: i32, sb: usize, r: bool): void { pairBody(4, tab, end, src, out, os, lanes, sb, r); }

/** One row of n outputs of up to 4 filters (`os` bytes apart), 8 at a time (a pair: 16); see quadBody. */
export function quadRow(tab: usize, end: usize, src: usize, out: usize, os: usize, nf: i32, n: i32, sb: usize, r: bool): void {
  if (nf == 2) {
    for (let q = 0; q < n; q += 16) {
      const o = <usize>q << 2;
      const rem = n - q;
      const nv = rem >= 16 ? 4 : (rem + 3) >> 2;
      const lanes = rem >= 16 ? 4 : rem - 4 * (nv - 1);
      if (nv == 4) p4(tab, end, src + o, out + o, os, lanes, sb, r);
      else if (nv == 3) p3(tab, end, src + o, out + o, os, lanes, sb, r);
      else if (nv == 2) p2(tab, end, src + o, out + o, os, lanes, sb, r);
      else p1(tab, end, src + o, out + o, os, lanes, sb, r);
    }
    return;
  }
  for (let q = 0; q < n; q += 8) {
    const o = <usize>q << 2;
    const rem = n - q;
    if (rem > 4) q2(tab, end, src + o, out + o, os, nf, min(4, rem - 4), sb, r);
    else q1(tab, end, src + o, out + o, os, nf, rem, sb, r);
  }
}
