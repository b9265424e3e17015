import { existsSync, readFileSync } from 'node:fs';
import { ConvkitError } from '../tensor/errors.js';
import type { Module, ModuleConfig } from '../nn/module.js';
import { fromConfig } from '../nn/registry.js';
import { createModel, zoo } from '../models/index.js';
import { loadWithMetadata } from '../io/save-load.js';
import type { ModelMetadata } from '../io/model-file.js';

export interface ResolvedModel {
  model: Module;
  /** What the model was made from, for messages and metadata. */
  source: string;
  metadata: ModelMetadata;
}

export interface ModelShapeHints {
  numClasses: number;
  inChannels: number;
  inputSize: number;
}

/** Pattern-language models plug in here (installed by the analysis module when present). */
export const patternBuilders: { build?: (pattern: string, hints: ModelShapeHints) => Module } = {};

/**
 * `--model` accepts a zoo name, an architecture JSON file ({type, args} as written by
 * getConfig), a saved convkit model (to continue training or fine-tune), or a pattern such as
 * "INPUT[28x28x1] -> [CONV3-8 -> RELU -> POOL2]*2 -> FC10".
 */
export async function resolveModel(spec: string, hints: ModelShapeHints): Promise<ResolvedModel> {
  if (spec in zoo) {
    return { model: createModel(spec, hints), source: spec, metadata: {} };
  }
  if (/->|^\s*INPUT\b/i.test(spec)) {
    if (!patternBuilders.build) throw new ConvkitError('the pattern language is not available in this build');
    return { model: patternBuilders.build(spec, hints), source: spec, metadata: {} };
  }
  if (!existsSync(spec)) {
    throw new ConvkitError(
      `unknown model '${spec}': not a zoo name (${Object.keys(zoo).join(', ')}), not an existing file, and not a pattern like "INPUT[28x28x1] -> CONV5-6 -> RELU -> POOL2 -> FC10"`,
    );
  }
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
