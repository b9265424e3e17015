import { flatIndex } from '../program.js';

/*
 * The WGSL of the convolution gradients (conv2d-grad.ts runs them and explains the GEMMs):
 * a tiled GEMM loop through workgroup memory that both gradients fill in with their own
 * gathers, and the direct kernels for GEMMs with too few rows for a tile. Every shader takes
 * its sizes as a `Params` struct of i32 that conv2d-grad.ts writes (the struct text comes
 * from there, so the fields and the values stay in one order).
 */

/**
 * A tile of `bm` rows by `bn` columns, BK reduction steps at a time: 128 threads, (bn/4) x (bm/4),
 * each computing 4 rows x 4 columns. bm and bn are multiples of 8 with bm * bn = 2048.
 */
export interface Tile {
  readonly bm: number;
  readonly bn: number;
}
export const BK = 16;
/** Direct kernels: threads per workgroup. */
export const WG = 128;

/**
 * The tiled GEMM loop shared by both gradients. `prologue` runs once per thread; `loadA` fills
 * As[kk * BM + row] and `loadB` fills Bs[kk * BN + col] for the reduction steps [kb, kb + BK)
 * (zero outside [k0, k1) and outside the matrix); `store` writes acc[j][i], the output at row
 * row0 + ty * 4 + i, column col0 + tx + TX * j. The tile, group and split come from the
 * workgroup id: tiles are numbered column tile fastest, then row tile, then group. The
 * reduction ends at `kEnd`, evaluated after the prologue.
 * Constants for the loads: A_PER = BM / 8 rows per thread (one reduction index each), B_PER =
 * BK * BN / 128 B elements per thread.
 */
const tiledCode = (
  t: Tile,
  bindings: string,
  struct: string,
  prologue: string,
  loadA: string,
  loadB: string,
  store: string,
  kEnd = 'min(k0 + p.chunk, p.red)',
): string => /* wgsl */ `
${bindings}
${struct}
const BM = ${t.bm};
const BN = ${t.bn};
const BK = ${BK};
const TX = ${t.bn / 4};
const A_PER = ${t.bm / 8};
const B_PER = ${(BK * t.bn) / 128};
var<workgroup> As: array<f32, ${BK * t.bm}>;
var<workgroup> Bs: array<f32, ${BK * t.bn}>;
@compute @workgroup_size(${t.bn / 4}, ${t.bm / 4})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lix: u32) {
  let tile = i32(wid.x + wid.y * nwg.x);
  if (tile >= p.tiles) { return; }
  let li = i32(lix);
  let tx = i32(lid.x);
  let ty = i32(lid.y);
  let colTile = tile % p.colTiles;
  let rowTile = (tile / p.colTiles) % p.rowTiles;
  let g = tile / (p.colTiles * p.rowTiles);
  let row0 = rowTile * BM;
  let col0 = colTile * BN;
  let split = i32(wid.z);
  let k0 = split * p.chunk;
  ${prologue}
  let k1 = ${kEnd};
  var acc: array<vec4<f32>, 4>;
  for (var kb = k0; kb < k1; kb += BK) {
    ${loadA}
    ${loadB}
    workgroupBarrier();
    for (var kk = 0; kk < BK; kk++) {
      let ab = kk * BM + ty * 4;
      let a = vec4<f32>(As[ab], As[ab + 1], As[ab + 2], As[ab + 3]);
      let bb = kk * BN + tx;
      acc[0] += a * Bs[bb];
      acc[1] += a * Bs[bb + TX];
      acc[2] += a * Bs[bb + 2 * TX];
      acc[3] += a * Bs[bb + 3 * TX];
    }
    workgroupBarrier();
  }
  ${store}
}`;

// --- input gradient --------------------------------------------------------------------------
const DX_BINDINGS = /* wgsl */ `
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> wt: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;`;

/**
 * The (oy, ox) whose window tap (ky, kx) reads input pixel (iy, ix), or x = -1 when none does.
 * Integer division is slow on GPUs, so stride 1 (uniform across the dispatch) skips it.
 */
