/**
 * `ck.F`: differentiable functional ops named as in torch.nn.functional (camelCased).
 * Parameters without a default in PyTorch are positional; the rest go into one trailing
 * options object. Each op lives in its own file under src/ops (losses under src/losses).
 */
export { add, sub, mul, div, pow, maximum, minimum } from './ops/binary.js';
export { sum, mean, amax, amin } from './ops/reduce.js';
// convolution family and padding
export { conv2d, type Conv2dOptions } from './ops/conv2d.js';
export { convTranspose2d, type ConvTranspose2dOptions } from './ops/conv-transpose2d.js';
export { locallyConnected2d, type LocallyConnected2dOptions } from './ops/locally-connected2d.js';
export { pad, type PadOptions, type PadMode } from './ops/pad.js';
export type { ConvPadding, PaddingMode } from './ops/conv-args.js';
// pooling and normalization
export { maxPool2d, type MaxPool2dOptions, type PoolWithIndices } from './ops/max-pool2d.js';
export { avgPool2d, type AvgPool2dOptions } from './ops/avg-pool2d.js';
export { lpPool2d, type LpPool2dOptions } from './ops/lp-pool2d.js';
export {
  adaptiveAvgPool2d,
  adaptiveMaxPool2d,
  globalAvgPool2d,
  globalMaxPool2d,
  type AdaptiveSize,
  type AdaptiveMaxPool2dOptions,
} from './ops/adaptive-pool2d.js';
export { localResponseNorm, type LocalResponseNormOptions } from './ops/local-response-norm.js';
export { batchNorm, type BatchNormOptions } from './ops/batch-norm.js';
export { instanceNorm, type InstanceNormOptions } from './ops/instance-norm.js';
// activations, shape ops, linear algebra, softmax, indexing and losses
export {
  relu,
  softplus,
  hardtanh,
  clamp,
  exp,
  log,
  sqrt,
  abs,
  neg,
  type ReluOptions,
  type SoftplusOptions,
} from './ops/activations.js';
// leakyRelu, elu, selu, sigmoid, tanh and the other declared pointwise ops
export * from './ops/pointwise/table.js';
export { prelu } from './ops/prelu.js';
export { dropout, type DropoutOptions } from './ops/dropout.js';
export { flatten, type FlattenOptions } from './ops/flatten.js';
export { cat, concat } from './ops/concat.js';
export { matmul } from './ops/matmul.js';
export { linear, type LinearOptions } from './ops/linear.js';
export type { FusedActivation } from './ops/fused-activation.js';
export { softmax, logSoftmax } from './ops/softmax.js';
export { argmax, topk, gather, type TopkOptions } from './ops/index-ops.js';
export { crossEntropy, nllLoss, multiMarginLoss, mseLoss } from './losses/index.js';
export type { CrossEntropyOptions, NllLossOptions, MultiMarginLossOptions, Reduction } from './losses/index.js';
