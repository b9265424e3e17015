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

export * as F from './functional.js';
export * as nn from './nn/index.js';
export * as data from './data/index.js';
export * as optim from './optim/index.js';
export * as io from './io/index.js';
export * as train from './train/index.js';
export * as models from './models/index.js';
export * as analysis from './analysis/index.js';
