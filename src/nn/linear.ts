import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { zeros } from '../tensor/creation.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptionNames, positiveInt } from '../ops/conv-args.js';
import { linear } from '../ops/linear.js';
import type { FusedActivation } from '../ops/fused-activation.js';
import { kaimingNormal } from './init.js';
import { FusableLayer } from './fusable-layer.js';
import { Parameter } from './parameter.js';
import { register } from './registry.js';
import { biasFlag } from './layer-args.js';

/**
 * The FC (fully connected) layer: y = x W^T + b. Weight [outFeatures, inFeatures] as in
 * PyTorch, He-normal (std sqrt(2 / inFeatures), right before a ReLU); bias [outFeatures] zero.
 * The input is [..., inFeatures]; flatten CONV volumes first (nn.Flatten).
 */
export class Linear extends FusableLayer {
  weight: Parameter;
  bias: Parameter | null;
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(inFeatures: number, outFeatures: number, opts: { bias?: boolean } = {}) {
    super();
    checkOptionNames(opts, ['bias'], 'Linear');
    this.inFeatures = positiveInt(inFeatures, 'Linear', 'inFeatures');
    this.outFeatures = positiveInt(outFeatures, 'Linear', 'outFeatures');
    const hasBias = biasFlag(opts.bias, 'Linear');
    this.weight = new Parameter(kaimingNormal([outFeatures, inFeatures]));
    this.bias = hasBias ? new Parameter(zeros([outFeatures])) : null;
    this.configArgs = [inFeatures, outFeatures, { ...opts }];
  }

  protected compute(x: Tensor, activation: FusedActivation): Tensor {
    // Checked here too so that the message reads "classifier.0 (Linear): expected 400 input features, got 256".
    if (x instanceof Tensor && x.ndim >= 1 && x.shape[x.ndim - 1] !== this.inFeatures) {
      throw new ConvkitError(this.mismatch(x.shape));
    }
    return linear(x, this.weight, this.bias, { activation });
  }

  /** [..., inFeatures] -> [..., outFeatures]. */
  outputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length === 0 || inputShape[inputShape.length - 1] !== this.inFeatures) {
      throw new ConvkitError(`Linear: ${this.mismatch(inputShape)}`);
    }
    return [...inputShape.slice(0, -1), this.outFeatures];
  }

  private mismatch(shape: readonly number[]): string {
    const got = shape[shape.length - 1];
    const size = shape.slice(1).reduce((a, b) => a * b, 1);
    return (
      `expected ${this.inFeatures} input features, got ${got ?? 'a scalar'} (input ${fmtShape(shape)})` +
      (shape.length > 2 ? `; flatten the input first (nn.Flatten gives ${size} features)` : '') +
      (got !== undefined ? `, or make inFeatures ${shape.length > 2 ? size : got}` : '')
    );
  }

  override describe(): string {
    return `Linear(${this.inFeatures}, ${this.outFeatures}${this.bias ? '' : ', bias=false'})`;
  }
}

register('Linear', Linear);
