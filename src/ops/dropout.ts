import { kernel } from '../backend/registry.js';
import { record } from '../autograd/tape.js';
import { ConvkitError } from '../tensor/errors.js';
import { Generator, globalGenerator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { expectTensor, kin, kout, outputArray } from './kernel-io.js';

/** Options of `F.dropout`. */
export interface DropoutOptions {
  /** Probability of zeroing each element, in [0, 1); default 0.5. */
  p?: number;
  /** Off (evaluation) makes dropout the identity; default true, as torch.nn.functional.dropout. */
  training?: boolean;
  /** Where the mask is drawn from; default the global seeded generator (ck.manualSeed). */
  generator?: Generator;
}

/**
 * Inverted dropout: each element is zeroed with probability p and the survivors are scaled by
 * 1/(1 - p), so the expected value is unchanged and evaluation needs no rescaling. The mask
 * is drawn in element order from the generator, so a seed fixes it.
 */
export function dropout(x: Tensor, opts: DropoutOptions = {}): Tensor {
  expectTensor(x, 'dropout', 'input');
  const p = opts.p ?? 0.5;
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) {
    throw new ConvkitError(
      `dropout: p must be in [0, 1) (the probability of zeroing an element), got ${String(p)}` +
        (p === 1 ? '; p = 1 would drop everything' : ''),
    );
  }
  if (opts.generator !== undefined && !(opts.generator instanceof Generator)) {
    throw new ConvkitError('dropout: generator must be a ck.Generator');
  }
  const training = opts.training ?? true;
  if (!training || p === 0) return x;
  const g = opts.generator ?? globalGenerator;
  const scale = 1 / (1 - p);
  const maskData = outputArray(x.size);
  g.fillMask(maskData, p, scale);
  const mask = kout(maskData, x.shape);
  const y = kout(kernel('Binary')(kin(x, 'dropout'), kin(mask), 'mul', x.shape), x.shape);
  return record(y, 'dropout', [x], (grad) => [kout(kernel('Binary')(kin(grad), kin(mask), 'mul', x.shape), x.shape)], [mask]);
}
