// Cache-blocked GEMM (the BLIS loop nest) over one task's tile of C.
//
//   for jc in N by NC:            B block (KC x NC, 512 KB) packed once, stays in L2
//     for each image of the K range (the filter gradient sums over images):
//       for pc in K by KC:
//         pack B block
//         for ic in M by MC:      A block (MC x KC, 72 KB) packed, stays in L2
//           for jr by NR: for ir by MR6: micro-kernel (B micro-panel, 8 KB, stays in L1)
//
// A task is one (K-part, batch item, M tile, N tile); the arguments (slots below) describe
// operand layouts with strides, so transposes, batches, groups and the convolutions' implicit
// im2col all run through this one loop nest. Slot numbers are mirrored in
// src/backend/wasm/job-layout.ts.
import { arg, scratch } from './job';
import { EP_BIAS_COL, EP_BIAS_ROW, EP_LOAD, EP_SCALE_ROW, MR, MR6, NR, kernel4x8, kernel6x8 } from './kernel';
import { Geo, packA6, packB, panelRows, packIm2col, packIm2colT } from './pack';
import { im2colChannel } from './im2col';
import { packPhase, packPhaseT, phaseRowOffsets } from './phase';
import { packMulti } from './pack-multi';

export const KC: i32 = 256;
export const MC: i32 = 72;
export const NC: i32 = 1024;
/** k steps of a packed block from which the GEMM runs 6-row panels (kernel6x8). */
const ROWS6_MIN_K: i32 = 64;

export const G_M = 0, G_N = 1, G_K = 2;
export const G_A = 3, G_ARS = 4, G_ACS = 5;
export const G_BMODE = 6, G_B = 7, G_BRS = 8, G_BCS = 9;
export const G_C = 10, G_LDC = 11, G_FLAGS = 12, G_BIAS = 13;
export const G_TILEM = 14, G_TILEN = 15, G_TILESM = 16, G_TILESN = 17;
export const G_NB2 = 18, G_NBATCH = 19;
export const G_AS1 = 20, G_AS2 = 21, G_BS1 = 22, G_BS2 = 23, G_CS1 = 24, G_CS2 = 25, G_BIASS2 = 26;
export const G_KIMG = 27, G_ASK = 28, G_BSK = 29, G_KPARTS = 30, G_CSPART = 31;
export const G_GEO = 32; // 13 slots: c h w kh kw sh sw pt pl dh dw oh ow
export const G_SCALE = 45; // per-row multipliers (EP_SCALE_ROW), indexed as the bias
export const G_IOHW = 46, G_ISTRIDE = 47; // columns per image and floats between images (BMODE_PHASE_N, BMODE_ROWS_N)

export const BMODE_STRIDED = 0, BMODE_IM2COL = 1, BMODE_IM2COL_T = 2;
/** Row-major B (column stride 1) read in place by the micro-kernel, never packed. */
export const BMODE_DIRECT = 3;
/** im2col(x) written into this thread's scratch per image, then read in place (few filters). */
export const BMODE_COLS = 4;
/** im2col(x) in scratch per image, packed transposed (the filter gradient with few filters). */
export const BMODE_COLS_T = 5;
/** Strided convolutions: B read from the image's phase planes (phase.ts), forward / transposed. */
export const BMODE_PHASE = 6, BMODE_PHASE_T = 7;
/**
 * Columns over several images (pack-multi.ts): phase planes of a batch (the strided forward
 * pass), or rows p*BRS of a [images][rows][ohw] tensor (dy, the strided input gradient).
 */
export const BMODE_PHASE_N = 8, BMODE_ROWS_N = 9;

// Per-thread scratch layout (bytes).
const S_TMP: usize = 0; // 128: partial tiles
const S_ITMP: usize = 128; // 96: im2colT column offsets
const S_GEO: usize = 256; // 52: Geo
const S_OFF: usize = 512; // KC + NR ints: packPhase's row and column offsets
const S_TMP6: usize = 1600; // 224: kernel6x8's sums and partial bias
const S_PA: usize = 2048;
const S_PB: usize = S_PA + (<usize>(MC * KC) << 2);
const S_COLS: usize = S_PB + (<usize>(KC * NC) << 2);
/** Scratch without the column matrix (BMODE_COLS adds rows * N floats). */
export const GEMM_SCRATCH: i32 = <i32>S_COLS;

// @ts-ignore: decorator
@inline function fptr(base: i32, floats: i32): usize {
  return <usize>base + (<usize>floats << 2);
}

