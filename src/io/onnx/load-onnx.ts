import { fromConfig, register } from '../../nn/registry.js';
import type { Module, ModuleConfig } from '../../nn/module.js';
import { ConvkitError } from '../../tensor/errors.js';
import type { Tensor } from '../../tensor/tensor.js';
import { localPath, readSource, type ModelSource } from '../source.js';
import { parseGraph } from './graph.js';
import { readModelFile } from './node-files.js';
import { fromBase64, OnnxModel, STATE_LOCATION } from './onnx-model.js';
import { decodeModel, decodeTensorProto, type TensorProto } from './proto.js';
import {
  checkedSize,
  DEFAULT_MAX_ELEMENTS,
  tensorDims,
  tensorFromProto,
  type ExternalDataReader,
} from './tensor-proto.js';

/**
 * `ck.io.loadOnnx`: an ONNX file (bytes, a Blob, a URL, or a path in Node) -> an OnnxModel, in eval mode.
 * Order of work: decode the protobuf, check the whole graph (one error lists every
 * unsupported node), check every declared tensor size, then allocate and decode weights.
 */

export interface LoadOnnxOptions {
  /** Refuse any tensor with more elements than this (default 2^28, 1 GiB of float32). */
  maxTensorElements?: number;
  /**
   * Contents of external-data files by the `location` the model gives (a model fetched, a
   * Blob, or bytes loaded by hand), or a reader. Loading from a path in Node reads files beside
   * the model.
   */
  externalData?: Record<string, Uint8Array> | Map<string, Uint8Array> | ExternalDataReader;
  /** How errors name the model (default: the path, or 'ONNX model'). */
  name?: string;
}

function asReader(src: LoadOnnxOptions['externalData']): ExternalDataReader | undefined {
  if (src === undefined || typeof src === 'function') return src;
  const files = src instanceof Map ? src : new Map(Object.entries(src));
  return (location, offset, length) => {
    const bytes = files.get(location);
    if (!bytes) throw new ConvkitError(`external data file '${location}' was not given (have: ${[...files.keys()].join(', ') || 'none'})`);
    if (offset + length > bytes.length) {
      throw new ConvkitError(`external data file '${location}' has ${bytes.length} bytes; the model reads ${length} at offset ${offset}`);
    }
    return bytes.subarray(offset, offset + length);
  };
}

function toBytes(source: Uint8Array | ArrayBuffer): Uint8Array {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  throw new ConvkitError(`loadOnnx: expected a Uint8Array or an ArrayBuffer, got ${source === null ? 'null' : typeof source}`);
}

/** Synchronous import from bytes (works in the browser; external data via options). */
export function loadOnnxBytes(source: Uint8Array | ArrayBuffer, opts: LoadOnnxOptions = {}): OnnxModel {
  const bytes = toBytes(source);
  const what = opts.name ?? 'ONNX model';
  const maxElements = opts.maxTensorElements ?? DEFAULT_MAX_ELEMENTS;
  const readExternal = asReader(opts.externalData);
  const model = decodeModel(bytes, what);
  const decodeTensor = (p: TensorProto, where: string): Tensor => tensorFromProto(p, { what: where, maxElements, readExternal });
  const graph = parseGraph(model, { what, decodeTensor });
  // Every declared size is checked before the first weight is allocated.
  for (const [name, p] of graph.initializers) checkedSize(tensorDims(p), `${what}: initializer '${name}'`, maxElements);
  const tensors = new Map<string, Tensor>();
  for (const [name, p] of graph.initializers) tensors.set(name, decodeTensor(p, `${what}: initializer '${name}'`));
  return new OnnxModel({ graph, tensors, maxElements, proto: model });
}

/**
 * Loads an ONNX model from a path (Node: external data is read from files beside it), a URL
 * (fetched; in a browser a string is one), a Blob/File, or bytes. The model comes back in eval
 * mode; call train() to fine-tune it.
 */
export async function loadOnnx(source: ModelSource, opts: LoadOnnxOptions = {}): Promise<OnnxModel> {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return loadOnnxBytes(source, opts);
  const path = localPath(source, 'ck.io.loadOnnx');
  if (path !== undefined) {
    const { bytes, readExternal } = readModelFile(path);
    return loadOnnxBytes(bytes, { ...opts, name: opts.name ?? path, externalData: opts.externalData ?? readExternal });
  }
  const { bytes, name } = await readSource(source, 'ck.io.loadOnnx');
  return loadOnnxBytes(bytes, { ...opts, name: opts.name ?? name });
}

/** Decodes a serialized TensorProto (e.g. the test_data_set_*.pb files) into a Tensor. */
export function readOnnxTensor(bytes: Uint8Array | ArrayBuffer, opts: { maxTensorElements?: number; name?: string } = {}): Tensor {
  const what = opts.name ?? 'ONNX tensor';
  return tensorFromProto(decodeTensorProto(toBytes(bytes), what), { what, maxElements: opts.maxTensorElements ?? DEFAULT_MAX_ELEMENTS });
}

/** Rebuilds a saved OnnxModel: its graph from getConfig(), weights (zeros here) from the state dict. */
function rebuild(args: unknown[]): OnnxModel {
  const [graph, replacements, options] = args as [unknown, unknown, { maxTensorElements?: number } | undefined];
  if (typeof graph !== 'string' || !Array.isArray(replacements)) {
    throw new ConvkitError('OnnxModel: invalid saved description (expected the graph as base64 and a list of replaced nodes)');
  }
  const model = loadOnnxBytes(fromBase64(graph), {
    name: 'saved ONNX graph',
    maxTensorElements: options?.maxTensorElements,
    externalData: (location, _offset, length) => {
      if (location !== STATE_LOCATION) throw new ConvkitError(`saved ONNX graph refers to external file '${location}'`);
      return new Uint8Array(length);
    },
  });
  for (const [name, config] of replacements as [string, ModuleConfig | null][]) {
    model.replaceNode(name, config ? (fromConfig(config) as Module) : null);
  }
  return model;
}

OnnxModel.rebuildImpl = rebuild;
register('OnnxModel', OnnxModel);
