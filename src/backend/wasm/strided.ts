/**
 * Strided convolutions (and the other convolutions whose input gradient goes through col2im)
 * as ONE GEMM over a batch of images rather than one per image: the B operand's columns run
 * over every image's output pixels (BMODE.phaseN / rowsN, assembly/pack-multi.ts), so the
 * filters are packed once per block of up to NC columns instead of once per image, and
 * micro-panels stay full where one image has few output pixels (7x7, 4x4, 2x2 outputs).
 *   forward:         Y' [K][images*ohw] = W x im2col(phase planes of the batch), then
 *                    reordered into [images][K][ohw] (job kind 140)
 *   input gradient:  dcols [C*kh*kw][images*ohw] = W^T x dy (dy read in place over images),
 *                    then col2im with a row stride of images*ohw
 *   1x1 stride 1:    the same over x (forward) or dy (input gradient) read in place
 * The filter gradient already sums over images inside one GEMM (k blocks spanning images).
 */
import type { Conv2DAttrs } from '../kernels.js';
import { BC, BMODE, C2I, KIND } from './job-layout.js';
import { gemmSpec, runGemm, type ConvGeo } from './gemm.js';
import { phaseGeo, runPhases } from './phase.js';
import type { WasmRuntime } from './runtime.js';

/**
 * batch: 'auto', the cost model below; 'on' / 'off' force the choice (tests, A/B benchmarks).
 * tileN: columns per GEMM task at most (a B block of kc x tileN stays in L2).
 * batchBytes: phase planes plus reordered result per batched forward GEMM at most;
 * colsFloats: column matrix per input-gradient GEMM at most (smaller in tests to run chunks).
 */
export const stridedTuning: { batch: 'auto' | 'on' | 'off'; tileN: number; batchBytes: number; colsFloats: number } = {
  batch: 'auto', tileN: 512, batchBytes: 32 << 20, colsFloats: (64 << 20) / 4,
};

/** Convolution sizes the batched paths read (conv2d.ts's Dims). */
export interface BatchDims { n: number; c: number; h: number; w: number; k: number; g: number; cg: number; kg: number; rows: number; ohw: number }

/** Output pixels per image up to which the batched paths are taken. */
const BATCH_OHW = 144;

/**
 * One GEMM over the batch pays where an image has few output pixels: the per-image GEMM
 * packs every filter block again for each image's few columns and leaves the image's last
 * micro-panel part empty (49 pixels: 7 panels of 8, the last 1/8 used). From ~200 pixels on
 * both costs are a few percent, and the batched paths' own (the reorder of the forward
 * result; the input gradient's column matrix rows images*ohw apart, whose B blocks no longer
 * fit L2) measured even or slower (bench/conv-strided.ts, 196 and 289 pixels).
 */
export function batchApplies(d: BatchDims, reorderDepth = 0): boolean {
  if (stridedTuning.batch !== 'auto') return stridedTuning.batch === 'on';
  // Paths that reorder their result ([K][images*ohw] -> [images][K][ohw]) copy each output
  // once more: next to a short reduction (reorderDepth, e.g. a 1x1 layer's 96 channels) that
  // copy costs more than the per-image waste it saves, unless images are tiny (<= 64 pixels:
  // 49 wastes 1/8 of its last panel and re-packs A per 49 columns).
  return d.n > 1 && d.ohw <= BATCH_OHW && (reorderDepth === 0 || reorderDepth >= 256 || d.ohw <= 64);
}

/** [rows][images*ohw] at src -> [images][rows][ohw] at dst (dir 0), or the reverse (dir 1). */
export function runBatchCols(rt: WasmRuntime, src: number, dst: number, rows: number, images: number, ohw: number, dir: 0 | 1): void {
  // Tasks of at least ~4K floats: rows of one image.
  const rowb = Math.max(1, Math.min(rows, Math.ceil(4096 / ohw)));
  rt.args(BC, { SRC: src, DST: dst, ROWS: rows, IMAGES: images, OHW: ohw, DIR: dir, ROWB: rowb });
  rt.run(KIND.batchCols, images * Math.ceil(rows / rowb), 0, rows * images * ohw >= 1 << 16);
}

