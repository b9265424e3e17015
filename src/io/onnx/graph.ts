import { ConvkitError } from '../../tensor/errors.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Attributes } from './attributes.js';
import { operators, MAX_OPSET, MIN_OPSET, supportedOperators } from './operators/index.js';
import { makeFail, nodeWhere, type CheckContext, type OperatorDef } from './operators/op-types.js';
import { int64, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from './proto.js';
import { dataTypeName, isSupportedDataType, SUPPORTED_DATA_TYPES, tensorDims } from './tensor-proto.js';

/**
 * The graph of an ONNX model, checked and in execution order. Everything that would make the
 * model fail for want of support (operators, opset, data types, attributes convkit cannot
 * honour, dangling or cyclic edges) is found here, before anything runs, and reported in one
 * error that lists every offending node.
 */

export interface GraphNode {
  readonly index: number;
  /** The node's name, or a stand-in from its first output when the file left it empty. */
  readonly name: string;
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Attributes;
  readonly def: OperatorDef;
  readonly where: string;
}

export interface GraphInput {
  name: string;
  elemType: number;
  /** Declared sizes; null where symbolic or unknown. Undefined when no shape was declared. */
  dims: (number | null)[] | undefined;
}

export interface ParsedGraph {
  opset: number;
  nodes: GraphNode[];
  inputs: GraphInput[];
  outputs: string[];
  initializers: Map<string, TensorProto>;
}

const DEFAULT_DOMAINS = new Set(['', 'ai.onnx']);

function defaultOpset(model: ModelProto): number | undefined {
  const entry = model.opset_import.find((o) => DEFAULT_DOMAINS.has(o.domain ?? ''));
  return entry ? int64(entry.version) : undefined;
}

/**
 * Decoded bytes fields are views into the file's buffer; attributes keep their own copies of
 * their (small) payloads, so that a loaded model does not pin the whole file in memory.
 */
function detachAttributeData(node: NodeProto): void {
  for (const a of node.attribute) {
    if (a.s && a.s.length) a.s = a.s.slice();
    if (a.strings.length) a.strings = a.strings.map((b) => b.slice());
    for (const t of [a.t, ...a.tensors]) if (t && t.raw_data && t.raw_data.length) t.raw_data = t.raw_data.slice();
  }
}

function displayName(node: NodeProto, index: number): string {
  return node.name || node.output[0] || `#${index}`;
}

/** Kahn's algorithm; nodes left over sit on a cycle. */
function topologicalOrder(nodes: NodeProto[], available: Set<string>): { order: number[]; stuck: number[] } {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.output.forEach((o) => o && producer.set(o, i)));
  const pending = nodes.map((n) => new Set(n.input.filter((x) => x && !available.has(x) && producer.has(x))).size);
  const consumers = new Map<number, number[]>();
  nodes.forEach((n, i) => {
    for (const x of new Set(n.input)) {
      const p = x && !available.has(x) ? producer.get(x) : undefined;
      if (p !== undefined) consumers.set(p, [...(consumers.get(p) ?? []), i]);
    }
  });
  const ready = nodes.map((_, i) => i).filter((i) => pending[i] === 0);
  const order: number[] = [];
  while (ready.length) {
    const i = ready.shift()!;
    order.push(i);
    for (const c of consumers.get(i) ?? []) if (--pending[c]! === 0) ready.push(c);
  }
  const done = new Set(order);
  return { order, stuck: nodes.map((_, i) => i).filter((i) => !done.has(i)) };
}

export interface ParseOptions {
  what: string;
  decodeTensor: (p: TensorProto, what: string) => Tensor;
}

