import { existsSync, readFileSync } from 'node:fs';
import { ConvkitError } from '../tensor/errors.js';
import type { Module, ModuleConfig } from '../nn/module.js';
import { fromConfig } from '../nn/registry.js';
import { createModel, zoo } from '../models/index.js';
import { loadWithMetadata } from '../io/save-load.js';
import type { ModelMetadata } from '../io/model-file.js';
import { modelFromPattern } from '../analysis/pattern-builder.js';
import { looksLikePattern } from '../analysis/pattern-parser.js';

export interface ResolvedModel {
  model: Module;
  /** What the model was made from, for messages and metadata. */
  source: string;
  metadata: ModelMetadata;
}

/** What the data says about the model it needs: classes, channels, height and width. */
export interface ModelShapeHints {
  numClasses: number;
  inChannels: number;
  inputSize: number;
  width?: number;
}

/** Fails fast (before any data is read) when `spec` cannot be a model at all. */
export function checkModelSpec(spec: string): void {
  if (!(spec in zoo) && !existsSync(spec) && !looksLikePattern(spec)) throw unknownModel(spec);
}

function unknownModel(spec: string): ConvkitError {
  return new ConvkitError(
    `unknown model '${spec}': not a zoo name (${Object.keys(zoo).join(', ')}), not an existing file, and not a pattern like "INPUT[28x28x1] -> CONV5-6 -> RELU -> POOL2 -> FC10"`,
  );
}

/**
 * `--model` accepts a zoo name, an architecture JSON file ({type, args} as written by
 * getConfig), a saved convkit model (to continue training or fine-tune), or a pattern such as
 * "INPUT[28x28x1] -> [CONV3-8 -> RELU -> POOL2]*2 -> FC10".
 */
export async function resolveModel(spec: string, hints: ModelShapeHints): Promise<ResolvedModel> {
  const { numClasses, inChannels, inputSize } = hints;
  const width = hints.width ?? inputSize;
  if (spec in zoo) {
    if (width !== inputSize) throw new ConvkitError(`the zoo's ${spec} expects square inputs, but the images are ${width}x${inputSize}`);
    return { model: createModel(spec, { numClasses, inChannels, inputSize }), source: spec, metadata: {} };
  }
  if (!existsSync(spec) && looksLikePattern(spec)) {
    // The data decides the input volume; the pattern's own INPUT[...] is only a reminder.
    return { model: modelFromPattern(spec, { input: [inChannels, inputSize, width] }).model, source: spec, metadata: {} };
  }
  if (!existsSync(spec)) throw unknownModel(spec);
  if (spec.endsWith('.json')) {
    let config: ModuleConfig;
    try {
      config = JSON.parse(readFileSync(spec, 'utf8'));
    } catch (e) {
      throw new ConvkitError(`${spec}: is not valid JSON (${(e as Error).message})`);
    }
    try {
      return { model: fromConfig(config), source: spec, metadata: {} };
    } catch (e) {
      if (e instanceof ConvkitError) throw new ConvkitError(`${spec}: ${e.message}`);
      throw e;
    }
  }
  const loaded = await loadWithMetadata(spec);
  return { model: loaded.model, source: spec, metadata: loaded.metadata };
}
