/**
 * Winograd convolution: which variant applies (F(2x2, 3x3) and F(4x4, 3x3) for 3x3 filters,
 * F(2x2, 5x5) and F(4x4, 5x5) for 5x5, assembly/winograd*.ts), in which layout (rows, flat,
 * banded, or dense tiles for small outputs: winograd-dense.ts), how to cut the work into tasks
 * and size their scratch. The filter gradient: winograd-grad.ts.
 */
import type { Conv2DAttrs } from '../kernels.js';
import { KIND, W } from './job-layout.js';
import type { WasmRuntime } from './runtime.js';
import type { Epilogue } from './conv2d.js';
import { allocPanels, bestDense, paddedCost, runDense, runDenseBlocked, type DenseChoice } from './winograd-dense.js';

/**
 * Benchmarks and tests: 'off' never takes Winograd, 'rows'/'flat' force a layout of F(2x2, 3x3)
 * where it applies, 'f23' takes F(2x2, 3x3) in the layout 'auto' would pick for it, 'f43' forces
 * F(4x4, 3x3) (assembly/winograd-f43.ts); 'f25' and 'f45' force F(2x2, 5x5) or F(4x4, 5x5) on 5x5
 * layers (3x3 ones then take F(2x2, 3x3)). `banded` forces the layout of the 6x6- and 8x8-tile
 * variants ('auto': useBanded). `dense` forces ('on') or forbids ('off': the padded layouts
 * alone, as before they existed) dense tiles ('auto': denseChoice).
 */
export const winogradTuning: {
  mode: 'auto' | 'off' | 'rows' | 'flat' | 'f23' | 'f43' | 'f25' | 'f45'; banded: 'auto' | 'on' | 'off'; dense: 'auto' | 'on' | 'off';
  blocks: 'auto' | 'on' | 'off';
} = { mode: 'auto', banded: 'auto', dense: 'auto', blocks: 'auto' };

/**
 * Whether Winograd serves a convolution: 3x3 or 5x5, stride 1, no dilation, no groups. Few
 * channels make the transforms cost more than the multiplies they save (and the GEMM's tiles
 * emptier), so those stay on the direct GEMM. `n` (the batch), where the caller knows it, lets
 * 2x2 and 3x3 outputs take dense tiles when the batch pays for the filter transform.
 */
export function winogradApplies(attrs: Conv2DAttrs, c: number, k: number, n?: number): boolean {
  const { mode, dense } = winogradTuning;
  if (mode === 'off') return false;
  const plain = attrs.groups === 1 && attrs.stride[0] === 1 && attrs.stride[1] === 1 && attrs.dilation[0] === 1 && attrs.dilation[1] === 1;
  const [kh, kw] = attrs.kernel;
  const [oh, ow] = attrs.out;
  // Forced dense tiles: every output size (the tests' way to reach 1x1 .. 3x3 outputs).
  const any = dense === 'on' && mode !== 'rows' && mode !== 'flat' && oh >= 1 && ow >= 1;
  if (plain && kh === 5 && kw === 5) return winograd5Applies(c, k, any ? 2 : oh, any ? 2 : ow);
  if (!plain || kh !== 3 || kw !== 3 || c < 16 || k < 16) return false;
  if ((oh >= 4 && ow >= 4) || any) return true;
  // 2x2 and 3x3 outputs: dense tiles, where the batch pays for the filter transform (the GEMM
  // on such outputs runs at a fraction of the micro-kernel's speed: GEMM_SMALL). Only callers
  // that know the batch.
  if (n === undefined || dense === 'off' || mode === 'rows' || mode === 'flat' || oh < 2 || ow < 2) return false;
  return bestDense(mode, winogradTuning.blocks, 3, n, c, k, oh, ow, 1, F45_MAX_C).cost <= GEMM_SMALL * 9 * n * oh * ow * c * k;
}
const GEMM_SMALL = 3;

/**
 * Winograd for 5x5 stride-1 convolutions (the CIFAR-10 demo's, LeNet-5's second, AlexNet's,
 * GoogLeNet's 5x5 branches): F(4x4, 5x5) or F(2x2, 5x5) (useF45), in all three passes. Their
 * transforms cost more per output than F(4x4, 3x3)'s, which a single input channel or few
 * filters do not pay back.
 */
