import { Module, type ModuleConfig } from '../nn/module.js';
import { ConvkitError } from '../tensor/errors.js';
import { traceConfig, traceModule, type TracedLayer } from './trace.js';
import { formatBytes, formatCount, formatMetric, formatVolume } from './units.js';

/**
 * `convkit summary`: one row per layer (output volume, activations, weights and biases,
 * multiply-adds, receptive field) and the totals that the CS231n notes work out by hand for
 * VGG-16: parameters, activation memory per image, FLOPs.
 *
 * What counts as an activation (memory), as in the notes' VGG-16 table: the input and the
 * output of every layer that stores a new volume. RELU (and the other pointwise activations)
 * count as in place, FLATTEN as a view, DROPOUT and IDENTITY as the identity at inference;
 * their rows show the size but the totals leave them out (`countInPlace: true` counts them).
 * Multiply-adds are those of CONV and FC layers (pooling, normalization and activations are
 * left out); FLOPs are 2 per multiply-add.
 */

export interface SummaryOptions {
  /** Per-item input shape [C, H, W]. */
  input: readonly number[];
  /** Items per forward pass; scales activations and FLOPs (default 1). */
  batch?: number;
  /** Count the outputs of in-place / view layers too (default false, the notes' convention). */
  countInPlace?: boolean;
  /** A name for the report's title (default: the model's class or 'model'). */
  name?: string;
}

export interface SummaryRow extends TracedLayer {
  /** Output volume in the notes' notation, `[112x112x64]`. */
  volume: string;
  /** Output values for one item. */
  activations: number;
  /** Whether `activations` enter the memory totals (false for in-place / view layers). */
  counted: boolean;
  params: number;
}

export interface ByteSizes {
  float32: number;
  float64: number;
}

export interface SummaryTotals {
  params: number;
  weights: number;
  biases: number;
  paramBytes: ByteSizes;
  /** Activations of one item's forward pass: the input plus every counted layer output. */
  activations: number;
  activationBytes: ByteSizes;
  /** Forward + backward: each activation also gets a gradient of its size. */
  activationsForwardBackward: number;
  activationBytesForwardBackward: ByteSizes;
  /** The same for the whole batch. */
  batchActivations: number;
  batchActivationBytes: ByteSizes;
  /** Multiply-adds and FLOPs of one item, and of the batch. */
  macs: number;
  flops: number;
  batchFlops: number;
}

export interface SummaryReport {
  name: string;
  /** Per-item input shape [C, H, W] and its volume notation. */
  input: number[];
  inputVolume: string;
  inputActivations: number;
  batch: number;
  rows: SummaryRow[];
  totals: SummaryTotals;
  /** Where the memory and the parameters are: the row with the most activations, and the most parameters. */
  largestActivations: string | null;
  largestParams: string | null;
  /** What is counted, in words (printed under the table). */
  notes: string[];
}

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);
const bytes = (n: number): ByteSizes => ({ float32: 4 * n, float64: 8 * n });

/**
 * The summary of a built model, or of a model description (`getConfig()` JSON, e.g.
 * `models.zooConfig('vgg16')`), which needs no weights.
 */
export function summarize(model: Module | ModuleConfig, opts: SummaryOptions): SummaryReport {
  const batch = opts.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw new ConvkitError(`summary: batch must be a positive integer, got ${JSON.stringify(opts.batch)}`);
  const input = [...opts.input];
  const traced = model instanceof Module ? traceModule(model, input) : traceConfig(model, input);
  const rows: SummaryRow[] = traced.map((t) => ({
    ...t,
    volume: formatVolume(t.output),
    activations: prod(t.output),
    counted: opts.countInPlace === true || !t.inPlace,
    params: t.weights + t.biases,
  }));
  const weights = rows.reduce((s, r) => s + r.weights, 0);
  const biases = rows.reduce((s, r) => s + r.biases, 0);
  if (model instanceof Module) {
    // A parameter that no traced layer owns (a graph module's own) would be missing above.
    const owned = model.parameters().reduce((s, p) => s + p.size, 0);
    if (owned !== weights + biases) {
      rows.push(otherParamsRow(owned - weights - biases));
    }
  }
  const inputActivations = prod(input);
  const activations = inputActivations + rows.reduce((s, r) => s + (r.counted ? r.activations : 0), 0);
  const macs = rows.reduce((s, r) => s + r.macs, 0);
  const params = rows.reduce((s, r) => s + r.params, 0);
  const byActs = rows.filter((r) => r.counted).reduce<SummaryRow | null>((m, r) => (!m || r.activations > m.activations ? r : m), null);
  const byParams = rows.reduce<SummaryRow | null>((m, r) => (r.params > 0 && (!m || r.params > m.params) ? r : m), null);
  const name = opts.name ?? (model instanceof Module ? model.typeName : model.type);
  return {
    name,
    input,
    inputVolume: formatVolume(input),
    inputActivations,
    batch,
    rows,
    totals: {
      params,
      weights: rows.reduce((s, r) => s + r.weights, 0),
      biases: rows.reduce((s, r) => s + r.biases, 0),
      paramBytes: bytes(params),
      activations,
      activationBytes: bytes(activations),
      activationsForwardBackward: 2 * activations,
      activationBytesForwardBackward: bytes(2 * activations),
      batchActivations: batch * activations,
      batchActivationBytes: bytes(batch * activations),
      macs,
      flops: 2 * macs,
      batchFlops: 2 * macs * batch,
    },
    largestActivations: byActs ? describeRow(byActs) : null,
    largestParams: byParams ? describeRow(byParams) : null,
    notes: [
      'activations: the input plus every layer output that needs new memory; ' +
        (opts.countInPlace
          ? 'in-place and view layers are counted too (countInPlace)'
          : 'RELU counts as in place, FLATTEN as a view, DROPOUT as the identity at inference (the CS231n VGG-16 table\'s convention)'),
      'forward + backward: every counted activation also holds a gradient of its size (x2)',
      'multiply-adds: CONV and FC layers (H*W*K*C*F*F and in*out); FLOPs = 2 per multiply-add; pooling, normalization and activations are not counted',
    ],
  };
}

