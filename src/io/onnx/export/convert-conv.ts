import { Conv2d } from '../../../nn/conv2d.js';
import { ConvTranspose2d } from '../../../nn/conv-transpose2d.js';
import { LocallyConnected2d } from '../../../nn/locally-connected2d.js';
import { CircularPad2d, ConstantPad2d, ReflectionPad2d, ReplicationPad2d, ZeroPad2d } from '../../../nn/padding.js';
import { resolvePadding, type ConvPadding } from '../../../ops/conv-args.js';
import { named, nodeName, registerOnnxConverter, type ExportContext } from './converter.js';
import { pad2d, reshape, slice } from './emit.js';

/**
 * CONV-family layers and padding layers -> Conv, ConvTranspose, Pad (and Slice/Concat where
 * ONNX's Pad has no equivalent mode). ONNX lists pads as [top, left, bottom, right].
 */

type Pads = readonly [number, number, number, number];

/**
 * Extra zeros at the bottom/right so that ONNX's floor arithmetic gives the size convkit's
 * fit produced (fit: 'ceil' keeps a last partial window, as if padded on the far side).
 */
function ceilExtra(inSize: number, outSize: number, k: number, s: number, d: number, before: number, after: number): number {
  return Math.max(0, (outSize - 1) * s + (k - 1) * d + 1 - (inSize + before + after));
}

/** Pads that give `out` from `size` with this window: [t, l, b, r] in ONNX's order. */
function windowPads(size: readonly number[], out: readonly number[], k: Pads | readonly number[], s: readonly number[], d: readonly number[], pads: Pads): number[] {
  const [t, b, l, r] = pads;
  const extraH = ceilExtra(size[0]!, out[0]!, k[0]!, s[0]!, d[0]!, t, b);
  const extraW = ceilExtra(size[1]!, out[1]!, k[1]!, s[1]!, d[1]!, l, r);
  return [t, l, b + extraH, r + extraW];
}

/** Circular padding (wrap-around) as slices of the far edges concatenated on (any opset). */
function circularPad(ctx: ExportContext, x: string, shape: readonly number[], pads: Pads, name: string): string {
  const [t, b, l, r] = pads;
  let out = x;
  const along = (axis: number, before: number, after: number, size: number) => {
    if (before === 0 && after === 0) return;
    const parts: string[] = [];
    if (before > 0) parts.push(slice(ctx, out, [size - before], [size], [axis], `${name}.wrap_before`));
    parts.push(out);
    if (after > 0) parts.push(slice(ctx, out, [0], [after], [axis], `${name}.wrap_after`));
    out = ctx.b.node('Concat', parts, { axis: { i: axis } }, `${name}.concat`);
  };
  along(3, l, r, shape[3]!);
  along(2, t, b, shape[2]! );
  return out;
}

/** Border padding in any of convkit's modes. */
export function padAny(ctx: ExportContext, x: string, shape: readonly number[], pads: Pads, mode: 'zeros' | 'constant' | 'reflect' | 'replicate' | 'circular', value: number, name: string): string {
  if (pads.every((p) => p === 0)) return x;
  if (mode === 'circular') return circularPad(ctx, x, shape, pads, name);
  const onnxMode = mode === 'reflect' ? 'reflect' : mode === 'replicate' ? 'edge' : 'constant';
  // Negative pads crop (constant modes): Slice for those, Pad for the rest.
  let out = x;
  const grow = pads.map((p) => Math.max(0, p)) as unknown as Pads;
  if (grow.some((p) => p > 0)) out = pad2d(ctx, out, grow, onnxMode, mode === 'constant' ? value : 0, name);
  const [t, b, l, r] = pads;
  if (t < 0 || b < 0 || l < 0 || r < 0) {
    const h = shape[2]! + Math.max(0, t) + Math.max(0, b);
    const w = shape[3]! + Math.max(0, l) + Math.max(0, r);
    out = slice(ctx, out, [Math.max(0, -t), Math.max(0, -l)], [h - Math.max(0, -b), w - Math.max(0, -r)], [2, 3], `${name}.crop`);
  }
  return out;
}

registerOnnxConverter(Conv2d, (layer, { x, y }, ctx) => {
  const name = nodeName(ctx, 'Conv');
  let input = x.name;
  let size = [x.t.shape[2]!, x.t.shape[3]!];
  let pads: Pads = layer.pads;
  if (layer.paddingMode !== 'zeros' && pads.some((p) => p > 0)) {
    input = padAny(ctx, input, x.t.shape, pads, layer.paddingMode, 0, `${name}.pad`);
    size = [size[0]! + pads[0] + pads[1], size[1]! + pads[2] + pads[3]];
    pads = [0, 0, 0, 0];
  }
  const inputs = [input, ctx.b.weight(named(ctx, 'weight'), layer.weight)];
  if (layer.bias) inputs.push(ctx.b.weight(named(ctx, 'bias'), layer.bias));
  return ctx.b.node('Conv', inputs, {
    kernel_shape: { ints: layer.kernelSize },
    strides: { ints: layer.stride },
    dilations: { ints: layer.dilation },
    group: { i: layer.groups },
    pads: { ints: windowPads(size, y.shape.slice(2), layer.kernelSize, layer.stride, layer.dilation, pads) },
  }, name);
});

