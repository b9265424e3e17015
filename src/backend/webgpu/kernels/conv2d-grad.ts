import type { Conv2DAttrs, KernelSignatures, KernelTensor } from '../../kernels.js';
import { ConvkitError } from '../../../tensor/errors.js';
import { gpu } from '../device.js';
import { gpuEmpty, gpuMemory, gpuUpload, type GpuArray } from '../gpu-array.js';
import { arg, asF32 } from '../kernel-args.js';
import { dispatch, grid } from '../program.js';
import { BK, SUM_SPLITS, WG, dwDirectCode, dwTiledCode, dxDirectCode, dxTiledCode, type Tile } from './conv2d-grad-wgsl.js';

export type { Tile } from './conv2d-grad-wgsl.js';

/*
 * The two gradients of a 2-d convolution (NCHW, filters [K, C/groups, kh, kw]), as implicit
 * GEMMs: nothing is stretched into an im2col matrix in memory; each operand element is gathered
 * from the tensor where it lives, zero where the window reads padding.
 *
 *   input:  per group, dx [C/g, N*H*W] = W^T [C/g, K/g*kh*kw] x dY' [K/g*kh*kw, N*H*W], where
 *           dY'[(k, ky, kx), (n, iy, ix)] = dy[n, k, oy, ox] when iy + padTop - ky*dilH = oy*strideH
 *           with 0 <= oy < outH (and the same along x), else 0: each input pixel gathers the
 *           outputs whose windows read it (no scatter, so no atomics).
 *   filter: per group, dw [K/g, C/g*kh*kw] = dY [K/g, N*outH*outW] x X' [N*outH*outW, C/g*kh*kw],
 *           X' the im2col matrix transposed. The reduction is long (the whole batch's pixels), so it
 *           is split across workgroups (split-K): each writes partial sums [splits, K*C/g*kh*kw]
 *           and a second pass adds them (WGSL has no float atomics).
 *
 * Each GEMM runs tiled through workgroup memory when its rows fill a tile, and as a direct loop
 * (one thread per dx element, one workgroup per dw element) when they do not: depthwise and
 * few-channel groups, where a tile would be mostly padding. The shaders are in conv2d-grad-wgsl.ts;
 * this file picks the path and tile, sizes the launch and the split, and builds the tables.
 */

/** The convolution's sizes, as the shaders' parameters (all i32, in this order). */
const GEOMETRY = ['n', 'c', 'h', 'w', 'k', 'cg', 'kg', 'kh', 'kw', 'sh', 'sw', 'pt', 'pl', 'dh', 'dw', 'oh', 'ow'] as const;
type Geometry = Record<(typeof GEOMETRY)[number], number>;

function geometry(xShape: readonly number[], wShape: readonly number[], attrs: Conv2DAttrs): Geometry {
  const [n, c, h, w] = xShape as [number, number, number, number];
  const k = wShape[0]!;
  return {
    n, c, h, w, k,
    cg: c / attrs.groups,
    kg: k / attrs.groups,
    kh: attrs.kernel[0], kw: attrs.kernel[1],
    sh: attrs.stride[0], sw: attrs.stride[1],
    pt: attrs.pad[0], pl: attrs.pad[2],
    dh: attrs.dilation[0], dw: attrs.dilation[1],
    oh: attrs.out[0], ow: attrs.out[1],
  };
}

/** WGSL struct Params with `extra` fields first, then the geometry; and the matching values. */
function params(g: Geometry, extra: Record<string, number>): { struct: string; values: ['i32', number][] } {
  const names = [...Object.keys(extra), ...GEOMETRY];
  const all: Record<string, number> = { ...extra, ...g };
  return {
    struct: `struct Params { ${names.map((f) => `${f}: i32`).join(', ')} }`,
    values: names.map((f) => ['i32', all[f]!]),
  };
}

/** Buffers over the binding limit cannot be bound: say which and how big. */
function checkBinding(what: string, elements: number): void {
  const limit = gpu().limits.maxStorageBufferBindingSize;
  if (elements * 4 > limit) {
    throw new ConvkitError(
      `webgpu convolution gradient: ${what} needs ${elements * 4} bytes, over this device's maxStorageBufferBindingSize (${limit} bytes); use a smaller batch or the wasm backend`,
    );
  }
}