function winograd5Applies(c: number, k: number, oh: number, ow: number): boolean {
  return c >= 3 && k >= 8 && oh >= 2 && ow >= 2;
}

/**
 * F(4x4, 5x5) rather than F(2x2, 5x5) for a 5x5 layer: where its padded tiles (rows of 4-tile
 * groups) do at most F45_MAX_RATIO of F(2x2)'s multiplies (16x16 outputs: 0.44; 8x8: 0.89), and
 * over at most F45_MAX_C input channels: its float32 error grows with the sum's length faster
 * than F(2x2)'s. Measured against the float64-summed reference, as a fraction of the largest
 * output (the kernel tests allow 1e-5): C = 16, 64, 128, 256, 512: F(4x4) 1.6e-6, 2.9e-6,
 * 4.1e-6, 8e-6 (1.4e-5 on another seed), 1.2e-5; F(2x2) 0.4-2.8e-6 throughout.
 */
const F45_MAX_RATIO = 0.7;
const F45_MAX_C = 64;
function useF45(c: number, oh: number, ow: number): boolean {
  if (winogradTuning.mode === 'f25') return false;
  if (winogradTuning.mode === 'f45') return true;
  const muls = (m: number, planes: number) => planes * Math.ceil(oh / m) * Math.ceil(Math.ceil(ow / m) / 4) * 4;
  return c <= F45_MAX_C && muls(4, 64) <= F45_MAX_RATIO * muls(2, 36);
}

/** y (pointer, [n, k, oh, ow]) = scale * conv(x, w) + bias (3x3 or 5x5 filters), ReLU when asked (ep). Pointers are bytes. */
export function runWinograd(
  rt: WasmRuntime, x: number, w: number, ep: Epilogue, y: number,
  n: number, c: number, h: number, wd: number, k: number, attrs: Conv2DAttrs,
): void {
  const [oh, ow] = attrs.out;
  const { bias, relu } = ep;
  rt.arg(W.SCALE, ep.scale);
  const dense = denseChoice(n, c, k, oh, ow, attrs.kernel[0], rt.plannedThreads());
  if (dense?.blocked) return runDenseBlocked(rt, x, w, bias, y, relu, n, c, h, wd, k, attrs, dense.f);
  if (dense) return runDense(rt, x, w, bias, y, relu, n, c, h, wd, k, attrs, dense.f);
  if (attrs.kernel[0] === 5) {
    const f = useF45(c, oh, ow) ? F45 : F25;
    if (useBanded(n, k, oh, ow, f)) runBanded(rt, x, w, bias, y, relu, n, c, h, wd, k, attrs, f);
    else runFlat(rt, x, w, bias, y, relu, n, c, h, wd, k, attrs, f);
    return;
  }
  if (useF43(n, c, k, oh, ow)) {
    if (useBanded(n, k, oh, ow, F43)) runBanded(rt, x, w, bias, y, relu, n, c, h, wd, k, attrs, F43);
    else runFlat(rt, x, w, bias, y, relu, n, c, h, wd, k, attrs, F43);
    return;
  }
  const th = Math.ceil(oh / 2);
  if (flatLayout(n, th, Math.ceil(ow / 2))) {
    runFlat(rt, x, w, bias, y, relu, n, c, h, wd, k, attrs, F23);
    return;
  }
  const twp = Math.ceil(Math.ceil(ow / 2) / 8) * 8;
  const wp = 2 * twp + 4;
  const kp = Math.ceil(k / 4) * 4;
  const kb = Math.min(kp, 64);
  const threads = rt.threads();
  // Bands of about 32 tiles (a B panel of C x 8 stays in L1, V and M of a band in L2),
  // thinner when that leaves threads idle.
  let rows = Math.max(1, Math.min(th, Math.ceil(32 / twp)));
  while (rows > 1 && n * Math.ceil(th / rows) < 2 * threads) rows = Math.ceil(rows / 2);
  const tpi = Math.ceil(th / rows);

  // xi planes of U and V one cache line longer than their data (flatPlane in assembly/winograd-f23.ts).
  const u = rt.alloc(16 * (kp * c + 16));
  const v = [
    [W.X, x], [W.U, u], [W.Y, y], [W.BIAS, bias], [W.RELU, relu ? 1 : 0], [W.N, n], [W.C, c], [W.K, k],
    [W.H, h], [W.W, wd], [W.OH, oh], [W.OW, ow], [W.PT, attrs.pad[0]], [W.PL, attrs.pad[2]],
    [W.TH, th], [W.TWP, twp], [W.ROWS, rows], [W.TPI, tpi], [W.WP, wp], [W.KB, kb], [W.KP, kp], [W.G, w],
  ] as const;
  for (const [slot, value] of v) rt.arg(slot, value);
  rt.run(KIND.winogradF23Filter, kp / 4, 0, k * c >= 4096);
  const tb = rows * twp;
  const scratch = 512 + 4 * (c * (2 * rows + 2) * wp + 16 * (c * tb + 16) + 16 * kb * tb);
  rt.run(KIND.winogradF23Banded, n * tpi, scratch, true);
}

