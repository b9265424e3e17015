import * as F from '../../../functional.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { asFloat, input } from './common.js';
import type { OperatorDef, RunContext } from './op-types.js';

/**
 * Gemm (Y = alpha * A' B' + beta * C, with A' = A^T when transA and B' = B^T when transB) and
 * MatMul (NumPy matmul). The usual exported fully connected layer (transB=1, alpha=beta=1,
 * a bias vector) is exactly F.linear, whose fused kernel is the fast path.
 */
function gemm(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor {
  const a = asFloat(input(ctx, inputs, 0, 'A'));
  const b = asFloat(input(ctx, inputs, 1, 'B'));
  const c = inputs[2] ? asFloat(inputs[2]) : null;
  if (a.ndim !== 2 || b.ndim !== 2) ctx.fail(`A [${a.shape}] and B [${b.shape}] must be 2-d matrices`);
  const transA = ctx.attrs.int('transA', 0) === 1;
  const transB = ctx.attrs.int('transB', 0) === 1;
  const alpha = ctx.attrs.float('alpha', 1);
  const beta = ctx.attrs.float('beta', 1);
  const n = transB ? b.shape[0]! : b.shape[1]!;
  const k = transA ? a.shape[0]! : a.shape[1]!;
  const kb = transB ? b.shape[1]! : b.shape[0]!;
  if (k !== kb) {
    ctx.fail(`A' [${transA ? 'transposed ' : ''}${a.shape}] and B' [${transB ? 'transposed ' : ''}${b.shape}] do not chain: inner sizes ${k} vs ${kb}`);
  }
  const biasVector = c !== null && beta === 1 && c.size === n && (c.ndim === 1 || (c.ndim === 2 && c.shape[0] === 1));
  if (!transA && transB && alpha === 1 && (c === null || biasVector)) {
    // Reshaped only when needed: a view of a Parameter made inside tidy() shares its storage.
    return F.linear(a, b, c && (c.ndim === 1 ? c : c.reshape([n])), { activation: ctx.activation });
  }
  let y = F.matmul(transA ? a.transpose(0, 1) : a, transB ? b.transpose(0, 1) : b);
  if (alpha !== 1) y = F.mul(y, alpha);
  if (c && beta !== 0) y = F.add(y, beta === 1 ? c : F.mul(c, beta));
  // A fused Relu that the general path cannot fold into a kernel runs here.
  return ctx.activation === 'relu' ? F.relu(y) : y;
}

export const gemmOperators: Record<string, OperatorDef> = {
  Gemm: { run: gemm, fusesRelu: true },
  MatMul: { run: (ctx, inputs) => F.matmul(asFloat(input(ctx, inputs, 0, 'A')), asFloat(input(ctx, inputs, 1, 'B'))) },
};