// --- tiles ---------------------------------------------------------------------------------
/** The tile shapes (all 2048 outputs); a GEMM takes the one that pads its rows and columns least. */
export const TILES: readonly Tile[] = [
  { bm: 32, bn: 64 },
  { bm: 64, bn: 32 },
  { bm: 16, bn: 128 },
];
/** A GEMM with fewer rows than this runs the direct kernel (a tile would be mostly padding). */
const TILE_MIN_ROWS = 8;

/** The tile that pads a rows x cols GEMM least (the earlier, squarer one on a tie). */
export function pickTile(rows: number, cols: number): Tile {
  const padded = (t: Tile) => Math.ceil(rows / t.bm) * t.bm * Math.ceil(cols / t.bn) * t.bn;
  return TILES.reduce((best, t) => (padded(t) < padded(best) ? t : best));
}

/** How a gradient runs: the direct kernel, or tiled with the given (or the best) tile. */
export type GradPath = 'direct' | 'tiled' | Tile;

function tileFor(path: GradPath, rows: number, cols: number): Tile | null {
  if (path === 'direct') return null;
  return path === 'tiled' ? pickTile(rows, cols) : path;
}

/** The kernel's choice: tiled once the rows fill a few tile rows. */
const autoPath = (rows: number): GradPath => (rows >= TILE_MIN_ROWS ? 'tiled' : 'direct');
/**
 * Split-K aims at this many workgroups in all (enough to fill a large GPU several times over),
 * each reducing at least 16 tile steps, or 8 terms per thread of a direct workgroup.
 */
const TARGET_GROUPS = 1024;
const MIN_CHUNK_TILED = 16 * BK;
const MIN_CHUNK_DIRECT = 8 * WG;

// --- input gradient --------------------------------------------------------------------------
/** One axis of the phase table: per phase, [first pixel, pixel count, tap count, taps, offsets]. */
function phaseAxis(size: number, stride: number, pad: number, kernel: number, dil: number): { rows: number[][]; counts: number[] } {
  const rows: number[][] = [];
  const counts: number[] = [];
  for (let phase = 0; phase < stride; phase++) {
    const first = (((phase - pad) % stride) + stride) % stride;
    const count = first < size ? Math.ceil((size - first) / stride) : 0;
    const taps: number[] = [];
    const offsets: number[] = [];
    for (let k = 0; k < kernel; k++) {
      const t = first + pad - k * dil;
      if (((t % stride) + stride) % stride === 0) {
        taps.push(k);
        offsets.push(t / stride);
      }
    }
    counts.push(count);
    const fill = (a: number[]) => [...a, ...new Array<number>(kernel - a.length).fill(0)];
    rows.push([first, count, taps.length, ...fill(taps), ...fill(offsets)]);
  }
  return { rows, counts };
}

/** The phase table of dxTiledCode and its parameters. */
function phaseTable(g: Geometry, bn: number): { table: Int32Array; colTiles: number; extra: Record<string, number> } {
  const y = phaseAxis(g.h, g.sh, g.pt, g.kh, g.dh);
  const x = phaseAxis(g.w, g.sw, g.pl, g.kw, g.dw);
  const phases = g.sh * g.sw;
  const starts = [0];
  for (let ph = 0; ph < phases; ph++) {
    starts.push(starts[ph]! + Math.ceil((g.n * y.counts[Math.floor(ph / g.sw)]! * x.counts[ph % g.sw]!) / bn));
  }
  const yBase = phases + 1;
  const ys = 3 + 2 * g.kh;
  const xs = 3 + 2 * g.kw;
  const table = Int32Array.from([...starts, ...y.rows.flat(), ...x.rows.flat()]);
  const colTiles = starts[phases]!;
  return { table, colTiles, extra: { phases, yBase, xBase: yBase + g.sh * ys, ys, xs } };
}

