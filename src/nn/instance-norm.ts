import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { instanceNorm } from '../ops/instance-norm.js';
import { Module } from './module.js';
import type { Parameter } from './parameter.js';
import { normSettings } from './norm-settings.js';
import { register } from './registry.js';

/** Options of `InstanceNorm2d`. */
export interface InstanceNormLayerOptions {
  eps?: number;
  /** Weight of each batch in the running averages (default 0.1); null leaves them unchanged, as PyTorch. */
  momentum?: number | null;
  /** Learn a per-channel weight (ones) and bias (zeros); default false, as PyTorch. */
  affine?: boolean;
  /** Keep running statistics and use them in eval mode; default false, as PyTorch. */
  trackRunningStats?: boolean;
}


/**
 * Instance normalization of [N, C, H, W] (or a single [C, H, W] image): each image's
 * channels are normalized by their own spatial mean and variance (style transfer). Defaults,
 * buffers and state_dict names follow PyTorch's InstanceNorm2d.
 */
export class InstanceNorm2d extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  readonly runningMean: Tensor | null = null;
  readonly runningVar: Tensor | null = null;

  constructor(numFeatures: number, opts: InstanceNormLayerOptions = {}) {
    super();
    const op = 'InstanceNorm2d';
    const s = normSettings(op, numFeatures, opts, { affine: false, trackRunningStats: false }, (name, t) => this.registerBuffer(name, t));
    this.numFeatures = s.numFeatures;
    this.eps = s.eps;
    this.momentum = s.momentum;
    this.affine = s.affine;
    this.trackRunningStats = s.trackRunningStats;
    this.weight = s.weight;
    this.bias = s.bias;
    this.runningMean = s.runningMean;
    this.runningVar = s.runningVar;
    this.configArgs = [numFeatures, { ...opts }];
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new ConvkitError(`input must be a Tensor, got ${x === null ? 'null' : typeof x}`);
    if (x.ndim !== 3 && x.ndim !== 4) {
      throw new ConvkitError(`expected a 4-d [N, C, H, W] or 3-d [C, H, W] input, got ${x.ndim}-d ${fmtShape(x.shape)}`);
    }
    const channels = x.shape[x.ndim - 3]!;
    // As PyTorch: the channel count only matters when there are per-channel weights or statistics.
    if (channels !== this.numFeatures && (this.affine || this.trackRunningStats)) {
      throw new ConvkitError(
        `expected ${this.numFeatures} channels (numFeatures), got ${channels} (input ${fmtShape(x.shape)}); make numFeatures match the previous layer's output channels`,
      );
    }
    const batched = x.ndim === 4 ? x : x.reshape([1, ...x.shape]);
    const y = instanceNorm(batched, {
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      weight: this.weight,
      bias: this.bias,
      useInputStats: this.training || !this.trackRunningStats,
      momentum: this.momentum ?? 0,
      eps: this.eps,
    });
    return x.ndim === 4 ? y : y.reshape(x.shape);
  }

  /** The same shape: normalization keeps it. */
  outputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  override describe(): string {
    const parts = [`${this.numFeatures}`, `eps=${this.eps}`, `momentum=${this.momentum}`];
    if (this.affine) parts.push('affine=true');
    if (this.trackRunningStats) parts.push('trackRunningStats=true');
    return `InstanceNorm2d(${parts.join(', ')})`;
  }
}

register('InstanceNorm2d', InstanceNorm2d);
