import { constants, existsSync } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ConvkitError } from '../../tensor/errors.js';
import { Generator, manualSeed } from '../../tensor/random.js';
import { DataLoader } from '../../data/data-loader.js';
import { randomSplit } from '../../data/dataset.js';
import { Trainer, evaluate } from '../../train/trainer.js';
import { save } from '../../io/save-load.js';
import { getBackendName } from '../../backend/registry.js';
import { progressView } from '../progress-view.js';
import { action, fraction, integer, nonNegativeNumber, positiveInt } from '../run.js';
import { checkModelSpec, declaredPatternInput, resolveModel } from '../model-spec.js';
import { describeNormalization, normalizationTransform, savedNormalization } from '../input-normalization.js';
import { addDataOptions, checkDataFlags, chooseNormalization, loadSplit, preparationMetadata, sampleSubset, type DataFlags } from '../data-options.js';
import { CHECKPOINT_METADATA_SETTING, loadModelArg } from '../model-loader.js';
import type { ModelMetadata } from '../../io/model-file.js';
import type { EpochEvent } from '../../train/progress.js';
import { writeTrainingReport } from '../training-report.js';
import { makeOptimizer, makeScheduler, OPTIMIZERS, SCHEDULES } from '../optimizer-spec.js';

interface TrainFlags extends DataFlags {
  model: string;
  data: string;
  epochs: number;
  batchSize: number;
  optimizer: string;
  lr?: number;
  momentum?: number;
  weightDecay: number;
  schedule: string;
  valFraction: number;
  earlyStop?: number;
  seed: number;
  out: string;
  resume?: boolean;
  json?: boolean;
}

export function registerTrain(program: Command): void {
  const cmd = program
    .command('train')
    .description('train a model (default: LeNet-5 on the embedded MNIST digits) and save it')
    .option('--model <name|file|pattern>', 'zoo name, architecture .json, saved model or checkpoint, .onnx file, or pattern', 'lenet5');
  addDataOptions(cmd, {
    dataHelp: 'default digits',
    trainSize: true,
    normalizeHelp: 'none: pixels in [0, 1] (default); channel: standardized by the training split\'s per-channel mean/std, saved with the model',
  });
  cmd
    .option('--epochs <n>', 'passes over the training set', positiveInt('--epochs'), 3)
    .option('--batch-size <n>', 'examples per step (1 = stochastic, the dataset size = full batch)', positiveInt('--batch-size'), 32)
    .option('--optimizer <name>', OPTIMIZERS.join(' | '), 'adam')
    .option('--lr <rate>', 'learning rate (default depends on the optimizer)', nonNegativeNumber('--lr'))
    .option('--momentum <m>', 'momentum for sgd/momentum/nesterov/rmsprop', nonNegativeNumber('--momentum'))
    .option('--weight-decay <wd>', 'L2 penalty (adamw: decoupled decay)', nonNegativeNumber('--weight-decay'), 0)
    .option('--schedule <name>', `learning rate per epoch: ${SCHEDULES.join(' | ')} (cosine: anneal to 0 over --epochs)`, 'cosine')
    .option('--val-fraction <f>', 'share of the training set held out for validation', fraction('--val-fraction'), 0.1)
    .option('--early-stop <epochs>', 'stop when validation loss has not improved for this many epochs', positiveInt('--early-stop'))
    .option('--seed <n>', 'random seed (same seed, same backend: same result)', integer('--seed'), 0)
    .option('--out <dir>', 'where model.convkit and checkpoint.convkit are written', 'convkit-out')
    .option('--resume', 'continue from <out>/checkpoint.convkit (same settings; --epochs may grow without a schedule)')
    .option('--json', 'one JSON object per line instead of a progress bar')
    .addHelpText(
      'after',
      '\nA checkpoint is written atomically after every epoch; Ctrl-C stops after the current step and\n' +
        'keeps the last one (none before the first epoch ends). --resume continues and ends with exactly the\n' +
        'weights of an uninterrupted run (with the same settings; --epochs may grow only with --schedule none,\n' +
        'as cosine and step are laid out over it). A pattern\'s INPUT[...] must match the data (prepare an image\n' +
        'folder or the digits with --size/--channels); its last FC layer must give one score per class.',
    )
    .action(action(async (flags: TrainFlags) => runTrain(flags)));
}

