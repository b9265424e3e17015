import type { Window2D } from '../backend/kernels.js';
import { kernel } from '../backend/registry.js';
import { needsGrad, record } from '../autograd/tape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptionNames } from './conv-args.js';
import type { Pair } from './geometry.js';
import { expectRank, expectTensor, kin, kinIndex, kout, ownCopy } from './kernel-io.js';
import { poolWindow, type PoolWindowOptions } from './pool-window.js';

/** Options of `F.maxPool2d`, as PyTorch's (plus `fit`). */
export interface MaxPool2dOptions extends PoolWindowOptions {
  /** Also return the switches: {output, indices}, indices an int32 tensor of flat positions in each H*W plane. */
  returnIndices?: boolean;
}

/** A pooled output with its switches (PyTorch's `return_indices=True`). */
export interface PoolWithIndices {
  output: Tensor;
  /** int32, the output's shape: for each output, row * W + col of the winning input pixel in its plane. */
  indices: Tensor;
}

const OPTIONS = ['stride', 'padding', 'dilation', 'ceilMode', 'fit', 'returnIndices'];

/**
 * Max pooling over [N, C, H, W]: each output is the largest value in its window (padding
 * counts as -inf, so it never wins). The forward pass records the switches (which input won
 * each window); the backward pass sends each output gradient to its switch only, summing
 * where overlapping windows share a winner.
 *
 * `fit` (default 'strict') decides what happens when the windows do not tile the input;
 * PyTorch's behaviour is fit 'floor', and its ceilMode: true is fit 'ceil'.
 */
export function maxPool2d(x: Tensor, kernelSize: Pair, opts: MaxPool2dOptions & { returnIndices: true }): PoolWithIndices;
export function maxPool2d(x: Tensor, kernelSize: Pair, opts?: MaxPool2dOptions & { returnIndices?: false }): Tensor;
export function maxPool2d(x: Tensor, kernelSize: Pair, opts?: MaxPool2dOptions): Tensor | PoolWithIndices;
export function maxPool2d(x: Tensor, kernelSize: Pair, opts: MaxPool2dOptions = {}): Tensor | PoolWithIndices {
  const op = 'maxPool2d';
  const window = checkMaxPool(x, kernelSize, opts, op);
  // Inference (grad off, or x needs none): no backward pass, so no switches to compute.
  if (!opts.returnIndices && !needsGrad(x)) return kout(kernel('MaxPool2D')(kin(x, op), window), outShapeOf(x, window));
  const { output, indices } = withSwitches(x, window, op);
  // A copy, so that editing the returned indices cannot change the backward pass. new + set:
  // slice() of a view on the wasm backend's shared memory copies element by element, ~5x slower.
  if (opts.returnIndices) {
    if (!indices.storage.onHost) return { output, indices: ownCopy(indices) };
    const copy = new Int32Array(indices.size);
    copy.set(indices.values());
    indices.dispose();
    return { output, indices: new Tensor(copy, output.shape) };
  }
  return output;
}

/**
 * maxPool2d with its switches as a tensor on the backward pass's own array, not a copy: for
 * layers that keep the switches (nn/pool-switches.ts) and must not write into them.
 */
export function maxPool2dSharingSwitches(x: Tensor, kernelSize: Pair, opts: Omit<MaxPool2dOptions, 'returnIndices'> = {}): PoolWithIndices {
  const op = 'maxPool2d';
  return withSwitches(x, checkMaxPool(x, kernelSize, opts, op), op);
}

function checkMaxPool(x: Tensor, kernelSize: Pair, opts: MaxPool2dOptions, op: string): Window2D {
  expectTensor(x, op, 'input');
  checkOptionNames(opts, OPTIONS, op);
  expectRank(x, 4, op, 'input', 'N, C, H, W');
  return poolWindow(op, [x.shape[2]!, x.shape[3]!], kernelSize, opts, { padding: true, dilation: true });
}

function outShapeOf(x: Tensor, window: Window2D): number[] {
  return [x.shape[0]!, x.shape[1]!, window.out[0], window.out[1]];
}

/** The pooled output, recorded on the tape, and a second tensor on the switches it saved. */
function withSwitches(x: Tensor, window: Window2D, op: string): PoolWithIndices {
  const outShape = outShapeOf(x, window);
  const { output, indices } = kernel('MaxPool2DWithArgmax')(kin(x, op), window);
  // The switches as a saved tensor: tidy frees them with the graph (on the wasm backend they
  // stay in its memory for the backward kernel, like any activation).
  const switches = new Tensor(indices, outShape);
  const y = record(kout(output, outShape), op, [x], (g) => [
    kout(kernel('MaxPool2DGrad')(kin(g), kinIndex(switches), x.shape), x.shape),
  ], [switches]);
  return { output: y, indices: new Tensor(indices, outShape) };
}
