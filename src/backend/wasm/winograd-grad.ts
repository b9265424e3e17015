/**
 * The filter gradient of 3x3 and 5x5 stride-1 convolutions by Winograd (assembly/winogradgrad.ts):
 * which variant, how the work splits into tasks (gradPlan), and the job.
 */
import type { Conv2DAttrs } from '../kernels.js';
import { roundUp } from './args.js';
import { FG, KIND } from './job-layout.js';
import type { WasmRuntime } from './runtime.js';
import { PARALLEL_MACS, sumParts } from './gemm.js';
import { winogradApplies, winogradTuning } from './winograd.js';

/**
 * The filter gradient of 3x3 and 5x5 stride-1 convolutions by Winograd
 * (assembly/winogradgrad.ts). 5x5: under the same conditions as the forward pass. 3x3: where
 * the plan (gradPlan) costs fewer multiplies than the path it replaces, counting its overheads;
 * `slowdown` scales that path's multiply-adds where it runs below its usual rate (the caller
 * knows which path that is).
 */
export function winogradFilterApplies(attrs: Conv2DAttrs, n: number, c: number, k: number, threads: number, slowdown = 1): boolean {
  if (winogradTuning.mode === 'off' || !attrs.pad.every((p) => p >= 0)) return false;
  const [kh, kw] = attrs.kernel;
  if (kh === 5 && kw === 5) return winogradApplies(attrs, c, k);
  const plain = attrs.groups === 1 && attrs.stride[0] === 1 && attrs.stride[1] === 1 && attrs.dilation[0] === 1 && attrs.dilation[1] === 1;
  if (!plain || kh !== 3 || kw !== 3) return false;
  if (winogradTuning.mode !== 'auto') return true;
  const [oh, ow] = attrs.out;
  return countedPlan(n, c, k, oh, ow, 3, threads).cost <= slowdown * 9 * n * c * k * oh * ow;
}

/** A filter-gradient variant: output tile (step), input tile, filter size, job kind. */
export interface GradVariant { step: 2 | 4; tile: 4 | 6 | 8; r: 3 | 5; kind: number }
const G23: GradVariant = { step: 2, tile: 4, r: 3, kind: KIND.winogradF23FilterGrad };
const G43: GradVariant = { step: 4, tile: 6, r: 3, kind: KIND.winogradF43FilterGrad };
const G25: GradVariant = { step: 2, tile: 6, r: 5, kind: KIND.winogradF25FilterGrad };
const G45: GradVariant = { step: 4, tile: 8, r: 5, kind: KIND.winogradF45FilterGrad };

/**
 * The filter gradient's chunk size (tiles), and its cost model's constants (multiply-adds per
 * element; see gradPlan); benchmarks vary tiles and mBytes.
 */
export const winogradGradTuning = { tiles: 64, mBytes: 1 << 20, ovh: 3, xCost: 9, dyCost: 6, slabCost: 14, mCost: 22, sumCost: 8, plan: 'cost' as 'cost' | 'counted',
  /** Tests: this split (parts of the images, blocks of filters, each at most what the shape allows) instead of the model's. */
  force: null as null | { parts: number; blocks: number } };
const GT = winogradGradTuning;
/** A task's transform-domain dW (M, in its scratch) at most. */
const M_MAX_BYTES = 32 << 20;

export interface GradPlan {
  f: GradVariant;
  /** Parts of the images, images per part, filters per block, tile rows and images per chunk. */
  parts: number; ipp: number; kblk: number; rc: number; ic: number;
  /** Multiply-adds, the transforms and the transform-domain dW's passes through memory counted in (see gradPlan). */
  cost: number;
}

/**
 * How a Winograd filter gradient splits: tasks are a part of the images and a block of filters.
 * Each task keeps its own transform-domain dW (M: tile^2 x filters x channels): it transforms x
 * and dy chunk by chunk and adds each chunk's tile^2 GEMMs into M (the first chunk stores them;
 * the last one's run block by block with M's inverse transform, so one chunk needs no M). So a
 * block of filters costs a transform of its part's x (every block redoes it), and a part of the
 * images costs M's inverse transform and a partial dW to add up; M beyond GT.mBytes (the L2
 * cache) costs a pass through memory per chunk. The plan takes the split with the least time
 * over the threads (tasks of equal cost, run ceil(tasks / threads) deep). Measured constants
 * (single core, CPU time, in multiply-adds of the GEMM per element): x's transform GT.xCost per
 * transformed value, dy's GT.dyCost, their slabs (zero-padded, channels interleaved)
 * GT.slabCost per element, M's inverse transform GT.mCost (measured when M also took a zeroing
 * pass and a pass of its own, so an overestimate now: kept so that the splits, and with them the
 * bits, stay those the accuracy tests were set on), a chunk's pass of a large M GT.ovh, a partial
 * dW's addition GT.sumCost.
 */
