import { constants, existsSync } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Tensor } from '../../tensor/tensor.js';
import { ConvkitError } from '../../tensor/errors.js';
import { Generator, manualSeed } from '../../tensor/random.js';
import { DataLoader } from '../../data/data-loader.js';
import { randomSplit } from '../../data/dataset.js';
import { Trainer, evaluateAsync } from '../../train/trainer.js';
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
import { makeOptimizer, makeScheduler, OPTIMIZERS, TRAIN_SCHEDULES } from '../optimizer-spec.js';
import * as F from '../../functional.js';
import { ModelEma } from '../../train/ema.js';
import { AUGMENT_HELP, augmentTransform, describeAugment, parseAugment } from '../augment-spec.js';
import { applyRecipe, RECIPES, type RecipeValue } from '../recipes.js';

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
  recipe?: string;
  augment: string;
  labelSmoothing: number;
  warmup: number;
  plateauPatience: number;
  plateauFactor: number;
  ema?: number;
  /** Set from --recipe: the equivalent command line, logged first. */
  recipeCommand?: string;
}

/** A number parser for an option that must lie in a range, with an error naming the option. */
function numberIn(name: string, ok: (v: number) => boolean, what: string) {
  return (text: string): number => {
    const v = Number(text);
    if (text.trim() === '' || !Number.isFinite(v) || !ok(v)) throw new ConvkitError(`${name} must be ${what}, got '${text}'`);
    return v;
  };
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
    .option(
      '--schedule <name>',
      `learning rate per epoch: ${TRAIN_SCHEDULES.join(' | ')} (cosine: anneal to 0 over the epochs after --warmup; step: /10 after each third of them; ` +
        'plateau: x --plateau-factor when the validation loss has not improved for more than --plateau-patience epochs)',
      'cosine',
    )
    .option('--plateau-patience <epochs>', 'with --schedule plateau: epochs without improvement (by 1e-4 relative) tolerated before reducing', numberIn('--plateau-patience', (v) => Number.isInteger(v) && v >= 0, 'a whole number >= 0'), 10)
    .option('--plateau-factor <f>', 'with --schedule plateau: the multiplier of the rate on a plateau', numberIn('--plateau-factor', (v) => v > 0 && v < 1, 'a number between 0 and 1 (e.g. 0.1)'), 0.1)
    .option(
      '--warmup <epochs>',
      'linear warm-up over the first N epochs: step s (0-based) runs at lr * (s + 1) / (N * steps per epoch); the schedule then runs over the remaining epochs',
      numberIn('--warmup', (v) => Number.isInteger(v) && v >= 0, 'a whole number of epochs >= 0'),
      0,
    )
    .option('--augment <spec>', AUGMENT_HELP, 'none')
    .option('--label-smoothing <eps>', 'cross-entropy against (1 - eps) on the label + eps spread over all classes (the training and validation loss; the test loss is plain)', numberIn('--label-smoothing', (v) => v >= 0 && v < 1, 'a number in [0, 1) such as 0.1'), 0)
    .option('--ema <decay>', 'keep an exponential moving average of the weights (and batch-norm statistics), e.g. 0.999; validation, the test and the saved model use it', numberIn('--ema', (v) => v > 0 && v < 1, 'a decay between 0 and 1 such as 0.999'))
    .option('--recipe <name>', `a named set of the flags above (${Object.keys(RECIPES).join(' | ')}), printed as a command line; flags you give override it`)
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
        'folder or the digits with --size/--channels); its last FC layer must give one score per class.\n\n' +
        '--augment applies to training batches only, in pixel space before the normalization, drawing from its own\n' +
        'generator (seeded by --seed, saved in checkpoints): crop[:pad] (a random crop after pad pixels of zeros on each\n' +
        'side; default 2 up to 28x28, else 1/8 of the side: 4 for 32x32), flip[:p] (horizontal, p 0.5; refused for the\n' +
        'digits), affine[:deg] (rotation up to +-deg, default 10), erase[:p] (random erasing to 0, torchvision\'s\n' +
        'RandomErasing, p 0.5), jitter[:s] (brightness/contrast/saturation +-s, default 0.2; RGB only). Presets:\n' +
        'standard = crop + flip (crop only for the digits), strong = standard + erase (+ jitter for RGB).\n' +
        'Recipes: ' +
        Object.entries(RECIPES)
          .map(([name, r]) => `${name} (${r.description})`)
          .join('; ') +
        '.',
    )
    .action(action(async (flags: TrainFlags, command: Command) => runTrain(withRecipe(flags, command))));
}

/** The flags with --recipe's values filled in where the command line gave none. */
function withRecipe(flags: TrainFlags, command: Command): TrainFlags {
  if (flags.recipe === undefined) return flags;
  const explicit = (key: string) => command.getOptionValueSource(key) === 'cli';
  const given = command.options
    .map((o) => o.attributeName())
    .filter((k) => explicit(k) && k !== 'recipe')
    .map((k) => [k, (flags as unknown as Record<string, RecipeValue>)[k]!] as const);
  const applied = applyRecipe(flags.recipe, flags, explicit, given);
  const note = applied.overridden.length ? ` (your ${applied.overridden.join(', ')} over the recipe's)` : '';
  return { ...applied.flags, recipeCommand: `recipe ${flags.recipe}${note}: ${applied.commandLine}` };
}

