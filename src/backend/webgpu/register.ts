/**
 * The webgpu backend: WGSL compute shaders on a GPU, tensors in GPU buffers. Registered on
 * import of convkit everywhere; its kernels and device code load on first use (a separate chunk
 * for bundlers), when `await ck.setBackend('webgpu')` starts the device (in a browser through
 * navigator.gpu, in Node through the optional `webgpu` package that convkit/node loads) or
 * throws a ConvkitError that says why there is none.
 */
import type { KernelSignatures } from '../kernels.js';
import type { DeviceArray } from '../../tensor/device-array.js';
import { webgpuMemory } from './memory-handle.js';
import { registerBackend } from '../registry.js';
import { ConvkitError } from '../../tensor/errors.js';

type Loaded = typeof import('./backend.js');
let loaded: Loaded | null = null;
const kernels: Partial<KernelSignatures> = {};

function impl(): Loaded {
  if (!loaded) throw new ConvkitError("the webgpu backend has not started: select it with await ck.setBackend('webgpu')");
  return loaded;
}


registerBackend({
  name: 'webgpu',
  kernels,
  init: async () => {
    loaded ??= await import('./backend.js');
    await loaded.start();
    Object.assign(kernels, loaded.kernels);
  },
  ready: () => loaded?.ready() ?? false,
  deviceMemory: webgpuMemory,
  gatherStrided: (src: DeviceArray, shape, strides, offset) => impl().gatherStrided(src, shape, strides, offset),
});