const OUTPUT_OF = /* wgsl */ `
fn outputOf(iy: i32, ix: i32, ky: i32, kx: i32) -> vec2<i32> {
  var oy = iy + p.pt - ky * p.dh;
  var ox = ix + p.pl - kx * p.dw;
  if (p.sh != 1) {
    if (oy % p.sh != 0) { return vec2<i32>(-1, -1); }
    oy = oy / p.sh;
  }
  if (p.sw != 1) {
    if (ox % p.sw != 0) { return vec2<i32>(-1, -1); }
    ox = ox / p.sw;
  }
  // An exact division keeps a negative offset negative.
  if (oy < 0 || ox < 0 || oy >= p.oh || ox >= p.ow) { return vec2<i32>(-1, -1); }
  return vec2<i32>(oy, ox);
}`;

/** One thread per dx element: its taps' outputs, times the filters, summed over the group's K. */
export const dxDirectCode = (struct: string): string => /* wgsl */ `
${DX_BINDINGS}
${struct}
${OUTPUT_OF}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = i32(${flatIndex(WG)});
  if (i >= p.total) { return; }
  let ix = i % p.w;
  let iy = (i / p.w) % p.h;
  let c = (i / (p.w * p.h)) % p.c;
  let n = i / (p.w * p.h * p.c);
  let g = c / p.cg;
  let khw = p.kh * p.kw;
  let ohw = p.oh * p.ow;
  var acc = 0.0;
  for (var ky = 0; ky < p.kh; ky++) {
    for (var kx = 0; kx < p.kw; kx++) {
      let o = outputOf(iy, ix, ky, kx);
      if (o.x < 0) { continue; }
      var di = (n * p.k + g * p.kg) * ohw + o.x * p.ow + o.y;
      var wi = (g * p.kg * p.cg + c - g * p.cg) * khw + ky * p.kw + kx;
      for (var kf = 0; kf < p.kg; kf++) {
        acc += dy[di] * wt[wi];
        di += ohw;
        wi += p.cg * khw;
      }
    }
  }
  dx[i] = acc;
}`;

/**
 * Tiled, by phase: input pixel iy receives gradient from filter row ky only when
 * iy + padTop - ky*dilH is a multiple of strideH, so the pixels fall into strideH x strideW
 * phases (iy + padTop mod strideH, the same along x), each with its own taps and, along y,
 * oy = j + oyOff[tap] for its j-th pixel iy = iy0 + strideH*j: no division, no taps that read
 * nothing. Column tiles never straddle two phases; within a phase, rows are the group's input
 * channels, columns the phase's pixels (n, j, i) of the whole batch, the reduction runs over
 * (k, valid ky, valid kx) of the group. The host's table `tab` holds, from 0: each phase's first
 * column tile (phases + 1 entries); from yBase, per y phase (ys entries each): iy0, the pixel
 * count, the tap count, the taps' ky, their oyOff; from xBase the same along x.
 */
