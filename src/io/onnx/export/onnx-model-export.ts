import { noGrad } from '../../../autograd/tape.js';
import type { Module } from '../../../nn/module.js';
import { ConvkitError } from '../../../tensor/errors.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { fromBase64, OnnxModel, STATE_LOCATION } from '../onnx-model.js';
import { decodeModel, type ModelProto, type NodeProto, type TensorProto } from '../proto.js';
import type { ExportContext, Value } from './converter.js';
import { floatTensorProto } from './graph-builder.js';

/**
 * An imported model exported again: its own graph, node for node, with the current values of
 * its Parameters and buffers (so import -> fine-tune -> export keeps what training learned),
 * and each replaced node (`replaceNode`) exported from its convkit layer. The graph comes
 * from the model's own description (`getConfig()`, the file without its weights); weights
 * come from the state dict through `onnxNames()`.
 */

type ExportModuleFn = (m: Module, x: Value, ctx: ExportContext) => Value;

export interface OnnxModelParts {
  proto: ModelProto;
  /** Replaced node name -> its layer (null: removed, the node's first input passes through). */
  replacements: Map<string, Module | null>;
}

function isStateInitializer(t: TensorProto): boolean {
  return t.data_location === 1 && t.external_data.some((e) => e.key === 'location' && e.value === STATE_LOCATION);
}

/**
 * The model's graph and its replaced nodes. OnnxModel keeps a replacement as a child under a
 * property named after the node (dots as underscores; `_2`, `_3` on a clash), which is how
 * each child is matched back to its node here.
 */
export function onnxModelParts(model: OnnxModel): OnnxModelParts {
  const [graph, replaced] = model.getConfig().args as [string, [string, unknown][]];
  const proto = decodeModel(fromBase64(graph), 'the imported graph');
  const children = model.namedChildren();
  const claimed = new Set<string>();
  const replacements = new Map<string, Module | null>();
  for (const [node, config] of replaced) {
    if (config === null) {
      replacements.set(node, null);
      continue;
    }
    const base = node.replace(/\./g, '_') || 'initializer';
    const match = children.find(([prop]) => !claimed.has(prop) && (prop === base || new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}_\\d+$`).test(prop)));
    if (!match) throw new ConvkitError(`ONNX export: the layer that replaces node '${node}' was not found among the model's children`);
    claimed.add(match[0]);
    replacements.set(node, match[1]);
  }
  return { proto, replacements };
}

/** The replacement layers' inputs on this input (one forward pass with hooks). */
function replacementInputs(model: OnnxModel, layers: Module[], inputs: readonly Tensor[]): Map<Module, Tensor> {
  const seen = new Map<Module, Tensor>();
  const hooks = layers.map((l) => l.registerForwardHook((mod, args) => seen.set(mod, args[0] as Tensor)));
  try {
    noGrad(() => model.runAll(...inputs));
  } finally {
    hooks.forEach((h) => h.remove());
  }
  return seen;
}

/**
 * Emits `model`'s graph into ctx.b with `inputs` as its graph inputs and returns its outputs
 * (with convkit's activations). `keepNames`: the builder has reserved every name of the graph,
 * which is copied unchanged (a model exported on its own); otherwise names are made unique
 * within the enclosing graph (an imported model used as a layer of a bigger one).
 */
export function emitOnnxModel(model: OnnxModel, inputs: readonly Value[], ctx: ExportContext, exportModule: ExportModuleFn, keepNames: boolean): Value[] {
  const { proto, replacements } = onnxModelParts(model);
  const graph = proto.graph!;
  const rename = new Map<string, string>();
  const nameOf = (n: string): string => {
    if (!n) return '';
    let r = rename.get(n);
    if (r === undefined) {
      r = keepNames ? n : ctx.b.unique(n);
      rename.set(n, r);
    }
    return r;
  };
  const inits = new Map(graph.initializer.map((t) => [t.name, t]));
  const graphInputs = graph.input.filter((v) => !inits.has(v.name));
  if (graphInputs.length !== inputs.length) {
    throw new ConvkitError(`ONNX export: the imported model takes ${graphInputs.length} inputs, export was given ${inputs.length}`);
  }
  graphInputs.forEach((v, i) => rename.set(v.name, inputs[i]!.name));

  const layers = [...replacements.values()].filter((l): l is Module => l !== null);
  const captured = layers.length ? replacementInputs(model, layers, inputs.map((v) => v.t)) : new Map<Module, Tensor>();
  const outputs = new Set(graph.output.map((o) => o.name));
  const read = new Set<string>();
  for (const node of graph.node) {
    if (!replacements.has(node.name)) {
      for (const i of node.input) read.add(i);
      ctx.b.nodes.push({ ...node, name: keepNames ? node.name : ctx.b.unique(node.name || node.op_type), input: node.input.map(nameOf), output: node.output.map(nameOf) } as NodeProto);
      continue;
    }
    const layer = replacements.get(node.name)!;
    const src = node.input[0] ?? '';
    read.add(src);
    let out = nameOf(src);
    if (layer) {
      const x = captured.get(layer);
      if (!x) throw new ConvkitError(`ONNX export: the layer that replaces node '${node.name}' did not run in the model's forward pass`);
      const prop = model.namedChildren().find(([, c]) => c === layer)![0];
      out = exportModule(layer, { name: out, t: x }, { ...ctx, path: ctx.path ? `${ctx.path}.${prop}` : prop }).name;
    }
    const dst = node.output[0] ?? '';
    // A graph output keeps its name; elsewhere the replacement's output simply stands in.
    if (outputs.has(dst)) ctx.b.nodes.push({ name: ctx.b.unique(`${node.name}.output`), op_type: 'Identity', domain: '', input: [out], output: [nameOf(dst)], attribute: [] } as unknown as NodeProto);
    else rename.set(dst, out);
  }

  // Initializers the emitted nodes read: weights from the state dict, constants as they were.
  const state = model.stateDict();
  const props = model.onnxNames();
  for (const [name, t] of inits) {
    if (!read.has(name) && !outputs.has(name)) continue;
    if (!isStateInitializer(t)) {
      ctx.b.initializers.push({ ...t, name: nameOf(name) } as TensorProto);
      continue;
    }
    const value = state.get(props.get(name) ?? '');
    if (!value) throw new ConvkitError(`ONNX export: initializer '${name}' of the imported model has no value in its state dict`);
    ctx.b.initializers.push(floatTensorProto(nameOf(name), value.shape, Float32Array.from(value.values() as Float32Array)));
  }

  const results = noGrad(() => model.runAll(...inputs.map((v) => v.t)));
  return graph.output.map((o, i) => ({ name: nameOf(o.name), t: results[i]! }));
}

/** An imported model used as a layer: its graph inlined, its first output returned. */
export function inlineOnnxModel(model: OnnxModel, inputs: readonly Value[], ctx: ExportContext, exportModule: ExportModuleFn): Value {
  if (model.opset !== ctx.opset) {
    throw new ConvkitError(
      `ONNX export: ${ctx.path || 'model'} (OnnxModel) was imported at opset ${model.opset}; export the whole model with opset: ${model.opset} so that its nodes keep their meaning`,
    );
  }
  return emitOnnxModel(model, inputs, ctx, exportModule, false)[0]!;
}
