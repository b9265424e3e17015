/**
 * Winograd with dense tile numbering (assembly/winograd-dense.ts): the tiles of all images one
 * after the other with no padding, for small outputs, where the flat layout's rows padded to 4
 * tiles would make the GEMMs up to 4x longer (4x4 outputs: 2 tiles per row of F(2x2, 3x3), 1 of
 * F(4x4, 3x3)). Two layouts: runDense splits the GEMMs over blocks of output channels (each
 * streams all of V), runDenseBlocked over blocks of images (each keeps its V in scratch and
 * streams all of U); blockedPays picks.
 */
import type { Conv2DAttrs } from '../kernels.js';
import { KIND, W, WD } from './job-layout.js';
import type { WasmRuntime } from './runtime.js';

/** A variant of the dense jobs: its number in assembly (WD_VARIANT), output tile m, input tile. */
export interface DenseVariant { id: 0 | 1 | 2 | 3; m: 2 | 4; tile: 4 | 6 | 8 }
export const D23: DenseVariant = { id: 3, m: 2, tile: 4 };
export const D43: DenseVariant = { id: 0, m: 4, tile: 6 };
export const D25: DenseVariant = { id: 1, m: 2, tile: 6 };
export const D45: DenseVariant = { id: 2, m: 4, tile: 8 };

/** Bytes of the padded input planes one input task keeps at most (its slab). */
const SLAB_BYTES = 64 << 10;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** What both dense layouts derive from the variant and the shape: tiles per image, padded slab, output channels padded to 4. */
function denseGeometry(f: DenseVariant, attrs: Conv2DAttrs, k: number) {
  const [oh, ow] = attrs.out;
  const th = Math.ceil(oh / f.m), tw = Math.ceil(ow / f.m);
  return { oh, ow, planes: f.tile * f.tile, th, tw, sr: f.m * th + f.tile - f.m, wp: f.m * tw + f.tile - f.m, kp: Math.ceil(k / 4) * 4 };
}

/** Tiles per GEMM chunk: 16 panels of 8 for 4x4 input tiles, 8 for the larger ones. */
const chunkTiles = (f: DenseVariant, panels: number): number => 8 * Math.min(panels, f.tile === 4 ? 16 : 8);

/** y (pointer, [n, k, oh, ow]) = conv(x, w) by variant f in the dense layout; the epilogue's scale is already in W.SCALE. */
export function runDense(
  rt: WasmRuntime, x: number, w: number, bias: number, y: number, relu: boolean,
  n: number, c: number, h: number, wd: number, k: number, attrs: Conv2DAttrs, f: DenseVariant,
): void {
  const { oh, ow, planes, th, tw, sr, wp, kp } = denseGeometry(f, attrs, k);
  const tpi = th * tw;
  const tiles = n * tpi;
  const panels = Math.ceil(tiles / 8);
  // Blocks of 16 output channels (fewer when that leaves threads idle), chunks of tiles.
  const threads = rt.plannedThreads();
  const kb = blockOf(k, threads);
  const tc = chunkTiles(f, panels);
  // Input tasks: blocks of images holding a multiple of 8 tiles (a group of 4 never spans two
  // tasks, and no panel of 8 does: two threads writing the halves of one panel's rows would
  // share every cache line of it), chunks of channels whose padded planes fit SLAB_BYTES,
  // enough tasks for the threads.
  // (The task pads and transforms `sub` images at a time: the fewest holding a multiple of 4 tiles.)
  const sub = 4 / gcd(tpi, 4);
  const ib = 8 / gcd(tpi, 8);
  const blocks = Math.ceil(n / ib);
  const cc = Math.max(1, Math.min(c, Math.floor(SLAB_BYTES / (4 * sub * sr * wp)), Math.ceil((c * blocks) / (4 * threads))));
  const v = allocPanels(rt, planes, panels, c, tiles);
  const args = [
    [W.X, x], [W.V, v], [W.Y, y], [W.BIAS, bias], [W.RELU, relu ? 1 : 0], [W.N, n], [W.C, c], [W.K, k],
    [W.H, h], [W.W, wd], [W.OH, oh], [W.OW, ow], [W.PT, attrs.pad[0]], [W.PL, attrs.pad[2]],
    [W.TH, th], [W.WP, wp], [W.KB, kb], [W.KP, kp], [W.G, w], [W.PANELS, panels], [W.TC, tc], [W.CC, cc],
    [WD.VARIANT, f.id], [WD.TWD, tw], [WD.IB, ib],
  ] as const;
  for (const [slot, value] of args) rt.arg(slot, value);
  const tasks = blocks * Math.ceil(c / cc);
  rt.run(KIND.winogradDenseInput, tasks, 4 * sub * cc * sr * wp + 16 * planes, n * c * tpi >= 1024);
  rt.run(KIND.winogradDense, Math.ceil(kp / kb), 2048 + 4 * planes * (kb * c + kb * tc + 32), true);
}

/** Bytes of transformed input (V) one task of the blocked layout keeps in scratch at most. */
const BLOCK_V_BYTES = 256 << 10;

