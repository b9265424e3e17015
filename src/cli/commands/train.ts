import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ConvkitError } from '../../tensor/errors.js';
import { Generator, manualSeed } from '../../tensor/random.js';
import { loadDataset } from '../../data/builtin.js';
import { DataLoader } from '../../data/data-loader.js';
import { randomSplit } from '../../data/dataset.js';
import { Trainer, evaluate } from '../../train/trainer.js';
import { save } from '../../io/save-load.js';
import { getBackendName } from '../../backend/registry.js';
import { progressView } from '../progress-view.js';
import { action, fraction, integer, nonNegativeNumber, positiveInt } from '../run.js';
import { checkModelSpec, resolveModel } from '../model-spec.js';
import { describeNormalization, fitNormalization, NORMALIZE_MODES, normalizationTransform, savedNormalization } from '../input-normalization.js';
import { makeOptimizer, makeScheduler, OPTIMIZERS, SCHEDULES } from '../optimizer-spec.js';

interface TrainFlags {
  size?: number;
  channels?: number;
  model: string;
  data: string;
  dataDir?: string;
  epochs: number;
  batchSize: number;
  optimizer: string;
  lr?: number;
  momentum?: number;
  weightDecay: number;
  schedule: string;
  normalize: string;
  valFraction: number;
  earlyStop?: number;
  seed: number;
  out: string;
  resume?: boolean;
  json?: boolean;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a model (default: LeNet-5 on the embedded MNIST digits) and save it')
    .option('--model <name|file|pattern>', 'zoo name, architecture .json, saved model, or pattern', 'lenet5')
    .option('--data <name|dir>', 'digits | fashion-mnist | cifar10 | a folder of IDX files or of class sub-folders of images', 'digits')
    .option('--data-dir <dir>', 'where fashion-mnist / cifar10 files are')
    .option('--size <n>', 'for an image folder (one sub-folder per class): crop to square and resize to n x n', positiveInt('--size'))
    .option('--channels <n>', 'for an image folder: 1 (grayscale) or 3 (RGB)', positiveInt('--channels'))
    .option('--epochs <n>', 'passes over the training set', positiveInt('--epochs'), 3)
    .option('--batch-size <n>', 'examples per step (1 = stochastic, the dataset size = full batch)', positiveInt('--batch-size'), 32)
    .option('--optimizer <name>', OPTIMIZERS.join(' | '), 'adam')
    .option('--lr <rate>', 'learning rate (default depends on the optimizer)', nonNegativeNumber('--lr'))
    .option('--momentum <m>', 'momentum for sgd/momentum/rmsprop', nonNegativeNumber('--momentum'))
    .option('--weight-decay <wd>', 'L2 penalty', nonNegativeNumber('--weight-decay'), 0)
    .option('--schedule <name>', `learning rate per epoch: ${SCHEDULES.join(' | ')} (cosine: anneal to 0 over --epochs)`, 'cosine')
    .option('--normalize <how>', 'inputs as pixels in [0, 1] (none), or standardized by the training set (channel: per-channel mean/std, saved with the model)', 'none')
    .option('--val-fraction <f>', 'share of the training set held out for validation', fraction('--val-fraction'), 0.1)
    .option('--early-stop <epochs>', 'stop when validation loss has not improved for this many epochs', positiveInt('--early-stop'))
    .option('--seed <n>', 'random seed (same seed, same backend: same result)', integer('--seed'), 0)
    .option('--out <dir>', 'where model.convkit and checkpoint.convkit are written', 'convkit-out')
    .option('--resume', 'continue from <out>/checkpoint.convkit (same settings; --epochs may grow without a schedule)')
    .option('--json', 'one JSON object per line instead of a progress bar')
    .addHelpText(
      'after',
      '\nA checkpoint is written atomically after every epoch; Ctrl-C stops after the current step and\n' +
        'keeps it. --resume continues and ends with exactly the weights of an uninterrupted run (with the\n' +
        'same settings; --epochs may grow only with --schedule none, as cosine and step are laid out over it).',
    )
    .action(action(async (flags: TrainFlags) => runTrain(flags)));
}