export function gradPlan(n: number, c: number, k: number, oh: number, ow: number, r: number, threads: number): GradPlan {
  if (GT.plan === 'counted') return countedPlan(n, c, k, oh, ow, r, threads);
  const f = gradVariant(r, oh, ow);
  const planes = f.tile * f.tile;
  const th = Math.ceil(oh / f.step), tw = Math.ceil(ow / f.step);
  const macs = n * k * c * r * r * oh * ow;
  const par = threads > 1 && macs >= PARALLEL_MACS;
  const lanes = par ? threads : 1;
  const rc = Math.max(1, Math.min(th, Math.floor(GT.tiles / tw)));
  let best: GradPlan | null = null;
  let bestTime = Infinity;
  const force = GT.force;
  // Blocks keep each task's M (in its scratch) within M_MAX_BYTES.
  const fit = Math.max(8, Math.floor(M_MAX_BYTES / (4 * planes * roundUp(c, 8)) / 8) * 8);
  const minBlocks = Math.ceil(k / Math.min(roundUp(k, 8), fit));
  const maxParts = force ? Math.min(n, force.parts) : par ? Math.min(n, 4 * threads) : 1;
  const maxBlocks = Math.max(minBlocks, force ? Math.min(Math.ceil(k / 8), force.blocks) : par ? Math.min(Math.ceil(k / 8), 4 * threads) : 1);
  for (let p = force ? maxParts : 1; p <= maxParts; p++) {
    const ipp = Math.ceil(n / p);
    const parts = Math.ceil(n / ipp);
    if (parts !== p && !force) continue; // the same split as a smaller count
    const ic = rc < th ? 1 : Math.max(1, Math.min(ipp, Math.floor(GT.tiles / (th * tw))));
    const chunks = Math.ceil(ipp / ic) * Math.ceil(th / rc);
    const tilesPart = ipp * th * tw;
    // The zero-padded slabs (x's and dy's) each chunk's transforms read, per channel: rows of
    // whole 4-tile groups, per image and band of tile rows.
    const bands = ipp * Math.ceil(th / rc);
    const tw4 = roundUp(tw, 4);
    const slabX = bands * (f.step * rc + f.tile - f.step) * roundUp(f.step * tw4 + f.tile - f.step, 4);
    const slabD = bands * f.step * rc * f.step * tw4;
    for (let bl = force ? maxBlocks : minBlocks; bl <= maxBlocks; bl++) {
      const kblk = roundUp(Math.ceil(k / bl), 8);
      const blocks = Math.ceil(k / kblk);
      if (blocks !== bl && !force && bl > minBlocks) continue; // the same split as a smaller count
      const mFloats = planes * kblk * roundUp(c, 8);
      const task = planes * tilesPart * (kblk * roundUp(c, 8) + GT.xCost * roundUp(c, 4) + GT.dyCost * roundUp(kblk, 4)) +
        GT.slabCost * (roundUp(c, 4) * slabX + roundUp(kblk, 4) * slabD) +
        mFloats * (GT.mCost + (4 * mFloats > GT.mBytes ? GT.ovh * chunks : 0));
      const tasks = parts * blocks;
      const sum = parts > 1 ? GT.sumCost * (parts - 1) * k * c * r * r : 0;
      // Half a task for the threads' uneven finish (a shared machine: fewer, bigger tasks balance worse).
      const time = Math.ceil(tasks / lanes) * task + (lanes > 1 ? task / 2 : 0) + sum / lanes;
      if (time < bestTime) {
        bestTime = time;
        best = { f, parts, ipp, kblk, rc, ic, cost: tasks * task + sum };
      }
    }
  }
  return best!;
}

/**
 * The split by multiplies counted, and the rule the choice between Winograd and the GEMM was
 * measured against: parts of at least 64 tiles, blocks of filters keeping M within 1 MB (each
 * block transforms x again), passes of M at 8 multiply-adds per element beyond 1 MB and 2
 * within. Its cost decides winogradFilterApplies; benchmarks A/B its split against gradPlan's
 * (winogradGradTuning.plan = 'counted').
 */
const COUNTED = { tiles: 64, ovh: 8, mBytes: 1 << 20 };
function countedPlan(n: number, c: number, k: number, oh: number, ow: number, r: number, threads: number): GradPlan {
  const f = gradVariant(r, oh, ow);
  const planes = f.tile * f.tile;
  const th = Math.ceil(oh / f.step), tw = Math.ceil(ow / f.step);
  const tiles = n * th * tw;
  const macs = n * k * c * r * r * oh * ow;
  const par = threads > 1 && macs >= PARALLEL_MACS;
  const parts = par ? Math.max(1, Math.min(n, 4 * threads, Math.floor(tiles / COUNTED.tiles))) : 1;
  const ipp = Math.ceil(n / parts);
  const kParts = Math.ceil(n / ipp);
  const cp = roundUp(c, 8);
  // Filters per block: M within COUNTED.mBytes, and enough tasks for the threads.
  let kblk = roundUp(k, 8);
  const fit = Math.max(32, Math.floor(COUNTED.mBytes / (4 * planes * cp) / 8) * 8);
  if (kblk > fit) kblk = roundUp(Math.ceil(k / Math.ceil(k / fit)), 8);
  if (par && kParts * Math.ceil(k / kblk) < 2 * threads) kblk = Math.max(Math.min(kblk, 32), roundUp(Math.ceil(k / Math.ceil((2 * threads) / kParts)), 8));
  const kBlocks = Math.ceil(k / kblk);
  const rc = Math.max(1, Math.min(th, Math.floor(COUNTED.tiles / tw)));
  const ic = rc < th ? 1 : Math.max(1, Math.min(ipp, Math.floor(COUNTED.tiles / (th * tw))));
  const chunks = Math.ceil(ipp / ic) * Math.ceil(th / rc);
  const mFloats = planes * roundUp(kblk, 8) * cp;
  const ovh = 4 * mFloats > COUNTED.mBytes ? COUNTED.ovh : 2;
  const perTask = mFloats * (ipp * th * tw + ovh * (2 + 2 * chunks)) + 4 * planes * cp * ipp * th * tw;
  const tasks = kParts * kBlocks;
  const cost = perTask * Math.ceil(tasks / Math.max(1, par ? threads : 1)) * (par ? threads : 1);
  return { f, parts: kParts, ipp, kblk, rc, ic, cost };
}

