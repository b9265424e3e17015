import type { Command } from 'commander';
import { noGrad } from '../../autograd/tape.js';
import { DataLoader } from '../../data/data-loader.js';
import type { Dataset } from '../../data/dataset.js';
import type { SampleTransform } from '../../data/data-loader.js';
import { loadOnnxBytes } from '../../io/onnx/load-onnx.js';
import { OnnxModel } from '../../io/onnx/onnx-model.js';
import { exportOnnx } from '../../io/onnx/export/index.js';
import type { ModelMetadata } from '../../io/model-file.js';
import { loadModelArg } from '../model-loader.js';
import { saveOnnxWithMetadata } from '../onnx-metadata.js';
import { addDataOptions, checkDataFlags, chooseNormalization, loadSplit, preparationMetadata, sampleSubset, type DataFlags } from '../data-options.js';
import { describeNormalization, normalizationTransform } from '../input-normalization.js';
import { createModel, zoo } from '../../models/index.js';
import { Linear } from '../../nn/linear.js';
import type { Module } from '../../nn/module.js';
import { getBackendName } from '../../backend/registry.js';
import { ConvkitError, fmtShape } from '../../tensor/errors.js';
import { Generator, manualSeed } from '../../tensor/random.js';
import { tidy } from '../../tensor/scope.js';
import { Tensor } from '../../tensor/tensor.js';
import { evaluateAsync, Trainer } from '../../train/trainer.js';
import type { TrainerCallbacks } from '../../train/progress.js';
import { makeOptimizer, OPTIMIZERS } from '../optimizer-spec.js';
import { progressView } from '../progress-view.js';
import { action, integer, nonNegativeNumber, positiveInt } from '../run.js';

/**
 * `convkit finetune model.onnx --data <name|dir> --num-classes N`: transfer learning from a
 * model trained elsewhere. The ONNX file is imported, its last Gemm/MatMul (or --head) is
 * replaced by a fresh Linear sized for the new classes (OnnxModel.replaceNode), the rest is
 * frozen with --freeze-trunk, and the Trainer trains on (a seeded subset of) the data. The
 * test accuracy is reported, optionally next to a zoo model trained from scratch on the same
 * images, epochs and optimizer (--compare lenet5), and the result can be written back as ONNX.
 */

export interface FinetuneFlags extends DataFlags {
  numClasses?: number;
  freezeTrunk?: boolean;
  head?: string;
  epochs: number;
  batchSize: number;
  optimizer: string;
  lr?: number;
  compare?: string;
  seed: number;
  out?: string;
  json?: boolean;
}

export interface RunSummary {
  testAccuracy: number;
  testLoss: number;
  trainable: number;
  finalTrainLoss: number;
}

export interface FinetuneResult {
  head: string;
  inFeatures: number;
  trainImages: number;
  testImages: number;
  finetuned: RunSummary;
  scratch?: RunSummary & { model: string };
}

/** The node a new head replaces: --head, or the last Gemm / MatMul that runs. */
function findHead(model: OnnxModel, given: string | undefined): string {
  if (given) return given;
  const fc = model.nodes().filter(([, op]) => op === 'Gemm' || op === 'MatMul');
  if (!fc.length) {
    throw new ConvkitError(`the model has no Gemm or MatMul node to replace; name the node that computes the class scores with --head (nodes: ${model.nodes().map(([n, op]) => `${n} (${op})`).slice(-8).join(', ')})`);
  }
  return fc[fc.length - 1]![0];
}

/** Features the head receives: the model's output with the head removed, on one sample. */
function headInputs(model: OnnxModel, head: string, probe: Dataset): number {
  model.replaceNode(head, null);
  const x = new Tensor(probe.get(0).input.slice(), [1, ...probe.sampleShape]);
  const shape = tidy(() => noGrad(() => model.forward(x).shape));
  if (shape.length !== 2) {
    throw new ConvkitError(`the input of node '${head}' is ${fmtShape(shape)}, not [N, features]; name the classifier node with --head`);
  }
  return shape[1]!;
}

async function train(model: Module, set: Dataset, flags: FinetuneFlags, callbacks: TrainerCallbacks, transform: { transform?: SampleTransform }): Promise<{ loss: number; trainable: number }> {
  const params = model.parameters().filter((p) => p.requiresGrad);
  const optimizer = makeOptimizer(flags.optimizer, params, { ...(flags.lr !== undefined ? { lr: flags.lr } : {}), weightDecay: 0 });
  // The same shuffle for both runs, so that they see the same batches in the same order.
  const loader = new DataLoader(set, { batchSize: flags.batchSize, shuffle: true, generator: new Generator(flags.seed + 2), ...transform });
  const result = await new Trainer(model, { train: loader, optimizer, epochs: flags.epochs, callbacks }).fit();
  return { loss: result.history[result.history.length - 1]?.trainLoss ?? NaN, trainable: params.reduce((n, p) => n + p.size, 0) };
}

