import type { Fit } from '../ops/geometry.js';
import { pooledShape, type PoolParams } from '../ops/pool-window.js';
import { Module } from './module.js';

/**
 * What every POOL layer shares: its window geometry, read like Conv2d's (kernelSize, stride,
 * dilation, pads, fit) so that receptive-field and summary code treat CONV and POOL alike,
 * and its output shape without computing anything.
 */
export abstract class PoolLayer extends Module {
  abstract readonly params: PoolParams;

  get kernelSize(): [number, number] {
    return this.params.kernel;
  }
  get stride(): [number, number] {
    return this.params.stride;
  }
  get dilation(): [number, number] {
    return this.params.dilation;
  }
  /** [top, bottom, left, right] */
  get pads(): [number, number, number, number] {
    const [h, w] = this.params.padding;
    return [h, h, w, w];
  }
  get fit(): Fit {
    return this.params.fit;
  }

  /** [N, C, H, W] -> [N, C, outH, outW] (or [C, H, W] -> [C, outH, outW]) without computing anything. */
  outputShape(inputShape: readonly number[]): number[] {
    return pooledShape(inputShape, this.typeName, this.params);
  }
}
