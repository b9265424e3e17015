import { kernel } from '../backend/registry.js';
import type { Pad2DMode, Pads2D } from '../backend/kernels.js';
import { record } from '../autograd/tape.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { MAX_WINDOW_VALUE } from './geometry.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkOptionNames } from './conv-args.js';
import { expectTensor, kin, kout } from './kernel-io.js';

/** How `F.pad` fills: constant, reflect, replicate or circular. */
export type PadMode = Pad2DMode;

/** Options of `F.pad`. */
export interface PadOptions {
  /** 'constant' (default, fills with `value`), 'reflect', 'replicate' or 'circular'. */
  mode?: PadMode;
  /** Fill value for mode 'constant' (default 0). */
  value?: number;
}

const MODES: readonly PadMode[] = ['constant', 'reflect', 'replicate', 'circular'];

/**
 * Pads the last one or two dimensions, with PyTorch's order: `pad` is [left, right] for the
 * last dimension, or [left, right, top, bottom] for the last two. Negative pads crop (mode
 * 'constant' only, as their meaning in the other modes is murky). Reflect pads must be smaller
 * than the size they mirror and circular pads no larger (PyTorch's rules).
 */
export function pad(x: Tensor, pad: readonly number[], opts: PadOptions = {}): Tensor {
  const op = 'pad';
  expectTensor(x, op, 'input');
  checkOptionNames(opts, ['mode', 'value'], op);
  const mode = opts.mode ?? 'constant';
  if (!MODES.includes(mode)) {
    throw new ConvkitError(`${op}: mode must be one of ${MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(opts.mode)}`);
  }
  const value = opts.value ?? 0;
  if (typeof value !== 'number') throw new ConvkitError(`${op}: value must be a number, got ${JSON.stringify(opts.value)}`);
  if (value !== 0 && mode !== 'constant') {
    throw new ConvkitError(`${op}: value ${value} only applies to mode 'constant', not '${mode}'; leave it out`);
  }
  if (!Array.isArray(pad) || (pad.length !== 2 && pad.length !== 4) || !pad.every((p) => typeof p === 'number' && Number.isInteger(p))) {
    throw new ConvkitError(
      `${op}: pad must be 2 integers [left, right] (last dimension) or 4 [left, right, top, bottom] (last two), got ${JSON.stringify(pad)}`,
    );
  }
  if (pad.some((p) => Math.abs(p) > MAX_WINDOW_VALUE)) {
    throw new ConvkitError(`${op}: pad ${JSON.stringify(pad)} is too large (each side at most ${MAX_WINDOW_VALUE})`);
  }
  const dims = pad.length / 2;
  if (x.ndim < dims) {
    throw new ConvkitError(`${op}: padding ${dims} dimensions needs an input with at least ${dims}, got shape ${fmtShape(x.shape)}`);
  }
  // Kernel order is [top, bottom, left, right]; a missing height pair is zero.
  const pads: Pads2D = dims === 2 ? [pad[2]!, pad[3]!, pad[0]!, pad[1]!] : [0, 0, pad[0]!, pad[1]!];
  // A 1-d input is one row of a 2-d one for the kernel.
  const kShape = x.ndim === 1 ? [1, x.shape[0]!] : x.shape;
  const h = kShape[kShape.length - 2]!;
  const w = kShape[kShape.length - 1]!;
  checkSide(pads[0], 'top', h, 'height', mode, x.shape);
  checkSide(pads[1], 'bottom', h, 'height', mode, x.shape);
  checkSide(pads[2], 'left', w, 'width', mode, x.shape);
  checkSide(pads[3], 'right', w, 'width', mode, x.shape);
  const outH = h + pads[0] + pads[1];
  const outW = w + pads[2] + pads[3];
  if (outH < 1 || outW < 1) {
    throw new ConvkitError(
      `${op}: pad ${JSON.stringify(pad)} crops ${fmtShape(x.shape)} to nothing (height ${h} -> ${outH}, width ${w} -> ${outW}); crop less`,
    );
  }
  const outShape = x.ndim === 1 ? [outW] : [...x.shape.slice(0, -2), outH, outW];
  const xk = { data: kin(x, op).data, shape: kShape };
  const y = kout(kernel('Pad2D')(xk, pads, mode, value), outShape);
  return record(y, op, [x], (g) => [kout(kernel('Pad2DGrad')({ data: kin(g).data, shape: [...kShape.slice(0, -2), outH, outW] }, pads, mode, kShape), x.shape)]);
}

function checkSide(p: number, side: string, size: number, axis: string, mode: PadMode, shape: readonly number[]): void {
  if (p < 0 && mode !== 'constant') {
    throw new ConvkitError(`pad: negative ${side} padding (${p}) crops, which only mode 'constant' allows, not '${mode}'`);
  }
  if (mode === 'reflect' && p >= size) {
    throw new ConvkitError(
      `pad: reflect padding of ${p} on the ${side} must be smaller than the ${axis} ${size} of ${fmtShape(shape)} (a mirror cannot reach past the far edge); pad less, or use mode 'replicate'`,
    );
  }
  if (mode === 'circular' && p > size) {
    throw new ConvkitError(
      `pad: circular padding of ${p} on the ${side} must be at most the ${axis} ${size} of ${fmtShape(shape)} (it wraps around once); pad less`,
    );
  }
}
