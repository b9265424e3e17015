import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { ConvkitError } from '../../tensor/errors.js';
import type { Module } from '../../nn/module.js';
import { zoo, zooConfig, zooInputShape } from '../../models/index.js';
import { summarize, renderSummary, type SummaryReport } from '../../analysis/summary.js';
import { summarizePattern } from '../../analysis/summarize-pattern.js';
import { looksLikePattern } from '../../analysis/pattern-parser.js';
import { lint, lintPattern, renderLint } from '../../analysis/lint.js';
import { estimateTrainingMemory, largestBatchThatFits, renderBatchFit, renderTrainingMemory, type OptimizerName } from '../../analysis/memory-estimate.js';
import { parseMemorySize, parseVolume } from '../../analysis/units.js';
import { loadWithMetadata } from '../../io/save-load.js';
import { loadOnnx } from '../../io/onnx/load-onnx.js';
import { action, positiveInt } from '../run.js';
import { withNetworkInputHint } from '../../analysis/pattern-input-hint.js';
import { modelFromPattern } from '../../analysis/pattern-builder.js';
import { fromConfig } from '../../nn/registry.js';
import { fusedPlan, renderFusedPlan, type FusedPlanStep } from '../fused-plan.js';

interface SummaryFlags {
  input?: string;
  batch: number;
  optimizer: OptimizerName;
  fit?: string;
  json?: boolean;
  fused?: boolean;
}

const OPTIMIZER_NAMES: OptimizerName[] = ['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam', 'adamw'];

export function registerSummary(program: Command): void {
  program
    .command('summary <model>')
    .description('per-layer volumes, parameters, activations, multiply-adds and receptive fields; training memory')
    .option('--input <WxHxC>', 'input volume, e.g. 224x224x3 (default: the model\'s own)')
    .option('--batch <n>', 'batch size for activations, FLOPs and the training-memory estimate', positiveInt('--batch'), 1)
    .option('--optimizer <name>', `optimizer state in the memory estimate: ${OPTIMIZER_NAMES.join(' | ')}`, 'sgd')
    .option('--fit <memory>', 'the largest batch that fits in this much memory, e.g. 4GB')
    .option('--json', 'print one JSON object')
    .option('--fused', 'also show the inference plan predict and eval run: which layers are fused, where activations are freed')
    .addHelpText(
      'after',
      '\n<model> is a zoo name (vgg16, resnet18, ...), a saved .convkit model, an .onnx file, or a pattern such as\n' +
        '  "INPUT[32x32x3] -> [[CONV3-16 -> RELU]*2 -> POOL2]*3 -> [FC64 -> RELU]*2 -> FC10"',
    )
    .action(action(async (spec: string, flags: SummaryFlags) => runSummary(spec, flags)));
}

async function runSummary(spec: string, flags: SummaryFlags): Promise<void> {
  if (!OPTIMIZER_NAMES.includes(flags.optimizer)) {
    throw new ConvkitError(`unknown optimizer '${flags.optimizer}'; choose one of ${OPTIMIZER_NAMES.join(', ')}`);
  }
  const input = flags.input ? parseVolume(flags.input) : undefined;
  let report: SummaryReport;
  let warnings;
  // The model itself, for --fused (a zoo name or a pattern is summarized from its description alone).
  let build: () => Module;
  if (spec in zoo) {
    const opts = input ? { inChannels: input[0], inputSize: input[1] } : {};
    const shape = input ?? zooInputShape(spec, opts);
    const config = zooConfig(spec, opts);
    report = summarize(config, { input: shape, batch: flags.batch, name: spec });
    warnings = lint(config, shape);
    build = () => fromConfig(config);
  } else if (!existsSync(spec) && looksLikePattern(spec)) {
    const opts = input ? { input } : {};
    report = summarizePattern(spec, { batch: flags.batch, ...opts });
    warnings = lintPattern(spec, opts);
    build = () => modelFromPattern(spec, opts).model;
  } else if (existsSync(spec)) {
    let model: Module;
    let shape = input as readonly number[] | undefined;
    if (spec.endsWith('.onnx')) {
      const onnx = await loadOnnx(spec);
      const dims = onnx.inputDims[0];
      if (!shape && dims && dims.length === 4 && dims.slice(1).every((d) => d !== null)) shape = dims.slice(1) as number[];
      model = onnx;
    } else {
      const loaded = await loadWithMetadata(spec);
      model = loaded.model;
      shape ??= loaded.metadata.inputShape;
    }
    if (!shape) throw new ConvkitError(`${spec}: the input volume is not recorded in the file; give it with --input WxHxC`);
    const input3 = shape;
    try {
      report = summarize(model, { input: input3, batch: flags.batch, name: spec });
    } catch (e) {
      // A window that does not fit deep inside: name network inputs that work, not inner sizes.
      if (input3.length !== 3) throw e;
      throw withNetworkInputHint(e, [input3[0]!, input3[1]!, input3[2]!], (s) => summarize(model, { input: s, batch: 1 }) !== null);
    }
    warnings = lint(model, shape);
    build = () => model;
  } else {
    throw new ConvkitError(`unknown model '${spec}': not a zoo name (${Object.keys(zoo).join(', ')}), not an existing file, and not a pattern`);
  }
  const memory = estimateTrainingMemory(report, { batch: flags.batch, optimizer: flags.optimizer });
  const fit = flags.fit ? largestBatchThatFits(report, parseMemorySize(flags.fit), { optimizer: flags.optimizer }) : undefined;
  const plan: FusedPlanStep[] | undefined = flags.fused ? fusedPlan(build()) : undefined;
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ ...report, trainingMemory: memory, lint: warnings, ...(fit ? { fit } : {}), ...(plan ? { fusedPlan: plan } : {}) })}\n`);
    return;
  }
  process.stdout.write(`${renderSummary(report)}\n\n${renderTrainingMemory(memory)}\n`);
  if (fit) process.stdout.write(`${renderBatchFit(fit)}\n`);
  if (plan) process.stdout.write(`\n${renderFusedPlan(plan)}\n`);
  if (warnings.length) process.stdout.write(`\n${renderLint(warnings)}\n`);
}
