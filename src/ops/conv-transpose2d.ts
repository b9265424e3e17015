import { kernel } from '../backend/registry.js';
import type { Conv2DAttrs } from '../backend/kernels.js';
import { record } from '../autograd/tape.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkOptionNames, checkPaddingSpec, positiveInt, resolvePadding, type Pads } from './conv-args.js';
import { pair, type Pair } from './geometry.js';
import { expectRank, expectTensor, kin, kout } from './kernel-io.js';

/** Options of `F.convTranspose2d`, as PyTorch's. */
export interface ConvTranspose2dOptions {
  stride?: Pair;
  /** Removed from each border of the output: a number, [h, w] or [top, bottom, left, right]. */
  padding?: Pair | readonly [number, number, number, number];
  /** Extra rows/columns at the bottom/right, to pick among the sizes a strided conv maps to the same size. */
  outputPadding?: Pair;
  groups?: number;
  dilation?: Pair;
}

export const CONV_TRANSPOSE2D_OPTIONS = ['stride', 'padding', 'outputPadding', 'groups', 'dilation'] as const;

/**
 * PyTorch's rule: outputPadding must be smaller than the stride or the dilation. Only then do
 * the extra rows stand for sizes that a strided convolution maps to the same output size.
 */
export function checkOutputPadding(
  outputPadding: readonly [number, number],
  stride: readonly [number, number],
  dilation: readonly [number, number],
  op: string,
): void {
  (['height', 'width'] as const).forEach((axis, a) => {
    const [extra, s, d] = [outputPadding[a]!, stride[a]!, dilation[a]!];
    if (extra >= s && extra >= d) {
      throw new ConvkitError(
        `${op}: outputPadding ${extra} along the ${axis} must be smaller than the stride (${s}) or the dilation (${d}); ` +
          `use an outputPadding below ${Math.max(s, d)}`,
      );
    }
  });
}

export interface ConvTransposeGeometry {
  attrs: Conv2DAttrs;
  /** [N, outChannels, outH, outW] */
  outShape: number[];
}

/**
 * The geometry of a transposed convolution: out = (H-1)*S - P_top - P_bottom + D*(F-1) +
 * outputPadding + 1 per axis. Shared with the ConvTranspose2d layer's outputShape().
 */
export function convTransposeGeometry(
  xShape: readonly number[],
  wShape: readonly number[],
  opts: ConvTranspose2dOptions,
  op: string,
): ConvTransposeGeometry {
  const groups = positiveInt(opts.groups ?? 1, op, 'groups');
  const [cin, coutPerGroup, kh, kw] = wShape as [number, number, number, number];
  const c = xShape[1]!;
  if (c !== cin) {
    throw new ConvkitError(
      `${op}: expected ${cin} input channels, got ${c} (input ${fmtShape(xShape)}, weight ${fmtShape(wShape)} is [inChannels, outChannels/groups, kh, kw])`,
    );
  }
  if (cin % groups !== 0) {
    throw new ConvkitError(`${op}: groups ${groups} must divide the input channels (${cin}); pick a divisor of ${cin}`);
  }
  const stride = pair(opts.stride, 1, op, 'stride');
  const dilation = pair(opts.dilation, 1, op, 'dilation');
  const outputPadding = pair(opts.outputPadding, 0, op, 'outputPadding', 0);
  checkPaddingSpec(opts.padding, op, false);
  const pads: Pads = resolvePadding(opts.padding, [kh, kw], stride, dilation, op);
  const axes = ['height', 'width'] as const;
  const out: [number, number] = [0, 0];
  checkOutputPadding(outputPadding, stride, dilation, op);
  for (let a = 0; a < 2; a++) {
    const s = stride[a]!;
    const d = dilation[a]!;
    const extra = outputPadding[a]!;
    const size = xShape[2 + a]!;
    const f = a === 0 ? kh : kw;
    const before = pads[2 * a]!;
    const after = pads[2 * a + 1]!;
    out[a] = (size - 1) * s - before - after + d * (f - 1) + extra + 1;
    if (out[a] < 1) {
      throw new ConvkitError(
        `${op}: ${axes[a]} output (${size} - 1)*${s} - ${before + after} + ${d}*(${f} - 1) + ${extra} + 1 = ${out[a]} is not positive; reduce the padding`,
      );
    }
  }
  const attrs: Conv2DAttrs = {
    kernel: [kh, kw],
    stride,
    pad: pads,
    dilation,
    // The forward of a transposed convolution is the input-gradient of the convolution that
    // maps the output size back to x's size: x plays that convolution's output.
    out: [xShape[2]!, xShape[3]!],
    groups,
    activation: 'none',
  };
  return { attrs, outShape: [xShape[0]!, coutPerGroup * groups, out[0], out[1]] };
}

/**
 * Transposed convolution ("deconvolution", the gradient of conv2d w.r.t. its input used as a
 * layer): x [N, Cin, H, W], w [Cin, Cout/groups, kh, kw] (PyTorch's layout), b [Cout].
 * Forward: Conv2DBackpropInput. Backward: the input's gradient is a plain convolution of dy
 * (Conv2D), the weight's is Conv2DBackpropFilter with dy in the input's role.
 */
export function convTranspose2d(x: Tensor, w: Tensor, b?: Tensor | null, opts: ConvTranspose2dOptions = {}): Tensor {
  const op = 'convTranspose2d';
  expectTensor(x, op, 'input');
  expectTensor(w, op, 'weight');
  if (b !== undefined && b !== null) expectTensor(b, op, 'bias');
  checkOptionNames(opts, CONV_TRANSPOSE2D_OPTIONS, op);
  expectRank(x, 4, op, 'input', 'N, C, H, W');
  expectRank(w, 4, op, 'weight', 'inChannels, outChannels/groups, kh, kw');
  const { attrs, outShape } = convTransposeGeometry(x.shape, w.shape, opts, op);
  const cout = outShape[1]!;
  if (b && (b.ndim !== 1 || b.shape[0] !== cout)) {
    throw new ConvkitError(`${op}: bias must have shape [${cout}] (one per output channel), got ${fmtShape(b.shape)}`);
  }
  let data = kernel('Conv2DBackpropInput')(kin(x, op, 'input'), kin(w, op, 'weight'), outShape, attrs);
  if (b) {
    const unbiased = data;
    data = kernel('Binary')({ data, shape: outShape }, { data: kin(b, op, 'bias').data, shape: [1, cout, 1, 1] }, 'add', outShape);
    // No tensor holds the unbiased output: as a tensor's storage it gives a backend's block back
    // now instead of at a garbage collection (wasm memory the collector does not see).
    kout(unbiased, outShape).dispose();
  }
  const y = kout(data, outShape);
  return record(y, op, [x, w, b], (g) => {
    const gk = kin(g);
    return [
      x.requiresGrad ? kout(kernel('Conv2D', 'input')(gk, kin(w), null, attrs), x.shape) : null,
      w.requiresGrad ? kout(kernel('Conv2DBackpropFilter', 'weight')(gk, kin(x), w.shape, attrs), w.shape) : null,
      b?.requiresGrad ? kout(kernel('Reduce', 'weight')(gk, [0, 2, 3], 'sum'), [cout]) : null,
    ];
  });
}
