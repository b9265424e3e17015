import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConvkitError } from '../../tensor/errors.js';
import { randint, randn } from '../../tensor/creation.js';
import { manualSeed } from '../../tensor/random.js';
import { tidy } from '../../tensor/scope.js';
import type { Tensor } from '../../tensor/tensor.js';
import { noGrad } from '../../autograd/tape.js';
import { setBackend } from '../../backend/registry.js';
import type { Module, ModuleConfig } from '../../nn/module.js';
import { fromConfig } from '../../nn/registry.js';
import { optimizeForInference } from '../../nn/optimize-for-inference.js';
import { crossEntropy } from '../../losses/cross-entropy.js';
import { SGD } from '../../optim/sgd.js';
import { createModel, zoo, zooInputShape } from '../../models/index.js';
import { modelFromPattern } from '../../analysis/pattern-builder.js';
import { looksLikePattern } from '../../analysis/pattern-parser.js';
import { profile, profileRegion } from '../../analysis/profile.js';
import { formatVolume, parseVolume } from '../../analysis/units.js';
import { readBytes } from '../../io/files.js';
import { containerKind } from '../../io/container.js';
import { deserializeModel } from '../../io/model-file.js';
import { loadOnnx } from '../../io/onnx/load-onnx.js';
import { deserializeCheckpoint } from '../../train/checkpoint.js';
import { action, integer, positiveInt } from '../run.js';

interface ProfileFlags {
  input?: string;
  batch: number;
  train?: boolean;
  steps: number;
  warmup: number;
  backend?: string;
  seed: number;
  json?: boolean;
}

export function registerProfile(program: Command): void {
  program
    .command('profile <model>')
    .description('time per layer and per kernel (forward, input gradient, weight gradient), GFLOP/s, time outside kernels')
    .option('--input <WxHxC>', "input volume, e.g. 224x224x3 (default: the model's own)")
    .option('--batch <n>', 'images per step', positiveInt('--batch'), 1)
    .option('--train', 'profile a training step (forward, cross-entropy, backward, SGD update) instead of inference')
    .option('--steps <n>', 'measured steps (the tables show their mean)', positiveInt('--steps'), 5)
    .option('--warmup <n>', 'unmeasured steps first', integer('--warmup'), 2)
    .option('--backend <name>', 'js | wasm (default: CONVKIT_BACKEND, else wasm where available)')
    .option('--seed <n>', 'random seed of the weights and the random input', integer('--seed'), 0)
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      '\n<model> is a zoo name (vgg16, resnet18, ...), a saved .convkit model or training checkpoint, an architecture .json,\n' +
        'an .onnx file, or a pattern such as "INPUT[32x32x3] -> [CONV3-16 -> RELU -> POOL2]*2 -> FC10".\n' +
        'The input is random; each row is a layer\'s own time per step, and the rows add up to the step.',
    )
    .action(action(async (spec: string, flags: ProfileFlags) => runProfile(spec, flags)));
}

interface Resolved {
  model: Module;
  input: [number, number, number];
}

function needInput(spec: string, input: [number, number, number] | undefined): [number, number, number] {
  if (!input) throw new ConvkitError(`${spec}: the input volume is not recorded in the file; give it with --input WxHxC`);
  return input;
}