/**
 * The blocked layout's images per task (WD_IB): as many as BLOCK_V_BYTES of V holds (at least
 * one image), rounded down to a multiple of 8 tiles where that leaves any (full GEMM panels),
 * fewer while that leaves the threads under 4 tasks each.
 */
function imagesPerBlock(f: DenseVariant, n: number, c: number, tpi: number, threads: number): number {
  const unit = 8 / gcd(tpi, 8);
  const fit = Math.max(1, Math.min(n, Math.floor(BLOCK_V_BYTES / (4 * f.tile * f.tile * tpi * c))));
  let ib = fit >= unit ? Math.floor(fit / unit) * unit : fit;
  while (ib > 1 && Math.ceil(n / ib) < 4 * threads) ib = ib > unit ? Math.max(unit, Math.floor(ib / 2 / unit) * unit) : Math.ceil(ib / 2);
  return ib;
}

/**
 * y = conv(x, w) by variant f on dense tiles in blocks of images (denseBandedTask in
 * assembly/winograd-dense.ts): the filters of all output channels transformed once into U, then
 * a task per block of images transforms its tiles into V in scratch and runs the GEMMs with all
 * of U and the output transform. For many tiles: V stays in cache and U streams once per block,
 * where runDense streams all of V once per block of output channels.
 */
export function runDenseBlocked(
  rt: WasmRuntime, x: number, w: number, bias: number, y: number, relu: boolean,
  n: number, c: number, h: number, wd: number, k: number, attrs: Conv2DAttrs, f: DenseVariant,
): void {
  const { oh, ow, planes, th, tw, sr, wp, kp } = denseGeometry(f, attrs, k);
  const kb = Math.min(kp, 16);
  const ib = imagesPerBlock(f, n, c, th * tw, rt.plannedThreads());
  const panels = Math.ceil((ib * th * tw) / 8);
  const tc = chunkTiles(f, panels);
  const cc = Math.max(1, Math.min(c, Math.floor(SLAB_BYTES / (4 * ib * sr * wp))));
  const u = rt.alloc(planes * (kp * c + 16));
  const args = [
    [W.X, x], [W.U, u], [W.Y, y], [W.BIAS, bias], [W.RELU, relu ? 1 : 0], [W.N, n], [W.C, c], [W.K, k],
    [W.H, h], [W.W, wd], [W.OH, oh], [W.OW, ow], [W.PT, attrs.pad[0]], [W.PL, attrs.pad[2]],
    [W.TH, th], [W.WP, wp], [W.KB, kb], [W.KP, kp], [W.G, w], [W.TC, tc], [W.CC, cc],
    [WD.VARIANT, f.id], [WD.TWD, tw], [WD.IB, ib],
  ] as const;
  for (const [slot, value] of args) rt.arg(slot, value);
  rt.run(KIND.winogradDenseFilter, kp / 4, 2048, kp * c >= 4096);
  const scratch = 2048 + 4 * planes * (panels * 8 * c + 16) + 4 * planes * (kb * tc + 16) + 4 * (ib * cc * sr * wp + 16) + 16 * planes;
  rt.run(KIND.winogradDenseBanded, Math.ceil(n / ib), scratch, true);
}

/**
 * The cost model that picks dense tiles and their variant, in multiply-adds at the GEMM
 * micro-kernel's speed (single core, CPU time, measured A/B on 2x2 .. 16x16 outputs):
 *  - the GEMMs: tile^2 x tiles (rounded up to panels of 8) x C x K, times 1 + MEM_MU / kb where V
 *    outgrows the caches (every block of kb output channels streams all of V once);
 *  - each task's filter transform: FILTER[variant] per (input, output) channel pair (it
 *    dominates batch 1 of many channels: 512 -> 512 at 4x4, F(4x4, 3x3) 8.1 ms of which the
 *    GEMMs 3.5, F(2x2, 3x3) 3.5 ms);
 *  - the input and output transforms per plane, tile and channel: TRANSFORM on dense tiles (4
 *    tiles gathered and transposed per group, rows shared by no other tile), PADDED_TRANSFORM on
 *    padded rows (each input row transformed once per group of 4 adjacent tiles). The padded
 *    flat layout of F(4x4, 3x3) stays ahead where it pads little: 128@28 batch 1, 2.28 ms vs
 *    2.49 dense.
 */
const FILTER: Record<DenseVariant['id'], number> = { 3: 155, 0: 374, 1: 450, 2: 700 };
const MEM_MU = 8;
const V_CACHED = 1 << 20;
const TRANSFORM = 12;
const PADDED_TRANSFORM = 6;

/** Output channels per block of the dense job (runDense), from the output channels and threads. */
function blockOf(k: number, threads: number): number {
  const kp = Math.ceil(k / 4) * 4;
  let kb = Math.min(kp, 16);
  while (kb > 4 && Math.ceil(kp / kb) < 4 * threads) kb -= 4;
  return kb;
}

