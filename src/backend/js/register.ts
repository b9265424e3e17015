import type { KernelSignatures } from '../kernels.js';
import { registerReferenceBackend } from '../registry.js';
// pool2d.ts, normalization.ts (pooling and normalization)
import { adaptiveAvgPool2D, adaptiveAvgPool2DGrad, adaptiveMaxPool2D, avgPool2D, avgPool2DGrad, maxPool2D, maxPool2DGrad, maxPool2DWithArgmax } from './pool2d.js';
import { batchNorm, batchNormGrad, batchNormStats, lrn, lrnGrad } from './normalization.js';
import { binary, reduce, unary, unaryGrad } from './elementwise.js';
import { clamp, clampGrad, prelu, preluGrad, softplus, softplusGrad } from './activations.js';
import { logSoftmax, logSoftmaxGrad, softmax, softmaxGrad } from './softmax.js';
import { argMax, gather, gatherGrad, topK } from './index-ops.js';
import { multiMarginLoss, multiMarginLossGrad, nllLoss, nllLossGrad } from './losses.js';
import { matMul } from './matmul.js';
import { conv2d, conv2dBackpropFilter, conv2dBackpropInput } from './conv2d.js';
import { pad2d, pad2dGrad } from './pad2d.js';
import { adamStep, sgdStep } from './optimizers.js';
import { locallyConnected2d, locallyConnected2dBackpropFilter, locallyConnected2dBackpropInput } from './locally-connected.js';

import { reluGradChannelSum } from './relu-grad-sum.js';
/**
 * The reference backend: every kernel, in plain TypeScript written for clarity. This list is
 * its whole coverage; the type makes leaving a kernel out a compile error.
 */
const kernels: KernelSignatures = {
  // elementwise.ts
  Unary: unary,
  UnaryGrad: unaryGrad,
  Binary: binary,
  Reduce: reduce,
  // relu-grad-sum.ts
  ReluGradChannelSum: reluGradChannelSum,
  // activations.ts, softmax.ts, index-ops.ts, losses.ts (activations, softmax, indexing, losses)
  Clamp: clamp,
  ClampGrad: clampGrad,
  Softplus: softplus,
  SoftplusGrad: softplusGrad,
  PRelu: prelu,
  PReluGrad: preluGrad,
  Softmax: softmax,
  LogSoftmax: logSoftmax,
  SoftmaxGrad: softmaxGrad,
  LogSoftmaxGrad: logSoftmaxGrad,
  ArgMax: argMax,
  TopK: topK,
  Gather: gather,
  GatherGrad: gatherGrad,
  NllLoss: nllLoss,
  NllLossGrad: nllLossGrad,
  MultiMarginLoss: multiMarginLoss,
  MultiMarginLossGrad: multiMarginLossGrad,
  // matmul.ts, conv2d.ts, pad2d.ts, locally-connected.ts (convolution family)
  MatMul: matMul,
  Conv2D: conv2d,
  Conv2DBackpropInput: conv2dBackpropInput,
  Conv2DBackpropFilter: conv2dBackpropFilter,
  Pad2D: pad2d,
  Pad2DGrad: pad2dGrad,
  LocallyConnected2D: locallyConnected2d,
  LocallyConnected2DBackpropInput: locallyConnected2dBackpropInput,
  LocallyConnected2DBackpropFilter: locallyConnected2dBackpropFilter,
  // pool2d.ts, normalization.ts (pooling and normalization)
  MaxPool2DWithArgmax: maxPool2DWithArgmax,
  MaxPool2D: maxPool2D,
  MaxPool2DGrad: maxPool2DGrad,
  AvgPool2D: avgPool2D,
  AvgPool2DGrad: avgPool2DGrad,
  AdaptiveAvgPool2D: adaptiveAvgPool2D,
  AdaptiveAvgPool2DGrad: adaptiveAvgPool2DGrad,
  AdaptiveMaxPool2D: adaptiveMaxPool2D,
  LRN: lrn,
  LRNGrad: lrnGrad,
  BatchNormStats: batchNormStats,
  BatchNorm: batchNorm,
  BatchNormGrad: batchNormGrad,
  // optimizers.ts (in-place updates)
  SGDStep: sgdStep,
  AdamStep: adamStep,
};

// elementwise.ts reads views through their strides
registerReferenceBackend({ name: 'js', kernels, stridedInputs: new Set(['Unary', 'UnaryGrad', 'Binary'] as const) });
