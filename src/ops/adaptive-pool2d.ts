import { kernel } from '../backend/registry.js';
import { record } from '../autograd/tape.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptionNames } from './conv-args.js';
import { expectRank, expectTensor, kin, kinIndex, kout, ownCopy } from './kernel-io.js';
import type { PoolWithIndices } from './max-pool2d.js';

/**
 * Adaptive pooling: the caller names the output size and the windows follow from it, as in
 * PyTorch: along an axis of size H pooled to `out`, output i covers rows
 * [floor(i*H/out), ceil((i+1)*H/out)). Windows may differ in size by one and may overlap.
 * Global average / max pooling (GoogLeNet's and ResNet's head) is output size 1.
 */

/** A number (square), or [h, w] where null keeps that input dimension (PyTorch's None). */
export type AdaptiveSize = number | readonly [number | null, number | null];

/** The output [h, w] for an [H, W] input; every error shows what was given. */
export function adaptiveOutputSize(outputSize: AdaptiveSize, hw: readonly [number, number], op: string): [number, number] {
  const list: readonly unknown[] | null =
    typeof outputSize === 'number' ? [outputSize, outputSize] : Array.isArray(outputSize) && outputSize.length === 2 ? outputSize : null;
  if (!list) {
    throw new ConvkitError(`${op}: outputSize must be a number or an [h, w] pair (null keeps that input size), got ${JSON.stringify(outputSize)}`);
  }
  return list.map((v, i) => {
    if (v === null) return hw[i]!;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      throw new ConvkitError(`${op}: outputSize must hold positive integers (or null to keep the input size), got ${JSON.stringify(outputSize)}`);
    }
    return v;
  }) as [number, number];
}

/** [N, C, H, W] or [C, H, W] -> the pooled shape (for layers' outputShape). */
export function adaptivePooledShape(inputShape: readonly number[], outputSize: AdaptiveSize, op: string): number[] {
  if (inputShape.length !== 3 && inputShape.length !== 4) {
    throw new ConvkitError(`${op}: outputShape needs [N, C, H, W] or [C, H, W], got ${fmtShape(inputShape)}`);
  }
  const hw: [number, number] = [inputShape[inputShape.length - 2]!, inputShape[inputShape.length - 1]!];
  return [...inputShape.slice(0, -2), ...adaptiveOutputSize(outputSize, hw, op)];
}

function checkInput(x: Tensor, op: string): [number, number] {
  expectTensor(x, op, 'input');
  expectRank(x, 4, op, 'input', 'N, C, H, W');
  if (x.shape[2]! < 1 || x.shape[3]! < 1) {
    throw new ConvkitError(`${op}: input ${fmtShape(x.shape)} has an empty image; height and width must be at least 1`);
  }
  return [x.shape[2]!, x.shape[3]!];
}

/** Average over adaptive windows; output [N, C, ...outputSize]. */
export function adaptiveAvgPool2d(x: Tensor, outputSize: AdaptiveSize): Tensor {
  const op = 'adaptiveAvgPool2d';
  const out = adaptiveOutputSize(outputSize, checkInput(x, op), op);
  const y = kout(kernel('AdaptiveAvgPool2D')(kin(x, op), out), [x.shape[0]!, x.shape[1]!, ...out]);
  return record(y, op, [x], (g) => [kout(kernel('AdaptiveAvgPool2DGrad')(kin(g), x.shape), x.shape)]);
}

/** Options of `F.adaptiveMaxPool2d`: `returnIndices` also returns the switches. */
export interface AdaptiveMaxPool2dOptions {
  returnIndices?: boolean;
}

/** Max over adaptive windows; the gradient goes to each window's winner (its switch). */
export function adaptiveMaxPool2d(x: Tensor, outputSize: AdaptiveSize, opts: { returnIndices: true }): PoolWithIndices;
export function adaptiveMaxPool2d(x: Tensor, outputSize: AdaptiveSize, opts?: { returnIndices?: false }): Tensor;
export function adaptiveMaxPool2d(x: Tensor, outputSize: AdaptiveSize, opts?: AdaptiveMaxPool2dOptions): Tensor | PoolWithIndices;
export function adaptiveMaxPool2d(x: Tensor, outputSize: AdaptiveSize, opts: AdaptiveMaxPool2dOptions = {}): Tensor | PoolWithIndices {
  checkOptionNames(opts, ['returnIndices'], 'adaptiveMaxPool2d');
  const { output, indices } = adaptiveMaxPool2dSharingSwitches(x, outputSize);
  if (!opts.returnIndices) {
    indices.dispose();
    return output;
  }
  // A copy, so that editing the returned indices cannot change the backward pass (new + set:
  // slice() of a view on the wasm backend's shared memory copies element by element).
  if (!indices.storage.onHost) return { output, indices: ownCopy(indices) };
  const copy = new Int32Array(indices.size);
  copy.set(indices.values());
  indices.dispose();
  return { output, indices: new Tensor(copy, output.shape) };
}

/**
 * adaptiveMaxPool2d with its switches as a tensor on the backward pass's own array, not a
 * copy: for the layer, which keeps them (nn/pool-switches.ts) and must not write into them.
 */
export function adaptiveMaxPool2dSharingSwitches(x: Tensor, outputSize: AdaptiveSize): PoolWithIndices {
  const op = 'adaptiveMaxPool2d';
  const out = adaptiveOutputSize(outputSize, checkInput(x, op), op);
  const outShape = [x.shape[0]!, x.shape[1]!, ...out];
  const { output, indices } = kernel('AdaptiveMaxPool2D')(kin(x, op), out);
  // Saved as a tensor, so that tidy frees the switches with the graph.
  const switches = new Tensor(indices, outShape);
  const y = record(kout(output, outShape), op, [x], (g) => [
    kout(kernel('MaxPool2DGrad')(kin(g), kinIndex(switches), x.shape), x.shape),
  ], [switches]);
  return { output: y, indices: new Tensor(indices, outShape) };
}

/** Mean of each channel's whole image: [N, C, H, W] -> [N, C, 1, 1] (adaptiveAvgPool2d to 1; ONNX GlobalAveragePool). */
export function globalAvgPool2d(x: Tensor): Tensor {
  return adaptiveAvgPool2d(x, 1);
}

/** Max of each channel's whole image: [N, C, H, W] -> [N, C, 1, 1] (adaptiveMaxPool2d to 1; ONNX GlobalMaxPool). */
export function globalMaxPool2d(x: Tensor): Tensor {
  return adaptiveMaxPool2d(x, 1);
}
