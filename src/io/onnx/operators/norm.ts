import * as F from '../../../functional.js';
import { sizeOf } from '../../../tensor/shape.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { asFloat, input } from './common.js';
import type { CheckContext, OperatorDef, RunContext } from './op-types.js';

/**
 * BatchNormalization, InstanceNormalization and LRN. BatchNormalization runs with the
 * recorded statistics (an exported inference graph), also while fine-tuning: its mean and
 * variance initializers are buffers, so the usual practice of keeping them frozen is the
 * default. A graph exported in training mode (training_mode=1) normalizes with the batch's
 * own statistics.
 */

/** A per-channel vector given as [C] or [C, 1, 1] (some exporters keep the trailing ones). */
function channelVec(t: Tensor | null): Tensor | null {
  if (!t) return null;
  const f = asFloat(t);
  return f.ndim === 1 ? f : f.reshape([f.size]);
}

function checkBatchNorm(ctx: CheckContext): string[] {
  const problems: string[] = [];
  if (ctx.opset < 9 && ctx.attrs.int('spatial', 1) === 0) problems.push('spatial=0 (per-activation statistics) is not supported');
  for (let i = 1; i < ctx.outputs.length; i++) {
    if (ctx.outputUsed(i)) problems.push(`output ${i} (running or saved statistics of a training graph) is not supported`);
  }
  return problems;
}

function batchNorm(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor {
  const x = asFloat(input(ctx, inputs, 0, 'X'));
  const scale = channelVec(input(ctx, inputs, 1, 'scale'));
  const bias = channelVec(input(ctx, inputs, 2, 'B'));
  const eps = ctx.attrs.float('epsilon', 1e-5);
  const training = ctx.opset >= 14 && ctx.attrs.int('training_mode', 0) === 1;
  const activation = ctx.activation;
  if (training) return F.batchNorm(x, null, null, { weight: scale, bias, training: true, eps, activation });
  const mean = channelVec(input(ctx, inputs, 3, 'input_mean'));
  const variance = channelVec(input(ctx, inputs, 4, 'input_var'));
  return F.batchNorm(x, mean, variance, { weight: scale, bias, training: false, eps, activation });
}

function instanceNorm(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor {
  const x = asFloat(input(ctx, inputs, 0, 'input'));
  return F.instanceNorm(x, {
    weight: channelVec(input(ctx, inputs, 1, 'scale')),
    bias: channelVec(input(ctx, inputs, 2, 'B')),
    eps: ctx.attrs.float('epsilon', 1e-5),
  });
}

/**
 * ONNX sums squares over channels [c - floor((size-1)/2), c + ceil((size-1)/2)]; PyTorch's
 * (and F.localResponseNorm's) window is [c - floor(size/2), c + floor((size-1)/2)]. They agree
 * for odd sizes; an even size shifts the window by one, so it is built from pooling here.
 */
function lrn(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor {
  const x = asFloat(input(ctx, inputs, 0, 'X'));
  const size = ctx.attrs.int('size');
  if (size === undefined || size < 1) ctx.fail(`attribute 'size' must be a positive integer, got ${size}`);
  const alpha = ctx.attrs.float('alpha', 1e-4);
  const beta = ctx.attrs.float('beta', 0.75);
  const k = ctx.attrs.float('bias', 1);
  if (x.ndim < 3) ctx.fail(`expected an input [N, C, ...], got [${x.shape}]`);
  if (size % 2 === 1) return F.localResponseNorm(x, size, { alpha, beta, k });
  const [n, c] = [x.shape[0]!, x.shape[1]!];
  const squares = F.mul(x, x).reshape([n, 1, c, sizeOf(x.shape.slice(2))]);
  const before = Math.floor((size - 1) / 2);
  const padded = F.pad(squares, [0, 0, before, size - 1 - before]);
  const avg = F.avgPool2d(padded, [size, 1], { stride: 1 }).reshape(x.shape);
  return F.mul(x, F.pow(F.add(F.mul(avg, alpha), k), -beta));
}

export const normOperators: Record<string, OperatorDef> = {
  BatchNormalization: { check: checkBatchNorm, run: batchNorm, stateInputs: [3, 4], fusesRelu: true },
  InstanceNormalization: { run: instanceNorm },
  LRN: { run: lrn },
};