registerOnnxConverter(ConvTranspose2d, (layer, { x }, ctx) => {
  const opts = (layer.getConfig().args[3] ?? {}) as { padding?: ConvPadding };
  const [t, b, l, r] = resolvePadding(opts.padding, layer.kernelSize, layer.stride, layer.dilation, 'ConvTranspose2d');
  const inputs = [x.name, ctx.b.weight(named(ctx, 'weight'), layer.weight)];
  if (layer.bias) inputs.push(ctx.b.weight(named(ctx, 'bias'), layer.bias));
  return ctx.b.node('ConvTranspose', inputs, {
    kernel_shape: { ints: layer.kernelSize },
    strides: { ints: layer.stride },
    dilations: { ints: layer.dilation },
    group: { i: layer.groups },
    pads: { ints: [t, l, b, r] },
    output_padding: layer.outputPadding.some((p) => p !== 0) ? { ints: layer.outputPadding } : undefined,
  }, nodeName(ctx, 'ConvTranspose'));
});

/**
 * LocallyConnected2d has no ONNX operator; it is exported unfolded, which is exact:
 * 1. a depthwise Conv with one-hot filters cuts every window out (im2col as a convolution):
 *    [N, C*kh*kw, outH, outW], channels ordered (c, i, j) like the weight;
 * 2. each output position multiplies its own window by its own [C*kh*kw, K] weight: one
 *    batched MatMul over the L = outH*outW positions, [L, N, CKK] x [L, CKK, K];
 * 3. back to [N, K, outH, outW], plus the bias [K, outH, outW].
 * The initializer `<path>.weight` therefore holds the weight rearranged as [L, CKK, K].
 */
registerOnnxConverter(LocallyConnected2d, (layer, { x, y }, ctx) => {
  const name = nodeName(ctx, 'LocallyConnected');
  const [kh, kw] = layer.kernelSize;
  const c = layer.inChannels;
  const k = layer.outChannels;
  const [oh, ow] = layer.grid;
  const ckk = c * kh * kw;
  const positions = oh * ow;
  const onehot = new Float32Array(ckk * kh * kw);
  for (let o = 0; o < ckk; o++) onehot[o * kh * kw + (o % (kh * kw))] = 1;
  const extract = ctx.b.floats(named(ctx, 'unfold'), onehot, [ckk, 1, kh, kw]);
  const patches = ctx.b.node('Conv', [x.name, extract], {
    kernel_shape: { ints: [kh, kw] },
    strides: { ints: layer.stride },
    dilations: { ints: layer.dilation },
    group: { i: c },
    pads: { ints: windowPads(x.t.shape.slice(2), y.shape.slice(2), layer.kernelSize, layer.stride, layer.dilation, layer.pads) },
  }, `${name}.unfold`);
  const cols = reshape(ctx, patches, [0, ckk, positions], `${name}.cols`);
  const byPosition = ctx.b.node('Transpose', [cols], { perm: { ints: [2, 0, 1] } }, `${name}.by_position`);
  // w [oh, ow, K, C, kh, kw] = [L, K, CKK] -> [L, CKK, K]
  const w = layer.weight.values() as Float32Array;
  const wt = new Float32Array(w.length);
  for (let p = 0; p < positions; p++) {
    for (let o = 0; o < k; o++) {
      for (let i = 0; i < ckk; i++) wt[(p * ckk + i) * k + o] = w[(p * k + o) * ckk + i]!;
    }
  }
  const weight = ctx.b.floats(named(ctx, 'weight'), wt, [positions, ckk, k]);
  const prod = ctx.b.node('MatMul', [byPosition, weight], {}, `${name}.matmul`);
  const back = ctx.b.node('Transpose', [prod], { perm: { ints: [1, 2, 0] } }, `${name}.to_nchw`);
  const out = reshape(ctx, back, [0, k, oh, ow], `${name}.grid`);
  if (!layer.bias) return out;
  return ctx.b.node('Add', [out, ctx.b.weight(named(ctx, 'bias'), layer.bias)], {}, name);
});

function padLayer(mode: 'constant' | 'reflect' | 'replicate' | 'circular') {
  return (layer: ZeroPad2d, { x }: { x: { name: string; t: { shape: readonly number[] } } }, ctx: ExportContext): string => {
    const [l, r, t, b] = layer.padding;
    return padAny(ctx, x.name, x.t.shape, [t, b, l, r], mode, layer.value, nodeName(ctx, 'Pad'));
  };
}

registerOnnxConverter(ZeroPad2d, padLayer('constant'));
registerOnnxConverter(ConstantPad2d, padLayer('constant'));
registerOnnxConverter(ReflectionPad2d, padLayer('reflect'));
registerOnnxConverter(ReplicationPad2d, padLayer('replicate'));
registerOnnxConverter(CircularPad2d, padLayer('circular'));
