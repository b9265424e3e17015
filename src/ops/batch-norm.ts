import type { KernelTensor } from '../backend/kernels.js';
import { kernel } from '../backend/registry.js';
import { record } from '../autograd/tape.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptionNames } from './conv-args.js';
import { checkActivation, fusedName, type FusedActivation } from './fused-activation.js';
import { expectTensor, kin, kout } from './kernel-io.js';
import { add, mul } from './binary.js';
import { currentDeviceMemory, deviceValues } from '../backend/device-args.js';
import type { DeviceMemory } from '../tensor/device-array.js';

/** Options of `F.batchNorm`. */
export interface BatchNormOptions {
  /** Per-channel scale gamma [C]; none = 1. */
  weight?: Tensor | null;
  /** Per-channel shift beta [C]; none = 0. */
  bias?: Tensor | null;
  /** Normalize with this batch's statistics (and update the running ones); default false. */
  training?: boolean;
  /** Weight of the new batch in the running averages: running = (1 - momentum) running + momentum batch. */
  momentum?: number;
  eps?: number;
  /**
   * 'relu' applies max(0, y) inside the BatchNorm kernel, and its mask inside BatchNormGrad: the
   * same values and gradients as F.relu(F.batchNorm(...)) without the ReLU's passes forward and
   * backward (BN -> RELU). Default 'none'.
   */
  activation?: FusedActivation;
}

const OPTIONS = ['weight', 'bias', 'training', 'momentum', 'eps', 'activation'];

/** A per-channel vector argument: null, or a float32 tensor of shape [C]. */
export function channelVector(t: Tensor | null | undefined, channels: number, x: Tensor, op: string, name: string): Tensor | null {
  if (t === undefined || t === null) return null;
  expectTensor(t, op, name);
  if (t.dtype !== 'float32' || t.ndim !== 1 || t.shape[0] !== channels) {
    throw new ConvkitError(
      `${op}: ${name} must be a float32 tensor of shape [${channels}] (one value per channel of the input ${fmtShape(x.shape)}, channels on axis 1), ` +
        `got ${t.dtype} ${fmtShape(t.shape)}; check that the layer's numFeatures matches the channels coming in`,
    );
  }
  return t;
}

export function finiteOption(v: unknown, fallback: number, op: string, name: string, min = -Infinity): number {
  const x = v ?? fallback;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < min) {
    throw new ConvkitError(`${op}: ${name} must be a finite number${min > -Infinity ? ` >= ${min}` : ''}, got ${JSON.stringify(v)}`);
  }
  return x;
}

/** Writes `values` into a 1-d tensor's own storage (running statistics are updated in place, as in PyTorch). */
export function assignVector(t: Tensor, values: ArrayLike<number>): void {
  const data = t.storage.data as Float32Array;
  for (let i = 0; i < values.length; i++) data[t.offset + i * t.strides[0]!] = values[i]!;
}

const vec = (data: Float32Array): KernelTensor => ({ data, shape: [data.length] });

/**
 * running = a * running + b * batch on the device (webgpu), with the Binary kernels: the
 * running statistics' storage takes the result, as the host path writes it in place.
 */
