/**
 * ReluGradChannelSum on wasm (assembly/relu-grad-sum.ts): the masked gradient and the bias
 * gradient of a convolution with a fused bias and ReLU in one pass over y and dy, a task per run
 * of channels. It gives the bits of the wasm UnaryGrad and Reduce it replaces, which both run in
 * wasm from MIN_ELEMENTS on; smaller arrays and strided views take those two kernels as before.
 */
import type { KernelTensor } from '../kernels.js';
import { sizeOf } from '../../tensor/shape.js';
import { MIN_ELEMENTS, unaryGrad } from './elementwise.js';
import { KIND, RGS } from './job-layout.js';
import { runtime } from './instance.js';
import { reduce } from './planes.js';

export function reluGradChannelSum(y: KernelTensor, dy: KernelTensor): { grad: Float32Array; sum: Float32Array } {
  const shape = dy.shape;
  const size = sizeOf(shape);
  if (shape.length < 2 || size < MIN_ELEMENTS || y.strides || dy.strides || sizeOf(y.shape) !== size) {
    const grad = unaryGrad(y, y, dy, 'relu', 0);
    const axes = shape.map((_, i) => i).filter((i) => i !== 1);
    return { grad, sum: reduce({ data: grad, shape }, axes, 'sum') };
  }
  const n = shape[0]!, c = shape[1]!;
  const rt = runtime();
  rt.begin();
  const py = rt.put(y.data);
  const pdy = rt.put(dy.data);
  const pout = rt.alloc(size);
  const psum = rt.alloc(c);
  rt.args(RGS, { Y: py, DY: pdy, OUT: pout, SUM: psum, N: n, INNER: size / (n * c) });
  rt.runUnits(KIND.reluGradSum, RGS.CPT, RGS.C, c, size);
  return { grad: rt.read(pout, size), sum: rt.read(psum, c) };
}
