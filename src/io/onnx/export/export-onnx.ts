import { BatchNorm1d, BatchNorm2d } from '../../../nn/batch-norm.js';
import { Module } from '../../../nn/module.js';
import { zeros } from '../../../tensor/creation.js';
import { ConvkitError, fmtShape } from '../../../tensor/errors.js';
import { tidy } from '../../../tensor/scope.js';
import { writeBytesAtomic } from '../../files.js';
import { OnnxModel } from '../onnx-model.js';
import type { ModelProto, NodeProto, ValueInfoProto } from '../proto.js';
import { int64 } from '../proto.js';
import type { ExportContext, Value } from './converter.js';
import { encodeOnnx, GraphBuilder } from './graph-builder.js';
import { emitOnnxModel, onnxModelParts } from './onnx-model-export.js';
import { exportModule } from './walk.js';
// The converters register themselves on import.
import './convert-basic.js';
import './convert-pointwise.js';
import './convert-conv.js';
import './convert-norm.js';
import './convert-pool.js';
import './convert-shortcut.js';

/**
 * `ck.io.exportOnnx(model, {inputShape})` -> the bytes of an ONNX file, and
 * `ck.io.saveOnnx(model, path, opts)` (Node). The model is traced in eval mode on one item of
 * zeros (two for a batch norm without running statistics); the graph's input is [N, ...inputShape] with a symbolic batch size N, so the file
 * runs on any batch. An imported OnnxModel is written back as its own graph with its current
 * weights (and its replaced nodes as the layers that replaced them).
 */

export interface ExportOnnxOptions {
  /** One item's shape, e.g. [1, 28, 28] (C, H, W) or [F]; the batch dimension is added. */
  inputShape?: readonly number[];
  /** ONNX opset of the default domain, 11 to 21 (default 13). */
  opset?: number;
  /** Names of the graph's input and output (default 'input' and 'output'). */
  inputName?: string;
  outputName?: string;
}

export const EXPORT_MIN_OPSET = 11;
export const EXPORT_MAX_OPSET = 21;
export const DEFAULT_EXPORT_OPSET = 13;

function checkOptions(opts: ExportOnnxOptions): void {
  if (opts === null || typeof opts !== 'object') throw new ConvkitError(`exportOnnx: options must be an object such as {inputShape: [1, 28, 28]}, got ${String(opts)}`);
  const known = ['inputShape', 'opset', 'inputName', 'outputName'];
  const unknown = Object.keys(opts).filter((k) => !known.includes(k));
  if (unknown.length) throw new ConvkitError(`exportOnnx: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known: ${known.join(', ')}`);
  const s = opts.inputShape;
  if (s !== undefined && (!Array.isArray(s) || s.length === 0 || s.some((d) => !Number.isInteger(d) || d < 1))) {
    throw new ConvkitError(`exportOnnx: inputShape must be one item's shape such as [3, 224, 224] (C, H, W), without the batch dimension; got ${JSON.stringify(s)}`);
  }
  const o = opts.opset;
  if (o !== undefined && (!Number.isInteger(o) || o < EXPORT_MIN_OPSET || o > EXPORT_MAX_OPSET)) {
    throw new ConvkitError(`exportOnnx: opset must be an integer from ${EXPORT_MIN_OPSET} to ${EXPORT_MAX_OPSET}, got ${JSON.stringify(o)}`);
  }
  for (const key of ['inputName', 'outputName'] as const) {
    const v = opts[key];
    if (v !== undefined && (typeof v !== 'string' || v === '')) throw new ConvkitError(`exportOnnx: ${key} must be a non-empty string, got ${JSON.stringify(v)}`);
  }
}

/** Runs `fn` with the model in eval mode, then puts every module's mode back. */
function inEvalMode<T>(model: Module, fn: () => T): T {
  const modes = model.modules().map((m) => [m, m.training] as const);
  model.eval();
  try {
    return fn();
  } finally {
    for (const [m, training] of modes) m.training = training;
  }
}

/** Renames a value everywhere it appears (the final output gets the name the user asked for). */
function renameValue(nodes: NodeProto[], from: string, to: string): void {
  for (const n of nodes) {
    n.input = n.input.map((v) => (v === from ? to : v));
    n.output = n.output.map((v) => (v === from ? to : v));
  }
}

