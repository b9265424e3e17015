/**
 * The webgpu backend: WGSL compute shaders on a GPU, tensors in GPU buffers. Registered by the
 * `convkit/webgpu` entry (src/webgpu.ts) and by `convkit/node`, not by the browser entry, which
 * keeps a page that trains on the CPU free of the GPU kernels. `await ck.setBackend('webgpu')`
 * starts the device (in a browser through navigator.gpu, in Node through the optional `webgpu`
 * package) or throws a ConvkitError that says why there is none.
 */
import { registerBackend } from '../registry.js';
import { gpuMemory } from './gpu-array.js';
import { gatherStrided } from './kernels/strided.js';
import { kernels } from './backend.js';
import { gpuReady, startGpu } from './device.js';

registerBackend({
  name: 'webgpu',
  kernels,
  init: async () => {
    await startGpu();
  },
  ready: gpuReady,
  deviceMemory: gpuMemory,
  gatherStrided,
});
