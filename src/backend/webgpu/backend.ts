/**
 * The webgpu backend's kernel table: every kernel of KernelSignatures as a WGSL shader (a missing
 * one is a compile error). register.ts installs it.
 */
import type { KernelSignatures } from '../kernels.js';
import { unary, unaryGrad } from './kernels/unary.js';
import { matMul } from './kernels/matmul.js';
import { conv2d } from './kernels/conv2d.js';
import { binary } from './kernels/binary.js';
import { reduce, reluGradChannelSum } from './kernels/reduce.js';
import { clamp, clampGrad, prelu, preluGrad, softplus, softplusGrad } from './kernels/activations.js';
import { batchNorm, batchNormGrad, batchNormStats } from './kernels/batchnorm.js';
import { logSoftmax, logSoftmaxGrad, softmax, softmaxGrad } from './kernels/softmax.js';
import { multiMarginLoss, multiMarginLossGrad, nllLoss, nllLossGrad } from './kernels/losses.js';
import { argMax, gather, gatherGrad, topK } from './kernels/index-ops.js';
import { pad2d, pad2dGrad } from './kernels/pad2d.js';
import { locallyConnected2d, locallyConnected2dBackpropFilter, locallyConnected2dBackpropInput } from './kernels/locally-connected.js';
import { adamStep, sgdStep } from './kernels/optimizers.js';
import * as pool from './kernels/pool2d.js';
import { lrn, lrnGrad } from './kernels/lrn.js';
import { conv2dBackpropFilter, conv2dBackpropInput } from './kernels/conv2d-grad.js';
export const kernels: KernelSignatures = {
  // kernels/unary.ts
  Unary: unary,
  UnaryGrad: unaryGrad,
  // kernels/matmul.ts
  MatMul: matMul,
  // kernels/conv2d.ts
  Conv2D: conv2d,
  // kernels/binary.ts, reduce.ts, activations.ts
  Binary: binary,
  Reduce: reduce,
  ReluGradChannelSum: reluGradChannelSum,
  Clamp: clamp,
  ClampGrad: clampGrad,
  Softplus: softplus,
  SoftplusGrad: softplusGrad,
  PRelu: prelu,
  PReluGrad: preluGrad,
  // kernels/batchnorm.ts
  BatchNormStats: batchNormStats,
  BatchNorm: batchNorm,
  BatchNormGrad: batchNormGrad,
  // kernels/softmax.ts
  Softmax: softmax,
  LogSoftmax: logSoftmax,
  SoftmaxGrad: softmaxGrad,
  LogSoftmaxGrad: logSoftmaxGrad,
  // kernels/losses.ts
  NllLoss: nllLoss,
  NllLossGrad: nllLossGrad,
  MultiMarginLoss: multiMarginLoss,
  MultiMarginLossGrad: multiMarginLossGrad,
  // kernels/index-ops.ts
  ArgMax: argMax,
  TopK: topK,
  Gather: gather,
  GatherGrad: gatherGrad,
  // kernels/pad2d.ts
  Pad2D: pad2d,
  Pad2DGrad: pad2dGrad,
  // kernels/locally-connected.ts
  LocallyConnected2D: locallyConnected2d,
  LocallyConnected2DBackpropInput: locallyConnected2dBackpropInput,
  LocallyConnected2DBackpropFilter: locallyConnected2dBackpropFilter,
  // kernels/optimizers.ts
  SGDStep: sgdStep,
  AdamStep: adamStep,
  // kernels/pool2d.ts, kernels/lrn.ts
  MaxPool2DWithArgmax: pool.maxPool2DWithArgmax,
  MaxPool2D: pool.maxPool2D,
  MaxPool2DGrad: pool.maxPool2DGrad,
  AvgPool2D: pool.avgPool2D,
  AvgPool2DGrad: pool.avgPool2DGrad,
  AdaptiveAvgPool2D: pool.adaptiveAvgPool2D,
  AdaptiveAvgPool2DGrad: pool.adaptiveAvgPool2DGrad,
  AdaptiveMaxPool2D: pool.adaptiveMaxPool2D,
  LRN: lrn,
  LRNGrad: lrnGrad,
  // kernels/conv2d-grad.ts
  Conv2DBackpropInput: conv2dBackpropInput,
  Conv2DBackpropFilter: conv2dBackpropFilter,
};
