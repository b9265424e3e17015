import { ConvkitError, fmtShape } from '../../tensor/errors.js';
import { noGrad } from '../../autograd/tape.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { GraphNode } from './graph.js';
import { makeFail, type RunContext } from './operators/op-types.js';

/**
 * Runs one node: builds its context, calls its operator, checks the outputs, and turns any
 * failure into an error naming the node and the shapes it was given. Shared by the model's
 * forward pass and by constant folding at load time.
 */

export interface ExecEnv {
  opset: number;
  training: boolean;
  maxElements: number;
  /** Names read by some node or returned by the graph. */
  used: ReadonlySet<string>;
}

function describeInputs(inputs: readonly (Tensor | null)[]): string {
  return inputs.map((t) => (t ? `${fmtShape(t.shape)}${t.dtype === 'int32' ? ' int' : ''}` : '-')).join(', ');
}

/** `activation` 'relu' asks an operator with `fusesRelu` for relu(its output) (see OnnxModel's fusion plan). */
export function runNode(
  node: GraphNode,
  inputs: readonly (Tensor | null)[],
  env: ExecEnv,
  activation: 'none' | 'relu' = 'none',
  affine: { scale: Tensor; shift: Tensor } | null = null,
): (Tensor | null)[] {
  const ctx: RunContext = {
    activation,
    affine,
    name: node.name,
    opType: node.opType,
    opset: env.opset,
    attrs: node.attrs,
    inputs: node.inputs,
    outputs: node.outputs,
    maxElements: env.maxElements,
    training: env.training,
    outputUsed: (i) => !!node.outputs[i] && env.used.has(node.outputs[i]!),
    fail: makeFail(node.where),
  };
  let result: Tensor | (Tensor | null)[];
  try {
    result = node.def.run(ctx, inputs);
  } catch (e) {
    if (e instanceof ConvkitError) {
      if (!e.message.startsWith(node.where)) e.message = `${node.where} with inputs ${describeInputs(inputs)}: ${e.message}`;
      throw e;
    }
    if (e instanceof RangeError) {
      // Typed-array allocation failures and runaway sizes surface as RangeError.
      throw new ConvkitError(`${node.where} with inputs ${describeInputs(inputs)}: ${e.message}`);
    }
    throw e;
  }
  const outs = Array.isArray(result) ? result : [result];
  node.outputs.forEach((name, i) => {
    if (name && env.used.has(name) && !outs[i]) {
      throw new ConvkitError(`${node.where}: output ${i} ('${name}') is used by the graph but convkit does not compute it`);
    }
  });
  return outs;
}

/** Runs a node once at load time (no tape: its inputs are all constants). */
export function foldNode(node: GraphNode, inputs: readonly (Tensor | null)[], env: ExecEnv): (Tensor | null)[] {
  return noGrad(() => runNode(node, inputs, env));
}
