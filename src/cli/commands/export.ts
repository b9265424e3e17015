import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import type { Module } from '../../nn/module.js';
import { ConvkitError } from '../../tensor/errors.js';
import { parseVolume } from '../../analysis/units.js';
import { createModel, zoo, zooInputShape } from '../../models/index.js';
import type { ModelMetadata } from '../../io/model-file.js';
import { loadModelArg } from '../model-loader.js';
import { saveOnnxWithMetadata } from '../onnx-metadata.js';
import { fmtVolumeArg } from './volume-arg.js';
import { OnnxModel } from '../../io/onnx/onnx-model.js';
import { DEFAULT_EXPORT_OPSET, EXPORT_MAX_OPSET, EXPORT_MIN_OPSET } from '../../io/onnx/export/index.js';
import { action, positiveInt } from '../run.js';
import { runPyTorchExport } from './export-pytorch.js';

/**
 * `convkit export <model> out.onnx`: a zoo model (fresh weights), a saved convkit model or an
 * ONNX file (re-exported with its current weights) -> an ONNX file with a symbolic batch size.
 * `--format pytorch` writes a folder instead: model.py, train.py, weights.safetensors
 * (export-pytorch.ts).
 */

const FORMATS = ['onnx', 'pytorch'] as const;

interface ExportFlags {
  input?: string;
  opset?: number;
  numClasses?: number;
  format?: string;
  data?: string;
  json?: boolean;
}

/**
 * One item's input as the notes write volumes, W x H x D ("28x28x1", "224x224x3"), or a
 * feature count ("784"); returned as convkit's [C, H, W] (or [F]).
 */
export function parseInputVolume(text: string): number[] {
  const features = Number(text);
  if (/^\s*\d+\s*$/.test(text) && Number.isSafeInteger(features) && features >= 1) return [features];
  try {
    return parseVolume(text);
  } catch {
    throw new ConvkitError(`--input must be W x H x D such as 28x28x1 or 224x224x3 (or a feature count such as 784), got '${text}'`);
  }
}

async function loadForExport(spec: string, flags: ExportFlags): Promise<{ model: Module; inputShape?: number[]; source: string; metadata: ModelMetadata }> {
  if (spec in zoo) {
    const given = flags.input ? parseInputVolume(flags.input) : undefined;
    if (given && given.length !== 3) throw new ConvkitError(`--input for the zoo's ${spec} must be a volume W x H x D, got '${flags.input}'`);
    if (given && given[1] !== given[2]) throw new ConvkitError(`the zoo's ${spec} takes square inputs; --input ${flags.input} is ${given[2]} wide and ${given[1]} high`);
    const opts = { ...(flags.numClasses ? { numClasses: flags.numClasses } : {}), ...(given ? { inChannels: given[0], inputSize: given[1] } : {}) };
    return { model: createModel(spec, opts), inputShape: zooInputShape(spec, opts), source: `zoo model ${spec}`, metadata: {} };
  }
  if (!existsSync(spec) || !statSync(spec).isFile()) {
    throw new ConvkitError(`unknown model '${spec}': not a zoo name (${Object.keys(zoo).join(', ')}) and not an existing file (a saved .convkit model or checkpoint, or an .onnx file)`);
  }
  if (flags.numClasses) throw new ConvkitError('--num-classes applies to zoo models only; a saved model keeps its own head');
  const inputShape = flags.input ? parseInputVolume(flags.input) : undefined;
  const { model, metadata, kind } = await loadModelArg(spec);
  const recorded = metadata.inputShape;
  if (inputShape && recorded && kind !== 'onnx' && recorded.join() !== inputShape.join() && metadata['fullyConvolutional'] !== true) {
    throw new ConvkitError(`--input ${flags.input} disagrees with ${spec}, which records its input as ${recorded.length === 3 ? fmtVolumeArg(recorded) : recorded.join('x')}; leave --input out`);
  }
  return { model, inputShape: kind === 'onnx' ? inputShape : (inputShape ?? recorded), source: spec, metadata };
}