export function conv2dBackpropInputWith(
  path: GradPath,
  dy: KernelTensor,
  w: KernelTensor,
  inputShape: readonly number[],
  attrs: Conv2DAttrs,
): Float32Array {
  const g = geometry(inputShape, w.shape, attrs);
  const total = g.n * g.c * g.h * g.w;
  checkBinding('the input gradient', total);
  checkBinding('dy', arg(dy).length);
  const out = gpuEmpty(total);
  if (total === 0) return asF32(out);
  const tile = tileFor(path, g.cg, g.n * g.h * g.w);
  if (tile === null) {
    const pr = params(g, { total });
    dispatch({ code: dxDirectCode(pr.struct), inputs: [arg(dy), arg(w)], outputs: [out], params: pr.values, workgroups: grid(total, WG) });
  } else {
    const rowTiles = Math.ceil(g.cg / tile.bm);
    const { table, colTiles, extra } = phaseTable(g, tile.bn);
    const tiles = attrs.groups * rowTiles * colTiles;
    const pr = params(g, { tiles, colTiles, rowTiles, chunk: 0, red: 0, ...extra });
    const tab = gpuUpload(table);
    dispatch({ code: dxTiledCode(tile, pr.struct), inputs: [arg(dy), arg(w), tab], outputs: [out], params: pr.values, workgroups: grid(tiles, 1) });
    gpuMemory.release(tab);
  }
  return asF32(out);
}

export const conv2dBackpropInput: KernelSignatures['Conv2DBackpropInput'] = (dy, w, inputShape, attrs) =>
  conv2dBackpropInputWith(autoPath(inputShape[1]! / attrs.groups), dy, w, inputShape, attrs);

// --- filter gradient -------------------------------------------------------------------------
/**
 * How many pieces the reduction of `red` terms is cut into, so that about TARGET_GROUPS
 * workgroups run when `groups` would run without splitting; each piece at least `minChunk` and
 * a multiple of `step`, and the partial sums (splits * elements) within the binding limit.
 */
function splitK(red: number, groups: number, elements: number, step: number, minChunk: number): { splits: number; chunk: number } {
  const maxBind = Math.floor(gpu().limits.maxStorageBufferBindingSize / 4);
  let splits = Math.min(Math.ceil(TARGET_GROUPS / groups), Math.floor(red / minChunk), 65535, Math.floor(maxBind / elements));
  splits = Math.max(1, splits);
  const chunk = Math.max(step, Math.ceil(red / splits / step) * step);
  return { splits: Math.max(1, Math.ceil(red / chunk)), chunk };
}

export function conv2dBackpropFilterWith(
  path: GradPath,
  x: KernelTensor,
  dy: KernelTensor,
  filterShape: readonly number[],
  attrs: Conv2DAttrs,
): Float32Array {
  const g = geometry(x.shape, filterShape, attrs);
  const elements = g.k * g.cg * g.kh * g.kw;
  checkBinding('the filter gradient', elements);
  checkBinding('the input', arg(x).length);
  checkBinding('dy', arg(dy).length);
  const out = gpuEmpty(elements);
  if (elements === 0) return asF32(out);
  const red = g.n * g.oh * g.ow;
  const cols = g.cg * g.kh * g.kw;
  const tile = tileFor(path, g.kg, cols);
  const rowTiles = tile ? Math.ceil(g.kg / tile.bm) : 0;
  const colTiles = tile ? Math.ceil(cols / tile.bn) : 0;
  const tiles = tile ? attrs.groups * rowTiles * colTiles : elements;
  const split = tile ? splitK(red, tiles, elements, BK, MIN_CHUNK_TILED) : splitK(red, tiles, elements, 1, MIN_CHUNK_DIRECT);
  const pr = params(g, { tiles, colTiles, rowTiles, chunk: split.chunk, red, elements });
  const code = tile ? dwTiledCode(tile, pr.struct) : dwDirectCode(pr.struct);
  const target = split.splits === 1 ? out : gpuEmpty(split.splits * elements);
  const [gx, gy] = grid(tiles, 1);
  dispatch({ code, inputs: [arg(x), arg(dy)], outputs: [target], params: pr.values, workgroups: [gx, gy, split.splits] });
  if (target !== out) {
    dispatch({ code: SUM_SPLITS, inputs: [target], outputs: [out], params: [['u32', elements], ['u32', split.splits]], workgroups: grid(elements, WG) });
    gpuMemory.release(target as GpuArray);
  }
  return asF32(out);
}

export const conv2dBackpropFilter: KernelSignatures['Conv2DBackpropFilter'] = (x, dy, filterShape, attrs) =>
  conv2dBackpropFilterWith(autoPath(filterShape[0]! / attrs.groups), x, dy, filterShape, attrs);
