import { Module } from '../nn/module.js';
import { register } from '../nn/registry.js';
import { maxPool2d } from '../ops/max-pool2d.js';
import { pad } from '../ops/pad.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * The parameter-free shortcut of the CIFAR ResNets (He et al. 2016, section 4.2, option A):
 * where a block halves the size and widens the channels, its input is subsampled,
 * x[:, :, ::stride, ::stride], and padded with zero channels, floor((out - in) / 2) before and
 * the rest after (PyTorch: F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, p, p))).
 *
 * The subsampled size is ceil(S / stride), which is also what a 3x3 CONV with padding 1 and
 * the same stride gives under PyTorch's floor rounding (floor((S - 1) / stride) + 1): the
 * shortcut and the block's main path agree for odd sizes too (7 -> 4).
 */
export class ZeroPadShortcut extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly stride: number;
  /** Zero channels before and after the input's. */
  readonly padBefore: number;
  readonly padAfter: number;

  constructor(inChannels: number, outChannels: number, opts: { stride?: number } = {}) {
    super();
    const stride = opts.stride ?? 1;
    for (const [k, v] of [['inChannels', inChannels], ['outChannels', outChannels], ['stride', stride]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ConvkitError(`ZeroPadShortcut: ${k} must be a positive integer, got ${JSON.stringify(v)}`);
    }
    if (outChannels < inChannels) {
      throw new ConvkitError(`ZeroPadShortcut: outChannels (${outChannels}) must be at least inChannels (${inChannels}): zero padding only adds channels`);
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.stride = stride;
    this.padBefore = Math.floor((outChannels - inChannels) / 2);
    this.padAfter = outChannels - inChannels - this.padBefore;
    this.configArgs = [inChannels, outChannels, { ...opts }];
  }

  forward(x: Tensor): Tensor {
    this.outputShape(x.shape);
    // A 1x1 max pool with stride s is x[:, :, ::s, ::s] (with its gradient).
    const s = this.stride === 1 ? x : maxPool2d(x, 1, { stride: this.stride, fit: 'floor' });
    if (this.padBefore === 0 && this.padAfter === 0) return s;
    // Channels padded as the rows of an [N, C, H*W] view: one pad kernel, no concatenation.
    const [n, c, h, w] = s.shape as [number, number, number, number];
    const flat = s.contiguous().view(n, c, h * w);
    return pad(flat, [0, 0, this.padBefore, this.padAfter]).view(n, this.outChannels, h, w);
  }

  /** [N, in, H, W] -> [N, out, ceil(H / stride), ceil(W / stride)]. */
  outputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length !== 4 || inputShape[1] !== this.inChannels) {
      throw new ConvkitError(`ZeroPadShortcut: expected an input [N, ${this.inChannels}, H, W], got ${fmtShape(inputShape)}`);
    }
    const [n, , h, w] = inputShape as [number, number, number, number];
    return [n, this.outChannels, Math.ceil(h / this.stride), Math.ceil(w / this.stride)];
  }

  override describe(): string {
    return `ZeroPadShortcut(${this.inChannels}, ${this.outChannels}${this.stride !== 1 ? `, stride=${this.stride}` : ''})`;
  }
}

register('ZeroPadShortcut', ZeroPadShortcut);
