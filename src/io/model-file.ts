import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { Module, type ModuleConfig } from '../nn/module.js';
import { fromConfig } from '../nn/registry.js';
import { readContainer, writeContainer, type StoredArray } from './container.js';
import './builtin-layers.js';
import type { Normalization } from '../data/image/normalize.js';

/**
 * A convkit model file: the architecture as JSON (`getConfig()` of the root module), the
 * parameters and buffers as float32 arrays by state-dict name, and free-form metadata
 * (input shape, class names, normalization statistics, how it was trained).
 */
export interface ModelMetadata {
  /** Input shape of one item, [C, H, W]. */
  inputShape?: number[];
  classNames?: string[];
  /**
   * Preprocessing that `predict` must repeat after resizing: the image module's Normalization,
   * or (older files) a per-channel mean/std on [0, 1] pixels.
   */
  normalization?: Normalization | { mean: number[]; std: number[] };
  /** The whole decoded-image -> input conversion (InputPipeline.toJSON()), when training used one; predict prefers it. */
  inputPipeline?: unknown;
  [key: string]: unknown;
}

/** A model read from a file, with the metadata saved beside it. */
export interface LoadedModel {
  model: Module;
  metadata: ModelMetadata;
}

interface ModelJson {
  convkit: string;
  architecture: ModuleConfig;
  tensors: { name: string; shape: number[] }[];
  metadata: ModelMetadata;
}

/** The bytes of a convkit model file: architecture, weights, buffers and metadata. */
export function serializeModel(model: Module, metadata: ModelMetadata = {}): Uint8Array {
  const arrays = new Map<string, StoredArray>();
  const tensors: ModelJson['tensors'] = [];
  for (const [name, t] of model.stateDict()) {
    const values = t.values();
    arrays.set(name, values instanceof Float32Array ? values.slice() : Int32Array.from(values));
    tensors.push({ name, shape: [...t.shape] });
  }
  const json: ModelJson = { convkit: '1', architecture: model.getConfig(), tensors, metadata };
  return writeContainer({ kind: 'model', json, arrays });
}

/** Rebuilds the model and loads its weights; any problem is an error and no model is returned. */
export function deserializeModel(bytes: Uint8Array, source = 'model file'): LoadedModel {
  const { json, arrays } = readContainer(bytes, 'model', source);
  const j = json as Partial<ModelJson>;
  if (!j || typeof j !== 'object' || !j.architecture || !Array.isArray(j.tensors)) {
    throw new ConvkitError(`${source}: the model description is incomplete (no architecture or tensor list)`);
  }
  let model: Module;
  try {
    model = fromConfig(j.architecture);
  } catch (e) {
    if (e instanceof ConvkitError) {
      // Bundlers drop the ONNX importer (which registers OnnxModel) from pages that never use it.
      const onnx = /unknown layer type 'OnnxModel'/.test(e.message)
        ? '; this model was imported from ONNX, so the ONNX importer must be loaded: reference ck.io.loadOnnx in the code that loads it, so a bundler keeps it'
        : '';
      throw new ConvkitError(`${source}: cannot rebuild the architecture: ${e.message}${onnx}`);
    }
    throw e;
  }
  const state = new Map<string, Tensor>();
  for (const { name, shape } of j.tensors) {
    const data = arrays.get(name);
    const expected = shape.reduce((a, b) => a * b, 1);
    if (!data || data.length !== expected || data instanceof Uint8Array) {
      throw new ConvkitError(`${source}: tensor '${name}' ${fmtShape(shape)} is missing or has ${data?.length ?? 0} values instead of ${expected}`);
    }
    state.set(name, new Tensor(data, shape));
  }
  try {
    model.loadStateDict(state);
  } catch (e) {
    if (e instanceof ConvkitError) throw new ConvkitError(`${source}: weights do not match the architecture: ${e.message}`);
    throw e;
  }
  model.eval();
  return { model, metadata: j.metadata ?? {} };
}
