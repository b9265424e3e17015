import { ConvkitError } from '../tensor/errors.js';
import { ones, zeros } from '../tensor/creation.js';
import { keep } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkOptionNames, positiveInt } from '../ops/conv-args.js';
import { Parameter } from './parameter.js';

/** The options batch norm and instance norm layers share (their defaults differ, as in PyTorch). */
export interface NormLayerOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Weight of each new batch in the running averages (default 0.1); null: batch norm keeps a cumulative average, instance norm leaves them unchanged. */
  momentum?: number | null;
  /** Learn a per-channel scale `weight` (ones) and shift `bias` (zeros). */
  affine?: boolean;
  /** Keep running_mean / running_var for evaluation. */
  trackRunningStats?: boolean;
}

export interface NormSettings {
  numFeatures: number;
  eps: number;
  momentum: number | null;
  affine: boolean;
  trackRunningStats: boolean;
  weight: Parameter | null;
  bias: Parameter | null;
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  numBatchesTracked: Tensor | null;
}

const OPTIONS = ['eps', 'momentum', 'affine', 'trackRunningStats'];

/**
 * Validates a norm layer's options and makes its parameters and (PyTorch-named) buffers. The
 * buffers are kept: a model built inside a tidy scope must not lose its state when it ends.
 */
export function normSettings(
  op: string,
  numFeatures: number,
  opts: NormLayerOptions,
  defaults: { affine: boolean; trackRunningStats: boolean },
  registerBuffer: (name: string, t: Tensor) => Tensor,
): NormSettings {
  checkOptionNames(opts, OPTIONS, op);
  const n = positiveInt(numFeatures, op, 'numFeatures');
  const eps = opts.eps ?? 1e-5;
  const momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
  const affine = opts.affine ?? defaults.affine;
  const trackRunningStats = opts.trackRunningStats ?? defaults.trackRunningStats;
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) {
    throw new ConvkitError(`${op}: eps must be a finite number >= 0, got ${JSON.stringify(opts.eps)}`);
  }
  if (momentum !== null && (typeof momentum !== 'number' || !Number.isFinite(momentum))) {
    throw new ConvkitError(`${op}: momentum must be a finite number or null, got ${JSON.stringify(opts.momentum)}`);
  }
  for (const [key, value] of [['affine', affine], ['trackRunningStats', trackRunningStats]] as const) {
    if (typeof value !== 'boolean') throw new ConvkitError(`${op}: ${key} must be true or false, got ${JSON.stringify(opts[key])}`);
  }
  const track = (name: string, t: Tensor) => registerBuffer(name, keep(t));
  return {
    numFeatures: n,
    eps,
    momentum,
    affine,
    trackRunningStats,
    weight: affine ? new Parameter(ones([n])) : null,
    bias: affine ? new Parameter(zeros([n])) : null,
    runningMean: trackRunningStats ? track('running_mean', zeros([n])) : null,
    runningVar: trackRunningStats ? track('running_var', ones([n])) : null,
    // Registered for state_dict compatibility with PyTorch (instance norm never advances it).
    numBatchesTracked: trackRunningStats ? track('num_batches_tracked', zeros([], { dtype: 'int32' })) : null,
  };
}
