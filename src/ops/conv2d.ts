import { kernel } from '../backend/registry.js';
import type { Conv2DAttrs } from '../backend/kernels.js';
import { needsGrad, record } from '../autograd/tape.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  checkFit,
  checkOptionNames,
  checkPaddingMode,
  convWindow,
  positiveInt,
  resolvePadding,
  type ConvPadding,
  type PaddingMode,
} from './conv-args.js';
import { pair, type Fit, type Pair } from './geometry.js';
import { expectRank, expectTensor, kin, kout } from './kernel-io.js';
import { pad } from './pad.js';
import { activationGrad, checkActivation, fusedName, type FusedActivation } from './fused-activation.js';

/** Options of `F.conv2d`, as PyTorch's (plus `fit`). */
export interface Conv2dOptions {
  stride?: Pair;
  /** A number, [h, w], [top, bottom, left, right], 'same' (stride 1 only) or 'valid'. Default 0. */
  padding?: ConvPadding;
  dilation?: Pair;
  groups?: number;
  /** 'zeros' (default), 'reflect', 'replicate' or 'circular'. */
  paddingMode?: PaddingMode;
  /** What to do when the windows do not tile the input exactly; default 'strict' (an error). */
  fit?: Fit;
  /**
   * 'relu' applies max(0, y) inside the convolution kernel (after the bias): the same values
   * and gradients as F.relu(F.conv2d(...)) without a second pass over the output. Default 'none'.
   */
  activation?: FusedActivation;
}

/** The geometry options, shared with the Conv2d layer. */
export const CONV2D_OPTIONS = ['stride', 'padding', 'dilation', 'groups', 'paddingMode', 'fit'] as const;
const OPTIONS = [...CONV2D_OPTIONS, 'activation'] as const;

/** Checks that input channels, weight and groups agree (shared with the Conv2d layer). */
export function checkConvShapes(xShape: readonly number[], wShape: readonly number[], groups: number, op: string): void {
  const c = xShape[1]!;
  const [k, cg] = wShape as [number, number];
  if (cg * groups !== c) {
    throw new ConvkitError(
      `${op}: expected ${cg * groups} input channels, got ${c} (input ${fmtShape(xShape)}, weight ${fmtShape(wShape)}` +
        `${groups > 1 ? `, groups ${groups}: weight.shape[1] * groups = ${cg} * ${groups}` : ''}); ` +
        `the weight's second dimension times groups must equal the input's channels`,
    );
  }
  if (c % groups !== 0 || k % groups !== 0) {
    throw new ConvkitError(
      `${op}: groups ${groups} must divide both the input channels (${c}) and the output channels (${k}); pick a common divisor`,
    );
  }
}

/**
 * 2-d convolution (cross-correlation, as every framework): x [N, C, H, W], w [K, C/groups,
 * kh, kw], b [K] -> [N, K, outH, outW]. Padding modes other than 'zeros' pad with F.pad first
 * (as PyTorch does); zero padding happens inside the kernel. Gradients: the input's is
 * Conv2DBackpropInput (a convolution of dy with the flipped filters), the filters' is
 * Conv2DBackpropFilter (the correlation of x and dy), the bias's is dy summed over N, H, W.
 */
export function conv2d(x: Tensor, w: Tensor, b?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  return convolve(x, w, b, null, opts);
}

/**
 * scale[k] * conv2d(x, w)[k] + b[k] with the scale inside the convolution's epilogue: an
 * eval-mode batch norm folded into the convolution before it (nn/fusion.ts), so the output is
 * written once. Inference only: nothing here may need a gradient.
 */
export function conv2dScaled(x: Tensor, w: Tensor, scale: Tensor, b: Tensor, opts: Conv2dOptions = {}): Tensor {
  if (needsGrad(x, w, scale, b)) throw new ConvkitError('conv2dScaled: inference only (a folded batch norm), but an input requires grad');
  return convolve(x, w, b, scale, opts);
}

