import type { Tensor } from '../tensor/tensor.js';
import { full } from '../tensor/creation.js';
import { prelu } from '../ops/prelu.js';
import { checkOptionNames, positiveInt } from '../ops/conv-args.js';
import { ElementwiseLayer, finiteOption } from './elementwise-layer.js';
import { Parameter } from './parameter.js';
import { register } from './registry.js';

/**
 * Parametric ReLU: x where x > 0, else a * x with a learned slope, one shared (numParameters 1,
 * the default) or one per channel (numParameters = C). Slopes start at `init` (0.25).
 */
export class PReLU extends ElementwiseLayer {
  weight: Parameter;
  readonly numParameters: number;

  constructor(numParameters = 1, opts: { init?: number } = {}) {
    super();
    checkOptionNames(opts, ['init'], 'PReLU');
    this.numParameters = positiveInt(numParameters, 'PReLU', 'numParameters');
    const init = finiteOption(opts.init, 0.25, 'PReLU', 'init');
    this.weight = new Parameter(full([this.numParameters], init));
    this.configArgs = [numParameters, { ...opts }];
  }

  forward(x: Tensor): Tensor {
    return prelu(x, this.weight);
  }

  override describe(): string {
    return `PReLU(numParameters=${this.numParameters})`;
  }
}

register('PReLU', PReLU);