/**
 * The micro-kernels over one packed A block (mc rows) and B block (nc columns): panels of
 * panelRows rows (kernel6x8, the last 4 or 8 rows kernel4x8).
 */
function macroKernel(
  pa: usize, pb: usize, bstep: usize, jstep: usize, kt: i32, mc: i32, nc: i32, c: usize, ldc: i32,
  f: i32, bias: usize, scale: usize, tmp: usize, tmp6: usize, rows6: bool,
): void {
  const rs = <usize>ldc << 2;
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const cj = c + (<usize>jr << 2);
    const bcol = f & EP_BIAS_COL ? bias + (<usize>jr << 2) : 0;
    for (let ir = 0; ir < mc; ) {
      const six = panelRows(mc - ir, rows6) == MR6;
      const bp = f & EP_BIAS_ROW ? bias + (<usize>ir << 2) : bcol;
      const sp = f & EP_SCALE_ROW ? scale + (<usize>ir << 2) : 0;
      const pai = pa + (<usize>(ir * kt) << 2), ci = cj + <usize>ir * rs;
      if (six) kernel6x8(kt, pai, pb, bstep, ci, ldc, min(MR6, mc - ir), nr, f, bp, sp, tmp6);
      else kernel4x8(kt, pai, pb, bstep, ci, ldc, min(MR, mc - ir), nr, f, bp, sp, tmp);
      ir += six ? MR6 : MR;
    }
    pb += jstep;
  }
}