/**
 * Any model kind as an OnnxModel, whose nodes can be replaced: an ONNX file as it is; a convkit
 * model, checkpoint or zoo model through an in-memory ONNX export of itself.
 */
async function asOnnxModel(file: string): Promise<{ model: OnnxModel; metadata: ModelMetadata }> {
  const { model, metadata, kind } = await loadModelArg(file, { zoo: {} });
  if (model instanceof OnnxModel) return { model, metadata };
  const input = metadata.inputShape;
  if (!input) throw new ConvkitError(`${file} does not record its input size, so it cannot be fine-tuned; export it with convkit export ${file} out.onnx --input WxHxC and fine-tune that`);
  return { model: loadOnnxBytes(exportOnnx(model, { inputShape: input }), { name: kind === 'zoo' ? `zoo model ${file}` : file }), metadata };
}

/** Fine-tunes `file` as the flags say; `log` receives progress lines. */
export async function runFinetune(file: string, flags: FinetuneFlags, callbacks: TrainerCallbacks = {}): Promise<FinetuneResult & { metadata: ModelMetadata }> {
  if (!(OPTIMIZERS as readonly string[]).includes(flags.optimizer)) throw new ConvkitError(`unknown optimizer '${flags.optimizer}'; choose one of ${OPTIMIZERS.join(', ')}`);
  if (flags.compare !== undefined && !(flags.compare in zoo)) throw new ConvkitError(`--compare takes a zoo model name (${Object.keys(zoo).join(', ')}), got '${flags.compare}'`);
  checkDataFlags(flags);
  const { model, metadata: source } = await asOnnxModel(file);
  const data = flags.data ?? (typeof source['trainedOn'] === 'string' ? source['trainedOn'] : undefined);
  if (!data) throw new ConvkitError(`${file} does not record the data it was trained on; say which data to fine-tune on with --data`);
  const splitOpts = { metadata: source, ...(source.inputShape ? { modelInput: source.inputShape, modelInputName: file } : {}) };
  const trainLoaded = loadSplit(data, flags, { split: 'train', ...splitOpts });
  const trainAll = trainLoaded.set;
  const testAll = loadSplit(data, flags, { split: 'test', ...splitOpts }).set;
  const dataClasses = trainAll.classes?.length ?? 0;
  const numClasses = flags.numClasses ?? dataClasses;
  if (dataClasses > numClasses) {
    throw new ConvkitError(`${data} has ${dataClasses} classes but --num-classes is ${numClasses}; give at least ${dataClasses}`);
  }
  const trainSet = sampleSubset(trainAll, flags.trainSize, flags.seed + 1);
  // The same test subset as `train` and `eval` draw with the same seed and --test-size.
  const testSet = sampleSubset(testAll, flags.testSize, flags.seed + 5);
  const normalization = chooseNormalization(flags.normalize, source, () => trainSet);
  const transform = normalization ? { transform: normalizationTransform(normalization) } : {};
  const head = findHead(model, flags.head);
  const inFeatures = headInputs(model, head, trainSet);
  const log = (text: string) => callbacks.onMessage?.(text);

  manualSeed(flags.seed);
  const layer = new Linear(inFeatures, numClasses);
  model.replaceNode(head, layer);
  if (flags.freezeTrunk) {
    model.requiresGrad(false);
    layer.requiresGrad(true);
  }
  log(
    `fine-tuning ${file}: node '${head}' replaced by Linear(${inFeatures}, ${numClasses})${flags.freezeTrunk ? ', trunk frozen' : ''}; ` +
      `${trainSet.length} ${data} training images, inputs ${describeNormalization(normalization)}, ${flags.epochs} epochs, ${flags.optimizer}, seed ${flags.seed}, backend ${getBackendName()}`,
  );
  model.train();
  const tuned = await train(model, trainSet, flags, callbacks, transform);
  const testLoader = new DataLoader(testSet, { batchSize: 256, ...transform });
  const r = await evaluateAsync(model, testLoader);
  const names = trainAll.classes ?? [];
  const [c, h, w] = trainSet.sampleShape as [number, number, number];
  const metadata: ModelMetadata = {
    inputShape: [c, h, w],
    classNames: Array.from({ length: numClasses }, (_, i) => names[i] ?? String(i)),
    ...(normalization ? { normalization } : {}),
    ...preparationMetadata(trainLoaded.pipeline),
    trainedOn: data,
    finetunedFrom: file,
    testAccuracy: r.accuracy,
    training: { epochs: flags.epochs, batchSize: flags.batchSize, optimizer: flags.optimizer, lr: flags.lr ?? null, seed: flags.seed, backend: getBackendName(), ...(flags.trainSize ? { trainSize: trainSet.length } : {}) },
  };
  const result: FinetuneResult & { metadata: ModelMetadata } = {
    head,
    inFeatures,
    trainImages: trainSet.length,
    testImages: testSet.length,
    finetuned: { testAccuracy: r.accuracy, testLoss: r.loss, trainable: tuned.trainable, finalTrainLoss: tuned.loss },
    metadata,
  };
  log(`fine-tuned: test accuracy ${(r.accuracy * 100).toFixed(2)}% on ${r.count} images (${tuned.trainable.toLocaleString('en-US')} trainable parameters)`);

  if (flags.compare) {
    manualSeed(flags.seed);
    if (h !== w) throw new ConvkitError(`--compare ${flags.compare}: the zoo takes square images, ${data} has ${w}x${h}`);
    const scratch = createModel(flags.compare, { numClasses, inChannels: c, inputSize: h });
    log(`from scratch: ${flags.compare} on the same ${trainSet.length} images, ${flags.epochs} epochs`);
    const s = await train(scratch, trainSet, flags, callbacks, transform);
    const e = await evaluateAsync(scratch, testLoader);
    result.scratch = { model: flags.compare, testAccuracy: e.accuracy, testLoss: e.loss, trainable: s.trainable, finalTrainLoss: s.loss };
    log(`from scratch: test accuracy ${(e.accuracy * 100).toFixed(2)}% on ${e.count} images (${s.trainable.toLocaleString('en-US')} trainable parameters)`);
  }
  if (flags.out) {
    model.eval();
    await saveOnnxWithMetadata(model, flags.out, {}, metadata);
    log(`saved ${flags.out}`);
  }
  return result;
}