/** A zoo name, a pattern, or a file: saved model, checkpoint, architecture JSON or ONNX. */
async function resolve(spec: string, input: [number, number, number] | undefined): Promise<Resolved> {
  if (spec in zoo) {
    if (input && input[1] !== input[2]) throw new ConvkitError(`the zoo's ${spec} expects square inputs, got --input ${formatVolume(input)}`);
    const opts = input ? { inChannels: input[0], inputSize: input[1] } : {};
    return { model: createModel(spec, opts), input: input ?? zooInputShape(spec, opts) };
  }
  if (!existsSync(spec) && looksLikePattern(spec)) {
    const built = modelFromPattern(spec, input ? { input } : {});
    return { model: built.model, input: built.input };
  }
  if (!existsSync(spec)) {
    throw new ConvkitError(`unknown model '${spec}': not a zoo name (${Object.keys(zoo).join(', ')}), not an existing file, and not a pattern`);
  }
  if (spec.endsWith('.onnx')) {
    const onnx = await loadOnnx(spec);
    const dims = onnx.inputDims[0];
    const fromGraph = dims && dims.length === 4 && dims.slice(1).every((d) => d !== null) ? (dims.slice(1) as [number, number, number]) : undefined;
    return { model: onnx, input: needInput(spec, input ?? fromGraph) };
  }
  if (spec.endsWith('.json')) {
    let config: ModuleConfig;
    try {
      config = JSON.parse(readFileSync(spec, 'utf8')) as ModuleConfig;
    } catch (e) {
      throw new ConvkitError(`${spec}: is not valid JSON (${(e as Error).message})`);
    }
    return { model: fromConfig(config), input: needInput(spec, input) };
  }
  const bytes = await readBytes(spec);
  if (containerKind(bytes) === 'checkpoint') {
    const state = deserializeCheckpoint(bytes, spec);
    if (!state.architecture) throw new ConvkitError(`${spec}: the checkpoint does not record the architecture, so there is no model to run`);
    const model = fromConfig(state.architecture);
    model.loadStateDict(state.model);
    return { model, input: needInput(spec, input) };
  }
  const { model, metadata } = deserializeModel(bytes, spec);
  const recorded = metadata.inputShape?.length === 3 ? (metadata.inputShape as [number, number, number]) : undefined;
  return { model, input: needInput(spec, input ?? recorded) };
}

/** One SGD step on random labels: forward, cross-entropy, backward, update (named rows for the parts outside the model). */
function trainingStep(model: Module, x: Tensor, target: Tensor, optimizer: SGD): () => void {
  return () =>
    tidy(() => {
      const logits = model.forward(x);
      const loss = profileRegion('(loss)', () => crossEntropy(logits, target));
      profileRegion('(backward)', () => loss.backward());
      profileRegion('(optimizer)', () => {
        optimizer.step();
        optimizer.zeroGrad();
      });
    });
}

/** Labels for the model's output [N, K, ...]: one class in [0, K) per position. */
function randomTargets(model: Module, x: Tensor): Tensor {
  const shape = noGrad(() => tidy(() => [...model.forward(x).shape]));
  if (shape.length < 2) {
    throw new ConvkitError(`--train needs an output of scores per class [N, K, ...], but the model gives ${formatVolume(shape)}`);
  }
  return randint(0, shape[1]!, [shape[0]!, ...shape.slice(2)]);
}

async function runProfile(spec: string, flags: ProfileFlags): Promise<void> {
  if (flags.warmup < 0) throw new ConvkitError(`--warmup must be 0 or more, got ${flags.warmup}`);
  if (flags.backend) await setBackend(flags.backend);
  manualSeed(flags.seed);
  const { model, input } = await resolve(spec, flags.input ? parseVolume(flags.input) : undefined);
  const x = randn([flags.batch, ...input]);
  const mode = flags.train ? 'train' : 'inference';
  let step: () => void;
  if (flags.train) {
    model.train();
    const target = randomTargets(model, x);
    // A small rate: random labels must not drive the weights far over the steps.
    step = trainingStep(model, x, target, new SGD(model.parameters(), { lr: 1e-4 }));
  } else {
    // What predict runs: the inference plan (folded batch norms show no time of their own).
    const runner = optimizeForInference(model);
    step = () => noGrad(() => tidy(() => void runner.forward(x)));
  }
  const what = flags.train ? 'training step (forward, cross-entropy, backward, SGD update)' : 'inference';
  const title = `${spec} on ${formatVolume(input)}, batch ${flags.batch}, ${what}`;
  const report = profile(step, { steps: flags.steps, warmup: flags.warmup, model, title });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ model: spec, input, batch: flags.batch, mode, ...report })}\n`);
    return;
  }
  process.stdout.write(`${report.format()}\n`);
}
