/**
 * The wasm backend: WebAssembly SIMD kernels on shared memory, run by a pool of worker
 * threads (single-threaded where shared memory is unavailable). This list is its whole
 * coverage; every kernel missing here falls back to js (src/backend/registry.ts).
 *
 * Registered on import of convkit wherever WebAssembly SIMD is available. It becomes the
 * default backend in Node unless CONVKIT_BACKEND=js; browsers select it with
 * `await ck.setBackend('wasm')` (the module must be fetched first).
 */
import type { KernelSignatures } from '../kernels.js';
import { getBackendName, registerBackend, setBackendSync } from '../registry.js';
import { batchNormGrad, batchNormStats } from './batchnorm.js';
import { conv2d, conv2dBackpropFilter, conv2dBackpropInput } from './conv2d.js';
import { binary, unary, unaryGrad } from './elementwise.js';
import { reluGradChannelSum } from './relu-grad-sum.js';
import { runtime, startRuntime } from './instance.js';
import { matMul } from './matmul.js';
import { batchNorm, reduce } from './planes.js';
import {
  adaptiveAvgPool2D, adaptiveAvgPool2DGrad, avgPool2D, avgPool2DGrad, lrn, lrnGrad, maxPool2D, maxPool2DGrad, maxPool2DWithArgmax,
} from './pool2d.js';
import { simdSupported } from './runtime.js';
import { clamp, clampGrad, prelu, preluGrad, softplus, softplusGrad } from './activations.js';
import { pad2d, pad2dGrad } from './pad2d.js';
import { argMax, gather, gatherGrad, topK } from './index-ops.js';
import { multiMarginLoss, multiMarginLossGrad } from './multi-margin.js';
import { adaptiveMaxPool2D } from './adaptive-max-pool2d.js';
import { adamStep, sgdStep } from './optimizers.js';
import { locallyConnected2d, locallyConnected2dBackpropFilter, locallyConnected2dBackpropInput } from './locally-connected.js';
import { logSoftmax, logSoftmaxGrad, nllLoss, nllLossGrad, softmax, softmaxGrad } from './softmax.js';

const kernels: Partial<KernelSignatures> = {
  // matmul.ts
  MatMul: matMul,
  // optimizers.ts (in-place updates)
  SGDStep: sgdStep,
  AdamStep: adamStep,
  // conv2d.ts (winograd.ts for 3x3 stride 1)
  Conv2D: conv2d,
  Conv2DBackpropInput: conv2dBackpropInput,
  Conv2DBackpropFilter: conv2dBackpropFilter,
  // elementwise.ts
  Unary: unary,
  UnaryGrad: unaryGrad,
  Binary: binary,
  // relu-grad-sum.ts
  ReluGradChannelSum: reluGradChannelSum,
  // planes.ts
  Reduce: reduce,
  BatchNorm: batchNorm,
  // batchnorm.ts
  BatchNormStats: batchNormStats,
  BatchNormGrad: batchNormGrad,
  // softmax.ts
  Softmax: softmax,
  LogSoftmax: logSoftmax,
  SoftmaxGrad: softmaxGrad,
  LogSoftmaxGrad: logSoftmaxGrad,
  NllLoss: nllLoss,
  NllLossGrad: nllLossGrad,
  // pool2d.ts
  MaxPool2DWithArgmax: maxPool2DWithArgmax,
  MaxPool2D: maxPool2D,
  MaxPool2DGrad: maxPool2DGrad,
  AvgPool2D: avgPool2D,
  AvgPool2DGrad: avgPool2DGrad,
  AdaptiveAvgPool2D: adaptiveAvgPool2D,
  AdaptiveAvgPool2DGrad: adaptiveAvgPool2DGrad,
  LRN: lrn,
  LRNGrad: lrnGrad,
  // activations.ts
  Clamp: clamp,
  ClampGrad: clampGrad,
  Softplus: softplus,
  SoftplusGrad: softplusGrad,
  PRelu: prelu,
  PReluGrad: preluGrad,
  // pad2d.ts
  Pad2D: pad2d,
  Pad2DGrad: pad2dGrad,
  // index-ops.ts
  ArgMax: argMax,
  TopK: topK,
  Gather: gather,
  GatherGrad: gatherGrad,
  // multi-margin.ts
  MultiMarginLoss: multiMarginLoss,
  MultiMarginLossGrad: multiMarginLossGrad,
  // adaptive-max-pool2d.ts
  AdaptiveMaxPool2D: adaptiveMaxPool2D,
  // locally-connected.ts
  LocallyConnected2D: locallyConnected2d,
  LocallyConnected2DBackpropInput: locallyConnected2dBackpropInput,
  LocallyConnected2DBackpropFilter: locallyConnected2dBackpropFilter,
};

if (simdSupported()) {
  registerBackend({
    name: 'wasm',
    kernels,
    init: async () => {
      await startRuntime();
    },
    adopt: (storage) => runtime().adopt(storage),
    newArray: (n, dtype) => runtime().newArray(n, dtype),
    // elementwise.ts reads views through stride tables (assembly/broadcast.ts, unary.ts)
    stridedInputs: new Set(['Unary', 'UnaryGrad', 'Binary'] as const),
  });
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const wanted = env?.CONVKIT_BACKEND;
  // wasm is the default backend unless CONVKIT_BACKEND names another.
  if ((wanted === 'wasm' || wanted === undefined) && getBackendName() === 'js') {
    try {
      runtime(); // compiles now and starts the worker threads, ready by the first big kernel
      setBackendSync('wasm');
    } catch (e) {
      // A default is best effort (a browser must fetch the module first); an explicit ask is not.
      if (wanted === 'wasm') throw e;
    }
  }
}
