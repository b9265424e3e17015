/// <reference types="@webgpu/types" />
import { ConvkitError } from '../../../tensor/errors.js';
import { gpu } from '../device.js';
import { gpuZeros, type GpuArray } from '../gpu-array.js';
import { dispatch, grid, type Param } from '../program.js';

/*
 * The tiled GEMM every matrix-shaped kernel of the webgpu backend is built from (MatMul, the
 * implicit-GEMM convolutions): C[z] (M x N) = A[z] (M x K) B[z] (K x N) for z = 0..batch-1.
 *
 * A workgroup of tx x ty threads computes one BM x BN block of C (BM = ty*rm, BN = tx*rn).
 * It walks K in steps of BK: the threads copy a BM x BK slice of A and a BK x BN slice of B
 * into workgroup memory (zeros outside the matrices, so M, N, K need not be multiples of the
 * tile), then each thread accumulates its rm x rn outputs from registers. A thread owns rows
 * ty_id + i*ty and columns tx_id + j*tx (strided, not a contiguous block): neighbouring threads
 * then read neighbouring words of workgroup memory and store neighbouring words of C.
 *
 * The caller gives WGSL text for where the elements come from and go:
 *   loadA  an f32 expression of A[row, kk] (u32 `row` < M and `kk` < K are guaranteed),
 *   loadB  an f32 expression of B[kk, col] (`kk` < K, `col` < N),
 *   store  statements writing the accumulated f32 `v` of C[row, col] (both in range),
 * with `z` (the batch index) and the prologue's `let`s in scope. `aMajor`/`bMajor` say which
 * index of A/B is contiguous in memory, so that consecutive threads load consecutive words.
 * The accumulators are separate variables (the text is unrolled here), not an array that a
 * compiler might place in slow private memory.
 */

/** A tile configuration: threads tx (along N) x ty (along M), rn x rm outputs each, K step bk. */
export interface GemmTile {
  readonly tx: number;
  readonly ty: number;
  readonly rm: number;
  readonly rn: number;
  readonly bk: number;
}

/** 64 x 64 outputs per workgroup of 16 x 16 threads, 4 x 4 each, K step 16 (8 KiB of workgroup memory). */
export const TILE_64: GemmTile = { tx: 16, ty: 16, rm: 4, rn: 4, bk: 16 };
/** For devices that allow fewer than 256 invocations per workgroup (WebGPU's floor is 128 in compatibility mode). */
export const TILE_32x64: GemmTile = { tx: 16, ty: 8, rm: 4, rn: 4, bk: 16 };

const tileRows = (t: GemmTile): number => t.ty * t.rm;
const tileCols = (t: GemmTile): number => t.tx * t.rn;
/** Row pitch of the workgroup copies: one word of padding keeps a column write off one memory bank. */
const pitchA = (t: GemmTile): number => tileRows(t) + 1;
const pitchB = (t: GemmTile): number => tileCols(t) + 1;
const sharedBytes = (t: GemmTile): number => 4 * t.bk * (pitchA(t) + pitchB(t));

let forced: GemmTile | null = null;

/** Makes gemmTile() return `t` (null: back to choosing by the device), so tests run every configuration. */
export function forceGemmTile(t: GemmTile | null): void {
  forced = t;
}

/** The largest tile configuration this device runs. */
export function gemmTile(): GemmTile {
  if (forced) return forced;
  const { limits } = gpu();
  for (const t of [TILE_64, TILE_32x64]) {
    if (t.tx * t.ty <= limits.maxComputeInvocationsPerWorkgroup && sharedBytes(t) <= limits.maxComputeWorkgroupStorageSize) return t;
  }
  throw new ConvkitError(
    `the WebGPU device allows ${limits.maxComputeInvocationsPerWorkgroup} invocations and ${limits.maxComputeWorkgroupStorageSize} bytes of workgroup memory per workgroup; convkit's matrix kernels need 128 and ${sharedBytes(TILE_32x64)}`,
  );
}

/** The Params fields the GEMM reads, first in the struct: the sizes, the N tiles, the first batch index of this launch. */
const GEMM_FIELDS = 'm: u32, n: u32, k: u32, tilesN: u32, zBase: u32';

