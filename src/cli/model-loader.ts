import { existsSync, statSync } from 'node:fs';
import { ConvkitError } from '../tensor/errors.js';
import type { Module } from '../nn/module.js';
import { fromConfig } from '../nn/registry.js';
import { readBytes } from '../io/files.js';
import { containerKind } from '../io/container.js';
import { deserializeModel, type ModelMetadata } from '../io/model-file.js';
import { deserializeCheckpoint } from '../train/checkpoint.js';
import { loadOnnx } from '../io/onnx/load-onnx.js';
import { OnnxModel } from '../io/onnx/onnx-model.js';
import { createModel, zoo, zooInputShape } from '../models/index.js';
import { onnxMetadata } from './onnx-metadata.js';

/**
 * Every command that takes a model reads it here, so that each takes every kind: a convkit
 * model file, a training checkpoint (its weights after the last finished epoch), an ONNX file
 * (with the convkit metadata an export wrote, or the input size its graph declares) and, where
 * a command can use fresh weights, a zoo name.
 */

/** 'torchvision': a zoo model with PyTorch weights under torchvision's names (torchvision-weights.ts). */
export type ModelKind = 'model' | 'checkpoint' | 'onnx' | 'zoo' | 'torchvision';

export interface LoadedModelArg {
  model: Module;
  metadata: ModelMetadata;
  kind: ModelKind;
}

/** Key of the training settings under which `train` keeps a checkpoint's model metadata (JSON). */
export const CHECKPOINT_METADATA_SETTING = 'modelMetadata';

export interface LoadModelOptions {
  /** Accept a zoo name (fresh weights), built for these classes / this input. */
  zoo?: { numClasses?: number; input?: readonly number[] };
}

function zooList(): string {
  return Object.keys(zoo).join(', ');
}

/** The model `spec` names; errors say which kinds the command takes. */
export async function loadModelArg(spec: string, opts: LoadModelOptions = {}): Promise<LoadedModelArg> {
  if (!existsSync(spec)) {
    if (opts.zoo && spec in zoo) return zooModel(spec, opts.zoo);
    throw new ConvkitError(
      `${spec}: no such file; give a convkit model or checkpoint (.convkit) or an .onnx file` + (opts.zoo ? `, or a zoo name (${zooList()})` : ''),
    );
  }
  if (!statSync(spec).isFile()) throw new ConvkitError(`${spec} is a folder; give a model file (.convkit or .onnx)`);
  const bytes = await readBytes(spec);
  const kind = containerKind(bytes);
  if (kind === 'model') {
    const { model, metadata } = deserializeModel(bytes, spec);
    return { model, metadata, kind: 'model' };
  }
  if (kind === 'checkpoint') return checkpointModel(spec, bytes);
  if (kind !== null) throw new ConvkitError(`${spec} is a convkit ${kind} file, not a model, checkpoint or ONNX file`);
  if (!spec.toLowerCase().endsWith('.onnx') && !looksLikeOnnx(bytes)) {
    throw new ConvkitError(`${spec} is neither a convkit model or checkpoint (it does not start with the convkit signature) nor an ONNX file`);
  }
  const metadata = onnxMetadata(bytes, spec);
  const model = await loadOnnx(spec);
  if (!metadata.inputShape) {
    const dims = model.inputDims[0];
    if (dims && dims.length >= 2 && dims.slice(1).every((d) => d !== null)) metadata.inputShape = dims.slice(1) as number[];
  }
  return { model, metadata, kind: 'onnx' };
}

/** An ONNX ModelProto starts with field 1 (ir_version, a varint): byte 0x08. */
function looksLikeOnnx(bytes: Uint8Array): boolean {
  return bytes.length > 2 && bytes[0] === 0x08;
}

function zooModel(name: string, hints: NonNullable<LoadModelOptions['zoo']>): LoadedModelArg {
  const input = hints.input;
  if (input && input.length === 3 && input[1] !== input[2]) throw new ConvkitError(`the zoo's ${name} takes square inputs, got ${input[2]}x${input[1]}`);
  const opts = { ...(hints.numClasses ? { numClasses: hints.numClasses } : {}), ...(input && input.length === 3 ? { inChannels: input[0]!, inputSize: input[1]! } : {}) };
  return { model: createModel(name, opts), metadata: { inputShape: zooInputShape(name, opts) }, kind: 'zoo' };
}

function checkpointModel(spec: string, bytes: Uint8Array): LoadedModelArg {
  const state = deserializeCheckpoint(bytes, spec);
  if (!state.architecture) throw new ConvkitError(`${spec}: this checkpoint does not describe its architecture, so no model can be rebuilt from it`);
  let model: Module;
  try {
    model = fromConfig(state.architecture);
    model.loadStateDict(state.model);
  } catch (e) {
    if (e instanceof ConvkitError) throw new ConvkitError(`${spec}: cannot rebuild the model from the checkpoint: ${e.message}`);
    throw e;
  }
  model.eval();
  const settings = (state.extra['settings'] as Record<string, unknown> | undefined) ?? {};
  let metadata: ModelMetadata = {};
  const saved = settings[CHECKPOINT_METADATA_SETTING];
  if (typeof saved === 'string') {
    try {
      metadata = JSON.parse(saved) as ModelMetadata;
    } catch {
      metadata = {};
    }
  }
  return { model, metadata: { ...metadata, checkpointEpoch: state.epoch }, kind: 'checkpoint' };
}

/** Is this module an imported ONNX graph? */
export function isOnnxModel(model: Module): model is OnnxModel {
  return model instanceof OnnxModel;
}
