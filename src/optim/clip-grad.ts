import { ConvkitError } from '../tensor/errors.js';
import { keep } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';

/** Options of `clipGradNorm`. */
export interface ClipGradNormOptions {
  /** Which p-norm: 2 (default), 1, any p > 0, or Infinity (largest |g|). */
  normType?: number;
  /** Throw when the total norm is NaN or infinite instead of scaling by it. */
  errorIfNonfinite?: boolean;
}

/**
 * Scales all gradients together, in place, so that their joint norm (the norm of the vector
 * of all gradient elements) is at most `maxNorm`, as torch.nn.utils.clip_grad_norm_. Call it
 * between `backward()` and `optimizer.step()`; it tames exploding gradients without changing
 * their direction. Returns the total norm before clipping. Parameters without a gradient
 * are ignored.
 */
export function clipGradNorm(parameters: Iterable<Tensor> | Tensor, maxNorm: number, options: ClipGradNormOptions = {}): number {
  const normType = options.normType ?? 2;
  if (!(typeof maxNorm === 'number' && maxNorm >= 0)) {
    throw new ConvkitError(`clipGradNorm: invalid maxNorm ${maxNorm}; maxNorm must be a number >= 0`);
  }
  if (!(typeof normType === 'number' && normType > 0)) {
    throw new ConvkitError(`clipGradNorm: invalid normType ${normType}; normType must be > 0 (e.g. 2, 1 or Infinity)`);
  }
  const params = parameters instanceof Tensor ? [parameters] : [...parameters];
  const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
  if (grads.length === 0) return 0;

  let total = 0;
  for (const g of grads) {
    const v = g.values();
    if (normType === Infinity) {
      for (let i = 0; i < v.length; i++) total = Math.max(total, Math.abs(v[i]!));
    } else if (normType === 2) {
      for (let i = 0; i < v.length; i++) total += v[i]! * v[i]!;
    } else {
      for (let i = 0; i < v.length; i++) total += Math.abs(v[i]!) ** normType;
    }
  }
  if (normType !== Infinity) total = normType === 2 ? Math.sqrt(total) : total ** (1 / normType);
  if (options.errorIfNonfinite && !Number.isFinite(total)) {
    throw new ConvkitError(
      `clipGradNorm: the total ${normType}-norm of the gradients is ${total}, so they cannot be clipped; ` +
        'look for a diverging loss (lower the learning rate), or pass errorIfNonfinite: false',
    );
  }
  // PyTorch's epsilon keeps the division finite for zero gradients; a NaN norm spreads to every
  // gradient, as in PyTorch, rather than being silently skipped.
  const coef = maxNorm / (total + 1e-6);
  if (!(coef >= 1)) {
    for (const p of params) {
      const g = p.grad;
      if (g === null) continue;
      if (g.isContiguous()) {
        const v = g.storage.data.subarray(g.offset, g.offset + g.size);
        for (let i = 0; i < v.length; i++) v[i] = v[i]! * coef;
      } else {
        // A strided gradient (set by hand) is replaced by a scaled contiguous copy.
        const v = g.dataSync();
        for (let i = 0; i < v.length; i++) v[i] = v[i]! * coef;
        p.grad = keep(new Tensor(v, g.shape));
      }
    }
  }
  return total;
}
