import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Module } from '../../nn/module.js';
import { ConvkitError } from '../../tensor/errors.js';
import { readBytes, writeBytesAtomic } from '../../io/files.js';
import { containerKind } from '../../io/container.js';
import type { ModelMetadata } from '../../io/model-file.js';
import { deserializeCheckpoint } from '../../train/checkpoint.js';
import { DIGITS_ASSET_DIR } from '../../data/digits.js';
import type { InputPipelineJson } from '../../data/image/preprocess.js';
import { exportPyTorch } from '../../io/pytorch/export-pytorch.js';
import type { TrainSettings } from '../../io/pytorch/train-code.js';
import { savedNormalization } from '../input-normalization.js';
import { OPTIMIZERS, SCHEDULES } from '../optimizer-spec.js';

/**
 * `convkit export <model> <folder> --format pytorch`: model.py, train.py and
 * weights.safetensors in a folder (src/io/pytorch). train.py's settings come from what the
 * model records: a checkpoint's training settings, a model file's training record, or convkit
 * train's defaults; the data is the set it was trained on (the embedded digits are copied in
 * as IDX files, so the folder trains anywhere) unless --data names another.
 */

export interface PyTorchExportFlags {
  data?: string;
  json?: boolean;
}

const DIGITS = new Set(['digits', 'mnist']);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** A checkpoint's recorded training settings (null for any other file). */
async function checkpointSettings(spec: string): Promise<Record<string, unknown> | null> {
  if (!existsSync(spec) || !statSync(spec).isFile()) return null;
  const bytes = await readBytes(spec);
  if (containerKind(bytes) !== 'checkpoint') return null;
  const state = deserializeCheckpoint(bytes, spec);
  return (state.extra['settings'] as Record<string, unknown> | undefined) ?? {};
}

function trainingSettings(spec: string, metadata: ModelMetadata, settings: Record<string, unknown> | null, inputShape: readonly number[] | undefined, flags: PyTorchExportFlags): { training: Partial<TrainSettings>; data: string | null } {
  const recorded = (metadata['training'] as Record<string, unknown> | undefined) ?? {};
  const from = settings ?? recorded;
  const optimizer = str(from['optimizer']);
  const schedule = str(from['schedule']);
  const training: Partial<TrainSettings> = {
    source: settings ? `the settings ${basename(spec)} was trained with` : optimizer ? `the training ${basename(spec)} records` : "convkit train's defaults",
    ...(num(from['epochs']) ? { epochs: num(from['epochs'])! } : {}),
    ...(num(from['batchSize']) ? { batchSize: num(from['batchSize'])! } : {}),
    ...(optimizer && (OPTIMIZERS as readonly string[]).includes(optimizer) ? { optimizer } : {}),
    ...(num(from['lr']) !== undefined ? { lr: num(from['lr'])! } : {}),
    ...(num(from['momentum']) !== undefined ? { momentum: num(from['momentum'])! } : {}),
    ...(num(from['weightDecay']) !== undefined ? { weightDecay: num(from['weightDecay'])! } : {}),
    ...(schedule && (SCHEDULES as readonly string[]).includes(schedule) ? { schedule } : {}),
    ...(num(from['valFraction']) !== undefined ? { valFraction: num(from['valFraction'])! } : {}),
    ...(num(from['trainSize']) !== undefined ? { trainSize: num(from['trainSize'])! } : {}),
    ...(num(from['seed']) !== undefined ? { seed: num(from['seed'])! } : {}),
    normalization: savedNormalization(metadata),
    quantize: (metadata.inputPipeline as InputPipelineJson | undefined)?.quantize ?? true,
  };
  // The data: --data, else what the model was trained on, else the digits for a one-channel model (convkit train's default).
  const data = flags.data ?? str(settings?.['data']) ?? str(metadata['trainedOn']) ?? (inputShape?.[0] === 1 ? 'digits' : null);
  return { training, data };
}

/** Where train.py finds the data, and the note beside it; copies the embedded digits into the folder. */
function placeData(data: string | null, out: string): { data: string | null; dataNote: string; copied: boolean } {
  if (data === null) return { data: null, dataNote: 'give --data: a folder of IDX files, CIFAR-10 batches or class sub-folders', copied: false };
  if (DIGITS.has(data)) {
    const dir = join(out, 'data');
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(DIGITS_ASSET_DIR)) if (f.endsWith('.gz')) copyFileSync(join(DIGITS_ASSET_DIR, f), join(dir, f));
    return { data: 'data', dataNote: "convkit's digits (MNIST), copied beside this file as IDX files", copied: true };
  }
  if (existsSync(data) && statSync(data).isDirectory()) return { data: resolve(data), dataNote: 'a folder of IDX files, CIFAR-10 batches or class sub-folders', copied: false };
  return { data: null, dataNote: `the model was trained on ${data}: give --data with the folder of its files`, copied: false };
}

export async function runPyTorchExport(
  spec: string,
  out: string,
  loaded: { model: Module; inputShape?: number[]; source: string; metadata: ModelMetadata },
  flags: PyTorchExportFlags,
): Promise<void> {
  const { model, inputShape, source, metadata } = loaded;
  if (model.typeName === 'OnnxModel') throw new ConvkitError(`${spec} is an ONNX graph; --format pytorch writes convkit models (zoo names, .convkit models and checkpoints)`);
  if (existsSync(out) && !statSync(out).isDirectory()) throw new ConvkitError(`--format pytorch writes a folder (model.py, train.py, weights.safetensors); ${out} is a file`);
  if (out.toLowerCase().endsWith('.onnx')) throw new ConvkitError(`--format pytorch writes a folder; '${out}' looks like an ONNX file name (use --format onnx, the default)`);
  const settings = await checkpointSettings(spec);
  const { training, data } = trainingSettings(spec, metadata, settings, inputShape, flags);
  mkdirSync(out, { recursive: true });
  const placed = placeData(data, out);
  const carried: ModelMetadata = { ...metadata, ...(inputShape ? { inputShape: [...inputShape] } : {}) };
  const { files } = exportPyTorch(model, {
    title: source,
    ...(inputShape ? { inputShape } : {}),
    ...(metadata.classNames ? { classNames: metadata.classNames } : {}),
    training: { ...training, data: placed.data, dataNote: placed.dataNote },
    metadata: { convkit: JSON.stringify(carried) },
  });
  for (const [name, contents] of files) {
    await writeBytesAtomic(join(out, name), typeof contents === 'string' ? new TextEncoder().encode(contents) : contents);
  }
  const params = model.parameters().reduce((n, p) => n + p.size, 0);
  const written = [...files.keys(), ...(placed.copied ? ['data/'] : [])];
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ out, format: 'pytorch', source, files: written, inputShape: inputShape ?? null, parameters: params, data: placed.data })}\n`);
  } else {
    process.stdout.write(`wrote ${written.map((f) => join(out, f)).join(', ')}: ${source}, ${params.toLocaleString('en-US')} parameters\n`);
    process.stdout.write(`train with: python ${join(out, 'train.py')}${placed.data ? '' : ' --data <folder>'}  (or torchrun --nproc_per_node N ${join(out, 'train.py')})\n`);
  }
}
