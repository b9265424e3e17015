/**
 * The input gradient of a strided convolution (and so a transposed convolution's forward) by
 * phase decomposition, with no column matrix and no col2im. The dx rows of one phase r
 * (i = u*s + r) read one fixed set of taps, (r + pad) % s + j*s, over dy rows
 * u + floor((r + pad) / s) - j: a stride-1 correlation of dy with that phase's sub-filter of
 * T = ceil(k / s) taps (those past the kernel zero). All s_h*s_w phases share dy, so they run
 * as the output channels of ONE stride-1 3x3 convolution (each sub-filter flipped and placed in
 * a 3x3 window, zeros elsewhere) by Winograd F(4x4, 3x3) through conv2d.ts's forward dispatch,
 * and the merge of assembly/phase.ts interleaves the phases into dx. Phases are indexed by dx
 * rows, so 56 rows at stride 2 are two phases of 28: whole Winograd tiles.
 * Taken with dilation 1 where every sub-filter fits the window (T <= 3, and the phases' dy
 * offsets differ by at most 3 - T), the GEMM + col2im path does clearly more multiplies
 * (MIN_MULS: 4x4 and 6x6 stride 2, 6x6 and 9x9 stride 3) and planes are not small (MIN_PLANE).
 * The same decomposition on the GEMM (2x2 sub-filters for 4x4 stride 2) measured slower than
 * GEMM + col2im: the same multiplies, on a GEMM of fewer rows and im2col-packed B.
 */
import type { Conv2DAttrs, KernelTensor } from '../kernels.js';
import { convDims, mergePhases, phaseTuning, type ForwardFn } from './dilated.js';
import { runtime } from './instance.js';
import { winogradApplies } from './winograd.js';

/**
 * Multiplies per dx pixel and channel pair of GEMM + col2im (kh*kw / (sh*sw)) from which the
 * phases pay: Winograd F(4x4, 3x3) does 36/16 per output of any sub-filter up to 3x3, and its
 * transforms cost about half as much again (4x4 stride 2: 4 against 2.25; 3x3 stride 2: 2.25,
 * no gain).
 */
const MIN_MULS = 3.4;

/**
 * Least dx pixels per phase: on small planes Winograd's tiles are mostly padding and its
 * transforms dear (4x4 stride 2, 256 -> 128 channels at 14x14 -> 28x28 measured 1.8x slower
 * than GEMM + col2im; at 28x28 -> 56x56 faster).
 */
const MIN_PLANE = 20 * 20;

/** The sub-filters are built here, reused call to call: a new array each step measured slower (allocation, GC). */
let buffer = new Float32Array(0);

function filterBuffer(n: number): Float32Array {
  if (buffer.length < n) buffer = new Float32Array(n);
  const f = buffer.subarray(0, n);
  f.fill(0);
  return f;
}

/** One axis of the decomposition: dx index i = u*s + r reads taps rho(r) + j*s of dy[u + delta(r) - j]. */
interface Axis {
  /** Phases, taps per sub-filter, dx rows per phase, the sub-convolution's padding before/after. */
  s: number; t: number; u: number; before: number; after: number;
  /** First tap and dy offset of each phase. */
  rho: number[]; delta: number[];
}

/**
 * With q = i + pad = u*s + r + pad, the taps of dx[i] are t = (r + pad) % s + j*s, over dy row
 * u + floor((r + pad) / s) - j. As one 3x3 window over dy padded by `before`, tap j of phase r
 * sits at window row before + delta(r) - j; null where some phase needs more than 3 rows.
 */
function axis(size: number, out: number, kernel: number, s: number, pad: number): Axis | null {
  const t = Math.ceil(kernel / s);
  const rho: number[] = [], delta: number[] = [];
  for (let r = 0; r < s; r++) {
    rho.push((r + pad) % s);
    delta.push(Math.floor((r + pad) / s));
  }
  const dmin = delta[0]!, dmax = delta[s - 1]!;
  const before = t - 1 - dmin;
  const u = Math.ceil(size / s);
  const after = u + 2 - before - out;
  if (before < 0 || t - 1 + dmax - dmin > 2 || after < 0) return null;
  return { s, t, u, before, after, rho, delta };
}