async function runTrain(flags: TrainFlags): Promise<void> {
  // Check the cheap things first, so a typo fails before the dataset is read.
  if (!(OPTIMIZERS as readonly string[]).includes(flags.optimizer)) {
    throw new ConvkitError(`unknown optimizer '${flags.optimizer}'; choose one of ${OPTIMIZERS.join(', ')}`);
  }
  checkDataFlags(flags);
  if (!(TRAIN_SCHEDULES as readonly string[]).includes(flags.schedule)) {
    throw new ConvkitError(`unknown schedule '${flags.schedule}'; choose one of ${TRAIN_SCHEDULES.join(', ')}`);
  }
  if (flags.schedule === 'plateau' && flags.valFraction === 0) {
    throw new ConvkitError('--schedule plateau watches the validation loss, so it needs a validation set; give --val-fraction above 0');
  }
  if (flags.warmup >= flags.epochs) throw new ConvkitError(`--warmup ${flags.warmup} leaves no epochs for training after it; give fewer warm-up epochs than --epochs ${flags.epochs}`);
  const data = flags.data ?? 'digits';
  // The spec's names and parameters, before any data is read (the image shape is checked again once known).
  parseAugment(flags.augment, { data, shape: [3, 32, 32] });
  checkModelSpec(flags.model);
  await checkWritableFolder(flags.out);
  if (flags.earlyStop && flags.valFraction === 0) throw new ConvkitError('--early-stop needs a validation set; give --val-fraction above 0');
  manualSeed(flags.seed);
  const view = progressView(flags.json ? 'json' : 'auto');
  const log = (text: string) => view.onMessage?.(text);
  if (flags.recipeCommand) log(flags.recipeCommand);

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
  // Augmentation: training batches only, before the normalization, from its own generator.
  const augment = parseAugment(flags.augment, { data, shape: [c, h, w] });
  const augmentGen = new Generator(flags.seed + 3);
  const trainTransform = augment ? { transform: augmentTransform(augment, augmentGen, transform.transform) } : transform;
  const train = new DataLoader(trainPart!, { batchSize: flags.batchSize, shuffle: true, generator: shuffleGen, ...trainTransform });
  const validation = nVal > 0 ? new DataLoader(valPart!, { batchSize: 256, ...transform }) : undefined;
  const optimizer = makeOptimizer(flags.optimizer, model.parameters(), flags);
  const baseLr = optimizer.lr;
  const scheduler = makeScheduler(flags.schedule, optimizer, {
    epochs: flags.epochs,
    warmup: flags.warmup,
    stepsPerEpoch: train.length,
    plateauPatience: flags.plateauPatience,
    plateauFactor: flags.plateauFactor,
  });
  const ema = flags.ema !== undefined ? new ModelEma(model, { decay: flags.ema }) : undefined;
  const smoothing = flags.labelSmoothing;
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
      `for ${flags.epochs} epochs, batch ${flags.batchSize}, ${flags.optimizer} lr ${baseLr}` +
      `${flags.schedule !== 'none' ? ` (${flags.schedule} schedule)` : ''}${flags.warmup ? ` after ${flags.warmup} warm-up epoch${flags.warmup > 1 ? 's' : ''}` : ''}, ` +
      `inputs ${describeNormalization(normalization)}${augment ? `, augmentation ${describeAugment(augment)}` : ''}` +
      `${smoothing ? `, label smoothing ${smoothing}` : ''}, seed ${flags.seed}, backend ${getBackendName()}`,
  );
  if (ema) log(`weight average (EMA, decay ${flags.ema}): validation, the test and the saved model use the averaged weights`);
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
    ...(smoothing ? { loss: (out: Tensor, y: Tensor) => F.crossEntropy(out, y, { labelSmoothing: smoothing }) } : {}),
    ...(ema ? { ema } : {}),
    ...(flags.earlyStop ? { earlyStopping: { metric: 'valLoss' as const, patience: flags.earlyStop } } : {}),
    checkpointPath,
    resume: flags.resume ?? false,
    generators: augment ? [shuffleGen, augmentGen] : [shuffleGen],
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
      lr: baseLr,
      momentum: flags.momentum ?? null,
      weightDecay: flags.weightDecay,
      schedule: flags.schedule,
      warmup: flags.warmup,
      plateauPatience: flags.schedule === 'plateau' ? flags.plateauPatience : null,
      plateauFactor: flags.schedule === 'plateau' ? flags.plateauFactor : null,
      augment: flags.augment,
      labelSmoothing: smoothing,
      ema: flags.ema ?? null,
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
  // From here on the model holds the averaged weights: the test and the saved model use them.
  if (ema) ema.copyTo(model);
  const test = await evaluateAsync(model, new DataLoader(testSet, { batchSize: 256, ...transform }));
  // Weights on the GPU (webgpu) come back to the host to be saved.
  await model.sync();
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
      ...(flags.warmup ? { warmup: flags.warmup } : {}),
      ...(augment ? { augment: flags.augment } : {}),
      ...(smoothing ? { labelSmoothing: smoothing } : {}),
      ...(ema ? { ema: flags.ema! } : {}),
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
    log(`test accuracy ${(test.accuracy * 100).toFixed(2)}% (top-5 ${(test.top5 * 100).toFixed(2)}%, loss ${test.loss.toFixed(4)}) on ${test.count} images${ema ? ' (EMA weights)' : ''}`);
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