export interface GemmShader {
  readonly tile: GemmTile;
  /** Storage bindings (inputs then outputs, from @binding(0)) and helper functions. */
  readonly decls: string;
  /** How many storage bindings `decls` declares: the uniform `p` takes the next. */
  readonly bindings: number;
  /** More Params fields after the GEMM's own (WGSL struct syntax, 4-byte types), or ''. */
  readonly fields: string;
  /** Statements run once per thread before the loop (`z` in scope), e.g. batch offsets. */
  readonly prologue?: string;
  readonly loadA: string;
  /**
   * Statements run with `bcol` (u32) = a column of B this thread loads, before loadB, which may
   * use their lets (e.g. an image position decoded from the column once rather than at every
   * load). Pure arithmetic: they also run for columns >= N, whose loadB is never evaluated.
   * Where a thread keeps one column across the whole loop they run once, before it.
   */
  readonly bSetup?: string;
  readonly loadB: string;
  readonly store: string;
  /** The contiguous index of A in memory: k (A stored [M, K]) or m ([K, M]). */
  readonly aMajor: 'k' | 'm';
  /** The contiguous index of B in memory: n (B stored [K, N]) or k ([N, K]). */
  readonly bMajor: 'n' | 'k';
}

/** One operand's copy into workgroup memory: `per` rounds of every thread taking one element. */
function loadText(t: GemmTile, which: 'A' | 'B', major: string, expr: string, setup = ''): string {
  const threads = t.tx * t.ty;
  const outer = which === 'A' ? tileRows(t) : tileCols(t);
  const total = outer * t.bk;
  const rounds = Math.ceil(total / threads);
  const pitch = which === 'A' ? pitchA(t) : pitchB(t);
  // e runs over the slice with the contiguous index fastest.
  const kFast = major === 'k';
  const o = which === 'A' ? 'row' : 'col';
  const origin = which === 'A' ? 'm0' : 'n0';
  const limit = which === 'A' ? 'p.m' : 'p.n';
  let s = '';
  for (let r = 0; r < rounds; r++) {
    const body = `
      let e = l + ${r * threads}u;
      let ki = ${kFast ? `e % ${t.bk}u` : `e / ${outer}u`};
      let oi = ${kFast ? `e / ${t.bk}u` : `e % ${outer}u`};
      let ${o} = ${origin} + oi;
      let kk = k0 + ki;${setup ? `\n      let bcol = ${o};\n      ${setup}` : ''}
      var v = 0.0;
      if (${o} < ${limit} && kk < p.k) { v = ${expr}; }
      ${which}s[ki * ${pitch}u + oi] = v;`;
    s += (r + 1) * threads > total ? `    if (l + ${r * threads}u < ${total}u) {${body}\n    }\n` : `    {${body}\n    }\n`;
  }
  return s;
}

