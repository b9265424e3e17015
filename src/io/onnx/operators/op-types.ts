import { ConvkitError } from '../../../tensor/errors.js';
import type { Tensor } from '../../../tensor/tensor.js';
import type { Attributes } from '../attributes.js';

/**
 * The contract between the graph runner and the operator files. Each ONNX operator maps its
 * semantics (attribute defaults, opset differences, pads order, broadcasting rules) onto
 * convkit's differentiable ops in `ck.F`, so gradients flow through an imported model.
 */

/** What an operator sees of its node, at load time and at run time. */
export interface NodeContext {
  readonly name: string;
  readonly opType: string;
  /** The model's version of the default ONNX domain. */
  readonly opset: number;
  readonly attrs: Attributes;
  /** Input names; '' marks an optional input left out. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Largest tensor an operator may create, in elements (shape-making ops check it first). */
  readonly maxElements: number;
  /** Whether output `i` is read by a later node or is a graph output. */
  outputUsed(i: number): boolean;
  /** An error naming this node: `node 'conv1' (Conv): ...`. */
  fail(message: string): never;
}

/** Load-time view: values known before anything runs (initializers, Constant results). */
export interface CheckContext extends NodeContext {
  /** The shape of input `i` when it is known at load time (an initializer or a constant). */
  staticShape(i: number): readonly number[] | undefined;
}

export interface RunContext extends NodeContext {
  /** The owning model's training flag (dropout is active only in training). */
  readonly training: boolean;
  /**
   * 'relu' when the runner fused the Relu node that alone reads this node's output: the
   * operator must return relu(its output). Only operators with `fusesRelu` are asked.
   */
  readonly activation: 'none' | 'relu';
  /** Conv only: a batch norm folded in for inference, y = scale * conv + shift (shift replaces the bias). */
  readonly affine: { scale: Tensor; shift: Tensor } | null;
}

export type OpInputs = readonly (Tensor | null)[];

export interface OperatorDef {
  /**
   * Problems that make this node unsupported, found before anything runs (attribute values
   * convkit cannot honour, 3-d kernels, ...). Each is one short phrase.
   */
  check?(ctx: CheckContext): string[];
  /** Computes the outputs (one tensor, or one per declared output; null for unused extras). */
  run(ctx: RunContext, inputs: OpInputs): Tensor | (Tensor | null)[];
  /** Input indices holding running statistics: their initializers become buffers, not Parameters. */
  stateInputs?: readonly number[];
  /** False for operators whose result must not be computed once at load time (randomness). */
  foldable?: boolean;
  /** True for operators that honour `ctx.activation` (Conv, Gemm, Add, BatchNormalization: a ReLU fused into their kernel). */
  fusesRelu?: boolean;
}

export function nodeWhere(name: string, opType: string): string {
  return `node '${name}' (${opType})`;
}

export function makeFail(where: string): (message: string) => never {
  return (message: string) => {
    throw new ConvkitError(`${where}: ${message}`);
  };
}
