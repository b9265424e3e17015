import { ConvkitError, fmtShape } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { pad, type PadMode } from '../ops/pad.js';
import { Module } from './module.js';
import { register } from './registry.js';

/**
 * Padding layers, PyTorch's family: one number for every side, or [left, right, top, bottom]
 * (F.pad's order). They differ only in what fills the border, so they share one base class.
 */
export type Padding2d = number | readonly [number, number, number, number];

abstract class Pad2dLayer extends Module {
  /** [left, right, top, bottom] */
  readonly padding: [number, number, number, number];
  readonly mode: PadMode;
  readonly value: number;

  protected constructor(padding: Padding2d, mode: PadMode, value: number, name: string) {
    super();
    const list = typeof padding === 'number' ? [padding, padding, padding, padding] : Array.isArray(padding) ? [...padding] : [];
    if (list.length !== 4 || !list.every((p) => typeof p === 'number' && Number.isInteger(p))) {
      throw new ConvkitError(`${name}: padding must be an integer or [left, right, top, bottom], got ${JSON.stringify(padding)}`);
    }
    // Negative pads crop, which only the constant modes allow (see F.pad).
    if (mode !== 'constant' && list.some((p) => p < 0)) {
      throw new ConvkitError(`${name}: padding must be non-negative, got ${JSON.stringify(padding)}`);
    }
    if (typeof value !== 'number') throw new ConvkitError(`${name}: value must be a number, got ${JSON.stringify(value)}`);
    this.padding = list as [number, number, number, number];
    this.mode = mode;
    this.value = value;
  }

  forward(x: Tensor): Tensor {
    return pad(x, this.padding, this.mode === 'constant' ? { mode: 'constant', value: this.value } : { mode: this.mode });
  }

  /** [..., H, W] -> [..., H + top + bottom, W + left + right]. */
  outputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length < 2) {
      throw new ConvkitError(`${this.typeName}: expected an input shape with at least 2 dimensions [..., H, W], got ${fmtShape(inputShape)}`);
    }
    const [l, r, t, b] = this.padding;
    const h = inputShape[inputShape.length - 2]!;
    const w = inputShape[inputShape.length - 1]!;
    return [...inputShape.slice(0, -2), h + t + b, w + l + r];
  }

  /** The padding as the layer's describe() shows it. */
  protected describePadding(): string {
    const [l, r, t, b] = this.padding;
    return l === r && r === t && t === b ? `${l}` : `[${l}, ${r}, ${t}, ${b}]`;
  }

  /** One line: the layer and its padding. */
  override describe(): string {
    return `${this.typeName}(${this.describePadding()})`;
  }
}

/** Pads with zeros. */
export class ZeroPad2d extends Pad2dLayer {
  constructor(padding: Padding2d) {
    super(padding, 'constant', 0, 'ZeroPad2d');
    this.configArgs = [padding];
  }
}

/** Pads with a constant `value`. */
export class ConstantPad2d extends Pad2dLayer {
  constructor(padding: Padding2d, value: number) {
    super(padding, 'constant', value, 'ConstantPad2d');
    this.configArgs = [padding, value];
  }

  override describe(): string {
    return `ConstantPad2d(${this.describePadding()}, value=${this.value})`;
  }
}

/** Mirrors the input about its edge pixels (pads must be smaller than the size). */
export class ReflectionPad2d extends Pad2dLayer {
  constructor(padding: Padding2d) {
    super(padding, 'reflect', 0, 'ReflectionPad2d');
    this.configArgs = [padding];
  }
}

/** Repeats the edge pixels. */
export class ReplicationPad2d extends Pad2dLayer {
  constructor(padding: Padding2d) {
    super(padding, 'replicate', 0, 'ReplicationPad2d');
    this.configArgs = [padding];
  }
}

/** Wraps around (the input tiles the plane). */
export class CircularPad2d extends Pad2dLayer {
  constructor(padding: Padding2d) {
    super(padding, 'circular', 0, 'CircularPad2d');
    this.configArgs = [padding];
  }
}

register('ZeroPad2d', ZeroPad2d);
register('ConstantPad2d', ConstantPad2d);
register('ReflectionPad2d', ReflectionPad2d);
register('ReplicationPad2d', ReplicationPad2d);
register('CircularPad2d', CircularPad2d);
