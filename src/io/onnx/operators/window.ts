import type { Tensor } from '../../../tensor/tensor.js';
import type { CheckContext, NodeContext } from './op-types.js';

/**
 * Sliding-window attributes shared by Conv and the pools: ONNX lists pads as
 * [x1_begin, x2_begin, ..., x1_end, x2_end] and may ask for them automatically (auto_pad).
 * convkit's ops are 2-d, so 1-d inputs [N, C, L] run as [N, C, 1, L].
 */

export interface Window {
  kernel: [number, number];
  stride: [number, number];
  dilation: [number, number];
  /** convkit order: [top, bottom, left, right]. */
  pads: [number, number, number, number];
}

const AUTO_PADS = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'];

/** Load-time checks: auto_pad spelled right, and 1-d or 2-d windows only. */
export function checkWindow(ctx: CheckContext, kernelRank: number | undefined): string[] {
  const problems: string[] = [];
  const autoPad = ctx.attrs.string('auto_pad', 'NOTSET');
  if (!AUTO_PADS.includes(autoPad)) problems.push(`auto_pad '${autoPad}' is not one of ${AUTO_PADS.join(', ')}`);
  const rank = kernelRank ?? ctx.attrs.ints('kernel_shape')?.length;
  if (rank !== undefined && rank !== 1 && rank !== 2) {
    problems.push(`${rank}-d windows are not supported (convkit runs 1-d and 2-d convolutions and pools)`);
  }
  return problems;
}

/** An [N, C, L] input as [N, C, 1, L]; 4-d inputs pass through. */
export function lift(ctx: NodeContext, x: Tensor): Tensor {
  if (x.ndim === 3) return x.reshape([x.shape[0]!, x.shape[1]!, 1, x.shape[2]!]);
  if (x.ndim !== 4) ctx.fail(`expected a 3-d [N, C, L] or 4-d [N, C, H, W] input, got ${x.ndim}-d [${x.shape}]`);
  return x;
}

/** Undoes `lift` on an output when the input was 1-d. */
export function lower(y: Tensor, wasOneD: boolean): Tensor {
  return wasOneD ? y.reshape([y.shape[0]!, y.shape[1]!, y.shape[3]!]) : y;
}

/** A per-axis attribute list as an [h, w] pair (1-d lists get h = `unit`). */
function pairOf(ctx: NodeContext, values: number[], spatial: number, name: string, unit: number): [number, number] {
  if (values.length !== spatial) ctx.fail(`${name} has ${values.length} values but the input has ${spatial} spatial dimensions`);
  return spatial === 1 ? [unit, values[0]!] : [values[0]!, values[1]!];
}

/**
 * Resolves kernel, strides, dilations and pads for a window over `size` (the spatial sizes
 * of the original input, 1 or 2 of them). `kernel` comes from kernel_shape or the weight.
 */
export function resolveWindow(ctx: NodeContext, size: readonly number[], kernel: number[]): Window {
  const spatial = size.length;
  const k = pairOf(ctx, kernel, spatial, 'kernel_shape', 1);
  const stride = pairOf(ctx, ctx.attrs.ints('strides') ?? new Array<number>(spatial).fill(1), spatial, 'strides', 1);
  const dilation = pairOf(ctx, ctx.attrs.ints('dilations') ?? new Array<number>(spatial).fill(1), spatial, 'dilations', 1);
  const autoPad = ctx.attrs.string('auto_pad', 'NOTSET');
  const begin: number[] = [];
  const end: number[] = [];
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    // Output = ceil(in / stride); the total padding that needs, split with the odd pixel at
    // the end (SAME_UPPER) or at the beginning (SAME_LOWER).
    for (let i = 0; i < spatial; i++) {
      const s = spatial === 1 ? stride[1] : stride[i]!;
      const d = spatial === 1 ? dilation[1] : dilation[i]!;
      const kk = spatial === 1 ? k[1] : k[i]!;
      const out = Math.ceil(size[i]! / s);
      const total = Math.max(0, (out - 1) * s + (kk - 1) * d + 1 - size[i]!);
      const small = Math.floor(total / 2);
      begin.push(autoPad === 'SAME_UPPER' ? small : total - small);
      end.push(autoPad === 'SAME_UPPER' ? total - small : small);
    }
  } else if (autoPad === 'VALID') {
    begin.push(...new Array<number>(spatial).fill(0));
    end.push(...new Array<number>(spatial).fill(0));
  } else {
    const pads = ctx.attrs.ints('pads') ?? new Array<number>(2 * spatial).fill(0);
    if (pads.length !== 2 * spatial) ctx.fail(`pads has ${pads.length} values; a ${spatial}-d window needs ${2 * spatial} (all begins, then all ends)`);
    if (pads.some((p) => p < 0)) ctx.fail(`negative pads [${pads}] are not supported`);
    begin.push(...pads.slice(0, spatial));
    end.push(...pads.slice(spatial));
  }
  const pads: [number, number, number, number] =
    spatial === 1 ? [0, 0, begin[0]!, end[0]!] : [begin[0]!, end[0]!, begin[1]!, end[1]!];
  return { kernel: k, stride, dilation, pads };
}

export function symmetric(p: readonly [number, number, number, number]): boolean {
  return p[0] === p[1] && p[2] === p[3];
}
