import { ConvkitError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  adaptiveMaxPool2dSharingSwitches,
  adaptiveOutputSize,
  adaptivePooledShape,
  type AdaptiveMaxPool2dOptions,
  type AdaptiveSize,
} from '../ops/adaptive-pool2d.js';
import { checkOptionNames } from '../ops/conv-args.js';
import type { PoolWithIndices } from '../ops/max-pool2d.js';
import { Module } from './module.js';
import { PoolSwitches } from './pool-switches.js';
import { register } from './registry.js';

/**
 * Max pooling to a fixed output size whatever the input size; `new AdaptiveMaxPool2d(1)` is
 * global max pooling. Like MaxPool2d it keeps the last switches in `lastIndices` (valid until
 * the next forward) and offers `forwardWithIndices(x)` instead of returnIndices.
 */
export class AdaptiveMaxPool2d extends Module {
  readonly outputSize: AdaptiveSize;
  private readonly switches = new PoolSwitches();

  constructor(outputSize: AdaptiveSize, opts: AdaptiveMaxPool2dOptions = {}) {
    super();
    const op = 'AdaptiveMaxPool2d';
    checkOptionNames(opts, ['returnIndices'], op);
    if (opts.returnIndices) {
      throw new ConvkitError(
        `${op}: returnIndices is not supported on the layer because forward returns one Tensor; call layer.forwardWithIndices(x) for {output, indices}, or read layer.lastIndices after forward`,
      );
    }
    adaptiveOutputSize(outputSize, [1, 1], op);
    this.outputSize = outputSize;
    this.configArgs = [outputSize, { ...opts }];
  }

  /** int32 [N, C, outH, outW]: flat index (row * W + col) of each window's winner in its input plane. */
  get lastIndices(): Tensor | null {
    return this.switches.read();
  }

  forward(x: Tensor): Tensor {
    // The previous switches go first, so that their memory serves this pass.
    this.switches.clear();
    const { output, indices } = adaptiveMaxPool2dSharingSwitches(x, this.outputSize);
    // Owned by the layer: kept out of tidy scopes until the next forward.
    this.switches.hold(indices);
    return output;
  }

  /** The output and a copy of the switches (PyTorch's return_indices=True). */
  forwardWithIndices(x: Tensor): PoolWithIndices {
    const output = this.forward(x);
    return { output, indices: this.lastIndices!.clone() };
  }

  /** [N, C, H, W] -> [N, C, outH, outW] (or [C, H, W] -> [C, outH, outW]). */
  outputShape(inputShape: readonly number[]): number[] {
    return adaptivePooledShape(inputShape, this.outputSize, 'AdaptiveMaxPool2d');
  }

  override describe(): string {
    return `AdaptiveMaxPool2d(outputSize=${JSON.stringify(this.outputSize)})`;
  }
}

register('AdaptiveMaxPool2d', AdaptiveMaxPool2d);
