/**
 * What the webgpu backend loads when it starts (register.ts imports it on demand): the device,
 * the GPU memory and the kernel table. Every kernel of KernelSignatures is here.
 */
import type { KernelSignatures } from '../kernels.js';
import { gpuReady, startGpu } from './device.js';
import { unary, unaryGrad } from './kernels/unary.js';
import * as pool from './kernels/pool2d.js';
import { lrn, lrnGrad } from './kernels/lrn.js';
export { gpuMemory } from './gpu-array.js';
export { gatherStrided } from './kernels/strided.js';

/** Starts the device (see device.ts). */
export async function start(): Promise<void> {
  await startGpu();
}

export const ready = gpuReady;

export const kernels: Partial<KernelSignatures> = {
  // kernels/unary.ts
  Unary: unary,
  UnaryGrad: unaryGrad,
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
};