/**
 * F(4x4) rather than F(2x2) for a 5x5 filter gradient: the tiles need no padding to groups of 4 (its
 * transforms run along channels), so F(4x4) does fewer multiplies at all but the smallest
 * outputs; it takes F(4x4) where its multiplies (tile^2 per tile) are at most GRAD_F4_RATIO of
 * F(2x2)'s.
 */
const GRAD_F4_RATIO = 0.9;
function gradVariant(r: number, oh: number, ow: number): GradVariant {
  const mode = winogradTuning.mode;
  if (r === 5) return mode === 'f25' ? G25 : mode === 'f45' ? G45 : gradF4(oh, ow, 64, 36) ? G45 : G25;
  // 3x3 filter gradients take F(2x2, 3x3) unless a benchmark asks for F(4x4, 3x3): F(4x4)'s
  // transforms spread the rounding of the largest entries of dW over all of them, so entries
  // near zero came out 15x further from PyTorch's than with F(2x2) or the GEMM (2e-5 against
  // 1.4e-6 on a 10x10, 8 -> 16 channel layer whose largest entry is 51).
  return mode === 'f43' ? G43 : G23;
}
function gradF4(oh: number, ow: number, p4: number, p2: number): boolean {
  const muls = (m: number, planes: number) => planes * Math.ceil(oh / m) * Math.ceil(ow / m);
  return muls(4, p4) <= GRAD_F4_RATIO * muls(2, p2);
}

/** dW [k, c, r, r] of x (pointer, [n, c, h, w]) and dy (pointer, [n, k, oh, ow]). */
export function runWinogradFilter(
  rt: WasmRuntime, x: number, dy: number, n: number, c: number, h: number, wd: number, k: number, attrs: Conv2DAttrs,
): Float32Array {
  const [oh, ow] = attrs.out;
  const r = attrs.kernel[0];
  const plan = gradPlan(n, c, k, oh, ow, r, rt.plannedThreads());
  const { f, parts, ipp, kblk, rc, ic } = plan;
  const { step, tile } = f;
  const planes = tile * tile;
  const tw = Math.ceil(ow / step);
  const tw4 = Math.ceil(tw / 4) * 4;
  // The GEMM's A operand has 4-wide panels, B 8-wide: B gets the dimension that pads less.
  const kb = Math.min(kblk, k);
  const swap = roundUp(c, 4) * roundUp(kb, 8) < roundUp(kb, 4) * roundUp(c, 8);
  const ap = swap ? roundUp(c, 4) : roundUp(kb, 4);
  const bp = swap ? roundUp(kb, 8) : roundUp(c, 8);
  const size = k * c * r * r;
  const out = rt.alloc(size * parts);
  const tc = ic * rc * tw;
  const sr = step * rc + tile - step, sw = roundUp(step * tw4 + tile - step, 4);
  // M only where a task has more than one chunk; + 144: each of the three planes rounded to an
  // odd number of cache lines (planeBytes in assembly/winogradgrad.ts); the fused last pass's
  // 4x8 blocks, one per plane.
  const chunks = Math.ceil(ipp / ic) * Math.ceil(Math.ceil(oh / step) / rc);
  const scratch = 2048 + 4 * planes * ((chunks > 1 ? ap * bp : 0) + ap * tc + bp * tc + 144) + 4 * 4 * sr * sw + 128 * planes + 64;
  const args = [
    [FG.X, x], [FG.DY, dy], [FG.OUT, out], [FG.N, n], [FG.C, c], [FG.K, k], [FG.H, h], [FG.W, wd],
    [FG.OH, oh], [FG.OW, ow], [FG.PT, attrs.pad[0]], [FG.PL, attrs.pad[2]], [FG.IPP, ipp], [FG.RC, rc],
    [FG.SWAP, swap ? 1 : 0], [FG.IC, ic], [FG.KBLK, kblk],
  ] as const;
  for (const [slot, value] of args) rt.arg(slot, value);
  const tasks = parts * Math.ceil(k / kblk);
  rt.run(f.kind, tasks, scratch, tasks > 1);
  return sumParts(rt, out, size, parts);
}
