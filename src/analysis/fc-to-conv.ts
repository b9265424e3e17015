import { noGrad } from '../autograd/tape.js';
import { Conv2d } from '../nn/conv2d.js';
import { Linear } from '../nn/linear.js';
import { Module, type ModuleConfig } from '../nn/module.js';
import { Sequential } from '../nn/sequential.js';
import { POINTWISE_OPS } from '../ops/pointwise/all.js';
import { mean } from '../ops/reduce.js';
import { pad } from '../ops/pad.js';
import { tensor } from '../tensor/creation.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { traceConfig, traceModule } from './trace.js';

/**
 * FC -> CONV conversion (CS231n, "Converting FC layers to CONV layers"): an FC layer that
 * looks at a whole [HxWxC] volume is a CONV with one filter per output of size H x W (no
 * padding), and every later FC is a 1x1 CONV. The weights are the same numbers reshaped, so on
 * the training size the outputs are identical ([N, K, 1, 1] instead of [N, K]). On a larger
 * image the same net slides over it in one pass and gives a grid of class scores, one per
 * crop at the net's total stride (VGG-16 at 384x384: 6x6x1000).
 *
 * The grid equals running the original net on every crop exactly when the CONV layers use no
 * padding; with padding, a crop's border sees zeros where the big image has neighbours.
 */

/** Layers in a row: nested Sequentials unrolled. */
function unrollConfig(c: ModuleConfig): ModuleConfig[] {
  return c.type === 'Sequential' ? (c.args as ModuleConfig[]).flatMap(unrollConfig) : [c];
}

function unrollModule(m: Module): Module[] {
  return m instanceof Sequential ? m.children().flatMap(unrollModule) : [m];
}

/** Where each converted layer comes from: copied as it was, an FC reshaped into a CONV, or a BatchNorm1d as a BatchNorm2d. */
export type ConversionStep = { from: number; how: 'copy' | 'fc' | 'bn' };

const POINTWISE = new Set(['ReLU', ...POINTWISE_OPS.map((d) => d.layer), 'Softplus', 'Hardtanh', 'Dropout', 'Identity']);

/** The input shape each top-level layer sees, from one trace of the whole row. */
function inputShapes(layers: readonly ModuleConfig[], input: readonly number[]): number[][] {
  const rows = traceConfig({ type: 'Sequential', args: [...layers] }, input);
  return layers.map((_, i) => {
    const row = rows.find((r) => r.path === String(i) || r.path.startsWith(`${i}.`));
    if (!row) throw new ConvkitError(`toFullyConvolutional: layer ${i} (${layers[i]!.type}) was never run`);
    return row.input;
  });
}

function convert(layers: readonly ModuleConfig[], input: readonly number[]): { config: ModuleConfig; steps: ConversionStep[] } {
  const shapes = inputShapes(layers, input);
  const out: ModuleConfig[] = [];
  const steps: ConversionStep[] = [];
  // The volume a FLATTEN dropped, for the FC that follows; and whether vectors now stand for 1x1 volumes.
  let pending: number[] | null = null;
  let converted = false;
  let fcCount = 0;
  layers.forEach((c, i) => {
    const shape = shapes[i]!;
    if (c.type === 'Flatten') {
      if (shape.length === 3) pending = shape;
      return;
    }
    if (c.type === 'Linear') {
      const [inF, outF, opts = {}] = c.args as [number, number, { bias?: boolean }?];
      const bias = { bias: (opts as { bias?: boolean }).bias !== false };
      if (pending) {
        const [ch, h, w] = pending as [number, number, number];
        out.push({ type: 'Conv2d', args: [ch, outF, h === w ? h : [h, w], bias] });
      } else if (shape.length === 1 || converted) {
        out.push({ type: 'Conv2d', args: [inF, outF, 1, bias] });
      } else {
        throw new ConvkitError(`toFullyConvolutional: layer ${i} (Linear) sees ${fmtShape(shape)}, neither a flattened volume nor a vector`);
      }
      steps.push({ from: i, how: 'fc' });
      pending = null;
      converted = true;
      fcCount++;
      return;
    }
    if (converted && c.type === 'BatchNorm1d') {
      out.push({ type: 'BatchNorm2d', args: c.args });
      steps.push({ from: i, how: 'bn' });
      return;
    }
    // Softmax over dim 1 means the classes in both layouts ([N, K] and [N, K, gh, gw]).
    const overClasses = (c.type === 'Softmax' || c.type === 'LogSoftmax') && c.args[0] === 1;
    if (converted && !POINTWISE.has(c.type) && !overClasses) {
      throw new ConvkitError(`toFullyConvolutional: layer ${i} (${c.type}) comes after the FC layers and is not pointwise; only activations, dropout, batch norm and a softmax over dim 1 can follow them`);
    }
    if (pending) throw new ConvkitError(`toFullyConvolutional: layer ${i} (${c.type}) follows a Flatten but is not an FC layer`);
    out.push(c);
    steps.push({ from: i, how: 'copy' });
  });
  if (fcCount === 0) throw new ConvkitError('toFullyConvolutional: the model has no FC (Linear) layer to convert');
  return { config: { type: 'Sequential', args: out }, steps };
}

function rootLayers(model: Module | ModuleConfig): ModuleConfig[] {
  if (model instanceof Module) {
    if (!(model instanceof Sequential)) {
      throw new ConvkitError(`toFullyConvolutional: needs layers in a row (a Sequential), got ${model.typeName}`);
    }
    return unrollModule(model).map((m) => m.getConfig());
  }
  if (model.type !== 'Sequential') throw new ConvkitError(`toFullyConvolutional: needs layers in a row (a Sequential), got ${model.type}`);
  return unrollConfig(model);
}

