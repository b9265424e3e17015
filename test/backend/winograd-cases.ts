/** The 3x3 (or 5x5: r) stride-1 convolution cases the Winograd tests describe and name alike. */
import type { Conv2DAttrs } from '../../src/backend/kernels.js';

export type Pad = [number, number, number, number];
export interface WinogradCase { n: number; c: number; k: number; h: number; w: number; pad: Pad; bias: boolean; relu: boolean; r?: 3 | 5 }

export const P1: Pad = [1, 1, 1, 1];
export const P0: Pad = [0, 0, 0, 0];

export function attrsOf(t: WinogradCase): Conv2DAttrs {
  const r = t.r ?? 3;
  const out: [number, number] = [t.h + t.pad[0] + t.pad[1] - r + 1, t.w + t.pad[2] + t.pad[3] - r + 1];
  return { kernel: [r, r], stride: [1, 1], pad: t.pad, dilation: [1, 1], out, groups: 1, activation: t.relu ? 'relu' : 'none' };
}

export const caseName = (t: WinogradCase): string =>
  `${t.n}x${t.c}x${t.h}x${t.w} -> ${t.k}, pad ${t.pad.join(',')}${t.bias ? ', bias' : ''}${t.relu ? ', relu' : ''}`;
