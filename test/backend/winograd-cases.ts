/** The 3x3 (or 5x5: r) stride-1 convolution cases the Winograd tests describe, name and check alike. */
import { expect } from 'vitest';
import type { Conv2DAttrs } from '../../src/backend/kernels.js';
import * as js from '../../src/backend/js/conv2d.js';
import * as wasm from '../../src/backend/wasm/conv2d.js';
import { runtime } from '../../src/backend/wasm/instance.js';
import { expectSame, kt } from './wasm-helpers.js';

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

/**
 * Case t on the wasm kernels against the js reference with seeds from `seed`: the forward pass
 * (twice, the same bits), the input gradient and, with `filter`, the filter gradient.
 */
export function checkAgainstJs(t: WinogradCase, seed: number, filter = false): void {
  const attrs = attrsOf(t);
  const r = t.r ?? 3;
  const x = kt([t.n, t.c, t.h, t.w], seed + 1);
  const w = kt([t.k, t.c, r, r], seed + 2);
  const b = t.bias ? kt([t.k], seed + 3) : null;
  const got = wasm.conv2d(x, w, b, attrs);
  expectSame(got, js.conv2d(x, w, b, attrs), 'Conv2D');
  expect(Buffer.from(wasm.conv2d(x, w, b, attrs).buffer).equals(Buffer.from(got.buffer))).toBe(true);
  const dy = kt([t.n, t.k, ...attrs.out], seed + 4);
  const grad = { ...attrs, activation: 'none' as const };
  expectSame(wasm.conv2dBackpropInput(dy, w, x.shape, grad), js.conv2dBackpropInput(dy, w, x.shape, grad), 'Conv2DBackpropInput');
  if (filter) expectSame(wasm.conv2dBackpropFilter(x, dy, w.shape, grad), js.conv2dBackpropFilter(x, dy, w.shape, grad), 'Conv2DBackpropFilter');
}

/** The job kinds a call runs on the wasm runtime. */
export function jobKinds(fn: () => void): Set<number> {
  const rt = runtime() as unknown as { run: (kind: number, ...rest: unknown[]) => void };
  const orig = rt.run;
  const seen = new Set<number>();
  rt.run = function (this: unknown, kind: number, ...rest: unknown[]) { seen.add(kind); return orig.call(this, kind, ...rest); };
  try { fn(); } finally { rt.run = orig; }
  return seen;
}
