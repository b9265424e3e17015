/**
 * convkit: build, train, inspect and run ConvNets in Node.js and the browser.
 * `import * as ck from 'convkit'`. This entry imports no Node built-ins, so bundlers need no
 * configuration (ck.io still reads and writes files by path in Node, taking node:fs at call
 * time: src/io/node-builtins.ts); dataset files and image decoding live in 'convkit/node'.
 */
import './backend/js/register.js';
import './backend/wasm/register.js';
import './autograd/tape.js';

export { Tensor, type GradNode } from './tensor/tensor.js';
export { ConvkitError } from './tensor/errors.js';
export { tensor, zeros, ones, full, arange, randn, rand, randint } from './tensor/creation.js';
export type { CreateOptions, RandomOptions } from './tensor/creation.js';
export { Generator, manualSeed, globalGenerator } from './tensor/random.js';
export { memory, resetPeakMemory, type MemoryInfo, type DType } from './tensor/storage.js';
export { tidy, keep } from './tensor/scope.js';
export { noGrad, enableGrad, isGradEnabled } from './autograd/tape.js';
export {
  setBackend,
  setBackendSync,
  getBackend,
  getBackendName,
  listBackends,
  registerBackend,
  kernelCoverage,
  type Backend,
} from './backend/registry.js';
export type { Fit, Pair } from './ops/geometry.js';
// tensor-level ops also offered at the top level, as torch.cat / torch.matmul / ...
export { cat } from './ops/concat.js';
export { matmul } from './ops/matmul.js';
export { argmax, topk } from './ops/index-ops.js';
export { clamp } from './ops/activations.js';
export { NonFiniteLossError } from './losses/loss-args.js';
export {
  profile,
  profileRegion,
  type ProfileOptions,
  type ProfileReport,
  type ProfileLayerRow,
  type ProfileKernelRow,
  type PhaseNumbers,
  type PhaseRates,
} from './analysis/profile.js';
export { formatProfile } from './analysis/profile-format.js';

/** The functional API: every op as a function of tensors (conv2d, relu, crossEntropy, ...). */
export * as F from './functional.js';
/** Layers and models as modules (Conv2d, BatchNorm2d, Sequential, ...), their registry, initialisation and optimizeForInference. */
export * as nn from './nn/index.js';
/** Datasets, data loaders and image preprocessing that run in Node.js and the browser. */
export * as data from './data/index.js';
/** Optimizers (SGD, Adam, ...) and learning-rate schedules. */
export * as optim from './optim/index.js';
/** Saving and loading models and weights: convkit files, ONNX import and export, PyTorch and safetensors formats. */
export * as io from './io/index.js';
/** The training loop (Trainer, evaluate), its callbacks and metrics. */
export * as train from './train/index.js';
/** The model zoo (LeNet-5, AlexNet, VGG, GoogLeNet, ResNet, ...), their configurations and torchvision weight names. */
export * as models from './models/index.js';
/** Looking into models: per-layer summaries, training memory estimates, the pattern language, the sizing linter, FC -> CONV conversion, profiles. */
export * as analysis from './analysis/index.js';
