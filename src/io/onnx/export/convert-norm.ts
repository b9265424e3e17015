import { BatchNorm1d, BatchNorm2d } from '../../../nn/batch-norm.js';
import { InstanceNorm2d } from '../../../nn/instance-norm.js';
import { LocalResponseNorm } from '../../../nn/local-response-norm.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { named, nodeName, registerOnnxConverter, type ExportContext } from './converter.js';
import { reduce, reshape } from './emit.js';

/**
 * Normalization layers in inference mode -> BatchNormalization, InstanceNormalization, LRN.
 * Running statistics are exported as initializers named like the state dict
 * (`bn1.running_mean`), as PyTorch's exporter names them.
 */

/** The affine weight or bias, or the constant that means "none" (ones / zeros). */
function affine(ctx: ExportContext, p: Tensor | null, name: string, channels: number, fill: number): string {
  return p ? ctx.b.weight(named(ctx, name), p) : ctx.b.floats(named(ctx, name), new Float32Array(channels).fill(fill), [channels]);
}

/**
 * Normalization with the statistics of the input itself over `axes` (batch norm without
 * running statistics), written out: (x - mean) / sqrt(var + eps) * weight + bias.
 */
function selfStatsNorm(ctx: ExportContext, x: string, rank: number, axes: number[], eps: number, weight: string, bias: string, name: string): string {
  const mean = reduce(ctx, 'ReduceMean', x, axes, true, `${name}.mean`);
  const centered = ctx.b.node('Sub', [x, mean], {}, `${name}.centered`);
  const variance = reduce(ctx, 'ReduceMean', ctx.b.node('Mul', [centered, centered], {}, `${name}.sq`), axes, true, `${name}.var`);
  const std = ctx.b.node('Sqrt', [ctx.b.node('Add', [variance, ctx.b.scalar(eps)], {}, `${name}.var_eps`)], {}, `${name}.std`);
  const normed = ctx.b.node('Div', [centered, std], {}, `${name}.normed`);
  // Per-channel vectors broadcast along axis 1: [C] -> [C, 1, ...].
  const shape = [-1, ...new Array<number>(Math.max(0, rank - 2)).fill(1)];
  const w = rank > 2 ? reshape(ctx, weight, shape, `${name}.w`) : weight;
  const b = rank > 2 ? reshape(ctx, bias, shape, `${name}.b`) : bias;
  return ctx.b.node('Add', [ctx.b.node('Mul', [normed, w], {}, `${name}.scaled`), b], {}, name);
}

function batchNorm(layer: BatchNorm1d | BatchNorm2d, { x }: { x: { name: string; t: Tensor } }, ctx: ExportContext): string {
  const name = nodeName(ctx, 'BatchNormalization');
  const c = layer.numFeatures;
  const scale = affine(ctx, layer.weight, 'weight', c, 1);
  const bias = affine(ctx, layer.bias, 'bias', c, 0);
  if (!layer.trackRunningStats || !layer.runningMean || !layer.runningVar) {
    const rank = x.t.ndim;
    const axes = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
    return selfStatsNorm(ctx, x.name, rank, axes, layer.eps, scale, bias, name);
  }
  const mean = ctx.b.weight(named(ctx, 'running_mean'), layer.runningMean);
  const variance = ctx.b.weight(named(ctx, 'running_var'), layer.runningVar);
  return ctx.b.node('BatchNormalization', [x.name, scale, bias, mean, variance], { epsilon: { f: layer.eps } }, name);
}

registerOnnxConverter(BatchNorm2d, batchNorm);
registerOnnxConverter(BatchNorm1d, batchNorm);

registerOnnxConverter(InstanceNorm2d, (layer, { x }, ctx) => {
  const c = x.t.shape[1]!;
  const scale = affine(ctx, layer.weight, 'weight', c, 1);
  const bias = affine(ctx, layer.bias, 'bias', c, 0);
  if (layer.trackRunningStats && layer.runningMean && layer.runningVar) {
    // In eval mode an instance norm with running statistics normalizes with those: a batch norm.
    const mean = ctx.b.weight(named(ctx, 'running_mean'), layer.runningMean);
    const variance = ctx.b.weight(named(ctx, 'running_var'), layer.runningVar);
    return ctx.b.node('BatchNormalization', [x.name, scale, bias, mean, variance], { epsilon: { f: layer.eps } }, nodeName(ctx, 'BatchNormalization'));
  }
  return ctx.b.node('InstanceNormalization', [x.name, scale, bias], { epsilon: { f: layer.eps } }, nodeName(ctx, 'InstanceNormalization'));
});

/**
 * ONNX's LRN window over channels is [c - floor((n-1)/2), c + ceil((n-1)/2)], convkit's (and
 * PyTorch's) [c - floor(n/2), c + floor((n-1)/2)]: the same for odd n. An even n is written
 * out as PyTorch computes it: average the squares over a padded channel window, then
 * x / (k + alpha * avg)^beta.
 */
registerOnnxConverter(LocalResponseNorm, (layer, { x }, ctx) => {
  const { size, alpha, beta, k } = layer.attrs;
  const name = nodeName(ctx, 'LRN');
  if (size % 2 === 1) return ctx.b.node('LRN', [x.name], { size: { i: size }, alpha: { f: alpha }, beta: { f: beta }, bias: { f: k } }, name);
  const shape = x.t.shape;
  const sq = ctx.b.node('Mul', [x.name, x.name], {}, `${name}.sq`);
  const planes = reshape(ctx, sq, [0, 1, shape[1]!, -1], `${name}.planes`);
  const before = Math.floor(size / 2);
  const after = Math.floor((size - 1) / 2);
  const padded = ctx.b.node('Pad', [planes, ctx.b.int64s([0, 0, before, 0, 0, 0, after, 0], 'pads')], { mode: { s: 'constant' } }, `${name}.pad`);
  const avg = ctx.b.node('AveragePool', [padded], { kernel_shape: { ints: [size, 1] }, strides: { ints: [1, 1] } }, `${name}.avg`);
  const back = reshape(ctx, avg, [0, ...shape.slice(1)], `${name}.unplanes`);
  const base = ctx.b.node('Add', [ctx.b.node('Mul', [back, ctx.b.scalar(alpha)], {}, `${name}.alpha`), ctx.b.scalar(k)], {}, `${name}.base`);
  const div = ctx.b.node('Pow', [base, ctx.b.scalar(beta)], {}, `${name}.pow`);
  return ctx.b.node('Div', [x.name, div], {}, name);
});