function otherParamsRow(n: number): SummaryRow {
  return {
    path: '(other)',
    type: 'Parameters',
    kind: 'other',
    label: 'PARAMS',
    input: [],
    output: [],
    weights: n,
    biases: 0,
    macs: 0,
    window: null,
    receptiveField: null,
    jump: [1, 1],
    inPlace: true,
    volume: '',
    activations: 0,
    counted: false,
    params: n,
  };
}

function describeRow(r: SummaryRow): string {
  return `${r.label} ${r.volume}${r.path ? ` (${r.path})` : ''}`;
}

function rf(r: SummaryRow): string {
  if (!r.receptiveField) return '?';
  const [h, w] = r.receptiveField;
  return h === w ? `${h}` : `${h}x${w}`;
}

/** The report as a text table with totals, for the terminal. */
export function renderSummary(report: SummaryReport): string {
  const header = ['layer', 'path', 'output', 'activations', 'weights', 'biases', 'mult-adds', 'RF'];
  const body: string[][] = [['INPUT', '', report.inputVolume, formatCount(report.inputActivations), '', '', '', '1']];
  for (const r of report.rows) {
    body.push([
      r.label,
      r.path,
      r.volume,
      r.volume ? (r.counted ? formatCount(r.activations) : `(${formatCount(r.activations)})`) : '',
      r.weights ? formatCount(r.weights) : '',
      r.biases ? formatCount(r.biases) : '',
      r.macs ? formatCount(r.macs) : '',
      r.volume ? rf(r) : '',
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const numeric = new Set([3, 4, 5, 6, 7]);
  const line = (cells: string[]): string =>
    cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const t = report.totals;
  const b = report.batch;
  const out = [
    `${report.name} on ${report.inputVolume}${b > 1 ? `, batch ${b}` : ''}`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    '',
    `parameters: ${formatCount(t.params)} (weights ${formatCount(t.weights)}, biases ${formatCount(t.biases)}) = ` +
      `${formatBytes(t.paramBytes.float32)} at float32, ${formatBytes(t.paramBytes.float64)} at float64`,
    `activations, one image forward: ${formatCount(t.activations)} = ${formatBytes(t.activationBytes.float32)} at float32 ` +
      `(${formatCount(t.activationBytes.float32)} bytes), ${formatBytes(t.activationBytes.float64)} at float64`,
    `activations, forward + backward: ${formatCount(t.activationsForwardBackward)} = ${formatBytes(t.activationBytesForwardBackward.float32)} at float32, ` +
      `${formatBytes(t.activationBytesForwardBackward.float64)} at float64`,
    ...(b > 1
      ? [`activations, batch of ${b} forward: ${formatCount(t.batchActivations)} = ${formatBytes(t.batchActivationBytes.float32)} at float32`]
      : []),
    `multiply-adds: ${formatCount(t.macs)}; FLOPs: ${formatMetric(t.flops)}${b > 1 ? ` per image, ${formatMetric(t.batchFlops)} per batch` : ''}`,
    ...(report.largestActivations ? [`most activations: ${report.largestActivations}`] : []),
    ...(report.largestParams ? [`most parameters: ${report.largestParams}`] : []),
    '',
    ...report.notes.map((n) => `note: ${n}`),
    'note: rows in parentheses are in place / views and are not in the totals',
  ];
  return out.join('\n');
}
