/**
 * Phase planes for strided convolutions (assembly/phase.ts): the padded input split by
 * (row, column) phase of the stride, so the GEMM packs every im2col row with contiguous loads.
 */
import type { Conv2DAttrs } from '../kernels.js';
import { KIND, PS } from './job-layout.js';
import type { WasmRuntime } from './runtime.js';

export interface PhaseGeo {
  na: number; nb: number; ph: number; pw: number;
  /** Floats of phase planes per input channel. */
  perChannel: number;
  /** The planes are im2col(x) itself, rows in order (kernel <= stride, no dilation gaps): read B in place. */
  inPlace: boolean;
}

export function phaseGeo(attrs: Conv2DAttrs): PhaseGeo {
  const [kh, kw] = attrs.kernel, [sh, sw] = attrs.stride, [dh, dw] = attrs.dilation, [oh, ow] = attrs.out;
  const na = Math.min(sh, (kh - 1) * dh + 1), nb = Math.min(sw, (kw - 1) * dw + 1);
  const ph = oh + Math.floor(((kh - 1) * dh) / sh), pw = ow + Math.floor(((kw - 1) * dw) / sw);
  const inPlace = na === kh && nb === kw && (kh === 1 || dh === 1) && (kw === 1 || dw === 1) && ph === oh && pw === ow;
  return { na, nb, ph, pw, perChannel: na * nb * ph * pw, inPlace };
}

/** Bytes of phase planes beyond which the strided paths fall back to packing from the image. */
export const PHASE_BYTES = 128 << 20;

/** Phase planes of `planes` input planes (h x w each) at x into dst (byte pointers). */
export function runPhases(rt: WasmRuntime, x: number, dst: number, planes: number, h: number, w: number, attrs: Conv2DAttrs, pg: PhaseGeo): void {
  const v = [
    [PS.X, x], [PS.P, dst], [PS.H, h], [PS.W, w], [PS.SH, attrs.stride[0]], [PS.SW, attrs.stride[1]],
    [PS.PT, attrs.pad[0]], [PS.PL, attrs.pad[2]], [PS.NA, pg.na], [PS.NB, pg.nb], [PS.PH, pg.ph], [PS.PW, pg.pw],
  ] as const;
  for (const [slot, value] of v) rt.arg(slot, value);
  rt.run(KIND.phases, planes, 0, planes * pg.perChannel >= 1 << 15);
}
