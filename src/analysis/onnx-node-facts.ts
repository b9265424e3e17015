import type { GraphNode } from '../io/onnx/graph.js';
import { makeFail, type NodeContext } from '../io/onnx/operators/op-types.js';
import { resolveWindow } from '../io/onnx/operators/window.js';
import { adaptiveFacts, convFacts, fcFacts, poolFacts, same, type LeafFacts } from './layer-facts.js';

/**
 * What the summary knows about one node of an imported ONNX graph, from the shapes it was
 * seen with on a one-item forward pass (trace.ts) and its attributes: the same facts as for
 * the matching convkit layer (CONV, FC, POOL, ...), with the same arithmetic (layer-facts.ts).
 * Reshapes, flattens, identities and pointwise activations are marked in place, as their
 * convkit counterparts are; operators the summary does not know get a plain row.
 */

/** One value a node read or wrote: per-item shape for values that flow from the input, full shape for constants and weights. */
export interface ObservedValue {
  shape: number[];
  /** True for values computed from the graph input (their batch axis is dropped from `shape`). */
  batched: boolean;
}

export interface ObservedNode {
  node: GraphNode;
  /** Null where the input is left out (or was not passed to a replacement). */
  inputs: (ObservedValue | null)[];
  outputs: (ObservedValue | null)[];
}

/** The trainable initializers this node is the first to read, split as the summary does. */
export interface OwnedParams {
  weights: number;
  biases: number;
}

/** Per op type: the input index of a bias (its parameter counts as biases, the rest as weights). */
const BIAS_INPUT: Record<string, number> = { Conv: 2, ConvTranspose: 2, Gemm: 2, BatchNormalization: 2, InstanceNormalization: 2, LayerNormalization: 2 };

/** Which of a node's trainable inputs are biases. */
export function isBiasInput(opType: string, index: number): boolean {
  return opType === 'Add' || BIAS_INPUT[opType] === index;
}

const ACTIVATIONS = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Celu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Softplus', 'Softsign',
  'Clip', 'Gelu', 'Mish', 'ThresholdedRelu', 'Abs', 'Neg', 'Exp', 'Log', 'Sqrt', 'Erf',
]);
const VIEWS = new Set(['Flatten', 'Reshape', 'Squeeze', 'Unsqueeze']);
const NORMS: Record<string, [LeafFacts['kind'], string]> = {
  BatchNormalization: ['bn', 'BN'],
  LRN: ['norm', 'NORM'],
  InstanceNormalization: ['norm', 'INSTANCENORM'],
  LayerNormalization: ['norm', 'LAYERNORM'],
};
const POOLS: Record<string, string> = { MaxPool: 'POOL', AveragePool: 'AVGPOOL', LpPool: 'LPPOOL' };

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/** What resolveWindow needs of a node's context (it reads attributes and reports through `fail`). */
function windowContext(node: GraphNode): NodeContext {
  return { name: node.name, opType: node.opType, attrs: node.attrs, inputs: node.inputs, outputs: node.outputs, fail: makeFail(node.where) } as unknown as NodeContext;
}

export function onnxNodeFacts(n: ObservedNode, owned: OwnedParams): LeafFacts {
  const { node } = n;
  const op = node.opType;
  const x = n.inputs.find((v) => v?.batched) ?? n.inputs[0] ?? null;
  const input = x ? x.shape : [];
  const output = n.outputs[0]?.shape ?? [];
  const facts = knownFacts(n, op, input, output);
  // The node's own trainable initializers are the truth (shared weights count at their first reader).
  return { ...(facts ?? other(op, input, output)), output, weights: owned.weights, biases: owned.biases };
}

function other(op: string, input: readonly number[], output: number[]): LeafFacts {
  // Same shape: assume the field is kept (elementwise ops); otherwise unknown from here on.
  const keeps = output.length === input.length && output.every((v, i) => v === input[i]);
  return { kind: 'other', label: op.toUpperCase(), output, weights: 0, biases: 0, macs: 0, window: null, keepsField: keeps, inPlace: false };
}

function knownFacts(n: ObservedNode, op: string, input: number[], output: number[]): LeafFacts | null {
  const { node } = n;
  const w = n.inputs[1];
  if (op === 'Conv' && w && input.length >= 2) {
    const win = resolveWindow(windowContext(node), input.slice(1), w.shape.slice(2));
    return convFacts({
      inChannels: input[0]!,
      outChannels: w.shape[0]!,
      kernel: win.kernel,
      stride: win.stride,
      pads: win.pads,
      dilation: win.dilation,
      groups: node.attrs.int('group', 1),
      bias: !!n.inputs[2],
      output,
    });
  }
  if (op === 'ConvTranspose' && w && input.length >= 2) {
    // Every input value is multiplied by (out channels / groups) * kernel weights.
    const macs = prod(input) * prod(w.shape.slice(1));
    return { ...other(op, input, output), kind: 'conv', label: `DECONV${w.shape.slice(2).join('x')}-${output[0]}`, macs, keepsField: false };
  }
  if (op === 'Gemm' && w && w.shape.length === 2) {
    const transB = node.attrs.int('transB', 0) === 1;
    const [inF, outF] = transB ? [w.shape[1]!, w.shape[0]!] : [w.shape[0]!, w.shape[1]!];
    const a = node.attrs.int('transA', 0) === 1 || input[input.length - 1] !== inF ? [inF] : input;
    return fcFacts(inF, outF, !!n.inputs[2], a);
  }
  if (op === 'MatMul' && w && input.length >= 1) {
    const k = input[input.length - 1]!;
    if (!w.batched && w.shape.length === 2 && w.shape[0] === k) return fcFacts(k, w.shape[1]!, false, input);
    return { ...other(op, input, output), macs: prod(output) * k };
  }
  if (POOLS[op] && input.length >= 2) {
    const win = resolveWindow(windowContext(node), input.slice(1), node.attrs.ints('kernel_shape', []));
    const p = { kernel: win.kernel, stride: win.stride, padding: [win.pads[0], win.pads[2]] as [number, number], dilation: win.dilation, fit: 'floor' as const };
    const f = poolFacts(POOLS[op], p, output);
    return { ...f, window: { kernel: win.kernel, stride: win.stride, pad: win.pads, dilation: win.dilation } };
  }
  if ((op === 'GlobalAveragePool' || op === 'GlobalMaxPool') && input.length === 3 && output.length === 3) {
    return adaptiveFacts(op === 'GlobalAveragePool', output, input);
  }
  if (ACTIVATIONS.has(op)) return same('act', op.toUpperCase(), output, true);
  if (VIEWS.has(op)) {
    // A flatten to features keeps what the receptive field arithmetic needs (emit's 'flatten').
    if (output.length === 1) return { ...same('flatten', op === 'Flatten' ? 'FLATTEN' : op.toUpperCase(), output, true), output };
    return { ...other(op, input, output), inPlace: true };
  }
  if (op === 'Identity') return same('identity', 'IDENTITY', output, true);
  if (op === 'Dropout') return same('dropout', 'DROPOUT', output, true);
  if (NORMS[op]) return same(NORMS[op][0], NORMS[op][1], output, false);
  const batchedInputs = n.inputs.filter((v) => v?.batched).length;
  if ((op === 'Add' || op === 'Sum') && batchedInputs >= 2) return same('add', 'ADD', output, false);
  if (op === 'Concat' && batchedInputs >= 2) return { ...same('concat', 'CONCAT', output, false), output };
  return null;
}