/** Input-gradient hook of conv2d.ts: dx, or null where this path does not apply. */
export function transposedBackpropInput(dy: KernelTensor, w: KernelTensor, inputShape: readonly number[], attrs: Conv2DAttrs, fwd: ForwardFn): Float32Array | null {
  const [sh, sw] = attrs.stride;
  if (phaseTuning.mode === 'off') return null;
  if ((sh === 1 && sw === 1) || attrs.dilation[0] !== 1 || attrs.dilation[1] !== 1 || !attrs.pad.every((p) => p >= 0)) return null;
  if (inputShape.length !== 4 || w.shape.length !== 4) return null;
  const [n, c, h, wd] = inputShape as [number, number, number, number];
  const [k, cg, kh, kw] = w.shape as [number, number, number, number];
  const g = attrs.groups;
  const [oh, ow] = attrs.out;
  if (g < 1 || c % g !== 0 || k % g !== 0 || cg * g !== c || kh !== attrs.kernel[0] || kw !== attrs.kernel[1]) return null;
  if (n * c * h * wd * k * kh * kw * oh * ow === 0 || dy.shape.join() !== [n, k, oh, ow].join()) return null;
  const phases = sh * sw;
  if (kh * kw < MIN_MULS * phases) return null;
  const ay = axis(h, oh, kh, sh, attrs.pad[0]), ax = axis(wd, ow, kw, sw, attrs.pad[2]);
  if (!ay || !ax) return null;
  const sub: Conv2DAttrs = {
    kernel: [3, 3], stride: [1, 1], dilation: [1, 1], groups: g, activation: 'none',
    pad: [ay.before, ay.after, ax.before, ax.after], out: [ay.u, ax.u],
  };
  const outC = g * phases * cg;
  if (ay.u * ax.u < MIN_PLANE || !winogradApplies(sub, k, outC)) return null;
  const kg = k / g;
  // f[gi][r][r'][cc][kk][3][3]: tap j of phase r at window row before + delta(r) - j (zeros elsewhere).
  const f = filterBuffer(outC * kg * 9);
  const src = w.data;
  for (let gi = 0; gi < g; gi++) {
    for (let r = 0; r < sh; r++) {
      for (let r2 = 0; r2 < sw; r2++) {
        for (let cc = 0; cc < cg; cc++) {
          for (let kk = 0; kk < kg; kk++) {
            const base = ((gi * kg + kk) * cg + cc) * kh * kw;
            const dst = ((((gi * sh + r) * sw + r2) * cg + cc) * kg + kk) * 9;
            for (let j = 0; j < ay.t; j++) {
              const ti = ay.rho[r]! + j * sh;
              if (ti >= kh) continue;
              const row = ay.before + ay.delta[r]! - j;
              for (let l = 0; l < ax.t; l++) {
                const tj = ax.rho[r2]! + l * sw;
                if (tj < kw) f[dst + row * 3 + ax.before + ax.delta[r2]! - l] = src[base + ti * kw + tj]!;
              }
            }
          }
        }
      }
    }
  }
  const rt = runtime();
  rt.begin();
  const pdy = rt.put(dy.data);
  const pf = rt.put(f);
  const z = rt.alloc(n * outC * ay.u * ax.u);
  fwd(rt, pdy, pf, { bias: 0, scale: 0, relu: false }, z, convDims(n, k, oh, ow, outC, g, 3, 3, ay.u, ax.u), sub);
  const size = n * c * h * wd;
  const pdx = rt.alloc(size);
  mergePhases(rt, z, pdx, n, g, cg, ay.u, ax.u, sh, sw, 0, 0, h, wd);
  return rt.read(pdx, size);
}
