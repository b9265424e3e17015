import { ConvkitError } from '../tensor/errors.js';
import type { SummaryReport } from './summary.js';
import { formatBytes } from './units.js';

/**
 * How much memory training takes, the CS231n notes' way: the activations of every item and
 * their gradients, the parameters with their gradients and the optimizer's state, and the
 * data batch; plus the max-pool switches (an int32 per pooled output) that backward needs. `largestBatchThatFits` turns it around (`convkit summary --fit 4GB`).
 *
 * Optimizer state, in copies of the parameters: plain SGD none, SGD with momentum 1 (the
 * velocity), Adagrad and RMSprop 1 (the running sum / average of squared gradients), Adam 2
 * (first and second moments).
 */
export type OptimizerName = 'sgd' | 'momentum' | 'nesterov' | 'adagrad' | 'rmsprop' | 'adam' | 'adamw';

const STATE_COPIES: Record<OptimizerName, number> = { sgd: 0, momentum: 1, nesterov: 1, adagrad: 1, rmsprop: 1, adam: 2, adamw: 2 };

/** What `trainingMemory` assumes: the batch size, the optimizer (its state copies) and the bytes per value. */
export interface TrainingMemoryOptions {
  batch: number;
  /** Default 'sgd' (no state). */
  optimizer?: OptimizerName;
  /** Bytes per value: 4 (float32, the default) or 8 (float64). */
  bytesPerValue?: number;
}

/** Bytes of memory one training step needs, by part (activations, gradients, parameters, optimizer state, ...) and in total. */
export interface TrainingMemory {
  batch: number;
  optimizer: OptimizerName;
  optimizerStateCopies: number;
  /** Bytes of each part, and their sum. */
  activations: number;
  activationGradients: number;
  parameters: number;
  parameterGradients: number;
  optimizerState: number;
  /** The max-pool layers' switches: which input won each window, an int32 per output. */
  switches: number;
  /** The input batch and its int32 labels. */
  data: number;
  total: number;
}

function optimizerCopies(name: string): number {
  const copies = STATE_COPIES[name as OptimizerName];
  if (copies === undefined) {
    throw new ConvkitError(`unknown optimizer '${name}'; expected one of ${Object.keys(STATE_COPIES).join(', ')}`);
  }
  return copies;
}

/**
 * Memory to train with this batch size. Activations are the summary's counted layer outputs
 * (the input is part of the data batch instead); each also gets a gradient in backward.
 */
export function estimateTrainingMemory(report: SummaryReport, opts: TrainingMemoryOptions): TrainingMemory {
  const { batch } = opts;
  if (!Number.isInteger(batch) || batch < 1) throw new ConvkitError(`training memory: batch must be a positive integer, got ${JSON.stringify(batch)}`);
  const optimizer = opts.optimizer ?? 'sgd';
  const copies = optimizerCopies(optimizer);
  const size = opts.bytesPerValue ?? 4;
  if (size !== 4 && size !== 8) throw new ConvkitError(`training memory: bytesPerValue must be 4 (float32) or 8 (float64), got ${size}`);
  const perItem = perItemBytes(report, size);
  const fixed = fixedBytes(report, size, copies);
  const activations = batch * perItem.activations;
  const data = batch * perItem.data;
  const switches = batch * perItem.switches;
  return {
    batch,
    optimizer,
    optimizerStateCopies: copies,
    activations,
    activationGradients: activations,
    parameters: fixed.parameters,
    parameterGradients: fixed.parameters,
    optimizerState: fixed.state,
    switches,
    data,
    total: 2 * activations + switches + data + fixed.total,
  };
}

const POOLS_WITH_SWITCHES = new Set(['MaxPool2d', 'AdaptiveMaxPool2d']);

function perItemBytes(report: SummaryReport, size: number): { activations: number; switches: number; data: number } {
  const layerOutputs = report.totals.activations - report.inputActivations;
  const pooled = report.rows.filter((r) => POOLS_WITH_SWITCHES.has(r.type)).reduce((s, r) => s + r.output.reduce((a, b) => a * b, 1), 0);
  // One label per item, int32.
  return { activations: layerOutputs * size, switches: 4 * pooled, data: report.inputActivations * size + 4 };
}

function fixedBytes(report: SummaryReport, size: number, copies: number): { parameters: number; state: number; total: number } {
  const parameters = report.totals.params * size;
  return { parameters, state: copies * parameters, total: (2 + copies) * parameters };
}

/** The answer of `largestBatchThatFits`: the batch size, its memory and the budget it was checked against. */
export interface BatchFit {
  /** The largest batch size that fits (0 when even the parameters do not). */
  batch: number;
  /** Memory at that batch size (at batch 1 when nothing fits, to show by how much). */
  memory: TrainingMemory;
  budget: number;
}

/** The largest batch size whose training memory fits in `budgetBytes`. */
export function largestBatchThatFits(report: SummaryReport, budgetBytes: number, opts: Omit<TrainingMemoryOptions, 'batch'> = {}): BatchFit {
  if (!(budgetBytes > 0)) throw new ConvkitError(`training memory: the budget must be a positive number of bytes, got ${budgetBytes}`);
  const size = opts.bytesPerValue ?? 4;
  const perItem = perItemBytes(report, size);
  const fixed = fixedBytes(report, size, optimizerCopies(opts.optimizer ?? 'sgd')).total;
  // total(B) = fixed + B * (2 * activations + switches + data), linear in B.
  const batch = Math.max(0, Math.floor((budgetBytes - fixed) / (2 * perItem.activations + perItem.switches + perItem.data)));
  return { batch, memory: estimateTrainingMemory(report, { ...opts, batch: Math.max(batch, 1) }), budget: budgetBytes };
}

/** The estimate as text lines. */
export function renderTrainingMemory(m: TrainingMemory): string {
  const rows: [string, number][] = [
    [`activations (batch ${m.batch})`, m.activations],
    ['activation gradients', m.activationGradients],
    ['parameters', m.parameters],
    ['parameter gradients', m.parameterGradients],
    [`optimizer state (${m.optimizer}: ${m.optimizerStateCopies}x parameters)`, m.optimizerState],
    ...(m.switches > 0 ? [['max-pool switches (int32)', m.switches] as [string, number]] : []),
    ['data batch (inputs + labels)', m.data],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return [...rows.map(([k, v]) => `${k.padEnd(w)}  ${formatBytes(v)}`), `${'total'.padEnd(w)}  ${formatBytes(m.total)}`].join('\n');
}

/** The answer to `--fit`, as text. */
export function renderBatchFit(f: BatchFit): string {
  if (f.batch === 0) {
    return `nothing fits in ${formatBytes(f.budget)}: batch 1 needs ${formatBytes(f.memory.total)}`;
  }
  return `largest batch that fits in ${formatBytes(f.budget)}: ${f.batch} (${formatBytes(f.memory.total)})\n${renderTrainingMemory(f.memory)}`;
}