async function runTrain(flags: TrainFlags): Promise<void> {
  // Check the cheap things first, so a typo fails before the dataset is read.
  if (!(OPTIMIZERS as readonly string[]).includes(flags.optimizer)) {
    throw new ConvkitError(`unknown optimizer '${flags.optimizer}'; choose one of ${OPTIMIZERS.join(', ')}`);
  }
  checkDataFlags(flags);
  if (!(SCHEDULES as readonly string[]).includes(flags.schedule)) {
    throw new ConvkitError(`unknown schedule '${flags.schedule}'; choose one of ${SCHEDULES.join(', ')}`);
  }
  checkModelSpec(flags.model);
  await checkWritableFolder(flags.out);
  if (flags.earlyStop && flags.valFraction === 0) throw new ConvkitError('--early-stop needs a validation set; give --val-fraction above 0');
  manualSeed(flags.seed);
  const view = progressView(flags.json ? 'json' : 'auto');
  const log = (text: string) => view.onMessage?.(text);
  const data = flags.data ?? 'digits';

  // What the model fixes before the data is read: a pattern's INPUT[...], or a saved model's input and preparation.
  const declared = declaredPatternInput(flags.model);
  const saved = !declared && existsSync(flags.model) && !flags.model.endsWith('.json') ? (await loadModelArg(flags.model)).metadata : undefined;
  const splitOpts = {
    ...(declared ? { modelInput: declared, modelInputName: `the pattern's INPUT[${declared[2]}x${declared[1]}x${declared[0]}]` } : {}),
    ...(saved?.inputShape ? { modelInput: saved.inputShape, modelInputName: flags.model } : {}),
    ...(saved ? { metadata: saved } : {}),
  };
  const trainLoaded = loadSplit(data, flags, { split: 'train', ...splitOpts });
  const testLoaded = loadSplit(data, flags, { split: 'test', ...splitOpts });
  const trainAll = trainLoaded.set;
  const classes = [...(trainAll.classes ?? [])];
  const [c, h, w] = trainAll.sampleShape as [number, number, number];
  const numClasses = classes.length;
  const { model, metadata: previous, notes, source } = await resolveModel(flags.model, { numClasses, inChannels: c, inputSize: h, width: w });
  for (const note of notes) log(`note: ${note}`);

  const trainSet = sampleSubset(trainAll, flags.trainSize, flags.seed + 4);
  const testSet = sampleSubset(testLoaded.set, flags.testSize, flags.seed + 5);
  const splitGen = new Generator(flags.seed + 1);
  const nVal = Math.round(trainSet.length * flags.valFraction);
  if (nVal >= trainSet.length) throw new ConvkitError(`--val-fraction ${flags.valFraction} leaves no training images out of ${trainSet.length}`);
  const [trainPart, valPart] = randomSplit(trainSet, [trainSet.length - nVal, nVal], splitGen);
  const shuffleGen = new Generator(flags.seed + 2);
  // A saved model keeps the normalization it was trained with unless --normalize says otherwise; else fit to this training split.
  const normalization = chooseNormalization(flags.normalize ?? (savedNormalization(previous) ? undefined : 'none'), previous, () => trainPart!);
  const transform = normalization ? { transform: normalizationTransform(normalization) } : {};
  const train = new DataLoader(trainPart!, { batchSize: flags.batchSize, shuffle: true, generator: shuffleGen, ...transform });
  const validation = nVal > 0 ? new DataLoader(valPart!, { batchSize: 256, ...transform }) : undefined;
  const optimizer = makeOptimizer(flags.optimizer, model.parameters(), flags);
  const scheduler = makeScheduler(flags.schedule, optimizer, flags.epochs);
  // Everything later commands need to prepare inputs as training did; the checkpoint carries it too.
  const pipeline = trainLoaded.pipeline;
  const { checkpointEpoch: _epoch, testAccuracy: _acc, training: _training, ...inherited } = previous;
  const metadata: ModelMetadata = {
    ...inherited,
    inputShape: [c, h, w],
    classNames: classes,
    ...(normalization ? { normalization } : {}),
    ...preparationMetadata(pipeline),
    trainedOn: data,
    // The seed also draws the --test-size subset, which eval draws again from it (a checkpoint too).
    training: { seed: flags.seed },
  };
  if (!normalization) delete metadata.normalization;

  const checkpointPath = join(flags.out, 'checkpoint.convkit');
  // Whether a checkpoint exists to fall back on: one from an earlier run being resumed, or one this run wrote.
  let checkpointed = flags.resume === true && existsSync(checkpointPath);
  const signal = { aborted: false };
  const onSignal = (name: string) => () => {
    if (signal.aborted) process.exit(130);
    signal.aborted = true;
    log(
      `${name}: stopping after this step (again to quit at once); ` +
        (checkpointed ? `the last checkpoint (${checkpointPath}) is kept` : 'no checkpoint is written before the first epoch ends, so this run will leave none'),
    );
  };
  const onSigint = onSignal('interrupted');
  const onSigterm = onSignal('terminated');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  // The header comes once Ctrl-C is handled: a script that waits for it may interrupt at once.
  log(
    `training ${source} on ${data} (${trainPart!.length} train, ${nVal} validation, ${testSet.length} test images of ${w}x${h}x${c}) ` +
      `for ${flags.epochs} epochs, batch ${flags.batchSize}, ${flags.optimizer} lr ${optimizer.lr}` +
      `${scheduler ? ` (${flags.schedule} schedule)` : ''}, inputs ${describeNormalization(normalization)}, seed ${flags.seed}, backend ${getBackendName()}`,
  );
  const callbacks = {
    ...view,
    onEpoch: (e: EpochEvent) => {
      checkpointed = true;
      view.onEpoch?.(e);
    },
  };
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
    callbacks,
    signal,
    // What the checkpoint must agree on for a resumed run to equal an uninterrupted one.
    settings: {
      model: flags.model,
      data,
      size: flags.size ?? null,
      channels: flags.channels ?? null,
      trainSize: flags.trainSize ?? null,
      testSize: flags.testSize ?? null,
      epochs: flags.epochs,
      batchSize: flags.batchSize,
      optimizer: flags.optimizer,
      lr: optimizer.lr,
      momentum: flags.momentum ?? null,
      weightDecay: flags.weightDecay,
      schedule: flags.schedule,
      normalize: flags.normalize ?? 'none',
      valFraction: flags.valFraction,
      earlyStop: flags.earlyStop ?? null,
      seed: flags.seed,
      // Not a setting to compare so much as what a checkpoint needs to be used as a model.
      [CHECKPOINT_METADATA_SETTING]: JSON.stringify(metadata),
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
    log(checkpointed || existsSync(checkpointPath) ? `stopped; continue with: convkit train ${[...args, '--resume'].join(' ')}` : 'stopped before the first epoch ended: no checkpoint to resume from; run the command again to start over');
    process.exitCode = 130;
    return;
  }
  const test = evaluate(model, new DataLoader(testSet, { batchSize: 256, ...transform }));
  const modelPath = join(flags.out, 'model.convkit');
  await save(model, modelPath, {
    ...metadata,
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
      ...(flags.trainSize ? { trainSize: trainSet.length } : {}),
    },
  });
  await writeTrainingReport({ out: flags.out, model, test: testSet, normalization, history: result.history, settings: trainer.opts.settings ?? {}, classNames: classes, log });
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