/** Estimated cost of variant f on dense tiles (see FILTER). */
export function denseCost(f: DenseVariant, n: number, c: number, k: number, oh: number, ow: number, threads: number): number {
  const planes = f.tile * f.tile;
  const tiles = n * Math.ceil(oh / f.m) * Math.ceil(ow / f.m);
  const kp = Math.ceil(k / 4) * 4;
  const vBytes = 4 * planes * tiles * c;
  const mem = vBytes <= V_CACHED ? 1 : 1 + MEM_MU / blockOf(k, threads);
  return planes * Math.ceil(tiles / 8) * 8 * c * kp * mem + FILTER[f.id] * kp * c + TRANSFORM * planes * tiles * (c + k);
}

/**
 * Where runDense's V (all tiles) outgrows the last-level cache (over V_STREAMED: 256 images of
 * 64 channels at 8x8 with F(4x4, 3x3) are 9.4 MB) and every block of output channels streams
 * it from memory, both threads at once: the blocked layout instead where that is at least
 * twice the traffic of its own, all of U once per block of images. Below that size the dense
 * job measured as fast (128 images of 64 channels at 8x8, 4.7 MB: within a few per cent
 * either way) or faster (at 5x5 outputs, and with 16 to 32 channels per tile, whose short
 * GEMMs do not pay the blocks' per-task U).
 */
const V_STREAMED = 8 << 20;
function blockedPays(f: DenseVariant, n: number, c: number, k: number, oh: number, ow: number, threads: number): boolean {
  const planes = f.tile * f.tile;
  const tpi = Math.ceil(oh / f.m) * Math.ceil(ow / f.m);
  const kp = Math.ceil(k / 4) * 4;
  const vBytes = 4 * planes * n * tpi * c;
  if (vBytes <= V_STREAMED) return false;
  const vTraffic = vBytes * Math.ceil(kp / blockOf(k, threads));
  const uTraffic = 4 * planes * kp * c * Math.ceil(n / imagesPerBlock(f, n, c, tpi, threads));
  return vTraffic >= 2 * uTraffic;
}

/** A variant of the dense tiles and its layout: `blocked` for runDenseBlocked, else runDense. */
export interface DenseChoice { f: DenseVariant; blocked: boolean; cost: number }

/**
 * The cheapest of the candidate variants on dense tiles (3x3: F(2x2) and F(4x4); 5x5: F(2x2)
 * and, up to f45MaxC input channels (its float32 error grows with the sum's length), F(4x4)),
 * or one forced by the tuning mode; in blocks of images where blockedPays (or `blocks` forces
 * 'on' or 'off'). `cost` is runDense's (denseCost) either way.
 */
export function bestDense(
  mode: string, blocks: 'auto' | 'on' | 'off', r: number, n: number, c: number, k: number, oh: number, ow: number, threads: number, f45MaxC: number,
): DenseChoice {
  const list = r === 5
    ? (mode === 'f25' ? [D25] : mode === 'f45' ? [D45] : c <= f45MaxC ? [D25, D45] : [D25])
    : (mode === 'f23' ? [D23] : mode === 'f43' ? [D43] : [D23, D43]);
  let best = { f: list[0]!, cost: Infinity };
  for (const f of list) {
    const cost = denseCost(f, n, c, k, oh, ow, threads);
    if (cost < best.cost) best = { f, cost };
  }
  const blocked = blocks === 'on' || (blocks === 'auto' && blockedPays(best.f, n, c, k, oh, ow, threads));
  return { ...best, blocked };
}

/**
 * The padded layouts' cost in the same units, for the variant they would run (m, tile): the
 * flat layout's rows padded to 4 tiles (the same job otherwise), or the banded layout's, whose
 * bands keep V in cache and stream U once per band of `bandTiles` tiles.
 */
export function paddedCost(
  m: number, tile: number, banded: boolean, bandTiles: number, n: number, c: number, k: number, oh: number, ow: number, threads: number,
): number {
  const filter = FILTER[(m === 2 ? (tile === 4 ? D23 : D25) : tile === 6 ? D43 : D45).id];
  const planes = tile * tile;
  const tiles = n * Math.ceil(oh / m) * Math.ceil(Math.ceil(ow / m) / 4) * 4;
  const kp = Math.ceil(k / 4) * 4;
  const reuse = banded ? bandTiles : blockOf(k, threads);
  const mem = 4 * planes * (banded ? kp : tiles) * c <= V_CACHED ? 1 : 1 + MEM_MU / reuse;
  return planes * Math.ceil(tiles / 8) * 8 * c * kp * mem + filter * kp * c + PADDED_TRANSFORM * planes * tiles * (c + k);
}

/**
 * V of the flat and dense layouts: `planes` xi planes of `panels` panels of C x 8 tiles, each
 * plane one cache line longer than its data (flatPlane / plane() in assembly/winograd*.ts); the
 * last panel's lanes past the last tile are zeros (the input jobs write only up to the last tile).
 */
export function allocPanels(rt: WasmRuntime, planes: number, panels: number, c: number, tiles: number): number {
  const vPlane = panels * 8 * c + 16;
  const v = rt.alloc(planes * vPlane);
  if (tiles % 8 !== 0) for (let xi = 0; xi < planes; xi++) rt.zero(v + 4 * (xi * vPlane + (panels - 1) * c * 8), c * 8);
  return v;
}