/**
 * Forward convolution of arena operands (byte pointers) with the epilogue in flags / bias /
 * scale, through the phase planes of chunks of images and one GEMM per chunk.
 */
export function forwardBatched(
  rt: WasmRuntime, x: number, w: number, flags: number, bias: number, scale: number, y: number,
  d: BatchDims, attrs: Conv2DAttrs, geo: ConvGeo,
): void {
  const pg = phaseGeo(attrs);
  const perImage = d.c * pg.perChannel;
  const chunk = Math.max(1, Math.min(d.n, Math.floor(stridedTuning.batchBytes / (4 * (perImage + d.k * d.ohw)))));
  const pp = rt.alloc(chunk * perImage);
  const wide = chunk > 1 ? rt.alloc(chunk * d.k * d.ohw) : 0;
  for (let n0 = 0; n0 < d.n; n0 += chunk) {
    const cnt = Math.min(chunk, d.n - n0);
    const cols = cnt * d.ohw;
    const out = y + 4 * n0 * d.k * d.ohw;
    runPhases(rt, x + 4 * n0 * d.c * d.h * d.w, pp, cnt * d.c, d.h, d.w, attrs, pg);
    runGemm(rt, gemmSpec({
      m: d.kg, n: cols, k: d.rows,
      a: w, ars: d.rows, acs: 1,
      bmode: BMODE.phaseN, b: pp, brs: 0, bcs: 1,
      // One image: [K][ohw] is already the output layout.
      c: cnt > 1 ? wide : out, ldc: cols,
      flags, bias, scale,
      nb2: d.g, as2: d.kg * d.rows, bs2: d.cg * pg.perChannel, cs2: d.kg * cols, biass2: d.kg,
      geo, iohw: d.ohw, istride: perImage, maxTileN: stridedTuning.tileN,
    }));
    if (cnt > 1) runBatchCols(rt, wide, out, d.k, cnt, d.ohw, 0);
  }
}

/**
 * 1x1 stride-1 forward convolution (x read in place, row p of B = input channel p) as one
 * GEMM per chunk of images, the same batching as forwardBatched without phase planes.
 */
export function forwardPointwiseBatched(
  rt: WasmRuntime, x: number, w: number, flags: number, bias: number, scale: number, y: number, d: BatchDims,
): void {
  pointwiseBatched(rt, x, w, d.c, d.k, d.cg, d.kg, d.cg, 1, y, d, flags, bias, scale);
}

/**
 * The 1x1 stride-1 input gradient dx_g = W_g^T dy_g over the batch (W read transposed in place).
 */
export function inputGradPointwiseBatched(rt: WasmRuntime, dy: number, w: number, dx: number, d: BatchDims): void {
  pointwiseBatched(rt, dy, w, d.k, d.c, d.kg, d.cg, 1, d.cg, dx, d, 0, 0, 0);
}

/**
 * out [n][cout][ohw] = A_g x in_g per group over the batch: in [n][cin][ohw] (cin / cout channels,
 * cig / cog per group), A_g (cog x cig) at a + g*cog*cig with strides (ars, acs).
 */
function pointwiseBatched(
  rt: WasmRuntime, inp: number, a: number, cin: number, cout: number, cig: number, cog: number, ars: number, acs: number,
  out: number, d: BatchDims, flags: number, bias: number, scale: number,
): void {
  const chunk = Math.max(1, Math.min(d.n, Math.floor(stridedTuning.batchBytes / (4 * cout * d.ohw))));
  const wide = chunk > 1 ? rt.alloc(chunk * cout * d.ohw) : 0;
  for (let n0 = 0; n0 < d.n; n0 += chunk) {
    const cnt = Math.min(chunk, d.n - n0);
    const cols = cnt * d.ohw;
    const o = out + 4 * n0 * cout * d.ohw;
    runGemm(rt, gemmSpec({
      m: cog, n: cols, k: cig,
      a, ars, acs,
      bmode: BMODE.rowsN, b: inp + 4 * n0 * cin * d.ohw, brs: d.ohw, bcs: 1,
      c: cnt > 1 ? wide : o, ldc: cols,
      flags, bias, scale,
      nb2: d.g, as2: cog * cig, bs2: cig * d.ohw, cs2: cog * cols, biass2: cog,
      iohw: d.ohw, istride: cin * d.ohw, maxTileN: stridedTuning.tileN,
    }));
    if (cnt > 1) runBatchCols(rt, wide, o, cout, cnt, d.ohw, 0);
  }
}

