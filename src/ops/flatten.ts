import { ConvkitError, fmtShape } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { expectTensor } from './kernel-io.js';

/** Options of `F.flatten`: the first and last dimension merged (default 1 and -1). */
export interface FlattenOptions {
  /** First dimension merged; default 1, which keeps the batch (nn.Flatten's default; torch.flatten's is 0). */
  startDim?: number;
  /** Last dimension merged (inclusive); default -1. */
  endDim?: number;
}

/** The shape `flatten` gives, shared with nn.Flatten's outputShape. */
export function flattenShape(shape: readonly number[], opts: FlattenOptions = {}, op = 'flatten'): number[] {
  // A 0-d tensor flattens like a 1-element vector, as in PyTorch.
  const dims = shape.length === 0 ? [1] : [...shape];
  const nd = dims.length;
  const resolve = (d: number, name: string): number => {
    if (!Number.isInteger(d) || d < -nd || d >= nd) {
      throw new ConvkitError(
        `${op}: ${name} ${d} is out of range for an input of shape ${fmtShape(shape)} with ${nd} dimension${nd === 1 ? '' : 's'} ` +
          `(expected ${-nd}..${nd - 1})` +
          (name === 'startDim' && nd === 1 ? '; a 1-d input has no batch dimension to keep: use startDim 0' : ''),
      );
    }
    return d < 0 ? d + nd : d;
  };
  const start = resolve(opts.startDim ?? 1, 'startDim');
  const end = resolve(opts.endDim ?? -1, 'endDim');
  if (start > end) {
    throw new ConvkitError(
      `${op}: startDim (${opts.startDim ?? 1} -> dimension ${start}) comes after endDim (${opts.endDim ?? -1} -> dimension ${end}) for shape ${fmtShape(shape)}`,
    );
  }
  let merged = 1;
  for (let d = start; d <= end; d++) merged *= dims[d]!;
  return [...dims.slice(0, start), merged, ...dims.slice(end + 1)];
}

/**
 * Merges dimensions startDim..endDim into one: [N, C, H, W] -> [N, C*H*W] by default. A view
 * (no copy) of a contiguous input, a copy otherwise; differentiable either way.
 */
export function flatten(x: Tensor, opts: FlattenOptions = {}): Tensor {
  expectTensor(x, 'flatten', 'input');
  return x.reshape(flattenShape(x.shape, opts));
}