function exportConvkitModel(model: Module, opts: ExportOnnxOptions): Uint8Array {
  if (!opts.inputShape) {
    throw new ConvkitError(`exportOnnx: give inputShape, one item's shape such as {inputShape: [1, 28, 28]} (C, H, W): export traces the model on an input of that size`);
  }
  const opset = opts.opset ?? DEFAULT_EXPORT_OPSET;
  const inputName = opts.inputName ?? 'input';
  const outputName = opts.outputName ?? 'output';
  if (inputName === outputName) throw new ConvkitError(`exportOnnx: inputName and outputName must differ (both '${inputName}')`);
  const b = new GraphBuilder([inputName, outputName]);
  const ctx: ExportContext = { b, opset, path: '' };
  const shape = [...opts.inputShape];
  // One item is enough, except for a batch norm without running statistics, which cannot
  // normalize a single value per channel: it is traced on two.
  const batch = model.modules().some((m) => (m instanceof BatchNorm1d || m instanceof BatchNorm2d) && !m.trackRunningStats) ? 2 : 1;
  const outShape = tidy(() => {
    const x: Value = { name: inputName, t: zeros([batch, ...shape]) };
    const y = exportModule(model, x, ctx);
    if (y.name === inputName) b.node('Identity', [inputName], {}, 'identity');
    const last = y.name === inputName ? b.nodes[b.nodes.length - 1]!.output[0]! : y.name;
    renameValue(b.nodes, last, outputName);
    if (y.t.ndim === 0) throw new ConvkitError(`exportOnnx: the model returns a scalar; export needs an output with a batch dimension`);
    return [...y.t.shape];
  });
  const proto = b.model({
    opset,
    graphName: model.typeName,
    inputs: [{ name: inputName, dims: ['N', ...shape] }],
    outputs: [{ name: outputName, dims: ['N', ...outShape.slice(1)] }],
    docString: `exported by convkit from ${model.describe()}; input [N, ${shape.join(', ')}]`,
  });
  return encodeOnnx(proto);
}

/** Every name an ONNX graph uses, so that added nodes do not collide with them. */
function graphNames(proto: ModelProto): string[] {
  const g = proto.graph!;
  return [
    ...g.node.flatMap((n) => [n.name, ...n.input, ...n.output]),
    ...g.initializer.map((t) => t.name),
    ...g.input.map((v) => v.name),
    ...g.output.map((v) => v.name),
  ].filter((n) => n);
}

function exportImported(model: OnnxModel, opts: ExportOnnxOptions): Uint8Array {
  if (opts.opset !== undefined && opts.opset !== model.opset) {
    throw new ConvkitError(`exportOnnx: this model was imported at opset ${model.opset} and is exported at that opset (its nodes are copied as they are); leave opset out or give ${model.opset}`);
  }
  const { proto } = onnxModelParts(model);
  const g = proto.graph!;
  const inits = new Set(g.initializer.map((t) => t.name));
  const graphInputs = g.input.filter((v) => !inits.has(v.name));
  const b = new GraphBuilder(graphNames(proto));
  const ctx: ExportContext = { b, opset: model.opset, path: '' };
  tidy(() => {
    const inputs: Value[] = graphInputs.map((v) => {
      const dims = v.type?.tensor_type?.shape?.dim.map((d) => int64(d.dim_value ?? 0)) ?? null;
      const item = opts.inputShape ?? null;
      const shape = dims ? dims.map((d, i) => (d > 0 ? d : i === 0 ? 1 : (item?.[i - 1] ?? 0))) : item ? [1, ...item] : null;
      if (!shape || shape.some((d) => d < 1)) {
        throw new ConvkitError(`exportOnnx: input '${v.name}' of the imported model has sizes that are not declared${dims ? ` (${fmtShape(dims.map((d) => (d > 0 ? d : -1)))})` : ''}; give inputShape (one item's shape)`);
      }
      return { name: v.name, t: zeros(shape) };
    });
    emitOnnxModel(model, inputs, ctx, exportModule, true);
  });
  const replaced = onnxModelParts(model).replacements.size > 0;
  // A replaced node may change an output's size (a new head): drop the declared shape then.
  const outputs: ValueInfoProto[] = g.output.map((o) =>
    replaced ? { name: o.name, type: { tensor_type: { elem_type: o.type?.tensor_type?.elem_type ?? 1, shape: null } } } : o,
  );
  const out: ModelProto = {
    ...proto,
    producer_name: 'convkit',
    producer_version: '0.1.0',
    graph: { ...g, node: b.nodes, initializer: b.initializers, input: graphInputs, output: outputs, value_info: [] },
  };
  return encodeOnnx(out);
}

/** The ONNX file for `model`, as bytes (works in the browser). */
export function exportOnnx(model: Module, opts: ExportOnnxOptions = {}): Uint8Array {
  if (!(model instanceof Module)) throw new ConvkitError(`exportOnnx: expected a convkit Module, got ${model === null ? 'null' : typeof model}`);
  checkOptions(opts);
  return inEvalMode(model, () => (model instanceof OnnxModel ? exportImported(model, opts) : exportConvkitModel(model, opts)));
}

/** Writes the ONNX file for `model` to `path` (Node; the write is atomic). */
export async function saveOnnx(model: Module, path: string, opts: ExportOnnxOptions = {}): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new ConvkitError(`saveOnnx: path must be a file name, got ${JSON.stringify(path)}`);
  const bytes = exportOnnx(model, opts);
  await writeBytesAtomic(path, bytes);
}
