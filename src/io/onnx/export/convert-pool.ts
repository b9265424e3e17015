import { AdaptiveAvgPool2d } from '../../../nn/adaptive-avg-pool2d.js';
import { AdaptiveMaxPool2d } from '../../../nn/adaptive-max-pool2d.js';
import { AvgPool2d } from '../../../nn/avg-pool2d.js';
import { LPPool2d } from '../../../nn/lp-pool2d.js';
import { MaxPool2d } from '../../../nn/max-pool2d.js';
import type { PoolParams } from '../../../ops/pool-window.js';
import { named, nodeName, registerOnnxConverter, type ExportContext, type LayerCall } from './converter.js';
import type { Attr } from './graph-builder.js';
import { reduce, reshape, slice } from './emit.js';

/**
 * Pools -> MaxPool, AveragePool, GlobalAveragePool / GlobalMaxPool. convkit's fit: 'strict'
 * and 'floor' are ceil_mode 0, 'ceil' is ceil_mode 1 (onnxruntime applies PyTorch's rule
 * that a last window must start inside the input, as convkit does). Where ONNX's operator
 * means something else (LP pooling's edge windows, a divisor override, adaptive windows of
 * unequal sizes) the layer is written out of simpler operators that compute exactly what
 * convkit computes.
 */

function windowAttrs(p: PoolParams, withDilation: boolean): Record<string, Attr | undefined> {
  const [ph, pw] = p.padding;
  return {
    kernel_shape: { ints: p.kernel },
    strides: { ints: p.stride },
    pads: { ints: [ph, pw, ph, pw] },
    dilations: withDilation && p.dilation.some((d) => d !== 1) ? { ints: p.dilation } : undefined,
    ceil_mode: { i: p.fit === 'ceil' ? 1 : 0 },
  };
}

registerOnnxConverter(MaxPool2d, (layer, { x }, ctx) => ctx.b.node('MaxPool', [x.name], windowAttrs(layer.params, true), nodeName(ctx, 'MaxPool')));

registerOnnxConverter(AvgPool2d, (layer, { x, y }, ctx) => {
  const name = nodeName(ctx, 'AveragePool');
  if (layer.divisorOverride === null) {
    return ctx.b.node('AveragePool', [x.name], { ...windowAttrs(layer.params, false), count_include_pad: { i: layer.countIncludePad ? 1 : 0 } }, name);
  }
  // sum / divisor: the window sums come from a depthwise Conv with filters of ones.
  const p = layer.params;
  const c = x.t.shape[1]!;
  const [kh, kw] = p.kernel;
  const ones = ctx.b.floats(named(ctx, 'ones'), new Float32Array(c * kh * kw).fill(1), [c, 1, kh, kw]);
  const [ph, pw] = p.padding;
  const extra = [0, 1].map((a) => Math.max(0, (y.shape[2 + a]! - 1) * p.stride[a]! + p.kernel[a]! - (x.t.shape[2 + a]! + 2 * p.padding[a]!)));
  const sums = ctx.b.node('Conv', [x.name, ones], {
    kernel_shape: { ints: p.kernel },
    strides: { ints: p.stride },
    group: { i: c },
    pads: { ints: [ph, pw, ph + extra[0]!, pw + extra[1]!] },
  }, `${name}.sum`);
  return ctx.b.node('Div', [sums, ctx.b.scalar(layer.divisorOverride)], {}, name);
});

/**
 * ONNX's LpPool sums |x|^p; convkit (as PyTorch) averages x^p over the pixels present and
 * scales by the kernel area, which differs on ceil-mode edge windows and for odd p. Written
 * as exactly that: Pow -> AveragePool -> Mul -> Pow.
 */
registerOnnxConverter(LPPool2d, (layer, { x }, ctx) => {
  const name = nodeName(ctx, 'LpPool');
  const p = layer.normType;
  const powered = ctx.b.node('Pow', [x.name, ctx.b.scalar(p)], {}, `${name}.pow`);
  const avg = ctx.b.node('AveragePool', [powered], { ...windowAttrs(layer.params, false), count_include_pad: { i: 0 } }, `${name}.avg`);
  const area = layer.params.kernel[0] * layer.params.kernel[1];
  const sums = ctx.b.node('Mul', [avg, ctx.b.scalar(area)], {}, `${name}.sum`);
  return ctx.b.node('Pow', [sums, ctx.b.scalar(1 / p)], {}, name);
});