/** Parses and checks the graph; throws one ConvkitError listing every problem found. */
export function parseGraph(model: ModelProto, opts: ParseOptions): ParsedGraph {
  const graph = model.graph as GraphProto;
  const problems: string[] = [];
  const opset = defaultOpset(model);
  if (opset === undefined) problems.push('the model imports no opset of the default ONNX domain');
  else if (opset < MIN_OPSET || opset > MAX_OPSET) {
    problems.push(`opset ${opset} of the default domain is not supported (convkit supports opsets ${MIN_OPSET} to ${MAX_OPSET})`);
  }
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  for (const t of graph.initializer) {
    if (!isSupportedDataType(t.data_type)) problems.push(`initializer '${t.name}': data type ${dataTypeName(t.data_type)} is not supported`);
  }
  if (graph.sparse_initializer.length) problems.push(`${graph.sparse_initializer.length} sparse initializers are not supported`);
  const inputs: GraphInput[] = graph.input
    .filter((v) => !initializers.has(v.name))
    .map((v) => {
      const tt = v.type?.tensor_type;
      const dims = tt?.shape ? tt.shape.dim.map((d) => (d.dim_value !== null && d.dim_value !== undefined && int64(d.dim_value) > 0 ? int64(d.dim_value) : null)) : undefined;
      return { name: v.name, elemType: tt?.elem_type ?? 0, dims };
    });
  for (const i of inputs) {
    if (i.elemType !== 0 && !isSupportedDataType(i.elemType)) problems.push(`graph input '${i.name}': data type ${dataTypeName(i.elemType)} is not supported`);
  }
  const outputs = graph.output.map((o) => o.name);
  const used = new Set<string>([...outputs, ...graph.node.flatMap((n) => n.input)]);
  const available = new Set<string>([...inputs.map((i) => i.name), ...initializers.keys()]);
  const staticShapes = new Map<string, readonly number[]>([...initializers].map(([k, t]) => [k, tensorDims(t)]));

  const unsupported: string[] = [];
  const nodes: GraphNode[] = [];
  graph.node.forEach((node, index) => {
    detachAttributeData(node);
    const name = displayName(node, index);
    const where = nodeWhere(name, node.op_type);
    const def = DEFAULT_DOMAINS.has(node.domain ?? '') ? operators.get(node.op_type) : undefined;
    if (!def) {
      unsupported.push(`${where}${node.domain && !DEFAULT_DOMAINS.has(node.domain) ? ` in domain '${node.domain}'` : ''}: operator not supported`);
      return;
    }
    const attrs = new Attributes(node.attribute, where, opts.decodeTensor);
    const ctx: CheckContext = {
      name,
      opType: node.op_type,
      opset: opset ?? MAX_OPSET,
      attrs,
      inputs: node.input,
      outputs: node.output,
      maxElements: Infinity,
      outputUsed: (i) => !!node.output[i] && used.has(node.output[i]!),
      fail: makeFail(where),
      staticShape: (i) => staticShapes.get(node.input[i] ?? ''),
    };
    let nodeProblems: string[];
    try {
      nodeProblems = [...attrs.unsupportedKinds(), ...(def.check?.(ctx) ?? [])];
    } catch (e) {
      if (!(e instanceof ConvkitError)) throw e;
      nodeProblems = [e.message.startsWith(where) ? e.message.slice(where.length + 2) : e.message];
    }
    if (nodeProblems.length) unsupported.push(`${where}: ${nodeProblems.join('; ')}`);
    nodes.push({ index, name, opType: node.op_type, inputs: node.input, outputs: node.output, attrs, def, where });
  });

  const { order, stuck } = topologicalOrder(graph.node, available);
  const produced = new Set([...available, ...graph.node.flatMap((n) => n.output)]);
  graph.node.forEach((n, i) => {
    const missing = n.input.filter((x) => x && !produced.has(x));
    if (missing.length) problems.push(`${nodeWhere(displayName(n, i), n.op_type)}: input ${missing.map((m) => `'${m}'`).join(', ')} is produced by no node and is not a graph input or initializer`);
  });
  if (stuck.length && problems.length === 0) {
    problems.push(`the graph has a cycle through ${stuck.slice(0, 5).map((i) => nodeWhere(displayName(graph.node[i]!, i), graph.node[i]!.op_type)).join(', ')}`);
  }
  for (const o of outputs) if (!produced.has(o)) problems.push(`graph output '${o}' is produced by no node`);

  if (unsupported.length || problems.length) {
    const lines: string[] = [];
    if (unsupported.length) {
      lines.push(`${unsupported.length} of ${graph.node.length} nodes are not supported:`, ...unsupported.map((u) => `  - ${u}`));
    }
    lines.push(...problems.map((p) => `  - ${p}`));
    lines.push(`convkit imports these operators: ${supportedOperators().join(', ')}; data types: ${SUPPORTED_DATA_TYPES.join(', ')}`);
    throw new ConvkitError(`cannot import ${opts.what}:\n${lines.join('\n')}`);
  }
  const byIndex = new Map(nodes.map((n) => [n.index, n]));
  return { opset: opset!, nodes: order.map((i) => byIndex.get(i)!), inputs, outputs, initializers };
}