export function gemmTask(job: usize, t: i32, tid: i32): void {
  const M = arg(job, G_M), N = arg(job, G_N), K = arg(job, G_K);
  const tilesM = arg(job, G_TILESM), tilesN = arg(job, G_TILESN), nbatch = arg(job, G_NBATCH);
  const perPart = tilesM * tilesN * nbatch;
  const part = t / perPart;
  let r = t - part * perPart;
  const b = r / (tilesM * tilesN);
  r -= b * tilesM * tilesN;
  const tm = r / tilesN, tn = r - tm * tilesN;
  const m0 = tm * arg(job, G_TILEM), m1 = min(M, m0 + arg(job, G_TILEM));
  const n0 = tn * arg(job, G_TILEN), n1 = min(N, n0 + arg(job, G_TILEN));
  const nb2 = arg(job, G_NB2);
  const b1 = b / nb2, b2 = b - b1 * nb2;
  const a = <i32>fptr(arg(job, G_A), b1 * arg(job, G_AS1) + b2 * arg(job, G_AS2));
  const bb = <i32>fptr(arg(job, G_B), b1 * arg(job, G_BS1) + b2 * arg(job, G_BS2));
  const c = fptr(arg(job, G_C), b1 * arg(job, G_CS1) + b2 * arg(job, G_CS2) + part * arg(job, G_CSPART));
  const bias = fptr(arg(job, G_BIAS), b2 * arg(job, G_BIASS2));
  const scale = fptr(arg(job, G_SCALE), b2 * arg(job, G_BIASS2));
  const ars = arg(job, G_ARS), acs = arg(job, G_ACS);
  const bmode = arg(job, G_BMODE), brs = arg(job, G_BRS), bcs = arg(job, G_BCS);
  const ldc = arg(job, G_LDC), flags = arg(job, G_FLAGS);
  const kImg = arg(job, G_KIMG), kParts = arg(job, G_KPARTS);
  const ipp = (kImg + kParts - 1) / kParts;
  const i0 = part * ipp, i1 = min(kImg, i0 + ipp);

  const s = scratch(job, tid);
  const tmp = s + S_TMP, pa = s + S_PA, pb = s + S_PB;
  const geo = changetype<Geo>(s + S_GEO);
  if (bmode != BMODE_STRIDED) memory.copy(s + S_GEO, job + (<usize>(16 + G_GEO) << 2), 52);

  const colsMode = bmode == BMODE_COLS || bmode == BMODE_COLS_T;
  // A sum over images whose own k range is short (the filter gradient of small outputs: 4x4,
  // 7x7): several images' ranges go side by side into one packed block, so the micro-kernel
  // runs kc steps of all of them between its loads and stores of C instead of K.
  const grouping = bmode == BMODE_STRIDED || bmode == BMODE_IM2COL_T || bmode == BMODE_PHASE_T || bmode == BMODE_COLS_T;
  const ig = kImg > 1 && K < KC && grouping ? KC / K : 1;
  for (let jc = n0; jc < n1; jc += NC) {
    const nc = min(NC, n1 - jc);
    for (let img = i0; img < i1; img += ig) {
      const cnt = min(ig, i1 - img);
      for (let pc = 0; pc < K; pc += KC) {
        const kc = min(KC, K - pc);
        const kt = cnt * kc; // k steps of the packed block
        // B of each image of the block (the column matrix first where the mode builds it).
        let bm = bmode, rs = brs, cs = bcs;
        let bImg: usize = 0;
        for (let g = 0; g < cnt; g++) {
          bImg = fptr(bb, (img + g) * arg(job, G_BSK));
          if (colsMode) {
            // This image's column matrix [c*kh*kw][oh*ow], written once, read while hot.
            const cols = s + S_COLS;
            let row = cols;
            const plane = <usize>(geo.h * geo.w) << 2;
            if (pc == 0) for (let ch = 0; ch < geo.c; ch++) row = im2colChannel(bImg + <usize>ch * plane, geo, row);
            bImg = cols;
            const ohw = geo.oh * geo.ow;
            if (bmode == BMODE_COLS) { bm = BMODE_DIRECT; rs = ohw; cs = 1; } else { bm = BMODE_STRIDED; rs = 1; cs = ohw; }
          }
          const pbg = pb + (<usize>(g * kc * NR) << 2);
          if (bm == BMODE_DIRECT) {} // read in place below
          else if (bm == BMODE_STRIDED) packB(bImg, rs, cs, pc, kc, jc, nc, N, pbg, kt);
          else if (bm == BMODE_IM2COL) packIm2col(bImg, geo, pc, kc, jc, nc, pbg);
          else if (bm == BMODE_PHASE) packPhase(bImg, geo, pc, kc, jc, nc, pbg, s + S_OFF);
          else if (bm == BMODE_PHASE_T) packPhaseT(bImg, geo, pc, kc, jc, nc, pbg, s + S_OFF, kt);
          else if (bm == BMODE_PHASE_N || bm == BMODE_ROWS_N) {
            const off = s + S_OFF;
            const iohw = arg(job, G_IOHW);
            let ow = iohw, pw = iohw;
            if (bm == BMODE_PHASE_N) {
              ow = geo.ow;
              pw = geo.ow + (geo.kw - 1) * geo.dw / geo.sw;
              phaseRowOffsets(geo, pc, kc, off);
            } else {
              for (let p = 0; p < kc; p++) store<i32>(off + (<usize>p << 2), (pc + p) * rs);
            }
            packMulti(bImg, off, kc, jc, nc, N, iohw, ow, pw, arg(job, G_ISTRIDE), pbg, off + (<usize>KC << 2));
          }
          else packIm2colT(bImg, geo, pc, kc, jc, nc, pbg, s + S_ITMP, kt);
        }
        const first = img == i0 && pc == 0;
        const last = img + cnt == i1 && pc + kc >= K;
        const f = (first ? flags & EP_LOAD : EP_LOAD) | (last ? flags & ~EP_LOAD : 0);
        // A blocks of equal size, multiples of 4 rows (whole panels, panelRows). Short k blocks
        // keep 4-row panels: kernel6x8's epilogue (sums through memory) costs more than its
        // wider tile saves over fewer than ROWS6_MIN_K steps (measured 5-10% slower at 32).
        const rows6 = kt >= ROWS6_MIN_K;
        const blocks = (m1 - m0 + MC - 1) / MC;
        const mcb = ((m1 - m0 + blocks - 1) / blocks + MR - 1) / MR * MR;
        for (let ic = m0; ic < m1; ic += mcb) {
          const mc = min(mcb, m1 - ic);
          for (let g = 0; g < cnt; g++) {
            packA6(fptr(a, (img + g) * arg(job, G_ASK)), ars, acs, ic, mc, pc, kc, pa, kt, g * kc, rows6);
          }
          const direct = bm == BMODE_DIRECT;
          // Packed B: micro-panels of kt steps of NR floats; in place: rows of B, NR columns on.
          const pbj = direct ? bImg + ((<usize>pc * <usize>rs + <usize>jc) << 2) : pb;
          const bstep: usize = direct ? <usize>rs << 2 : 32;
          const jstep: usize = direct ? <usize>NR << 2 : <usize>(NR * kt) << 2;
          macroKernel(pa, pbj, bstep, jstep, kt, mc, nc, c + ((<usize>ic * <usize>ldc + <usize>jc) << 2), ldc, f,
            f & EP_BIAS_ROW ? bias + (<usize>ic << 2) : f & EP_BIAS_COL ? bias + (<usize>jc << 2) : 0,
            f & EP_SCALE_ROW ? scale + (<usize>ic << 2) : 0, tmp, s + S_TMP6, rows6);
        }
      }
    }
  }
}