export const dxTiledCode = (t: Tile, struct: string): string =>
  tiledCode(
    t,
    /* wgsl */ `
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> wt: array<f32>;
@group(0) @binding(2) var<storage, read> tab: array<i32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;`,
    struct,
    /* wgsl */ `
  var ph = 0;
  for (var q = 1; q < p.phases; q++) {
    if (tab[q] <= colTile) { ph = q; }
  }
  let yr = p.yBase + (ph / p.sw) * p.ys;
  let xr = p.xBase + (ph % p.sw) * p.xs;
  let iy0 = tab[yr];
  let cy = tab[yr + 1];
  let nky = tab[yr + 2];
  let ix0 = tab[xr];
  let cx = tab[xr + 1];
  let nkx = tab[xr + 2];
  let ntap = max(nky * nkx, 1);
  let redP = p.kg * nky * nkx;
  let cyx = max(cy * cx, 1);
  let colsP = p.n * cy * cx;
  let c0 = (colTile - tab[ph]) * BN;
  let khw = p.kh * p.kw;
  let ohw = p.oh * p.ow;
  let hw = p.h * p.w;
  // B: this thread's column (a pixel of the phase), decoded once.
  let bCol = li % BN;
  let pc = c0 + bCol;
  let bn = pc / cyx;
  let bj = (pc % cyx) / max(cx, 1);
  let bi = pc % max(cx, 1);
  let dyBase = (bn * p.k + g * p.kg) * ohw;
  // Reduction index r = kf * ntap + tyi * nkx + txi; r < redP iff kf < kg.
  let ak = li % BK;
  var aKf = ak / ntap;
  var aT = ak % ntap;
  let stepKf = BK / ntap;
  let stepT = BK % ntap;
  let b0 = li / BN;
  let bStep = 128 / BN;
  var bKf = b0 / ntap;
  var bTy = (b0 % ntap) / max(nkx, 1);
  var bTx = b0 % max(nkx, 1);`,
    /* wgsl */ `
    {
      let tap = tab[yr + 3 + aT / nkx] * p.kw + tab[xr + 3 + aT % nkx];
      for (var i = 0; i < A_PER; i++) {
        let row = li / BK + 8 * i;
        var v = 0.0;
        if (aKf < p.kg && row0 + row < p.cg) { v = wt[((g * p.kg + aKf) * p.cg + row0 + row) * khw + tap]; }
        As[ak * BM + row] = v;
      }
      aKf += stepKf;
      aT += stepT;
      if (aT >= ntap) { aT -= ntap; aKf += 1; }
    }`,
    /* wgsl */ `
    for (var i = 0; i < B_PER; i++) {
      var v = 0.0;
      if (bKf < p.kg && pc < colsP) {
        let oy = bj + tab[yr + 3 + p.kh + bTy];
        let ox = bi + tab[xr + 3 + p.kw + bTx];
        if (oy >= 0 && oy < p.oh && ox >= 0 && ox < p.ow) { v = dy[dyBase + bKf * ohw + oy * p.ow + ox]; }
      }
      Bs[(b0 + bStep * i) * BN + bCol] = v;
      bTx += bStep;
      while (bTx >= nkx) { bTx -= nkx; bTy += 1; }
      while (bTy >= nky) { bTy -= nky; bKf += 1; }
    }`,
    /* wgsl */ `
  for (var j = 0; j < 4; j++) {
    let col = c0 + tx + TX * j;
    if (col >= colsP) { continue; }
    let iy = iy0 + p.sh * ((col % cyx) / cx);
    let ix = ix0 + p.sw * (col % cx);
    let base = ((col / cyx) * p.c + g * p.cg) * hw + iy * p.w + ix;
    for (var i = 0; i < 4; i++) {
      let row = row0 + ty * 4 + i;
      if (row < p.cg) { dx[base + row * hw] = acc[j][i]; }
    }
  }`,
    'redP',
  );

