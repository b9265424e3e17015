import * as F from '../../../functional.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { asFloat, axisOf, checkAlloc, input, intList, scalarOf } from './common.js';
import type { CheckContext, OperatorDef, RunContext } from './op-types.js';

/**
 * Pad: ONNX lists pads for every dimension as [x1_begin, x2_begin, ..., x1_end, x2_end]
 * (attributes before opset 11, inputs from it on; `axes` from opset 18), while F.pad takes
 * PyTorch's [left, right, top, bottom] for the last one or two dimensions. The last two go in
 * one call; any other padded dimension is swapped to the end, padded and swapped back.
 * Negative pads crop.
 */

const MODES: Record<string, 'constant' | 'reflect' | 'replicate'> = { constant: 'constant', reflect: 'reflect', edge: 'replicate' };

function checkPad(ctx: CheckContext): string[] {
  const mode = ctx.attrs.string('mode', 'constant');
  return MODES[mode] ? [] : [`mode '${mode}' is not supported (supported: constant, reflect, edge)`];
}

/** [begin, end] per dimension of a rank-`rank` tensor. */
function padsPerDim(ctx: RunContext, inputs: readonly (Tensor | null)[], rank: number): [number, number][] {
  let pads: number[] | undefined;
  let axes: number[] = [...Array(rank).keys()];
  if (ctx.opset < 11) {
    pads = ctx.attrs.ints('pads') ?? ctx.attrs.ints('paddings');
  } else {
    pads = inputs[1] ? intList(inputs[1]) : undefined;
    if (inputs[3]) axes = intList(inputs[3]).map((a) => axisOf(ctx, a, rank, 'pad axis'));
  }
  if (!pads) ctx.fail('pads are missing');
  if (pads.length !== 2 * axes.length) {
    ctx.fail(`pads [${pads}] must have ${2 * axes.length} values (begins then ends) for a ${rank}-d input`);
  }
  const out: [number, number][] = Array.from({ length: rank }, () => [0, 0]);
  axes.forEach((a, i) => (out[a] = [pads[i]!, pads[axes.length + i]!]));
  return out;
}

function padLast(x: Tensor, pads: number[], mode: 'constant' | 'reflect' | 'replicate', value: number): Tensor {
  if (pads.every((p) => p === 0)) return x;
  if (mode === 'constant') return F.pad(x, pads, { value });
  // Reflect and replicate cannot crop: crop first (constant mode), then pad what remains.
  const crop = pads.map((p) => Math.min(p, 0));
  const grow = pads.map((p) => Math.max(p, 0));
  const cropped = crop.some((p) => p < 0) ? F.pad(x, crop) : x;
  return grow.some((p) => p > 0) ? F.pad(cropped, grow, { mode }) : cropped;
}

function pad(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor {
  const x0 = input(ctx, inputs, 0, 'data');
  const x = asFloat(x0);
  const mode = MODES[ctx.attrs.string('mode', 'constant')];
  if (!mode) return ctx.fail(`mode '${ctx.attrs.string('mode', '')}' is not supported`);
  const value = ctx.opset < 11 ? ctx.attrs.float('value', 0) : inputs[2] ? scalarOf(ctx, inputs[2], 'constant_value') : 0;
  const per = padsPerDim(ctx, inputs, x.ndim);
  checkAlloc(ctx, x.shape.map((d, i) => d + per[i]![0] + per[i]![1]), 'the padded output');
  const r = x.ndim;
  let y = x;
  // Dimensions before the last two, one at a time through the last position.
  for (let d = 0; d < r - 2; d++) {
    const [b, e] = per[d]!;
    if (b === 0 && e === 0) continue;
    y = padLast(y.transpose(d, r - 1), [b, e], mode, value).transpose(d, r - 1);
  }
  if (r >= 2) y = padLast(y, [per[r - 1]![0], per[r - 1]![1], per[r - 2]![0], per[r - 2]![1]], mode, value);
  else if (r === 1) y = padLast(y, [per[0]![0], per[0]![1]], mode, value);
  return y;
}

export const padOperators: Record<string, OperatorDef> = {
  Pad: { check: checkPad, run: pad },
};
