import { Module } from '../nn/module.js';
import { ConvkitError } from '../tensor/errors.js';
import { writeBytesAtomic } from './files.js';
import { deserializeModel, serializeModel, type LoadedModel, type ModelMetadata } from './model-file.js';
import { readSource, type ModelSource } from './source.js';

/**
 * Saves a model to a convkit model file (atomic write). Node; in a browser,
 * `serializeModel(model)` gives the same bytes to download or store.
 */
export async function save(model: Module, file: string, metadata?: ModelMetadata): Promise<void> {
  if (typeof file !== 'string' || file === '') throw new ConvkitError(`save: expected a file path, got ${JSON.stringify(file)}`);
  await writeBytesAtomic(file, serializeModel(model, metadata));
}

/**
 * Loads a convkit model file: the model (in eval mode) and its metadata. `source` is a path
 * (Node), a URL (fetched; a string in a browser is one), a Blob/File, or the bytes.
 */
export async function loadWithMetadata(source: ModelSource): Promise<LoadedModel> {
  const { bytes, name } = await readSource(source, 'ck.io.load');
  return deserializeModel(bytes, name);
}

/** Loads a convkit model file (see loadWithMetadata for the sources) and returns the model, in eval mode. */
export async function load(source: ModelSource): Promise<Module> {
  return (await loadWithMetadata(source)).model;
}

// `model.save(path)` lives on Module (a lower layer), which calls this.
Module.saveImpl = save;