/** The WGSL of a tiled GEMM (entry point `main`) for dispatchGemm. */
export function gemmShader(g: GemmShader): string {
  const t = g.tile;
  const BM = tileRows(t);
  const BN = tileCols(t);
  // B copied n-fastest by a multiple of BN threads: thread l always loads column n0 + l % BN.
  const fixedColumn = g.bMajor === 'n' && (t.tx * t.ty) % BN === 0;
  const bSetup = g.bSetup ?? '';
  const hoisted = fixedColumn && bSetup ? `let bcol = n0 + l % ${BN}u;\n  ${bSetup}` : '';
  const acc: string[] = [];
  const inner: string[] = [];
  const stores: string[] = [];
  for (let i = 0; i < t.rm; i++) inner.push(`      let a${i} = As[kk * ${pitchA(t)}u + ly + ${i * t.ty}u];`);
  for (let j = 0; j < t.rn; j++) inner.push(`      let b${j} = Bs[kk * ${pitchB(t)}u + lx + ${j * t.tx}u];`);
  for (let i = 0; i < t.rm; i++) {
    for (let j = 0; j < t.rn; j++) {
      acc.push(`  var c${i}_${j} = 0.0;`);
      inner.push(`      c${i}_${j} = fma(a${i}, b${j}, c${i}_${j});`);
      stores.push(`  {
    let row = m0 + ly + ${i * t.ty}u;
    let col = n0 + lx + ${j * t.tx}u;
    if (row < p.m && col < p.n) {
      let v = c${i}_${j};
      ${g.store}
    }
  }`);
    }
  }
  return /* wgsl */ `
${g.decls}
struct Params { ${GEMM_FIELDS}${g.fields ? `, ${g.fields}` : ''} }
@group(0) @binding(${g.bindings}) var<uniform> p: Params;
var<workgroup> As: array<f32, ${t.bk * pitchA(t)}>;
var<workgroup> Bs: array<f32, ${t.bk * pitchB(t)}>;
@compute @workgroup_size(${t.tx}, ${t.ty})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  // Tiles are numbered row-major over (M tiles, N tiles) and folded into x and y by grid().
  let tile = wid.x + wid.y * nwg.x;
  if (tile >= ((p.m + ${BM - 1}u) / ${BM}u) * p.tilesN) { return; }
  let z = wid.z + p.zBase;
  let m0 = (tile / p.tilesN) * ${BM}u;
  let n0 = (tile % p.tilesN) * ${BN}u;
  let lx = lid.x;
  let ly = lid.y;
  let l = ly * ${t.tx}u + lx;
  ${g.prologue ?? ''}
  ${hoisted}
${acc.join('\n')}
  for (var k0 = 0u; k0 < p.k; k0 += ${t.bk}u) {
${loadText(t, 'A', g.aMajor, g.loadA)}${loadText(t, 'B', g.bMajor, g.loadB, fixedColumn ? '' : bSetup)}    workgroupBarrier();
    for (var kk = 0u; kk < ${t.bk}u; kk++) {
${inner.join('\n')}
    }
    workgroupBarrier();
  }
${stores.join('\n')}
}`;
}

/** Most workgroups along z in one launch. */
const MAX_Z = 65535;

export interface GemmLaunch {
  readonly code: string;
  readonly tile: GemmTile;
  readonly inputs: readonly GpuArray[];
  readonly outputs: readonly GpuArray[];
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** How many products (the `z` of the shader); more than 65,535 take several launches. */
  readonly batch: number;
  /** The values of the shader's extra `fields`, in order. */
  readonly params: readonly Param[];
}

/** Launches a gemmShader over every tile of C and every z. */
export function dispatchGemm(g: GemmLaunch): void {
  const tilesN = Math.ceil(g.n / tileCols(g.tile));
  const tiles = Math.ceil(g.m / tileRows(g.tile)) * tilesN;
  if (tiles === 0) return;
  const [x, y] = grid(tiles, 1);
  for (let z0 = 0; z0 < g.batch; z0 += MAX_Z) {
    dispatch({
      code: g.code,
      inputs: g.inputs,
      outputs: g.outputs,
      params: [['u32', g.m], ['u32', g.n], ['u32', g.k], ['u32', tilesN], ['u32', z0], ...g.params],
      workgroups: [x, y, Math.min(MAX_Z, g.batch - z0)],
    });
  }
}

/** Throws when an array of `n` float32 elements exceeds what one storage binding may cover. */
export function checkBindable(n: number, what: string): void {
  const max = gpu().limits.maxStorageBufferBindingSize;
  if (n * 4 > max) {
    throw new ConvkitError(`${what} needs ${n * 4} bytes in one GPU buffer, over this device's maxStorageBufferBindingSize of ${max} bytes`);
  }
}

let placeholder: { device: GPUDevice; array: GpuArray } | null = null;

/**
 * A one-element array bound in place of an absent optional operand (a bias, a scale): a shader
 * reads the operand only when a flag in its parameters says so, which keeps one shader text,
 * and so one pipeline to compile, for every combination of operands.
 */
export function placeholderArray(): GpuArray {
  const { device } = gpu();
  if (placeholder === null || placeholder.device !== device) placeholder = { device, array: gpuZeros(1) };
  return placeholder.array;
}

/** Epilogue flags of the optional operands (bits of a u32 parameter). */
export const SCALE_FLAG = 1;
export const BIAS_FLAG = 2;
export const RELU_FLAG = 4;
