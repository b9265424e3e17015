import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { assignVector, batchNorm, channelVector, finiteOption } from './batch-norm.js';
import { add, mul } from './binary.js';
import { checkOptionNames } from './conv-args.js';
import { expectTensor } from './kernel-io.js';

/** Options of `F.instanceNorm`. */
export interface InstanceNormOptions {
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  /** Per-channel scale [C]; none = 1. */
  weight?: Tensor | null;
  /** Per-channel shift [C]; none = 0. */
  bias?: Tensor | null;
  /** Normalize with each instance's own statistics (default true); false uses the running ones. */
  useInputStats?: boolean;
  momentum?: number;
  eps?: number;
}

const OPTIONS = ['runningMean', 'runningVar', 'weight', 'bias', 'useInputStats', 'momentum', 'eps'];

/**
 * Instance normalization (style transfer; ONNX InstanceNormalization): every (sample,
 * channel) image is normalized by its own mean and biased variance over the spatial axes, then
 * scaled and shifted per channel. Input [N, C, ...] with at least one spatial axis.
 *
 * Built as PyTorch builds it: batch normalization of the input viewed as [1, N*C, ...], with
 * the running statistics (when given) repeated per sample and averaged back over the batch
 * after the update. The gradient comes from batchNorm and broadcasting ops.
 */
export function instanceNorm(x: Tensor, opts: InstanceNormOptions = {}): Tensor {
  const op = 'instanceNorm';
  expectTensor(x, op, 'input');
  checkOptionNames(opts, OPTIONS, op);
  if (x.ndim < 3) {
    throw new ConvkitError(`${op}: input must be [N, C, ...] with at least one spatial axis, got shape ${fmtShape(x.shape)}`);
  }
  const [n, c] = [x.shape[0]!, x.shape[1]!];
  const rest = x.shape.slice(2);
  const rm = channelVector(opts.runningMean, c, x, op, 'runningMean');
  const rv = channelVector(opts.runningVar, c, x, op, 'runningVar');
  const weight = channelVector(opts.weight, c, x, op, 'weight');
  const bias = channelVector(opts.bias, c, x, op, 'bias');
  const useInputStats = opts.useInputStats ?? true;
  if (typeof useInputStats !== 'boolean') {
    throw new ConvkitError(`${op}: useInputStats must be true or false, got ${JSON.stringify(opts.useInputStats)}`);
  }
  const momentum = finiteOption(opts.momentum, 0.1, op, 'momentum');
  const eps = finiteOption(opts.eps, 1e-5, op, 'eps', 0);
  if ((rm === null) !== (rv === null)) {
    throw new ConvkitError(`${op}: give both runningMean and runningVar or neither, got ${rm ? 'runningMean only' : 'runningVar only'}`);
  }
  if (!useInputStats && rm === null) {
    throw new ConvkitError(`${op}: useInputStats: false normalizes with runningMean and runningVar, but they are not given; pass them or use the input's statistics`);
  }
  const spatial = x.size / Math.max(n * c, 1);
  if (useInputStats && spatial <= 1) {
    throw new ConvkitError(
      `${op}: Expected more than 1 spatial element when training, got input size ${fmtShape(x.shape)}; each instance needs at least 2 pixels to have a variance`,
    );
  }

  const repeat = (t: Tensor | null) => {
    if (!t) return null;
    const v = t.values();
    const out = new Float32Array(n * c);
    for (let i = 0; i < n; i++) out.set(v, i * c);
    return new Tensor(out, [n * c]);
  };
  const rmRep = repeat(rm);
  const rvRep = repeat(rv);
  let y = batchNorm(x.reshape([1, n * c, ...rest]), rmRep, rvRep, { training: useInputStats, momentum, eps }).reshape(x.shape);
  if (useInputStats && rm && rv && rmRep && rvRep) {
    // Each sample updated its own copy; the running statistics become their average.
    const average = (rep: Tensor) => {
      const v = rep.values();
      const out = new Float32Array(c);
      for (let i = 0; i < n * c; i++) out[i % c]! += v[i]! / n;
      return out;
    };
    assignVector(rm, average(rmRep));
    assignVector(rv, average(rvRep));
  }
  const perChannel = [1, c, ...rest.map(() => 1)];
  if (weight) y = mul(y, weight.reshape(perChannel));
  if (bias) y = add(y, bias.reshape(perChannel));
  return y;
}