export function registerFinetune(program: Command): void {
  const cmd = program
    .command('finetune <model>')
    .description('replace the head of a model (.onnx trained elsewhere, .convkit model or checkpoint, or a zoo name) and fine-tune it on your data');
  addDataOptions(cmd, {
    dataHelp: 'default: what the model was trained on',
    trainSize: true,
    normalizeHelp: "none: raw pixels in [0, 1]; channel: the model's recorded statistics, else per-channel ones of the training images (default: as recorded)",
  });
  cmd
    .option('--num-classes <n>', "classes of the new head (default: the data's)", positiveInt('--num-classes'))
    .option('--freeze-trunk', 'train the new head only')
    .option('--head <node>', 'the node to replace (default: the last Gemm or MatMul)')
    .option('--epochs <n>', 'passes over the training images', positiveInt('--epochs'), 5)
    .option('--batch-size <n>', 'examples per step', positiveInt('--batch-size'), 32)
    .option('--optimizer <name>', OPTIMIZERS.join(' | '), 'adam')
    .option('--lr <rate>', 'learning rate (default depends on the optimizer)', nonNegativeNumber('--lr'))
    .option('--compare <zoo-model>', 'also train this zoo model from scratch on the same images and epochs, e.g. lenet5')
    .option('--seed <n>', 'random seed', integer('--seed'), 0)
    .option('--out <file.onnx>', 'write the fine-tuned model as ONNX')
    .option('--json', 'one JSON object per line instead of a progress bar')
    .addHelpText(
      'after',
      '\nExample (issue #7): a LeNet-5 trained on digits in PyTorch, fine-tuned on 1,000 Fashion-MNIST images:\n' +
        '  convkit finetune test/fixtures/onnx-lenet/lenet5-digits.onnx --data fashion-mnist --num-classes 10 \\\n' +
        '    --train-size 1000 --freeze-trunk --epochs 10 --compare lenet5',
    )
    .action(
      action(async (file: string, flags: FinetuneFlags) => {
        if (flags.out && !flags.out.toLowerCase().endsWith('.onnx')) throw new ConvkitError(`--out should name an .onnx file, got '${flags.out}'`);
        const view = progressView(flags.json ? 'json' : 'auto');
        let result: FinetuneResult & { metadata?: ModelMetadata };
        try {
          result = await runFinetune(file, flags, view);
        } finally {
          view.stop();
        }
        const { metadata: _metadata, ...summary } = result;
        if (flags.json) process.stdout.write(`${JSON.stringify({ event: 'done', ...summary })}\n`);
        else {
          const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
          process.stdout.write(`fine-tuned ${file}: test accuracy ${pct(result.finetuned.testAccuracy)}` + (result.scratch ? `; ${result.scratch.model} from scratch: ${pct(result.scratch.testAccuracy)}` : '') + '\n');
        }
      }),
    );
}
