import { needsGrad } from '../autograd/tape.js';
import { ConvkitError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkOptionNames } from '../ops/conv-args.js';
import type { Pair } from '../ops/geometry.js';
import { maxPool2d, maxPool2dSharingSwitches, type MaxPool2dOptions, type PoolWithIndices } from '../ops/max-pool2d.js';
import { describePool, poolParams, type PoolParams } from '../ops/pool-window.js';
import { PoolLayer } from './pool-layer.js';
import { PoolSwitches } from './pool-switches.js';
import { register } from './registry.js';

const OPTIONS = ['stride', 'padding', 'dilation', 'ceilMode', 'fit', 'returnIndices'];

/**
 * The POOL layer: max over each window of each channel (no parameters). The switches of the
 * last forward pass (which input pixel won each window) stay in `lastIndices`, for
 * visualizations such as deconvnets; they are valid until the next forward, so clone() them
 * to keep them longer. In eval mode with no gradient being recorded (inference: `eval()` and
 * noGrad, or an input that requires no grad) forward skips the switches, which is faster, and
 * `lastIndices` is null; `forwardWithIndices` always computes them.
 *
 * `forward` returns one Tensor (so the layer fits in a Sequential); PyTorch's
 * return_indices=True tuple is `forwardWithIndices(x)` here, and `returnIndices: true` is
 * refused rather than silently ignored.
 */
export class MaxPool2d extends PoolLayer {
  readonly params: PoolParams;
  private readonly switches = new PoolSwitches();

  constructor(kernelSize: Pair, opts: MaxPool2dOptions = {}) {
    super();
    const op = 'MaxPool2d';
    checkOptionNames(opts, OPTIONS, op);
    if (opts.returnIndices) {
      throw new ConvkitError(
        `${op}: returnIndices is not supported on the layer because forward returns one Tensor; call layer.forwardWithIndices(x) for {output, indices}, or read layer.lastIndices after forward`,
      );
    }
    this.params = poolParams(op, kernelSize, opts, { padding: true, dilation: true });
    this.configArgs = [kernelSize, { ...opts }];
  }

  /** int32 [N, C, outH, outW]: flat index (row * W + col) of each window's winner in its input plane. */
  get lastIndices(): Tensor | null {
    return this.switches.read();
  }

  forward(x: Tensor): Tensor {
    // The previous switches go first, so that their memory serves this pass.
    this.switches.clear();
    if (!this.training && !needsGrad(x)) {
      return maxPool2d(x, this.params.kernel, { ...this.windowOptions(), returnIndices: false });
    }
    return this.forwardKeepingIndices(x);
  }

  /** The output and a copy of the switches (PyTorch's return_indices=True). */
  forwardWithIndices(x: Tensor): PoolWithIndices {
    const output = this.forwardKeepingIndices(x);
    return { output, indices: this.lastIndices!.clone() };
  }

  private windowOptions(): Omit<MaxPool2dOptions, 'returnIndices'> {
    const p = this.params;
    return { stride: p.stride, padding: p.padding, dilation: p.dilation, fit: p.fit };
  }

  private forwardKeepingIndices(x: Tensor): Tensor {
    this.switches.clear();
    const { output, indices } = maxPool2dSharingSwitches(x, this.params.kernel, this.windowOptions());
    // The layer owns its switches: they survive tidy scopes until the next forward.
    this.switches.hold(indices);
    return output;
  }

  override describe(): string {
    return `MaxPool2d(${describePool(this.params)})`;
  }
}

register('MaxPool2d', MaxPool2d);