/** Per-thread scratch bytes of col2im's phase planes at most. */
const COL2IM_SCRATCH = 4 << 20;

/**
 * dx of `images` images at pdx from their column matrix at pcols: image n's channel ch at
 * n*imgs + ch*kh*kw*rs floats, tap rows rs floats apart.
 */
export function runCol2im(rt: WasmRuntime, pcols: number, pdx: number, images: number, c: number, geo: ConvGeo, attrs: Conv2DAttrs, imgs: number, rs: number): void {
  const g = geo;
  const geoArgs = [c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw, g.oh, g.ow];
  rt.arg(C2I.COLS, pcols);
  rt.arg(C2I.DX, pdx);
  rt.arg(C2I.NPLANES, images * c);
  rt.arg(C2I.IMGS, imgs);
  rt.arg(C2I.RS, rs);
  geoArgs.forEach((v, i) => rt.arg(C2I.GEO + i, v));
  // Through phase planes in scratch (SIMD row adds, assembly/col2im.ts) when they fit; where
  // the column matrix is the phase planes (kernel within the stride) no scratch: it only
  // interleaves them.
  const pg = phaseGeo(attrs);
  const planeBytes = pg.inPlace ? 0 : 4 * pg.perChannel;
  const viaPhases = planeBytes <= COL2IM_SCRATCH;
  const work = images * c * g.kh * g.kw * g.oh * g.ow;
  rt.run(viaPhases ? KIND.col2imPhase : KIND.col2im, images * c, viaPhases ? planeBytes + 64 : 0, work >= 1 << 16);
}

/**
 * Input gradient through the column matrix: dcols = W^T dy, then col2im. Batched: one GEMM
 * per chunk of images whose B is dy itself (columns over images); otherwise one GEMM per image.
 */
export function inputGradCols(rt: WasmRuntime, pw: number, pdy: number, pdx: number, d: BatchDims, attrs: Conv2DAttrs, geo: ConvGeo): void {
  const [kh, kw] = attrs.kernel;
  const colsPerImage = d.c * kh * kw * d.ohw;
  const chunk = Math.max(1, Math.min(d.n, Math.floor(stridedTuning.colsFloats / colsPerImage)));
  const pcols = rt.alloc(chunk * colsPerImage);
  const batched = batchApplies(d);
  for (let n0 = 0; n0 < d.n; n0 += chunk) {
    const cnt = Math.min(chunk, d.n - n0);
    const dy = pdy + 4 * n0 * d.k * d.ohw;
    const dx = pdx + 4 * n0 * d.c * d.h * d.w;
    if (batched) {
      const cols = cnt * d.ohw;
      runGemm(rt, gemmSpec({
        m: d.rows, n: cols, k: d.kg,
        a: pw, ars: 1, acs: d.rows,
        bmode: BMODE.rowsN, b: dy, brs: d.ohw, bcs: 1,
        c: pcols, ldc: cols,
        nb2: d.g, as2: d.kg * d.rows, bs2: d.kg * d.ohw, cs2: d.rows * cols,
        iohw: d.ohw, istride: d.k * d.ohw, maxTileN: stridedTuning.tileN,
      }));
      runCol2im(rt, pcols, dx, cnt, d.c, geo, attrs, d.ohw, cols);
      continue;
    }
    runGemm(rt, gemmSpec({
      m: d.rows, n: d.ohw, k: d.kg,
      a: pw, ars: 1, acs: d.rows,
      b: dy, brs: d.ohw, bcs: 1,
      c: pcols, ldc: d.ohw,
      nb1: cnt, nb2: d.g, as1: 0, as2: d.kg * d.rows,
      bs1: d.k * d.ohw, bs2: d.kg * d.ohw, cs1: colsPerImage, cs2: d.rows * d.ohw,
    }));
    runCol2im(rt, pcols, dx, cnt, d.c, geo, attrs, colsPerImage, d.ohw);
  }
}
