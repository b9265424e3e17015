import * as ck from '../../src/index.js';
import { decodeModel, encodeModel, int64, type AttributeProto, type NodeProto, type TensorProto } from '../../src/io/onnx/proto.js';
import { tensorFromProto } from '../../src/io/onnx/tensor-proto.js';

/**
 * The "light" model-zoo graphs in the conformance data's light/ folder (CONFORMANCE_ROOT in onnx-helpers.ts) hold their weights as
 * ConstantOfShape nodes (nearly uniform outputs prove little). As that folder's README
 * suggests, they are given seeded random weights here: every float ConstantOfShape becomes an
 * initializer, and every float initializer is redrawn, scaled so that deep networks keep
 * their activations near 1 (He-normal for filters and FC weights, BatchNormalization scales
 * and variances near 1, small biases and means).
 */

const FLOAT = 1;

function floatInit(name: string, dims: number[], values: Float32Array): TensorProto {
  return { name, dims, data_type: FLOAT, raw_data: new Uint8Array(values.buffer) } as Partial<TensorProto> as TensorProto;
}

/** How a value is read: (node, input index) of its first consumer. */
function consumers(nodes: NodeProto[]): Map<string, { node: NodeProto; index: number }> {
  const out = new Map<string, { node: NodeProto; index: number }>();
  for (const node of nodes) node.input.forEach((name, index) => out.has(name) || out.set(name, { node, index }));
  return out;
}

function attrInt(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute.find((x: AttributeProto) => x.name === name);
  return a ? int64(a.i) : fallback;
}

function draw(dims: number[], use: { node: NodeProto; index: number } | undefined, g: ck.Generator): Float32Array {
  const n = dims.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const op = use?.node.op_type;
  if (op === 'BatchNormalization' && (use!.index === 1 || use!.index === 4)) {
    for (let i = 0; i < n; i++) out[i] = 0.6 + 0.8 * g.uniform();
    return out;
  }
  if (dims.length >= 2) {
    // Gemm without transB and MatMul read [in, out]; everything else [out, in, ...].
    const fanIn = (op === 'Gemm' && use!.index === 1 && attrInt(use!.node, 'transB', 0) === 0) || op === 'MatMul' ? dims[0]! : n / dims[0]!;
    const std = Math.sqrt(2 / Math.max(1, fanIn));
    for (let i = 0; i < n; i++) out[i] = g.normal() * std;
    return out;
  }
  // Biases, means, the scales of Mul/Add chains: small around 0, or around 1 for a Mul.
  const center = op === 'Mul' ? 1 : 0;
  for (let i = 0; i < n; i++) out[i] = center + g.normal() * 0.05;
  return out;
}

/** The model with seeded random weights in place of its constant ones. */
export function seedWeights(bytes: Uint8Array, seed: number): Uint8Array {
  const model = decodeModel(bytes);
  const graph = model.graph!;
  const g = new ck.Generator(seed);
  const uses = consumers(graph.node);
  const inits = new Map(graph.initializer.map((t) => [t.name, t]));
  const constants = new Map<string, TensorProto>();
  for (const node of graph.node) {
    if (node.op_type === 'Constant') {
      const t = node.attribute.find((a) => a.name === 'value')?.t;
      if (t) constants.set(node.output[0]!, t);
    }
  }
  const fresh: TensorProto[] = [];
  graph.node = graph.node.filter((node) => {
    if (node.op_type !== 'ConstantOfShape') return true;
    const value = node.attribute.find((a) => a.name === 'value')?.t;
    if (value && value.data_type !== FLOAT) return true;
    const shapeProto = inits.get(node.input[0]!) ?? constants.get(node.input[0]!);
    if (!shapeProto) return true;
    const dims = Array.from(tensorFromProto(shapeProto).values(), Number);
    fresh.push(floatInit(node.output[0]!, dims, draw(dims, uses.get(node.output[0]!), g)));
    return false;
  });
  graph.initializer = graph.initializer.map((t) => {
    if (t.data_type !== FLOAT) return t;
    const dims = t.dims.map((d) => int64(d));
    return floatInit(t.name, dims, draw(dims, uses.get(t.name), g));
  });
  graph.initializer.push(...fresh);
  return encodeModel(model);
}