// --- filter gradient -------------------------------------------------------------------------
const DW_BINDINGS = /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> parts: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;`;

/**
 * A reduction index of the filter gradient as the output pixel (n, oy, ox) it stands for, and
 * its advance by a fixed step (a position too) with carries: the loops walk the reduction by
 * adding, since integer division is slow on GPUs.
 */
const PIXEL_POS = /* wgsl */ `
struct Pos { n: i32, oy: i32, ox: i32 }
fn posOf(r: i32) -> Pos {
  let q = r % (p.oh * p.ow);
  return Pos(r / (p.oh * p.ow), q / p.ow, q % p.ow);
}
fn advance(a: Pos, d: Pos) -> Pos {
  var b = Pos(a.n + d.n, a.oy + d.oy, a.ox + d.ox);
  if (b.ox >= p.ow) { b.ox -= p.ow; b.oy += 1; }
  if (b.oy >= p.oh) { b.oy -= p.oh; b.n += 1; }
  return b;
}`;

/**
 * One workgroup per (filter element, split): its threads stride over the split's share of the
 * (n, oy, ox) reduction, then add their sums in workgroup memory.
 */
export const dwDirectCode = (struct: string): string => /* wgsl */ `
${DW_BINDINGS}
${struct}
${PIXEL_POS}
var<workgroup> part: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let e = i32(wid.x + wid.y * nwg.x);
  if (e >= p.tiles) { return; }
  let split = i32(wid.z);
  let kx = e % p.kw;
  let ky = (e / p.kw) % p.kh;
  let cl = (e / (p.kw * p.kh)) % p.cg;
  let kf = e / (p.kw * p.kh * p.cg);
  let c = (kf / p.kg) * p.cg + cl;
  let r1 = min((split + 1) * p.chunk, p.red);
  let r0 = split * p.chunk + i32(li);
  var at = posOf(r0);
  let step = posOf(${WG});
  let yOff = ky * p.dh - p.pt;
  let xOff = kx * p.dw - p.pl;
  var acc = 0.0;
  for (var r = r0; r < r1; r += ${WG}) {
    let iy = at.oy * p.sh + yOff;
    let ix = at.ox * p.sw + xOff;
    if (iy >= 0 && iy < p.h && ix >= 0 && ix < p.w) {
      acc += dy[((at.n * p.k + kf) * p.oh + at.oy) * p.ow + at.ox] * x[((at.n * p.c + c) * p.h + iy) * p.w + ix];
    }
    at = advance(at, step);
  }
  part[li] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (li < s) { part[li] += part[li + s]; }
    workgroupBarrier();
  }
  if (li == 0u) { parts[split * p.elements + e] = part[0]; }
}`;

/**
 * Tiled: rows are the group's filters, columns its (c, ky, kx), the reduction runs over the
 * batch's output pixels (n, oy, ox). Each thread loads A and B at one reduction offset (a
 * running position, +BK a step); its B_PER columns are decoded once, before the loop.
 */
export const dwTiledCode = (t: Tile, struct: string): string =>
  tiledCode(
    t,
    DW_BINDINGS,
    `${struct}\n${PIXEL_POS}`,
    /* wgsl */ `
  let khw = p.kh * p.kw;
  let ohw = p.oh * p.ow;
  let cols = p.cg * khw;
  let ak = li % BK;
  var at = posOf(k0 + ak);
  let step = posOf(BK);
  var xc: array<i32, B_PER>;
  var yOff: array<i32, B_PER>;
  var xOff: array<i32, B_PER>;
  for (var i = 0; i < B_PER; i++) {
    let col = col0 + li / BK + 8 * i;
    let tap = col % khw;
    xc[i] = select(-1, g * p.cg + col / khw, col < cols);
    yOff[i] = (tap / p.kw) * p.dh - p.pt;
    xOff[i] = (tap % p.kw) * p.dw - p.pl;
  }`,
    /* wgsl */ `
    let r = kb + ak;
    let rq = at.oy * p.ow + at.ox;
    for (var i = 0; i < A_PER; i++) {
      let row = li / BK + 8 * i;
      var v = 0.0;
      if (r < k1 && row0 + row < p.kg) { v = dy[(at.n * p.k + g * p.kg + row0 + row) * ohw + rq]; }
      As[ak * BM + row] = v;
    }`,
    /* wgsl */ `
    let oyS = at.oy * p.sh;
    let oxS = at.ox * p.sw;
    for (var i = 0; i < B_PER; i++) {
      let iy = oyS + yOff[i];
      let ix = oxS + xOff[i];
      var v = 0.0;
      if (r < k1 && xc[i] >= 0 && iy >= 0 && iy < p.h && ix >= 0 && ix < p.w) {
        v = x[((at.n * p.c + xc[i]) * p.h + iy) * p.w + ix];
      }
      Bs[ak * BN + li / BK + 8 * i] = v;
    }
    at = advance(at, step);`,
    /* wgsl */ `
  let base = split * p.elements + (g * p.kg + row0) * cols;
  for (var j = 0; j < 4; j++) {
    let col = col0 + tx + TX * j;
    if (col >= cols) { continue; }
    for (var i = 0; i < 4; i++) {
      let row = ty * 4 + i;
      if (row0 + row < p.kg) { parts[base + row * cols + col] = acc[j][i]; }
    }
  }`,
  );

export const SUM_SPLITS = /* wgsl */ `
@group(0) @binding(0) var<storage, read> parts: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
struct Params { elements: u32, splits: u32 }
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${flatIndex(WG)};
  if (i >= p.elements) { return; }
  var acc = 0.0;
  for (var s = 0u; s < p.splits; s++) { acc += parts[s * p.elements + i]; }
  out[i] = acc;
}`;