/** Bytes of dense V beyond which auto keeps the padded layouts (whose banded V is per band). */
const DENSE_MAX_V = 64 << 20;

/**
 * Dense tiles (winograd-dense.ts) where their cost model says they beat the layout the
 * padded-tile rules below pick (flat or banded, same variant rules), and always on outputs
 * under 4 (only they serve them); never against the row layout of F(2x2, 3x3) on large images.
 */
function denseChoice(n: number, c: number, k: number, oh: number, ow: number, r: number, threads: number): DenseChoice | null {
  const { mode, dense, blocks } = winogradTuning;
  if (dense === 'off' || mode === 'rows' || mode === 'flat') return null;
  const best = bestDense(mode, blocks, r, n, c, k, oh, ow, threads, F45_MAX_C);
  if (dense === 'on' || oh < 4 || ow < 4) return best;
  // V (all tiles' transforms, about 2.25x the input for F(4x4, 3x3)) bounded as the GEMM's column chunks are.
  if (winogradTuning.banded === 'on' || (!best.blocked && 4 * best.f.tile ** 2 * n * Math.ceil(oh / best.f.m) * Math.ceil(ow / best.f.m) * c > DENSE_MAX_V)) return null;
  const f = r === 5 ? (useF45(c, oh, ow) ? F45 : F25) : useF43(n, c, k, oh, ow) ? F43 : F23;
  if (f === F23 && !flatLayout(n, Math.ceil(oh / 2), Math.ceil(ow / 2))) return null;
  const banded = f !== F23 && useBanded(n, k, oh, ow, f);
  const tw4 = Math.ceil(Math.ceil(ow / f.m) / 4) * 4;
  const bandTiles = tw4 * Math.max(1, Math.min(Math.ceil(oh / f.m), Math.floor(BAND_V_BYTES / (4 * f.tile * f.tile * c * tw4))));
  return best.cost <= paddedCost(f.m, f.tile, banded, bandTiles, n, c, k, oh, ow, threads) ? best : null;
}

/** The flat layout (small images): tiles of all images in one row of panels, see assembly/winograd-f23.ts. */
function flatLayout(n: number, th: number, tw: number): boolean {
  if (winogradTuning.mode === 'flat') return true;
  if (winogradTuning.mode === 'rows') return false;
  // 'auto' and 'f23' alike: flat where the row layout would pad its 8-tile panels most.
  const tw4 = Math.ceil(tw / 4) * 4;
  return th * tw4 <= 64 || n * th * tw4 <= 256;
}

/**
 * The flat-layout variants: F(2x2, 3x3) (assembly/winograd-f23.ts), and on the jobs of
 * assembly/winograd-f43.ts F(4x4, 3x3) and F(2x2, 5x5) (6x6 input tiles) and F(4x4, 5x5) (8x8).
 * `m` is the output tile size, `tile` the input tile's: the transforms work on tile^2 planes.
 */
interface FlatVariant {
  m: 2 | 4;
  tile: 4 | 6 | 8;
  inputKind: number;
  flatKind: number;
  /** Panels of 8 tiles per GEMM chunk at most. */
  chunkPanels: number;
  /** Scratch bytes beyond the slab (input task; 6x6 and 8x8 tiles add the slab rows through B) and the blocks (flat task). */
  inputExtra: number;
  flatExtra: number;
  /** Input transforms touching fewer elements than this stay on one thread. */
  parallelInput: number;
  /** 6x6 and 8x8 tiles: the banded layout's jobs (filter transform, then the bands). */
  filterKind?: number;
  bandedKind?: number;
}