export function registerExport(program: Command): void {
  program
    .command('export <model> <out>')
    .description('write a model as an ONNX file (symbolic batch size), or as PyTorch code, weights and a torchrun training script')
    .option('--input <WxHxD>', 'one input volume, e.g. 28x28x1 (default: the zoo model\'s, or the size a saved model was trained on)')
    .option('--opset <n>', `ONNX opset ${EXPORT_MIN_OPSET}-${EXPORT_MAX_OPSET} (default ${DEFAULT_EXPORT_OPSET}; an ONNX file keeps its own)`, positiveInt('--opset'))
    .option('--num-classes <n>', 'classes of a zoo model\'s head', positiveInt('--num-classes'))
    .option('--format <format>', 'onnx: one .onnx file (default); pytorch: a folder with model.py, train.py and weights.safetensors')
    .option('--data <name|dir>', "pytorch: the data train.py trains on (default: what the model was trained on; the digits are copied in as IDX files)")
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      '\n<model> is a zoo name (lenet5, resnet18, vgg16, ...: fresh weights), a model saved by convkit train, or an\n' +
        '.onnx file (imported and written again with its current weights). Check the result with\n' +
        '`convkit summary out.onnx` or run it with `convkit predict out.onnx image.png`.\n\n' +
        '--format pytorch writes <out>/ with model.py (a torch.nn.Module with convkit\'s parameter names),\n' +
        'weights.safetensors and train.py (the same data, preprocessing, optimizer and schedule, under\n' +
        '`torchrun --nproc_per_node G train.py` with DistributedDataParallel); train.py writes the trained\n' +
        'weights as safetensors that convkit loads back by name.',
    )
    .action(action(async (spec: string, out: string, flags: ExportFlags) => runExport(spec, out, flags)));
}

async function runExport(spec: string, out: string, flags: ExportFlags): Promise<void> {
  const format = flags.format ?? 'onnx';
  if (!(FORMATS as readonly string[]).includes(format)) throw new ConvkitError(`unknown --format '${format}'; choose ${FORMATS.join(' or ')}`);
  if (format === 'pytorch') {
    if (flags.opset !== undefined) throw new ConvkitError('--opset applies to --format onnx only');
    const loaded = await loadForExport(spec, flags);
    return runPyTorchExport(spec, out, loaded, { ...(flags.data ? { data: flags.data } : {}), ...(flags.json ? { json: true } : {}) });
  }
  if (flags.data !== undefined) throw new ConvkitError('--data applies to --format pytorch only (the data train.py trains on)');
  if (!out.toLowerCase().endsWith('.onnx')) throw new ConvkitError(`the output file should end in .onnx, got '${out}'`);
  const { model, inputShape, source, metadata } = await loadForExport(spec, flags);
  const imported = model instanceof OnnxModel;
  if (!imported && !inputShape) {
    throw new ConvkitError(`${spec} does not record its input size; give one with --input, e.g. --input 28x28x1 (W x H x D)`);
  }
  if (imported && flags.opset !== undefined && flags.opset !== model.opset) {
    throw new ConvkitError(`${spec} is an ONNX opset-${model.opset} graph and is written back at that opset; leave --opset out`);
  }
  const opset = imported ? model.opset : (flags.opset ?? DEFAULT_EXPORT_OPSET);
  // The convkit metadata (classes, input preparation, normalization) travels in the file, for eval/predict/finetune.
  const carried: ModelMetadata = { ...metadata, ...(inputShape ? { inputShape: [...inputShape] } : {}) };
  await saveOnnxWithMetadata(model, out, { ...(inputShape ? { inputShape } : {}), ...(imported ? {} : { opset }) }, carried);
  const { size } = statSync(out);
  const params = model.parameters().reduce((n, p) => n + p.size, 0);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ out, source, opset, inputShape: inputShape ?? null, parameters: params, bytes: size })}\n`);
  } else {
    const input = inputShape ? `input [N, ${inputShape.join(', ')}]` : 'inputs as declared';
    process.stdout.write(`wrote ${out}: ${source}, opset ${opset}, ${input}, ${params.toLocaleString('en-US')} parameters, ${(size / 1024).toFixed(0)} KB\n`);
  }
}