async function runTrain(flags: TrainFlags): Promise<void> {
  // Check the cheap things first, so a typo fails before the dataset is read.
  if (!(OPTIMIZERS as readonly string[]).includes(flags.optimizer)) {
    throw new ConvkitError(`unknown optimizer '${flags.optimizer}'; choose one of ${OPTIMIZERS.join(', ')}`);
  }
  if (!(NORMALIZE_MODES as readonly string[]).includes(flags.normalize)) {
    throw new ConvkitError(`unknown --normalize '${flags.normalize}'; choose one of ${NORMALIZE_MODES.join(', ')}`);
  }
  if (!(SCHEDULES as readonly string[]).includes(flags.schedule)) {
    throw new ConvkitError(`unknown schedule '${flags.schedule}'; choose one of ${SCHEDULES.join(', ')}`);
  }
  checkModelSpec(flags.model);
  await checkWritableFolder(flags.out);
  if (flags.earlyStop && flags.valFraction === 0) throw new ConvkitError('--early-stop needs a validation set; give --val-fraction above 0');
  manualSeed(flags.seed);
  const view = progressView(flags.json ? 'json' : 'auto');
  const log = (text: string) => view.onMessage?.(text);
  if (flags.channels !== undefined && flags.channels !== 1 && flags.channels !== 3) {
    throw new ConvkitError(`--channels must be 1 or 3, got ${flags.channels}`);
  }
  const dataOpts = {
    ...(flags.dataDir ? { dataDir: flags.dataDir } : {}),
    ...(flags.size ? { size: flags.size } : {}),
    ...(flags.channels ? { channels: flags.channels as 1 | 3 } : {}),
  };
  const trainSet = loadDataset(flags.data, { split: 'train', ...dataOpts });
  const testSet = loadDataset(flags.data, { split: 'test', ...dataOpts });
  const [c, h, w] = trainSet.sampleShape as [number, number, number];
  const numClasses = trainSet.classes.length;
  const { model, metadata: previous } = await resolveModel(flags.model, { numClasses, inChannels: c, inputSize: h, width: w });

  const splitGen = new Generator(flags.seed + 1);
  const nVal = Math.round(trainSet.length * flags.valFraction);
  if (nVal >= trainSet.length) throw new ConvkitError(`--val-fraction ${flags.valFraction} leaves no training images out of ${trainSet.length}`);
  const [trainPart, valPart] = randomSplit(trainSet, [trainSet.length - nVal, nVal], splitGen);
  const shuffleGen = new Generator(flags.seed + 2);
  // A saved model keeps the normalization it was trained with; otherwise fit it to this training split.
  const normalization = savedNormalization(previous) ?? fitNormalization(flags.normalize, trainPart!);
  const transform = normalization ? { transform: normalizationTransform(normalization) } : {};
  const train = new DataLoader(trainPart!, { batchSize: flags.batchSize, shuffle: true, generator: shuffleGen, ...transform });
  const validation = nVal > 0 ? new DataLoader(valPart!, { batchSize: 256, ...transform }) : undefined;
  const optimizer = makeOptimizer(flags.optimizer, model.parameters(), flags);
  const scheduler = makeScheduler(flags.schedule, optimizer, flags.epochs);

  log(
    `training ${flags.model} on ${flags.data} (${trainPart!.length} train, ${nVal} validation, ${testSet.length} test images of ${w}x${h}x${c}) ` +
      `for ${flags.epochs} epochs, batch ${flags.batchSize}, ${flags.optimizer} lr ${optimizer.lr}` +
      `${scheduler ? ` (${flags.schedule} schedule)` : ''}, inputs ${describeNormalization(normalization)}, seed ${flags.seed}, backend ${getBackendName()}`,
  );
  const signal = { aborted: false };
  const onSignal = (name: string) => () => {
    if (signal.aborted) process.exit(130);
    signal.aborted = true;
    log(`${name}: stopping after this step (again to quit at once); the last checkpoint is kept`);
  };
  const onSigint = onSignal('interrupted');
  const onSigterm = onSignal('terminated');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  const checkpointPath = join(flags.out, 'checkpoint.convkit');
  const trainer = new Trainer(model, {
    train,
    optimizer,
    epochs: flags.epochs,
    ...(scheduler ? { scheduler } : {}),
    ...(validation ? { validation } : {}),
    ...(flags.earlyStop ? { earlyStopping: { metric: 'valLoss' as const, patience: flags.earlyStop } } : {}),
    checkpointPath,
    resume: flags.resume ?? false,
    generators: [shuffleGen],
    callbacks: view,
    signal,
    // What the checkpoint must agree on for a resumed run to equal an uninterrupted one.
    settings: {
      model: flags.model,
      data: flags.data,
      epochs: flags.epochs,
      batchSize: flags.batchSize,
      optimizer: flags.optimizer,
      lr: optimizer.lr,
      momentum: flags.momentum ?? null,
      weightDecay: flags.weightDecay,
      schedule: flags.schedule,
      normalize: flags.normalize,
      valFraction: flags.valFraction,
      earlyStop: flags.earlyStop ?? null,
      seed: flags.seed,
    },
    // Without a schedule, nothing depends on the total: a resumed run may train longer.
    mutableSettings: scheduler ? [] : ['epochs'],
  });
  let result;
  try {
    result = await trainer.fit();
  } finally {
    view.stop();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
  if (result.interrupted) {
    const args = process.argv.slice(3).filter((a) => a !== '--resume');
    log(`stopped; continue with: convkit train ${[...args, '--resume'].join(' ')}`);
    process.exitCode = 130;
    return;
  }
  const test = evaluate(model, new DataLoader(testSet, { batchSize: 256, ...transform }));
  const modelPath = join(flags.out, 'model.convkit');
  await save(model, modelPath, {
    ...previous,
    inputShape: [c, h, w],
    classNames: [...trainSet.classes],
    ...(normalization ? { normalization } : {}),
    trainedOn: flags.data,
    testAccuracy: test.accuracy,
    training: {
      epochs: (result.resumedAfter ?? 0) + result.epochsRun,
      batchSize: flags.batchSize,
      optimizer: flags.optimizer,
      lr: flags.lr ?? null,
      weightDecay: flags.weightDecay,
      schedule: flags.schedule,
      seed: flags.seed,
      backend: getBackendName(),
    },
  });
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ event: 'done', testLoss: test.loss, testAccuracy: test.accuracy, testTop5: test.top5, testCount: test.count, model: modelPath, checkpoint: checkpointPath })}\n`,
    );
  } else {
    log(`test accuracy ${(test.accuracy * 100).toFixed(2)}% (top-5 ${(test.top5 * 100).toFixed(2)}%, loss ${test.loss.toFixed(4)}) on ${test.count} images`);
    log(`saved ${modelPath}`);
  }
}

/** Fails before training, not after the first epoch, when the output folder cannot be written. */
async function checkWritableFolder(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new ConvkitError(`--out ${dir}: cannot write there (${code}); give a folder you can write to`);
  }
}