const F23: FlatVariant = { m: 2, tile: 4, inputKind: KIND.winogradF23Input, flatKind: KIND.winogradF23Flat, chunkPanels: 16, inputExtra: 0, flatExtra: 1024, parallelInput: 2048 };
const F43: FlatVariant = {
  m: 4, tile: 6, inputKind: KIND.winogradF43Input, flatKind: KIND.winogradF43Flat, chunkPanels: 8, inputExtra: 128, flatExtra: 2048, parallelInput: 1024,
  filterKind: KIND.winogradF43Filter, bandedKind: KIND.winogradF43Banded,
};
const F45: FlatVariant = {
  m: 4, tile: 8, inputKind: KIND.winogradF45Input, flatKind: KIND.winogradF45Flat, chunkPanels: 8, inputExtra: 128, flatExtra: 2048, parallelInput: 1024,
  filterKind: KIND.winogradF45Filter, bandedKind: KIND.winogradF45Banded,
};
const F25: FlatVariant = {
  m: 2, tile: 6, inputKind: KIND.winogradF25Input, flatKind: KIND.winogradF25Flat, chunkPanels: 8, inputExtra: 128, flatExtra: 2048, parallelInput: 1024,
  filterKind: KIND.winogradF25Filter, bandedKind: KIND.winogradF25Banded,
};

/** Tiles of all images numbered across rows, tile rows padded to 4 tiles, in panels of 8. */
function runFlat(
  rt: WasmRuntime, x: number, w: number, bias: number, y: number, relu: boolean,
  n: number, c: number, h: number, wd: number, k: number, attrs: Conv2DAttrs, f: FlatVariant,
): void {
  const [oh, ow] = attrs.out;
  const planes = f.tile * f.tile;
  const th = Math.ceil(oh / f.m);
  const tw4 = Math.ceil(Math.ceil(ow / f.m) / 4) * 4;
  const wp = f.m * tw4 + 4;
  const kp = Math.ceil(k / 4) * 4;
  const tiles = n * th * tw4;
  const panels = Math.ceil(tiles / 8);
  // Blocks of 16 output channels (fewer when that leaves threads idle), chunks of tiles.
  const threads = rt.plannedThreads();
  let kb = Math.min(kp, 16);
  while (kb > 4 && Math.ceil(kp / kb) < 4 * threads) kb -= 4;
  const tc = 8 * Math.min(panels, f.chunkPanels);
  // Input transform: tasks of one image and a chunk of channels whose slab stays small.
  const sr = f.m * th + f.tile - f.m;
  const cc = Math.max(1, Math.min(c, Math.floor((64 << 10) / (4 * sr * wp)), Math.ceil((c * n) / (4 * threads))));
  const v = allocPanels(rt, planes, panels, c, tiles);
  const args = [
    [W.X, x], [W.V, v], [W.Y, y], [W.BIAS, bias], [W.RELU, relu ? 1 : 0], [W.N, n], [W.C, c], [W.K, k],
    [W.H, h], [W.W, wd], [W.OH, oh], [W.OW, ow], [W.PT, attrs.pad[0]], [W.PL, attrs.pad[2]],
    [W.TH, th], [W.TW4, tw4], [W.WP, wp], [W.KB, kb], [W.KP, kp], [W.G, w], [W.PANELS, panels], [W.TC, tc], [W.CC, cc],
  ] as const;
  for (const [slot, value] of args) rt.arg(slot, value);
  const per = Math.ceil(c / cc);
  rt.run(f.inputKind, n * per, f.inputExtra + 4 * cc * sr * wp + (f.tile > 4 ? 16 * f.tile * sr + 64 : 0), n * c * th * tw4 >= f.parallelInput);
  rt.run(f.flatKind, Math.ceil(kp / kb), f.flatExtra + 4 * planes * (kb * c + kb * tc + 32), true);
}

