import * as F from '../../../functional.js';
import { conv2dScaled } from '../../../ops/conv2d.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { asFloat, input } from './common.js';
import type { CheckContext, OperatorDef, RunContext } from './op-types.js';
import { checkWindow, lift, lower, resolveWindow } from './window.js';

/**
 * Conv and ConvTranspose onto F.conv2d / F.convTranspose2d (1-d as 2-d with height 1). Both
 * take asymmetric pads in convkit's [top, bottom, left, right] order.
 */

function checkConv(ctx: CheckContext): string[] {
  const w = ctx.staticShape(1);
  return checkWindow(ctx, w ? w.length - 2 : undefined);
}

function conv(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor {
  const x = asFloat(input(ctx, inputs, 0, 'X'));
  const w = asFloat(input(ctx, inputs, 1, 'W'));
  const b = inputs[2] ? asFloat(inputs[2]) : null;
  const spatial = w.ndim - 2;
  if (spatial !== 1 && spatial !== 2) ctx.fail(`weight [${w.shape}] is ${spatial}-d; convkit supports 1-d and 2-d convolutions`);
  if (x.ndim !== w.ndim) ctx.fail(`input [${x.shape}] and weight [${w.shape}] must have the same number of dimensions`);
  const win = resolveWindow(ctx, x.shape.slice(2), w.shape.slice(2) as number[]);
  const opts = {
    stride: win.stride,
    dilation: win.dilation,
    padding: win.pads,
    groups: ctx.attrs.int('group', 1),
    fit: 'floor' as const,
    activation: ctx.activation,
  };
  const y = ctx.affine
    ? conv2dScaled(lift(ctx, x), lift(ctx, w), ctx.affine.scale, ctx.affine.shift, opts)
    : F.conv2d(lift(ctx, x), lift(ctx, w), b, opts);
  return lower(y, spatial === 1);
}

/** Pads for ConvTranspose from output_shape (or SAME_*), as the ONNX spec spells it out. */
function transposePads(ctx: RunContext, size: readonly number[], kernel: readonly number[], stride: number[], dilation: number[], outPad: number[]) {
  const spatial = size.length;
  const autoPad = ctx.attrs.string('auto_pad', 'NOTSET');
  let target = ctx.attrs.ints('output_shape');
  if (target && target.length === spatial + 2) target = target.slice(2);
  if (!target && (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER')) target = size.map((s, i) => s * stride[i]!);
  const begin: number[] = [];
  const end: number[] = [];
  const extra: number[] = [];
  for (let i = 0; i < spatial; i++) {
    const natural = stride[i]! * (size[i]! - 1) + outPad[i]! + (kernel[i]! - 1) * dilation[i]! + 1;
    if (target) {
      if (target.length !== spatial) ctx.fail(`output_shape [${target}] must give ${spatial} spatial sizes`);
      const total = natural - target[i]!;
      // A negative total means the output is larger than the convolution covers: extra zeros
      // (plus bias) at the end, as output_padding would give.
      const t = Math.max(total, 0);
      const half = Math.floor(t / 2);
      begin.push(autoPad === 'SAME_UPPER' ? half : t - half);
      end.push(autoPad === 'SAME_UPPER' ? t - half : half);
      extra.push(outPad[i]! + Math.max(-total, 0));
    } else if (autoPad === 'VALID') {
      begin.push(0);
      end.push(0);
      extra.push(outPad[i]!);
    } else {
      const pads = ctx.attrs.ints('pads') ?? new Array<number>(2 * spatial).fill(0);
      if (pads.length !== 2 * spatial) ctx.fail(`pads has ${pads.length} values; needs ${2 * spatial}`);
      begin.push(pads[i]!);
      end.push(pads[spatial + i]!);
      extra.push(outPad[i]!);
    }
  }
  return { begin, end, extra };
}

function convTranspose(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor {
  const x = asFloat(input(ctx, inputs, 0, 'X'));
  const w = asFloat(input(ctx, inputs, 1, 'W'));
  const b = inputs[2] ? asFloat(inputs[2]) : null;
  const spatial = w.ndim - 2;
  if (spatial !== 1 && spatial !== 2) ctx.fail(`weight [${w.shape}] is ${spatial}-d; convkit supports 1-d and 2-d transposed convolutions`);
  if (x.ndim !== w.ndim) ctx.fail(`input [${x.shape}] and weight [${w.shape}] must have the same number of dimensions`);
  const ones = new Array<number>(spatial).fill(1);
  const stride = ctx.attrs.ints('strides') ?? ones;
  const dilation = ctx.attrs.ints('dilations') ?? ones;
  const outPad = ctx.attrs.ints('output_padding') ?? new Array<number>(spatial).fill(0);
  for (const [name, v] of [['strides', stride], ['dilations', dilation], ['output_padding', outPad]] as const) {
    if (v.length !== spatial) ctx.fail(`${name} has ${v.length} values; the weight has ${spatial} spatial dimensions`);
  }
  const { begin, end, extra } = transposePads(ctx, x.shape.slice(2), w.shape.slice(2), stride, dilation, outPad);
  const two = (v: number[], unit: number): [number, number] => (spatial === 1 ? [unit, v[0]!] : [v[0]!, v[1]!]);
  const pads: [number, number, number, number] =
    spatial === 1 ? [0, 0, begin[0]!, end[0]!] : [begin[0]!, end[0]!, begin[1]!, end[1]!];
  const s2 = two(stride, 1);
  const d2 = two(dilation, 1);
  const e2 = two(extra, 0);
  const groups = ctx.attrs.int('group', 1);
  // convkit (as PyTorch) limits output_padding to below the stride or dilation; beyond that
  // the extra rows are zeros plus bias, added here.
  const fits = e2.every((e, i) => e < s2[i]! || e < d2[i]!);
  let y: Tensor;
  if (fits) {
    y = F.convTranspose2d(lift(ctx, x), lift(ctx, w), b, { stride: s2, dilation: d2, padding: pads, outputPadding: e2, groups });
  } else {
    y = F.convTranspose2d(lift(ctx, x), lift(ctx, w), null, { stride: s2, dilation: d2, padding: pads, groups });
    y = F.pad(y, [0, e2[1], 0, e2[0]]);
    if (b) y = F.add(y, b.reshape([1, b.size, 1, 1]));
  }
  return lower(y, spatial === 1);
}

export const convOperators: Record<string, OperatorDef> = {
  Conv: { check: checkConv, run: conv, fusesRelu: true },
  ConvTranspose: { check: checkConv, run: convTranspose },
};
