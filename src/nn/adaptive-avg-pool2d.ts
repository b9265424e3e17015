import type { Tensor } from '../tensor/tensor.js';
import { adaptiveAvgPool2d, adaptiveOutputSize, adaptivePooledShape, type AdaptiveSize } from '../ops/adaptive-pool2d.js';
import { Module } from './module.js';
import { register } from './registry.js';

/**
 * Average pooling to a fixed output size whatever the input size (PyTorch's windows).
 * `new AdaptiveAvgPool2d(1)` is global average pooling, the head of GoogLeNet and ResNet.
 */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: AdaptiveSize;

  constructor(outputSize: AdaptiveSize) {
    super();
    // Checked now (the input size stands in for null entries later) so that a bad size fails at construction.
    adaptiveOutputSize(outputSize, [1, 1], 'AdaptiveAvgPool2d');
    this.outputSize = outputSize;
    this.configArgs = [outputSize];
  }

  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }

  /** [N, C, H, W] -> [N, C, outH, outW] (or [C, H, W] -> [C, outH, outW]). */
  outputShape(inputShape: readonly number[]): number[] {
    return adaptivePooledShape(inputShape, this.outputSize, 'AdaptiveAvgPool2d');
  }

  override describe(): string {
    return `AdaptiveAvgPool2d(outputSize=${JSON.stringify(this.outputSize)})`;
  }
}

register('AdaptiveAvgPool2d', AdaptiveAvgPool2d);
