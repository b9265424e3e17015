import { kernel } from '../backend/registry.js';
import type { ReduceOp } from '../backend/kernels.js';
import { record } from '../autograd/tape.js';
import { normAxis } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { expectTensor, kin, kout } from './kernel-io.js';
import { broadcastTo } from './binary.js';

export interface ReduceOptions {
  keepdim?: boolean;
}

type Dims = number | readonly number[] | undefined;

function resolveAxes(x: Tensor, dim: Dims, op: string): number[] {
  if (dim === undefined) return [...x.shape.keys()];
  const list = typeof dim === 'number' ? [dim] : [...dim];
  return [...new Set(list.map((d) => normAxis(d, x.ndim, `${op} dim`)))].sort((a, b) => a - b);
}

function reduceOp(x: Tensor, dim: Dims, opts: ReduceOptions | undefined, op: ReduceOp): Tensor {
  expectTensor(x, op, 'input');
  const axes = resolveAxes(x, dim, op);
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outShape = opts?.keepdim ? keptShape : x.shape.filter((_, i) => !axes.includes(i));
  const y = kout(kernel('Reduce')(kin(x, op), axes, op), outShape);
  return record(y, op, [x], (g) => {
    const gk = g.reshape(keptShape);
    if (op === 'sum') return [broadcastTo(gk, x.shape)];
    if (op === 'mean') {
      const count = x.size / Math.max(y.size, 1);
      return [broadcastTo(gk, x.shape, 1 / count)];
    }
    // max/min: the gradient is shared equally by every element equal to the extreme (as torch.amax).
    const xv = x.values();
    const yb = broadcastTo(y.reshape(keptShape), x.shape).values();
    const hits = new Float32Array(x.size);
    for (let i = 0; i < hits.length; i++) hits[i] = xv[i] === yb[i] ? 1 : 0;
    const counts = kout(kernel('Reduce')({ data: hits, shape: x.shape }, axes, 'sum'), keptShape);
    const cb = broadcastTo(counts, x.shape).values();
    const gb = broadcastTo(gk, x.shape).values();
    for (let i = 0; i < hits.length; i++) hits[i] = (hits[i]! * gb[i]!) / cb[i]!;
    return [kout(hits, x.shape)];
  });
}

/** Sum over `dim` (all dimensions when omitted). */
export function sum(x: Tensor, dim?: Dims, opts?: ReduceOptions): Tensor {
  return reduceOp(x, dim, opts, 'sum');
}

/** Mean over `dim` (all dimensions when omitted). */
export function mean(x: Tensor, dim?: Dims, opts?: ReduceOptions): Tensor {
  return reduceOp(x, dim, opts, 'mean');
}

/** Maximum values over `dim` (torch.amax); the gradient is shared among ties. */
export function amax(x: Tensor, dim?: Dims, opts?: ReduceOptions): Tensor {
  return reduceOp(x, dim, opts, 'max');
}

/** Minimum over `dim` (all dimensions when omitted). */
export function amin(x: Tensor, dim?: Dims, opts?: ReduceOptions): Tensor {
  return reduceOp(x, dim, opts, 'min');
}