/** PyTorch's adaptive windows along one axis: [floor(i*in/out), ceil((i+1)*in/out)). */
function adaptiveWindows(size: number, out: number): [number, number][] {
  return Array.from({ length: out }, (_, i) => [Math.floor((i * size) / out), Math.ceil(((i + 1) * size) / out)]);
}

/** kernel and stride when every window has the same size and spacing, else null. */
function uniform(windows: [number, number][]): { kernel: number; stride: number } | null {
  const kernel = windows[0]![1] - windows[0]![0];
  const stride = windows.length > 1 ? windows[1]![0] - windows[0]![0] : 1;
  const ok = windows.every(([s, e], i) => e - s === kernel && s === i * stride);
  return ok && stride >= 1 ? { kernel, stride } : null;
}

function adaptive(kind: 'avg' | 'max') {
  return (_layer: AdaptiveAvgPool2d | AdaptiveMaxPool2d, { x, y }: LayerCall, ctx: ExportContext): string => {
    const name = nodeName(ctx, kind === 'avg' ? 'AdaptivePool' : 'AdaptiveMaxPool');
    const [, c, h, w] = x.t.shape as [number, number, number, number];
    const [oh, ow] = [y.shape[2]!, y.shape[3]!];
    if (oh === 1 && ow === 1) return ctx.b.node(kind === 'avg' ? 'GlobalAveragePool' : 'GlobalMaxPool', [x.name], {}, name);
    const rows = adaptiveWindows(h, oh);
    const cols = adaptiveWindows(w, ow);
    const ur = uniform(rows);
    const uc = uniform(cols);
    if (ur && uc) {
      return ctx.b.node(kind === 'avg' ? 'AveragePool' : 'MaxPool', [x.name], {
        kernel_shape: { ints: [ur.kernel, uc.kernel] },
        strides: { ints: [ur.stride, uc.stride] },
      }, name);
    }
    if (kind === 'avg') {
      // Unequal windows: a fixed [H*W, oh*ow] averaging matrix, applied per (n, c).
      const m = new Float32Array(h * w * oh * ow);
      rows.forEach(([r0, r1], i) =>
        cols.forEach(([c0, c1], j) => {
          const weight = 1 / ((r1 - r0) * (c1 - c0));
          for (let r = r0; r < r1; r++) for (let q = c0; q < c1; q++) m[(r * w + q) * oh * ow + i * ow + j] = weight;
        }),
      );
      const flat = reshape(ctx, x.name, [0, c, h * w], `${name}.flat`);
      const pooled = ctx.b.node('MatMul', [flat, ctx.b.floats(named(ctx, 'windows'), m, [h * w, oh * ow])], {}, `${name}.matmul`);
      return reshape(ctx, pooled, [0, c, oh, ow], name);
    }
    // Unequal max windows: one Slice + ReduceMax per output cell, concatenated back.
    const rowsOut = rows.map(([r0, r1], i) => {
      const cells = cols.map(([c0, c1], j) =>
        reduce(ctx, 'ReduceMax', slice(ctx, x.name, [r0, c0], [r1, c1], [2, 3], `${name}.cell${i}_${j}`), [2, 3], true, `${name}.max${i}_${j}`),
      );
      return cells.length === 1 ? cells[0]! : ctx.b.node('Concat', cells, { axis: { i: 3 } }, `${name}.row${i}`);
    });
    return rowsOut.length === 1 ? rowsOut[0]! : ctx.b.node('Concat', rowsOut, { axis: { i: 2 } }, name);
  };
}

registerOnnxConverter(AdaptiveAvgPool2d, adaptive('avg'));
registerOnnxConverter(AdaptiveMaxPool2d, adaptive('max'));