/** The converted architecture only (nothing built): e.g. to size VGG-16's score grid at 384x384. */
export function fullyConvolutionalConfig(model: Module | ModuleConfig, input: readonly number[]): ModuleConfig {
  return convert(rootLayers(model), input).config;
}

/**
 * A copy of `model` with every FC layer turned into the equivalent CONV, weights reshaped
 * (the original is untouched). `input` is the per-item training input [C, H, W], which fixes
 * the volume the first FC sees.
 */
export function toFullyConvolutional(model: Sequential, input: readonly number[]): Sequential {
  const layers = unrollModule(model);
  const { config, steps } = convert(
    layers.map((m) => m.getConfig()),
    input,
  );
  const fcn = Sequential.fromConfig(config.args);
  const built = fcn.children();
  steps.forEach((step, j) => {
    const src = layers[step.from]!;
    const dst = built[j]!;
    if (step.how === 'fc') {
      const lin = src as Linear;
      const conv = dst as Conv2d;
      // [out, C*H*W] row-major is [out, C, H, W] row-major: Flatten's order is (C, H, W).
      conv.weight.assign(lin.weight.values());
      if (lin.bias && conv.bias) conv.bias.assign(lin.bias.values());
    } else {
      dst.loadStateDict(src.stateDict());
    }
  });
  fcn.train(model.training);
  return fcn;
}

/** The total stride of a model: how far apart, in input pixels, neighbouring units of its last volume are. */
export function totalStride(model: Module | ModuleConfig, input: readonly number[]): [number, number] {
  const rows = model instanceof Module ? traceModule(model, input) : traceConfig(model, input);
  const spatial = rows.filter((r) => r.output.length === 3 && r.kind !== 'gap');
  return [Math.max(1, ...spatial.map((r) => r.jump[0])), Math.max(1, ...spatial.map((r) => r.jump[1]))];
}

/** Class scores [N, K, gh, gw] of a fully convolutional net on images [N, C, H, W], in one pass. */
export function scoreGrid(fcn: Module, images: Tensor): Tensor {
  const y = noGrad(() => fcn.forward(images));
  if (y.ndim !== 4) throw new ConvkitError(`scoreGrid: expected a [N, K, gh, gw] grid from the net, got ${fmtShape(y.shape)}; convert it with toFullyConvolutional first`);
  return y;
}

/** The average over the grid, [N, K, gh, gw] -> [N, K]: `predict --dense`. */
export function averageScoreGrid(grid: Tensor): Tensor {
  if (grid.ndim !== 4) throw new ConvkitError(`averageScoreGrid: expected [N, K, gh, gw], got ${fmtShape(grid.shape)}`);
  return noGrad(() => mean(grid, [2, 3]));
}

/**
 * The grid of the image shifted by [dy, dx] pixels (0 <= shift < stride): crops `shift` at
 * the top/left and `stride - shift` at the bottom/right, so the size still fits the stride.
 * Cell (i, j) is the crop at (dy + i*stride, dx + j*stride).
 */
export function shiftedScoreGrid(fcn: Module, images: Tensor, shift: readonly [number, number], stride: readonly [number, number]): Tensor {
  const crop = [0, 1].map((a) => {
    const s = shift[a]!;
    const st = stride[a]!;
    if (!Number.isInteger(s) || s < 0 || s >= st) throw new ConvkitError(`shiftedScoreGrid: shift ${s} must be an integer in [0, ${st}) (the stride)`);
    return s === 0 ? [0, 0] : [s, st - s];
  }) as [[number, number], [number, number]];
  const shifted = crop[0][0] || crop[1][0] ? noGrad(() => pad(images, [-crop[1][0], -crop[1][1], -crop[0][0], -crop[0][1]])) : images;
  return scoreGrid(fcn, shifted);
}

/**
 * Scores at half the stride, from four passes (shifts 0 and stride/2 on each axis),
 * interleaved: cell (a, b) is the crop at (a*stride/2, b*stride/2). Two passes (no shift and
 * a diagonal shift) give every other cell of this grid.
 */
export function halfStrideScoreGrid(fcn: Module, images: Tensor, stride: readonly [number, number]): Tensor {
  const [sh, sw] = stride;
  if (sh % 2 !== 0 || sw % 2 !== 0) throw new ConvkitError(`halfStrideScoreGrid: the stride must be even to halve it, got ${sh}x${sw}`);
  const passes = ([[0, 0], [0, sw / 2], [sh / 2, 0], [sh / 2, sw / 2]] as const).map((s) => shiftedScoreGrid(fcn, images, s, stride));
  const [n, k, gh, gw] = passes[0]!.shape as [number, number, number, number];
  const oh = 2 * gh - 1;
  const ow = 2 * gw - 1;
  const out = new Float32Array(n * k * oh * ow);
  passes.forEach((p, idx) => {
    const [, , ph, pw] = p.shape as [number, number, number, number];
    const v = p.dataSync();
    const di = idx >> 1;
    const dj = idx & 1;
    for (let b = 0; b < n * k; b++) {
      for (let i = 0; i < ph; i++) {
        for (let j = 0; j < pw; j++) out[(b * oh + 2 * i + di) * ow + 2 * j + dj] = v[(b * ph + i) * pw + j]!;
      }
    }
  });
  return tensor(out, [n, k, oh, ow]);
}
