import { Module } from '../nn/module.js';
import { deserializeModel, serializeModel, type LoadedModel, type ModelMetadata } from './model-file.js';

/** Saves a model to a convkit model file (atomic write). Node only. */
export async function save(model: Module, file: string, metadata?: ModelMetadata): Promise<void> {
  const { writeBytesAtomic } = await import('./files.js');
  await writeBytesAtomic(file, serializeModel(model, metadata));
}

/** Loads a convkit model file: the model (in eval mode) and its metadata. Node only. */
export async function loadWithMetadata(file: string): Promise<LoadedModel> {
  const { readBytes } = await import('./files.js');
  return deserializeModel(await readBytes(file), file);
}

/** Loads a convkit model file and returns the model (in eval mode). Node only. */
export async function load(file: string): Promise<Module> {
  return (await loadWithMetadata(file)).model;
}

// `model.save(path)` lives on Module (a lower layer), which calls this.
Module.saveImpl = save;
