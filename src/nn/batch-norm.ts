import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { keep } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { batchNorm, foldBatchNorm } from '../ops/batch-norm.js';
import type { FusedActivation } from '../ops/fused-activation.js';
import { FusableLayer } from './fusable-layer.js';
import type { Parameter } from './parameter.js';
import { normSettings } from './norm-settings.js';
import { register, registeredName } from './registry.js';

/** Options of `BatchNorm1d` and `BatchNorm2d`. */
export interface BatchNormLayerOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Weight of each new batch in the running averages (default 0.1); null = cumulative average over all batches. */
  momentum?: number | null;
  /** Learn a per-channel scale `weight` (ones) and shift `bias` (zeros); default true. */
  affine?: boolean;
  /** Keep running_mean / running_var for evaluation (default true); false = always use batch statistics. */
  trackRunningStats?: boolean;
}


/**
 * Batch normalization as PyTorch's _BatchNorm: in training mode each channel is normalized
 * with the batch's statistics and the running statistics are updated; in eval mode the
 * running statistics are used. Buffers are named as in PyTorch's state_dict (`running_mean`,
 * `running_var`, `num_batches_tracked`) so that PyTorch checkpoints map one to one.
 * BatchNorm1d and BatchNorm2d differ only in the input ranks they accept.
 */
abstract class BatchNormBase extends FusableLayer {
  weight: Parameter | null;
  bias: Parameter | null;
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  readonly runningMean: Tensor | null = null;
  readonly runningVar: Tensor | null = null;
  /** int32 scalar; counts training batches (drives momentum: null). */
  readonly numBatchesTracked: Tensor | null = null;

  /** Accepted input ranks and how to name them in errors. */
  protected abstract readonly layouts: Readonly<Record<number, string>>;

  constructor(numFeatures: number, opts: BatchNormLayerOptions = {}) {
    super();
    // The registered name: a minifier renames classes (nn/registry.ts).
    const op = registeredName(new.target) ?? new.target.name;
    const s = normSettings(op, numFeatures, opts, { affine: true, trackRunningStats: true }, (name, t) => this.registerBuffer(name, t));
    this.numFeatures = s.numFeatures;
    this.eps = s.eps;
    this.momentum = s.momentum;
    this.affine = s.affine;
    this.trackRunningStats = s.trackRunningStats;
    this.weight = s.weight;
    this.bias = s.bias;
    this.runningMean = s.runningMean;
    this.runningVar = s.runningVar;
    this.numBatchesTracked = s.numBatchesTracked;
    this.configArgs = [numFeatures, { ...opts }];
  }

  /**
   * Can run as a per-channel affine map inside the layer before it: eval mode with running
   * statistics only (training normalizes with the batch's own statistics).
   */
  canFold(): boolean {
    return !this.training && this.trackRunningStats && this.canFuseRelu();
  }

  /**
   * This layer (eval mode) applied to z + bias, as scale * z + shift per channel (foldBatchNorm).
   * Inference asks once per layer per step: the last fold is reused while the numbers it was
   * made from are the same bits (parameters and statistics change in place, so they are
   * compared, not trusted); making the two small tensors costs more than the comparison.
   */
  foldedAffine(bias: Tensor | null): { scale: Tensor; shift: Tensor } {
    const numbers = {
      mean: this.runningMean!.values(),
      variance: this.runningVar!.values(),
      weight: this.weight?.values() ?? null,
      bias: this.bias?.values() ?? null,
      eps: this.eps,
    };
    const convBias = bias?.values() ?? null;
    const parts = [numbers.mean, numbers.variance, numbers.weight, numbers.bias, convBias];
    const c = this.lastFold;
    if (c && c.eps === this.eps && !c.scale.isDisposed && !c.shift.isDisposed && sameBits(c.from, parts)) return { scale: c.scale, shift: c.shift };
    const r = foldBatchNorm(numbers, convBias, this.numFeatures);
    this.lastFold = { from: parts.map((p) => (p ? Float32Array.from(p) : null)), eps: this.eps, scale: keep(r.scale), shift: keep(r.shift) };
    return r;
  }

  private lastFold: { from: (Float32Array | null)[]; eps: number; scale: Tensor; shift: Tensor } | null = null;

  /** With activation 'relu' the ReLU runs in the BatchNorm kernel, and in training its mask in BatchNormGrad. */
  protected compute(x: Tensor, activation: FusedActivation): Tensor {
    if (!(x instanceof Tensor)) throw new ConvkitError(`input must be a Tensor, got ${x === null ? 'null' : typeof x}`);
    const layout = this.layouts[x.ndim];
    if (layout === undefined) {
      const expected = Object.entries(this.layouts).map(([r, l]) => `${r}-d [${l}]`).join(' or ');
      throw new ConvkitError(
        `expected ${expected} input, got ${x.ndim}-d ${fmtShape(x.shape)}` +
          (x.ndim === 3 && this.layouts[4] ? '; for a single image add a batch dimension with .view(1, C, H, W)' : ''),
      );
    }
    if (x.shape[1] !== this.numFeatures) {
      throw new ConvkitError(
        `expected ${this.numFeatures} channels on axis 1 (numFeatures), got ${x.shape[1]} (input ${fmtShape(x.shape)}); ` +
          `make numFeatures match the previous layer's output channels`,
      );
    }
    const track = this.trackRunningStats;
    let factor = this.momentum ?? 0;
    if (this.training && track && this.momentum === null) {
      factor = 1 / (this.numBatchesTracked!.item() + 1);
    }
    const y = batchNorm(x, this.runningMean, this.runningVar, {
      weight: this.weight,
      bias: this.bias,
      // Without running statistics there is nothing else to normalize with, even in eval mode (as PyTorch).
      training: this.training || !track,
      momentum: factor,
      eps: this.eps,
      activation,
    });
    if (this.training && track) (this.numBatchesTracked!.storage.data as Int32Array)[this.numBatchesTracked!.offset]! += 1;
    return y;
  }

  /** The same shape: normalization keeps it. */
  outputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  override describe(): string {
    const parts = [`${this.numFeatures}`, `eps=${this.eps}`, `momentum=${this.momentum}`];
    if (!this.affine) parts.push('affine=false');
    if (!this.trackRunningStats) parts.push('trackRunningStats=false');
    return `${this.typeName}(${parts.join(', ')})`;
  }
}

/** Batch normalization of [N, C, H, W] activations, one mean/variance per channel (after a CONV). */
export class BatchNorm2d extends BatchNormBase {
  protected readonly layouts = { 4: 'N, C, H, W' };
}

/** Batch normalization of [N, C] (after a Linear) or [N, C, L] (sequences) activations. */
export class BatchNorm1d extends BatchNormBase {
  protected readonly layouts = { 2: 'N, C', 3: 'N, C, L' };
}

register('BatchNorm2d', BatchNorm2d);
register('BatchNorm1d', BatchNorm1d);

/** Whether each part has the same float32 bits as the saved copy (NaN equal to itself), or both are absent. */
function sameBits(saved: readonly (Float32Array | null)[], parts: readonly (ArrayLike<number> | null)[]): boolean {
  for (let i = 0; i < parts.length; i++) {
    const a = saved[i]!, b = parts[i]!;
    if (!a || !b) {
      if (a !== b) return false;
      continue;
    }
    if (!(b instanceof Float32Array) || a.length !== b.length) return false;
    const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
    for (let j = 0; j < ua.length; j++) if (ua[j] !== ub[j]) return false;
  }
  return true;
}
