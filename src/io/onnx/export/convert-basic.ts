import { Dropout } from '../../../nn/dropout.js';
import { Flatten } from '../../../nn/flatten.js';
import { Hardtanh } from '../../../nn/hardtanh.js';
import { Identity } from '../../../nn/identity.js';
import { Linear } from '../../../nn/linear.js';
import { LogSoftmax } from '../../../nn/log-softmax.js';
import { PReLU } from '../../../nn/prelu.js';
import { ReLU } from '../../../nn/relu.js';
import { Softmax } from '../../../nn/softmax.js';
import { Softplus } from '../../../nn/softplus.js';
import { exportError, named, nodeName, registerOnnxConverter, type ExportContext } from './converter.js';
import { clip, reshape, softmax } from './emit.js';

/** FC, activation, dropout, flatten and softmax layers: one ONNX node each, or none (the declared pointwise layers: convert-pointwise.ts). */

/** The FC layer: Gemm (weight kept [out, in] with transB, as PyTorch exports it) on 2-d input. */
export function emitLinear(ctx: ExportContext, x: string, rank: number, weight: string, bias: string | null, outFeatures: number, inFeatures: number, weightValues: Float32Array): string {
  const name = nodeName(ctx, 'Gemm');
  if (rank === 2) return ctx.b.node('Gemm', bias ? [x, weight, bias] : [x, weight], { transB: { i: 1 } }, name);
  // [..., in] x [in, out] for other ranks: MatMul broadcasts over the leading dimensions.
  const t = new Float32Array(weightValues.length);
  for (let o = 0; o < outFeatures; o++) for (let i = 0; i < inFeatures; i++) t[i * outFeatures + o] = weightValues[o * inFeatures + i]!;
  const wt = ctx.b.floats(`${weight}_t`, t, [inFeatures, outFeatures]);
  const prod = ctx.b.node('MatMul', [x, wt], {}, bias ? `${name}.matmul` : name);
  return bias ? ctx.b.node('Add', [prod, bias], {}, name) : prod;
}

registerOnnxConverter(Linear, (layer, { x }, ctx) => {
  const weight = ctx.b.weight(named(ctx, 'weight'), layer.weight);
  const bias = layer.bias ? ctx.b.weight(named(ctx, 'bias'), layer.bias) : null;
  return emitLinear(ctx, x.name, x.t.ndim, weight, bias, layer.outFeatures, layer.inFeatures, layer.weight.values() as Float32Array);
});

registerOnnxConverter(ReLU, (_l, { x }, ctx) => ctx.b.node('Relu', [x.name], {}, nodeName(ctx, 'Relu')));
registerOnnxConverter(Hardtanh, (l, { x }, ctx) => clip(ctx, x.name, l.minVal, l.maxVal, nodeName(ctx, 'Clip')));

/**
 * ONNX's Softplus is log(1 + e^x): beta scales around it. Above the threshold convkit returns
 * x itself, which differs from softplus by at most e^-threshold; a threshold under 14 would
 * make that visible (> 1e-6) and needs a comparison operator, so it is refused.
 */
registerOnnxConverter(Softplus, (l, { x }, ctx) => {
  const name = nodeName(ctx, 'Softplus');
  if (l.threshold < 14) {
    throw exportError(ctx, 'Softplus', `threshold ${l.threshold} cannot be exported exactly (ONNX's Softplus has no threshold); use a threshold of at least 14, e.g. the default 20`);
  }
  if (l.beta === 1) return ctx.b.node('Softplus', [x.name], {}, name);
  const scaled = ctx.b.node('Mul', [x.name, ctx.b.scalar(l.beta)], {}, `${name}.beta`);
  return ctx.b.node('Div', [ctx.b.node('Softplus', [scaled], {}, `${name}.softplus`), ctx.b.scalar(l.beta)], {}, name);
});

/** PRelu broadcasts the slope from the right: one per channel is [C, 1, 1] on an image. */
registerOnnxConverter(PReLU, (l, { x }, ctx) => {
  const rank = x.t.ndim;
  const dims = l.numParameters === 1 ? [1] : [l.numParameters, ...new Array<number>(Math.max(0, rank - 2)).fill(1)];
  const slope = ctx.b.weight(named(ctx, 'weight'), l.weight, dims);
  return ctx.b.node('PRelu', [x.name, slope], {}, nodeName(ctx, 'PRelu'));
});

// Inference graphs: dropout is the identity, and so is Identity; no node at all.
registerOnnxConverter(Dropout, (_l, { x }) => x.name);
registerOnnxConverter(Identity, (_l, { x }) => x.name);

/** Flatten keeps the batch symbolic: ONNX Flatten for the usual case, else Reshape with 0/-1. */
registerOnnxConverter(Flatten, (l, { x, y }, ctx) => {
  const name = nodeName(ctx, 'Flatten');
  const rank = x.t.ndim;
  const start = l.startDim < 0 ? l.startDim + rank : l.startDim;
  const end = l.endDim < 0 ? l.endDim + rank : l.endDim;
  if (start === 1 && end === rank - 1) return ctx.b.node('Flatten', [x.name], { axis: { i: 1 } }, name);
  if (start === end) return x.name;
  // 0 copies the batch size; a flatten that merges the batch infers it with -1.
  return reshape(ctx, x.name, start === 0 ? [-1, ...y.shape.slice(1)] : [0, ...y.shape.slice(1)], name);
});

registerOnnxConverter(Softmax, (l, { x }, ctx) => softmax(ctx, 'Softmax', x.name, l.dim, x.t.ndim, nodeName(ctx, 'Softmax')));
registerOnnxConverter(LogSoftmax, (l, { x }, ctx) => softmax(ctx, 'LogSoftmax', x.name, l.dim, x.t.ndim, nodeName(ctx, 'LogSoftmax')));
