import { kernel } from '../backend/registry.js';
import { record } from '../autograd/tape.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkFit, checkOptionNames, convWindow, resolvePadding, type ConvPadding } from './conv-args.js';
import { pair, type Fit, type Pair } from './geometry.js';
import { expectRank, expectTensor, kin, kout } from './kernel-io.js';

/** Options of `F.locallyConnected2d`. */
export interface LocallyConnected2dOptions {
  stride?: Pair;
  /** A number, [h, w], [top, bottom, left, right], 'same' (stride 1) or 'valid'; zero padding. */
  padding?: ConvPadding;
  dilation?: Pair;
  fit?: Fit;
}

export const LOCALLY_CONNECTED2D_OPTIONS = ['stride', 'padding', 'dilation', 'fit'] as const;

/**
 * A locally connected layer's op: a convolution whose filters are not shared, one bank of K
 * filters per output position (DeepFace's L4-L6). Layouts, chosen so that the weight reads as
 * "a conv weight [K, C, kh, kw] for every output position" and the bias matches the output:
 *   x [N, C, H, W], w [outH, outW, K, C, kh, kw], b [K, outH, outW] -> [N, K, outH, outW].
 * The weight's first two dimensions must equal the output grid, so a weight fits one input size.
 */
export function locallyConnected2d(x: Tensor, w: Tensor, b?: Tensor | null, opts: LocallyConnected2dOptions = {}): Tensor {
  const op = 'locallyConnected2d';
  expectTensor(x, op, 'input');
  expectTensor(w, op, 'weight');
  if (b !== undefined && b !== null) expectTensor(b, op, 'bias');
  checkOptionNames(opts, LOCALLY_CONNECTED2D_OPTIONS, op);
  expectRank(x, 4, op, 'input', 'N, C, H, W');
  expectRank(w, 6, op, 'weight', 'outH, outW, outChannels, inChannels, kh, kw');
  const [gridH, gridW, k, c, kh, kw] = w.shape as [number, number, number, number, number, number];
  if (x.shape[1] !== c) {
    throw new ConvkitError(`${op}: expected ${c} input channels, got ${x.shape[1]} (input ${fmtShape(x.shape)}, weight ${fmtShape(w.shape)})`);
  }
  const stride = pair(opts.stride, 1, op, 'stride');
  const dilation = pair(opts.dilation, 1, op, 'dilation');
  const fit = checkFit(opts.fit, op);
  const pads = resolvePadding(opts.padding, [kh, kw], stride, dilation, op);
  const win = convWindow([x.shape[2]!, x.shape[3]!], [kh, kw], stride, pads, dilation, fit, op);
  if (win.out[0] !== gridH || win.out[1] !== gridW) {
    throw new ConvkitError(
      `${op}: the weight ${fmtShape(w.shape)} holds filters for a ${gridH}x${gridW} output grid, but input ${fmtShape(x.shape)} gives ${win.out[0]}x${win.out[1]}; ` +
        `a locally connected weight fits one input size: resize the input or rebuild the weight for it`,
    );
  }
  if (b && b.shape.join() !== [k, gridH, gridW].join()) {
    throw new ConvkitError(`${op}: bias must have shape [${k}, ${gridH}, ${gridW}] (one per output value of an image), got ${fmtShape(b.shape)}`);
  }
  const outShape = [x.shape[0]!, k, gridH, gridW];
  const y = kout(kernel('LocallyConnected2D')(kin(x, op, 'input'), kin(w, op, 'weight'), b ? kin(b, op, 'bias') : null, win), outShape);
  return record(y, op, [x, w, b], (g) => {
    const gk = kin(g);
    return [
      x.requiresGrad ? kout(kernel('LocallyConnected2DBackpropInput', 'input')(gk, kin(w), x.shape, win), x.shape) : null,
      w.requiresGrad ? kout(kernel('LocallyConnected2DBackpropFilter', 'weight')(kin(x), gk, w.shape, win), w.shape) : null,
      b?.requiresGrad ? kout(kernel('Reduce', 'weight')(gk, [0], 'sum'), b.shape) : null,
    ];
  });
}
