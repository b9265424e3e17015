import { existsSync, readFileSync } from 'node:fs';
import { ConvkitError } from '../tensor/errors.js';
import type { Module, ModuleConfig } from '../nn/module.js';
import { fromConfig } from '../nn/registry.js';
import { createModel, zoo } from '../models/index.js';
import type { ModelMetadata } from '../io/model-file.js';
import { modelFromPattern, patternForClasses } from '../analysis/pattern-builder.js';
import { looksLikePattern, parsePattern } from '../analysis/pattern-parser.js';
import { loadModelArg } from './model-loader.js';

export interface ResolvedModel {
  model: Module;
  /** What the model was made from, for messages and metadata. */
  source: string;
  metadata: ModelMetadata;
  /** Things the user should read before training starts (a pattern's added layer, its input). */
  notes: string[];
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
  if (!existsSync(spec) && looksLikePattern(spec)) parsePattern(spec);
}

function unknownModel(spec: string): ConvkitError {
  return new ConvkitError(
    `unknown model '${spec}': not a zoo name (${Object.keys(zoo).join(', ')}), not an existing file, and not a pattern like "INPUT[28x28x1] -> CONV5-6 -> RELU -> POOL2 -> FC10"`,
  );
}

const isPattern = (spec: string): boolean => !existsSync(spec) && looksLikePattern(spec);

/** The input [C, H, W] a model spec fixes before any data is read (a pattern's INPUT[...]), or null. */
export function declaredPatternInput(spec: string): [number, number, number] | null {
  if (!isPattern(spec)) return null;
  const input = parsePattern(spec).input;
  return input ? [input.depth, input.height, input.width] : null;
}

/**
 * `--model` accepts a zoo name, an architecture JSON file ({type, args} as written by
 * getConfig), a saved convkit model or checkpoint or an ONNX file (to continue training), or a
 * pattern such as "INPUT[28x28x1] -> [CONV3-8 -> RELU -> POOL2]*2 -> FC10". A pattern keeps
 * its INPUT[...] (the data was checked against it); without one it takes the data's shape.
 * Its last FC layer must give one score per class; one is added when it ends without any.
 */
export async function resolveModel(spec: string, hints: ModelShapeHints): Promise<ResolvedModel> {
  const { numClasses, inChannels, inputSize } = hints;
  const width = hints.width ?? inputSize;
  if (spec in zoo && !existsSync(spec)) {
    if (width !== inputSize) throw new ConvkitError(`the zoo's ${spec} expects square inputs, but the images are ${width}x${inputSize}`);
    return { model: createModel(spec, { numClasses, inChannels, inputSize }), source: spec, metadata: {}, notes: [] };
  }
  if (isPattern(spec)) {
    const notes: string[] = [];
    const declared = declaredPatternInput(spec);
    if (!declared) notes.push(`the pattern has no INPUT[...]: its input is the data's ${width}x${inputSize}x${inChannels}`);
    const fitted = patternForClasses(spec, numClasses);
    if (fitted.note) notes.push(fitted.note);
    const model = modelFromPattern(fitted.pattern, declared ? {} : { input: [inChannels, inputSize, width] }).model;
    return { model, source: fitted.pattern, metadata: {}, notes };
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
      return { model: fromConfig(config), source: spec, metadata: {}, notes: [] };
    } catch (e) {
      if (e instanceof ConvkitError) throw new ConvkitError(`${spec}: ${e.message}`);
      throw e;
    }
  }
  const loaded = await loadModelArg(spec);
  const names = loaded.metadata.classNames;
  if (names && names.length !== numClasses) {
    throw new ConvkitError(`${spec} was trained for ${names.length} classes but the data has ${numClasses}; give it a new head with convkit finetune ${spec} --data ...`);
  }
  return { model: loaded.model, source: spec, metadata: loaded.metadata, notes: [] };
}