/** F(4x4, 3x3) instead of F(2x2, 3x3) (the F43 variant of runFlat) where it does fewer multiplies on padded tiles. */
const F43_MAX_RATIO = 0.7;
const F43_MAX_V = 16 << 20;
function useF43(n: number, c: number, k: number, oh: number, ow: number): boolean {
  if (winogradTuning.mode === 'f43') return true;
  if (winogradTuning.mode !== 'auto') return false;
  // Multiplies counted with each layout's padded tiles: F(4x4) pads tile rows to 4 tiles of 4
  // columns, so 7x7 (2 tiles padded to 4) does more than F(2x2) (4 tiles); and it costs more
  // per multiply (36 planes of filter transforms per task, the bigger output transform).
  const f4 = 36 * Math.ceil(oh / 4) * Math.ceil(Math.ceil(ow / 4) / 4) * 4;
  const f2 = 16 * Math.ceil(oh / 2) * Math.ceil(Math.ceil(ow / 2) / 4) * 4;
  // The flat layout's V (36 planes of all tiles) streams through memory: slower than the
  // F(2x2) bands beyond about 16 MB. The banded layout keeps V per band in scratch, and there
  // F(4x4) stays ahead at any size.
  const vBytes = 36 * 4 * c * n * (f4 / 36);
  return f4 <= F43_MAX_RATIO * f2 && (vBytes <= F43_MAX_V || useBanded(n, k, oh, ow, F43));
}


/** Bytes of transformed input (V) a band of the banded layout keeps in scratch at most. */
const BAND_V_BYTES = 256 << 10;

/**
 * Banded or flat (6x6 tiles): the flat job streams all of V once per block of output channels,
 * the banded one all of U once per band; both hold C floats per tile or per output channel, so
 * the tile count against the output channels decides.
 */
function useBanded(n: number, k: number, oh: number, ow: number, f: FlatVariant): boolean {
  if (winogradTuning.banded !== 'auto') return winogradTuning.banded === 'on';
  const tiles = n * Math.ceil(oh / f.m) * Math.ceil(Math.ceil(ow / f.m) / 4) * 4;
  return tiles >= 2 * Math.ceil(k / 4) * 4;
}

/**
 * The banded layout (banded6Task in assembly/winograd-f43.ts): the filters of all output channels
 * transformed once into U, then a task per band of tile rows of one image transforms its
 * tiles into V in scratch and runs the 36 GEMMs and the output transform for every output
 * channel. Bands as tall as BAND_V_BYTES allows, thinner when that leaves threads idle.
 */
function runBanded(
  rt: WasmRuntime, x: number, w: number, bias: number, y: number, relu: boolean,
  n: number, c: number, h: number, wd: number, k: number, attrs: Conv2DAttrs, f: FlatVariant,
): void {
  const [oh, ow] = attrs.out;
  const th = Math.ceil(oh / f.m);
  const tw4 = Math.ceil(Math.ceil(ow / f.m) / 4) * 4;
  const wp = f.m * tw4 + 4;
  const kp = Math.ceil(k / 4) * 4;
  const threads = rt.plannedThreads();
  const planes = f.tile * f.tile;
  let rpb = Math.max(1, Math.min(th, Math.floor(BAND_V_BYTES / (4 * planes * c * tw4))));
  while (rpb > 1 && n * Math.ceil(th / rpb) < 4 * threads) rpb = Math.ceil(rpb / 2);
  const bands = Math.ceil(th / rpb);
  const panels = Math.ceil((rpb * tw4) / 8);
  const tc = 8 * Math.min(panels, f.chunkPanels);
  const kb = Math.min(kp, 16);
  const srb = f.m * rpb + f.tile - f.m;
  const cc = Math.max(1, Math.min(c, Math.floor((64 << 10) / (4 * srb * wp))));
  const u = rt.alloc(planes * (kp * c + 16));
  const args = [
    [W.X, x], [W.U, u], [W.Y, y], [W.BIAS, bias], [W.RELU, relu ? 1 : 0], [W.N, n], [W.C, c], [W.K, k],
    [W.H, h], [W.W, wd], [W.OH, oh], [W.OW, ow], [W.PT, attrs.pad[0]], [W.PL, attrs.pad[2]],
    [W.TH, th], [W.TW4, tw4], [W.WP, wp], [W.KB, kb], [W.KP, kp], [W.G, w], [W.TC, tc], [W.CC, cc],
    [W.ROWS, rpb], [W.TPI, bands],
  ] as const;
  for (const [slot, value] of args) rt.arg(slot, value);
  rt.run(f.filterKind!, kp / 4, 2048, kp * c >= 4096);
  const scratch = 2048 + 4 * (planes * (panels * c * 8 + 16) + planes * (kb * tc + 16) + cc * srb * wp + 16) + 16 * f.tile * srb + 64;
  rt.run(f.bandedKind!, n * bands, scratch, true);
}

