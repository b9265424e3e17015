/**
 * The webgpu backend for the browser entry: `import 'convkit/webgpu'` once, then
 * `await ck.setBackend('webgpu')`. A separate entry so that pages which train on the CPU do not
 * download the GPU kernels; `convkit/node` includes it.
 */
import './backend/webgpu/register.js';

export { gpuReady as webgpuReady } from './backend/webgpu/device.js';
