import type { Command } from 'commander';
import { ConvkitError } from '../../tensor/errors.js';
import { DataLoader } from '../../data/data-loader.js';
import { evaluateAsync } from '../../train/trainer.js';
import { action, integer, positiveInt } from '../run.js';
import { normalizationTransform } from '../input-normalization.js';
import { addDataOptions, checkDataFlags, chooseNormalization, loadSplit, sampleSubset, type DataFlags } from '../data-options.js';
import { loadModelArg } from '../model-loader.js';
import { checkClassCount } from './model-output.js';

interface EvalFlags extends DataFlags {
  split: 'train' | 'test';
  batchSize: number;
  seed?: number;
  json?: boolean;
  tta?: boolean;
}

export function registerEval(program: Command): void {
  const cmd = program
    .command('eval <model>')
    .description('accuracy and loss of a model (.convkit model or checkpoint, or .onnx) on a test set');
  addDataOptions(cmd, {
    dataHelp: 'default: what the model was trained on, else digits',
    normalizeHelp: "none: raw pixels in [0, 1]; channel: the model's recorded statistics, else per-channel ones of this data (default: as recorded)",
  });
  cmd
    .option('--split <split>', 'train | test', 'test')
    .option('--batch-size <n>', 'examples per forward pass', positiveInt('--batch-size'), 256)
    .option('--seed <n>', "with --test-size: the seed that draws the subset, as train's --seed does (default: the model's training seed)", integer('--seed'))
    .option('--json', 'print one JSON object')
    .option('--tta', 'test-time augmentation: score each image and its mirror image, and use the mean of the two probabilities (refused for the digits, which a mirror changes)')
    .addHelpText('after', '\nImages are prepared as the model recorded in training (size, channels, crop, normalization) unless --size, --channels or --normalize say otherwise.')
    .action(action(async (file: string, flags: EvalFlags) => runEval(file, flags)));
}

async function runEval(file: string, flags: EvalFlags): Promise<void> {
  checkDataFlags(flags);
  const { model, metadata } = await loadModelArg(file);
  const data = flags.data ?? (typeof metadata['trainedOn'] === 'string' ? metadata['trainedOn'] : 'digits');
  if (flags.tta && data === 'digits') throw new ConvkitError('--tta mirrors the images, and a mirrored digit is another symbol; leave --tta out for the digits');
  const loaded = loadSplit(data, flags, {
    split: flags.split,
    metadata,
    ...(metadata.inputShape && metadata['fullyConvolutional'] !== true ? { modelInput: metadata.inputShape, modelInputName: file } : {}),
  });
  // The subset train and finetune evaluated on with the same --test-size and seed.
  const training = metadata['training'] as { seed?: unknown } | undefined;
  const seed = flags.seed ?? (typeof training?.seed === 'number' ? training.seed : 0);
  const set = sampleSubset(loaded.set, flags.testSize, seed + 5);
  checkClassCount(model, file, set, data);
  // The inputs as the model saw them in training (unless told otherwise).
  const normalization = chooseNormalization(flags.normalize, metadata, () => set);
  const r = await evaluateAsync(model, new DataLoader(set, { batchSize: flags.batchSize, ...(normalization ? { transform: normalizationTransform(normalization) } : {}) }), undefined, { tta: flags.tta ?? false });
  if (flags.json) process.stdout.write(`${JSON.stringify({ accuracy: r.accuracy, top5: r.top5, loss: r.loss, count: r.count, data, split: flags.split, ...(flags.tta ? { tta: true } : {}) })}\n`);
  else process.stdout.write(`accuracy ${(r.accuracy * 100).toFixed(2)}%  top-5 ${(r.top5 * 100).toFixed(2)}%  loss ${r.loss.toFixed(4)}  (${r.count} images of ${data}/${flags.split}${flags.tta ? ', flip TTA' : ''})\n`);
}
