/**
 * What the webgpu backend loads when it starts (register.ts imports it on demand): the device,
 * the GPU memory and the kernel table. Every kernel of KernelSignatures is here.
 */
import type { KernelSignatures } from '../kernels.js';
import { gpuReady, startGpu } from './device.js';
import { unary, unaryGrad } from './kernels/unary.js';
import { conv2dBackpropFilter, conv2dBackpropInput } from './kernels/conv2d-grad.js';
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
  // kernels/conv2d-grad.ts
  Conv2DBackpropInput: conv2dBackpropInput,
  Conv2DBackpropFilter: conv2dBackpropFilter,
};
