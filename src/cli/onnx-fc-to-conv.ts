import { readBytes } from '../io/files.js';
import { decodeModel, encodeModel, type ModelProto } from '../io/onnx/proto.js';
import { loadOnnxBytes } from '../io/onnx/load-onnx.js';
import type { OnnxModel } from '../io/onnx/onnx-model.js';
import type { GraphNode } from '../io/onnx/graph.js';
import { Conv2d } from '../nn/conv2d.js';
import { noGrad } from '../autograd/tape.js';
import { tidy } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { POINTWISE_OPS } from '../ops/pointwise/all.js';

/**
 * FC -> CONV for an ONNX graph (convert-fc on an .onnx file): the graph is loaded with its
 * input's height and width made symbolic, the Flatten (or Reshape) before the first Gemm is
 * removed, and each Gemm becomes the convolution that computes the same numbers: the first
 * with a filter as large as the volume it read, the others 1x1. The layers before the
 * classifier may be any graph (skip connections included); after the Flatten only Gemm and
 * elementwise activations are allowed, as they also work on a grid.
 */

/** Relu, Dropout, Identity and the operators of the declared pointwise ops (LeakyRelu, Sigmoid, ...). */
const ELEMENTWISE = new Set(['Relu', ...POINTWISE_OPS.map((d) => d.onnx.op).filter((op) => op), 'Dropout', 'Identity']);
const SPATIAL = new Set(['Conv', 'MaxPool', 'AveragePool', 'LpPool']);

export interface OnnxConversion {
  model: OnnxModel;
  totalStride: [number, number];
}

