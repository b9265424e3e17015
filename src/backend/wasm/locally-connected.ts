/**
 * LocallyConnected2D and its two gradients on assembly/locally-connected.ts. The shape checks
 * (and their errors) are the js reference's (src/backend/js/locally-connected.ts).
 */
import type { KernelTensor, Window2D } from '../kernels.js';
import { dims } from '../js/locally-connected.js';
import { KIND, LC } from './job-layout.js';
import { unitsPerTask } from './args.js';
import { runtime } from './instance.js';
import type { WasmRuntime } from './runtime.js';

/** Images whose patches the forward task gathers per pass over a filter bank (NB in the kernel). */
const NB = 4;

/** Sets the geometry slots shared by the three kinds. */
function geometry(rt: WasmRuntime, n: number, c: number, h: number, w: number, k: number, a: Window2D): void {
  const v = [[LC.N, n], [LC.C, c], [LC.H, h], [LC.W_, w], [LC.K, k], [LC.KH, a.kernel[0]], [LC.KW, a.kernel[1]], [LC.SH, a.stride[0]],
    [LC.SW, a.stride[1]], [LC.PT, a.pad[0]], [LC.PL, a.pad[2]], [LC.DH, a.dilation[0]], [LC.DW, a.dilation[1]], [LC.OH, a.out[0]],
    [LC.OW, a.out[1]]] as const;
  for (const [s, val] of v) rt.arg(s, val);
}

function units(rt: WasmRuntime, count: number, work: number): { tasks: number; parallel: boolean } {
  const { per, tasks, parallel } = unitsPerTask(rt, count, work);
  rt.arg(LC.UPT, per);
  rt.arg(LC.UNITS, count);
  return { tasks, parallel };
}

export function locallyConnected2d(x: KernelTensor, w: KernelTensor, bias: KernelTensor | null, a: Window2D): Float32Array {
  const d = dims(x.shape, w.shape, a, 'LocallyConnected2D');
  const positions = a.out[0] * a.out[1];
  const outLen = d.n * d.k * positions;
  const rt = runtime();
  rt.begin();
  const px = rt.put(x.data);
  const pw = rt.put(w.data);
  const pb = bias ? rt.put(bias.data) : 0;
  const py = rt.alloc(outLen);
  for (const [s, val] of [[LC.X, px], [LC.W, pw], [LC.BIAS, pb], [LC.Y, py]] as const) rt.arg(s, val);
  geometry(rt, d.n, d.c, d.h, d.w, d.k, a);
  const { tasks, parallel } = units(rt, positions, d.n * d.k * positions * d.len);
  rt.run(KIND.lcForward, tasks, 4 * NB * d.len, parallel);
  return rt.read(py, outLen);
}

/** Channels per input-gradient task: enough tasks for the threads when the batch is small. */
function channelBlock(rt: WasmRuntime, n: number, c: number): number {
  const want = 4 * rt.plannedThreads();
  const blocks = Math.min(c, Math.max(1, Math.ceil(want / Math.max(1, n))));
  return Math.ceil(c / blocks);
}

export function locallyConnected2dBackpropInput(dy: KernelTensor, w: KernelTensor, inputShape: readonly number[], a: Window2D): Float32Array {
  const d = dims(inputShape, w.shape, a, 'LocallyConnected2DBackpropInput');
  const khw = a.kernel[0] * a.kernel[1];
  const outLen = d.n * d.c * d.h * d.w;
  const rt = runtime();
  rt.begin();
  const pdy = rt.put(dy.data);
  const pw = rt.put(w.data);
  const pdx = rt.alloc(outLen);
  rt.zero(pdx, outLen);
  for (const [s, val] of [[LC.X, pdx], [LC.W, pw], [LC.BIAS, 0], [LC.Y, pdy]] as const) rt.arg(s, val);
  geometry(rt, d.n, d.c, d.h, d.w, d.k, a);
  const cb = Math.max(1, channelBlock(rt, d.n, d.c));
  rt.arg(LC.CB, cb);
  const blocks = d.c > 0 ? Math.ceil(d.c / cb) : 0;
  const { tasks, parallel } = units(rt, d.n * blocks, d.n * d.k * a.out[0] * a.out[1] * d.len);
  rt.run(KIND.lcInput, tasks, 4 * cb * khw, parallel);
  return rt.read(pdx, outLen);
}

export function locallyConnected2dBackpropFilter(x: KernelTensor, dy: KernelTensor, filterShape: readonly number[], a: Window2D): Float32Array {
  const d = dims(x.shape, filterShape, a, 'LocallyConnected2DBackpropFilter');
  const positions = a.out[0] * a.out[1];
  const outLen = positions * d.k * d.len;
  const rt = runtime();
  rt.begin();
  const px = rt.put(x.data);
  const pdy = rt.put(dy.data);
  const pdw = rt.alloc(outLen);
  for (const [s, val] of [[LC.X, px], [LC.W, pdw], [LC.BIAS, 0], [LC.Y, pdy]] as const) rt.arg(s, val);
  geometry(rt, d.n, d.c, d.h, d.w, d.k, a);
  const { tasks, parallel } = units(rt, positions, d.n * d.k * positions * d.len);
  rt.run(KIND.lcFilter, tasks, 4 * d.len, parallel);
  return rt.read(pdw, outLen);
}
