/** `ck.nn`: layers as classes with PyTorch's argument order and camelCased options. */
export { Module, type ForwardHook, type HookHandle, type ModuleConfig } from './module.js';
export { Parameter } from './parameter.js';
export { Sequential } from './sequential.js';
export { forwardWithRelu, runLayers, type ReluFusable } from './fusion.js';
export { optimizeForInference, InferenceModule, InferenceSequential, InferenceGraph, InferenceLeaf, FusedLayers } from './optimize-for-inference.js';
export { register, fromConfig, registeredLayers } from './registry.js';
/** Weight initializers: Kaiming normal (the default for conv and linear weights), Xavier uniform, uniform, and fanIn. */
export * as init from './init.js';
// convolution family and padding layers
export { Conv2d, type Conv2dLayerOptions } from './conv2d.js';
export { ConvTranspose2d, type ConvTranspose2dLayerOptions } from './conv-transpose2d.js';
export { LocallyConnected2d, type LocallyConnected2dLayerOptions } from './locally-connected2d.js';
export { ZeroPad2d, ConstantPad2d, ReflectionPad2d, ReplicationPad2d, CircularPad2d, type Padding2d } from './padding.js';
// pooling and normalization layers
export { MaxPool2d } from './max-pool2d.js';
export { AvgPool2d } from './avg-pool2d.js';
export { LPPool2d } from './lp-pool2d.js';
export { AdaptiveAvgPool2d } from './adaptive-avg-pool2d.js';
export { AdaptiveMaxPool2d } from './adaptive-max-pool2d.js';
export { LocalResponseNorm } from './local-response-norm.js';
export { BatchNorm1d, BatchNorm2d, type BatchNormLayerOptions } from './batch-norm.js';
export { InstanceNorm2d, type InstanceNormLayerOptions } from './instance-norm.js';
// FC, activation, dropout, flatten, softmax layers and loss modules
export { Linear } from './linear.js';
export { ReLU } from './relu.js';
// LeakyReLU, ELU, SELU, Sigmoid, Tanh and the other declared pointwise ops
export * from './pointwise.js';
export { PointwiseLayer } from './pointwise-layer.js';
export { Softplus } from './softplus.js';
export { PReLU } from './prelu.js';
export { Hardtanh } from './hardtanh.js';
export { Dropout } from './dropout.js';
export { Flatten } from './flatten.js';
export { Softmax } from './softmax.js';
export { LogSoftmax } from './log-softmax.js';
export { Identity } from './identity.js';
export { CrossEntropyLoss, type CrossEntropyLossOptions } from './cross-entropy-loss.js';
export { MultiMarginLoss, type MultiMarginLossLayerOptions } from './multi-margin-loss.js';
export { MSELoss } from './mse-loss.js';