/** Loads `file` with symbolic H and W and converts its classifier; `input` is [C, H, W] of training. */
export async function onnxToFullyConvolutional(file: string, input: readonly [number, number, number]): Promise<OnnxConversion> {
  const proto = decodeModel(await readBytes(file), file) as ModelProto;
  const graph = proto.graph!;
  const inits = new Set(graph.initializer.map((t) => t.name));
  for (const v of graph.input.filter((i) => !inits.has(i.name))) {
    const dims = v.type?.tensor_type?.shape?.dim;
    if (dims && dims.length === 4) {
      dims[2] = { dim_param: 'height' };
      dims[3] = { dim_param: 'width' };
    }
  }
  // The output becomes a grid: drop its declared shape.
  for (const o of graph.output) if (o.type?.tensor_type) o.type.tensor_type.shape = null;
  const model = loadOnnxBytes(encodeModel(proto), { name: file });

  // One pass at the training size: each node's input shapes, in run order.
  const runs: { node: GraphNode; inputs: number[][] }[] = [];
  const stop = model.observeNodes((r) => runs.push({ node: r.node, inputs: r.inputs.map((t) => (t ? [...t.shape] : [])) }));
  const reference = tidy(() => noGrad(() => model.forward(new Tensor(new Float32Array(input[0] * input[1] * input[2]).fill(0.5), [1, ...input])).dataSync()));
  stop();

  const firstGemm = runs.findIndex((r) => r.node.opType === 'Gemm' || r.node.opType === 'MatMul');
  if (firstGemm < 0) throw new ConvkitError(`${file}: no Gemm (FC) node to convert; the graph is fully convolutional already or its classifier is not a Gemm`);
  let flatten = -1;
  for (let i = firstGemm - 1; i >= 0; i--) {
    const op = runs[i]!.node.opType;
    if (op === 'Flatten' || op === 'Reshape') {
      flatten = i;
      break;
    }
    if (!ELEMENTWISE.has(op)) break;
  }
  if (flatten < 0 || runs[flatten]!.inputs[0]!.length !== 4) {
    throw new ConvkitError(`${file}: the first FC node (${runs[firstGemm]!.node.name}) does not read a flattened [N, C, H, W] volume, so it has no equivalent CONV`);
  }
  const [, vc, vh, vw] = runs[flatten]!.inputs[0] as [number, number, number, number];
  const state = model.stateDict();
  const names = model.onnxNames();
  const weightOf = (onnxName: string | undefined): Float32Array => {
    const t = onnxName ? state.get(names.get(onnxName) ?? '') : undefined;
    if (!t) throw new ConvkitError(`${file}: the weight '${onnxName}' of an FC node is not an initializer, so it cannot be converted`);
    return t.dataSync() as Float32Array;
  };
  const replacements: [string, Conv2d | null][] = [[runs[flatten]!.node.name, null]];
  let first = true;
  for (const r of runs.slice(flatten + 1)) {
    const op = r.node.opType;
    if (ELEMENTWISE.has(op)) continue;
    if (op !== 'Gemm') throw new ConvkitError(`${file}: after the Flatten, node ${r.node.name} (${op}) has no convolutional equivalent; convert-fc handles Gemm layers and elementwise activations`);
    const a = r.node.attrs;
    if ((a.int('transA', 0) ?? 0) !== 0) throw new ConvkitError(`${file}: Gemm ${r.node.name} transposes its input (transA), which no CONV does`);
    const transB = (a.int('transB', 0) ?? 0) !== 0;
    const alpha = a.float('alpha', 1) ?? 1;
    const beta = a.float('beta', 1) ?? 1;
    const inFeatures = r.inputs[0]![1]!;
    const wIn = weightOf(r.node.inputs[1]);
    const outFeatures = wIn.length / inFeatures;
    const kh = first ? vh : 1;
    const kw = first ? vw : 1;
    const inChannels = first ? vc : inFeatures;
    if (inChannels * kh * kw !== inFeatures) throw new ConvkitError(`${file}: Gemm ${r.node.name} reads ${inFeatures} features, not the ${inChannels * kh * kw} of the volume before it`);
    const hasBias = r.node.inputs[2] !== undefined && r.node.inputs[2] !== '';
    const conv = new Conv2d(inChannels, outFeatures, [kh, kw], { bias: hasBias });
    // Conv weight [out, C, kh, kw] is the FC weight [out, C*kh*kw] (Flatten's C, H, W order).
    const wConv = new Float32Array(outFeatures * inFeatures);
    for (let o = 0; o < outFeatures; o++) for (let i = 0; i < inFeatures; i++) wConv[o * inFeatures + i] = alpha * wIn[transB ? o * inFeatures + i : i * outFeatures + o]!;
    conv.weight.assign(wConv);
    if (hasBias && conv.bias) {
      const b = weightOf(r.node.inputs[2]);
      if (b.length !== outFeatures) throw new ConvkitError(`${file}: Gemm ${r.node.name}'s bias has ${b.length} values, not one per output (${outFeatures})`);
      conv.bias.assign(Array.from(b, (v) => beta * v));
    }
    replacements.push([r.node.name, conv]);
    first = false;
  }
  for (const [name, layer] of replacements) model.replaceNode(name, layer);

  // The converted graph must give the same scores at the training size: a 1x1 grid.
  const check = tidy(() => noGrad(() => {
    const y = model.forward(new Tensor(new Float32Array(input[0] * input[1] * input[2]).fill(0.5), [1, ...input]));
    return { shape: [...y.shape], values: y.dataSync() };
  }));
  const worst = reference.reduce((m, v, i) => Math.max(m, Math.abs(v - (check.values[i] ?? NaN))), 0);
  if (check.shape.length !== 4 || check.shape[2] !== 1 || check.shape[3] !== 1 || !(worst <= 1e-3 * Math.max(1, ...Array.from(reference, Math.abs)))) {
    throw new ConvkitError(`${file}: the converted graph does not reproduce the model's scores at the training size (output ${fmtShape(check.shape)}); convert-fc cannot convert this graph`);
  }
  // Neighbouring grid cells are the product of the strides of the windows before the classifier apart.
  const stride: [number, number] = [1, 1];
  for (const r of runs.slice(0, flatten)) {
    if (!SPATIAL.has(r.node.opType)) continue;
    const s = r.node.attrs.ints('strides', [1, 1]) ?? [1, 1];
    stride[0] *= s[0] ?? 1;
    stride[1] *= s[1] ?? 1;
  }
  return { model, totalStride: stride };
}