function convolve(x: Tensor, w: Tensor, b: Tensor | null | undefined, scale: Tensor | null, opts: Conv2dOptions): Tensor {
  const op = 'conv2d';
  expectTensor(x, op, 'input');
  expectTensor(w, op, 'weight');
  if (b !== undefined && b !== null) expectTensor(b, op, 'bias');
  checkOptionNames(opts, OPTIONS, op);
  expectRank(x, 4, op, 'input', 'N, C, H, W');
  expectRank(w, 4, op, 'weight', 'outChannels, inChannels/groups, kh, kw');
  const groups = positiveInt(opts.groups ?? 1, op, 'groups');
  checkConvShapes(x.shape, w.shape, groups, op);
  const k = w.shape[0]!;
  if (b && (b.ndim !== 1 || b.shape[0] !== k)) {
    throw new ConvkitError(`${op}: bias must have shape [${k}] (one per output channel), got ${fmtShape(b.shape)}`);
  }
  if (scale && (scale.ndim !== 1 || scale.shape[0] !== k)) {
    throw new ConvkitError(`${op}: scale must have shape [${k}] (one per output channel), got ${fmtShape(scale.shape)}`);
  }
  const kernelSize: [number, number] = [w.shape[2]!, w.shape[3]!];
  const stride = pair(opts.stride, 1, op, 'stride');
  const dilation = pair(opts.dilation, 1, op, 'dilation');
  const fit = checkFit(opts.fit, op);
  const mode = checkPaddingMode(opts.paddingMode, op);
  const activation = checkActivation(opts.activation, op);
  let pads = resolvePadding(opts.padding, kernelSize, stride, dilation, op);
  let input = x;
  if (mode !== 'zeros' && pads.some((p) => p > 0)) {
    const [t, bt, l, r] = pads;
    try {
      input = pad(x, [l, r, t, bt], { mode });
    } catch (e) {
      if (e instanceof ConvkitError) e.message = `${op} with paddingMode '${mode}': ${e.message}`;
      throw e;
    }
    pads = [0, 0, 0, 0];
  }
  const win = convWindow([input.shape[2]!, input.shape[3]!], kernelSize, stride, pads, dilation, fit, op);
  const attrs: Conv2DAttrs = { ...win, groups, activation, ...(scale ? { scale: kin(scale) } : {}) };
  const outShape = [x.shape[0]!, k, win.out[0], win.out[1]];
  const y = kout(kernel('Conv2D')(kin(input, op, 'input'), kin(w, op, 'weight'), b ? kin(b, op, 'bias') : null, attrs), outShape);
  const xIn = input;
  return record(
    y,
    fusedName(op, activation),
    [xIn, w, b],
    (dy) => {
      // Fused relu: mask dy first (the separate relu's backward), then the convolution's. With a
      // bias to train, the mask and the bias gradient (the masked dy summed over n, h, w) come
      // from one pass (ReluGradChannelSum, the same values as the two kernels).
      let g: Tensor;
      let db: Tensor | null = null;
      if (activation === 'relu' && b?.requiresGrad) {
        const fused = kernel('ReluGradChannelSum')(kin(y), kin(dy));
        g = kout(fused.grad, dy.shape);
        db = kout(fused.sum, [k]);
      } else {
        g = activationGrad(activation, y, dy);
        if (b?.requiresGrad) db = kout(kernel('Reduce', 'weight')(kin(g), [0, 2, 3], 'sum'), [k]);
      }
      const gk = kin(g);
      const back: Conv2DAttrs = { ...win, groups, activation: 'none' };
      return [
        xIn.requiresGrad ? kout(kernel('Conv2DBackpropInput', 'input')(gk, kin(w), xIn.shape, back), xIn.shape) : null,
        w.requiresGrad ? kout(kernel('Conv2DBackpropFilter', 'weight')(kin(xIn), gk, w.shape, back), w.shape) : null,
        db,
      ];
    },
    activation === 'none' ? [] : [y],
  );
}