function updateOnDevice(running: Tensor, batch: Tensor, a: number, b: number, device: DeviceMemory): void {
  const next = add(mul(running, a), mul(batch, b));
  running.storage.assignDevice(deviceValues(next, device));
}
/**
 * Batch normalization over [N, C], [N, C, L] or [N, C, H, W] (any [N, C, ...]): each channel
 * is normalized to zero mean and unit variance, then scaled by weight and shifted by bias.
 *
 * training: true uses this batch's mean and biased variance, and (when runningMean/runningVar
 * are given) updates them in place with momentum, the variance term being the UNBIASED batch
 * variance, exactly as PyTorch. The gradient then flows through the batch statistics too.
 * training: false (the default, as in PyTorch) normalizes with runningMean and runningVar.
 */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, opts: BatchNormOptions = {}): Tensor {
  const op = 'batchNorm';
  expectTensor(x, op, 'input');
  checkOptionNames(opts, OPTIONS, op);
  if (x.ndim < 2) {
    throw new ConvkitError(`${op}: input must be [N, C] or [N, C, ...] (channels on axis 1), got shape ${fmtShape(x.shape)}`);
  }
  const channels = x.shape[1]!;
  const rm = channelVector(runningMean, channels, x, op, 'runningMean');
  const rv = channelVector(runningVar, channels, x, op, 'runningVar');
  const weight = channelVector(opts.weight, channels, x, op, 'weight');
  const bias = channelVector(opts.bias, channels, x, op, 'bias');
  const training = opts.training ?? false;
  if (typeof training !== 'boolean') throw new ConvkitError(`${op}: training must be true or false, got ${JSON.stringify(opts.training)}`);
  const momentum = finiteOption(opts.momentum, 0.1, op, 'momentum');
  const eps = finiteOption(opts.eps, 1e-5, op, 'eps', 0);
  const activation = checkActivation(opts.activation, op);
  if ((rm === null) !== (rv === null)) {
    throw new ConvkitError(`${op}: give both runningMean and runningVar or neither, got ${rm ? 'runningMean only' : 'runningVar only'}`);
  }
  if (!training && rm === null) {
    throw new ConvkitError(
      `${op}: with training: false the input is normalized with runningMean and runningVar, but they are null; pass them, or set training: true to use the batch's statistics`,
    );
  }
  const count = x.size / channels;
  if (training && count <= 1) {
    throw new ConvkitError(
      `${op}: Expected more than 1 value per channel when training, got input size ${fmtShape(x.shape)} (${count} value${count === 1 ? '' : 's'} per channel); ` +
        `use a batch of at least 2, or evaluation mode (training: false / model.eval())`,
    );
  }

  let mean: Float32Array;
  let variance: Float32Array;
  let stats: Tensor[] = [];
  const device = currentDeviceMemory();
  if (training) {
    ({ mean, variance } = kernel('BatchNormStats')(kin(x, op)));
    if (device) {
      // Tensors on the statistics, saved with the graph below, so that tidy frees them with it.
      stats = [kout(mean, [channels]), kout(variance, [channels])];
      if (rm && rv) {
        updateOnDevice(rm, stats[0], 1 - momentum, momentum, device);
        updateOnDevice(rv, stats[1], 1 - momentum, momentum * (count / (count - 1)), device);
      }
    } else if (rm && rv) {
      const old = { m: rm.values(), v: rv.values() };
      const unbiased = count / (count - 1);
      assignVector(rm, mean.map((m, c) => (1 - momentum) * old.m[c]! + momentum * m));
      assignVector(rv, variance.map((v, c) => (1 - momentum) * old.v[c]! + momentum * v * unbiased));
    }
  } else if (device) {
    // Snapshots (see below), made on the device.
    stats = [rm!.clone(), rv!.clone()];
    mean = deviceValues(stats[0], device) as unknown as Float32Array;
    variance = deviceValues(stats[1], device) as unknown as Float32Array;
  } else {
    // Snapshots: the backward pass must see the statistics of this forward pass even if a
    // later training step updates the running buffers in place.
    mean = Float32Array.from(rm!.values());
    variance = Float32Array.from(rv!.values());
  }
  const y = kout(kernel('BatchNorm')(kin(x, op), vec(mean), vec(variance), weight && kin(weight), bias && kin(bias), eps, activation), x.shape);
  return record(
    y,
    fusedName(op, activation),
    [x, weight, bias],
    (dy) => {
      // Fused relu: the kernel masks dy as the separate relu's backward would (y > 0), then runs batch norm's.
      const relu = activation === 'relu' ? kin(y) : null;
      const { dx, dweight, dbias } = kernel('BatchNormGrad')(kin(x), kin(dy), vec(mean), vec(variance), weight && kin(weight), eps, training, relu);
      return [kout(dx, x.shape), weight && kout(dweight, [channels]), bias && kout(dbias, [channels])];
    },
    activation === 'none' ? stats : [y, ...stats],
  );
}

/** The per-channel numbers of an eval-mode batch norm, for foldBatchNorm (null: ones / zeros). */
export interface BatchNormNumbers {
  mean: ArrayLike<number>;
  variance: ArrayLike<number>;
  weight: ArrayLike<number> | null;
  bias: ArrayLike<number> | null;
  eps: number;
}

/**
 * An eval-mode batch norm applied to z + convBias, as scale * z + shift per channel (folded
 * into the convolution that computes z): scale = weight / sqrt(var + eps) and
 * shift = (convBias - mean) * scale + bias, computed in float64 and rounded once.
 */
export function foldBatchNorm(bn: BatchNormNumbers, convBias: ArrayLike<number> | null, channels: number): { scale: Tensor; shift: Tensor } {
  const scale = new Float32Array(channels), shift = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const s = (bn.weight ? bn.weight[c]! : 1) / Math.sqrt(bn.variance[c]! + bn.eps);
    scale[c] = s;
    shift[c] = ((convBias ? convBias[c]! : 0) - bn.mean[c]!) * s + (bn.bias ? bn.bias[c]! : 0);
  }
  return { scale: new Tensor(scale, [channels]), shift: new Tensor(shift, [channels]) };
}
