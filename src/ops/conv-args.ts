import type { Window2D } from '../backend/kernels.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { windowOutputSize, type Fit } from './geometry.js';

/**
 * Argument reading shared by the convolution family (conv2d, convTranspose2d,
 * locallyConnected2d) and their layers: padding in its several spellings, padding modes,
 * option-name checks, and the output geometry through windowOutputSize.
 */

/**
 * A number (all four sides), [h, w] (top = bottom = h, left = right = w), [top, bottom, left,
 * right] (asymmetric, as ONNX pads need), or PyTorch's 'same' / 'valid'.
 */
export type ConvPadding = number | readonly [number, number] | readonly [number, number, number, number] | 'same' | 'valid';

/** Where the border values come from: 'zeros' pads inside the kernel, the others via F.pad first. */
export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

/** [top, bottom, left, right] */
export type Pads = [number, number, number, number];

export const PADDING_MODES: readonly PaddingMode[] = ['zeros', 'reflect', 'replicate', 'circular'];

/** Rejects misspelled option names (`padding_mode`, `strides`) instead of silently ignoring them. */
export function checkOptionNames(opts: object | undefined, known: readonly string[], op: string): void {
  if (opts === undefined || opts === null) return;
  if (typeof opts !== 'object' || Array.isArray(opts)) {
    throw new ConvkitError(`${op}: options must be an object like {${known.join(', ')}}, got ${JSON.stringify(opts)}`);
  }
  for (const key of Object.keys(opts)) {
    if (!known.includes(key)) {
      throw new ConvkitError(`${op}: unknown option '${key}'; the options are ${known.join(', ')}`);
    }
  }
}

/** A positive integer (channels, groups), or an error naming it. */
export function positiveInt(v: unknown, op: string, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ConvkitError(`${op}: ${name} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function checkPaddingMode(mode: unknown, op: string): PaddingMode {
  const m = mode ?? 'zeros';
  if (!PADDING_MODES.includes(m as PaddingMode)) {
    throw new ConvkitError(`${op}: paddingMode must be one of ${PADDING_MODES.map((p) => `'${p}'`).join(', ')}, got ${JSON.stringify(mode)}`);
  }
  return m as PaddingMode;
}

export function checkFit(fit: unknown, op: string): Fit {
  const f = fit ?? 'strict';
  if (f !== 'strict' && f !== 'floor' && f !== 'ceil') {
    throw new ConvkitError(`${op}: fit must be 'strict', 'floor' or 'ceil', got ${JSON.stringify(fit)}`);
  }
  return f;
}

/** Checks the spelling of a padding without knowing the kernel yet (layer constructors). */
export function checkPaddingSpec(padding: unknown, op: string, allowStrings = true): void {
  if (padding === undefined) return;
  if (padding === 'same' || padding === 'valid') {
    if (allowStrings) return;
    throw new ConvkitError(`${op}: padding '${padding}' is not supported here; give a number, [h, w] or [top, bottom, left, right]`);
  }
  const list = typeof padding === 'number' ? [padding] : Array.isArray(padding) ? (padding as unknown[]) : null;
  if (!list || ![1, 2, 4].includes(list.length) || (typeof padding !== 'number' && list.length === 1)) {
    throw new ConvkitError(
      `${op}: padding must be a number, [h, w], [top, bottom, left, right]${allowStrings ? ", 'same' or 'valid'" : ''}, got ${JSON.stringify(padding)}`,
    );
  }
  for (const p of list) {
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0) {
      throw new ConvkitError(`${op}: padding must hold non-negative integers, got ${JSON.stringify(padding)}`);
    }
  }
}

/**
 * Resolves a padding to [top, bottom, left, right]. 'same' keeps the size at stride 1 with
 * a total pad of D*(F-1) per axis; when that is odd, the extra pixel goes to the bottom/right,
 * as PyTorch does. Like PyTorch, 'same' is refused for strided convolutions, where no
 * padding keeps the size.
 */
export function resolvePadding(
  padding: ConvPadding | undefined,
  kernel: readonly [number, number],
  stride: readonly [number, number],
  dilation: readonly [number, number],
  op: string,
): Pads {
  checkPaddingSpec(padding, op);
  if (padding === undefined || padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) {
      throw new ConvkitError(
        `${op}: padding 'same' needs stride 1, got stride ${fmtShape(stride)} (a strided convolution cannot keep the size; PyTorch refuses it too); give a numeric padding instead`,
      );
    }
    const totalH = dilation[0] * (kernel[0] - 1);
    const totalW = dilation[1] * (kernel[1] - 1);
    const top = Math.floor(totalH / 2);
    const left = Math.floor(totalW / 2);
    return [top, totalH - top, left, totalW - left];
  }
  if (typeof padding === 'number') return [padding, padding, padding, padding];
  if (padding.length === 2) return [padding[0], padding[0], padding[1], padding[1]];
  return [padding[0], padding[1], padding[2], padding[3]];
}

/** Output size of a sliding window over [h, w]; errors (strict fit) show the arithmetic. */
export function convWindow(
  size: readonly [number, number],
  kernel: [number, number],
  stride: [number, number],
  pad: Pads,
  dilation: [number, number],
  fit: Fit,
  op: string,
): Window2D {
  const outH = windowOutputSize(
    { size: size[0], kernel: kernel[0], stride: stride[0], padBefore: pad[0], padAfter: pad[1], dilation: dilation[0] },
    fit,
    { op, axis: 'height' },
  );
  const outW = windowOutputSize(
    { size: size[1], kernel: kernel[1], stride: stride[1], padBefore: pad[2], padAfter: pad[3], dilation: dilation[1] },
    fit,
    { op, axis: 'width' },
  );
  return { kernel, stride, pad, dilation, out: [outH, outW] };
}

/**
 * Reads a layer's input shape for outputShape(): [N, C, H, W] or a single item [C, H, W]
 * (summaries pass either). Returns the leading dimensions to keep and the spatial size.
 */
export function spatialInput(
  inputShape: readonly number[],
  channels: number | null,
  op: string,
): { lead: number[]; size: [number, number] } {
  if (inputShape.length !== 4 && inputShape.length !== 3) {
    throw new ConvkitError(`${op}: expected an input shape [N, C, H, W] or [C, H, W], got ${fmtShape(inputShape)}`);
  }
  const c = inputShape[inputShape.length - 3]!;
  if (channels !== null && c !== channels) {
    throw new ConvkitError(`${op}: expected ${channels} input channels, got ${c} (input shape ${fmtShape(inputShape)})`);
  }
  return { lead: inputShape.length === 4 ? [inputShape[0]!] : [], size: [inputShape[inputShape.length - 2]!, inputShape[inputShape.length - 1]!] };
}

/** `3` for [3, 3], `[3, 5]` otherwise: how layers print a size in describe(). */
export function describePair(p: readonly [number, number]): string {
  return p[0] === p[1] ? `${p[0]}` : `[${p[0]}, ${p[1]}]`;
}
