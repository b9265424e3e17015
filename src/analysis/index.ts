/**
 * `ck.analysis`: what the CS231n notes work out by hand, computed: the per-layer summary
 * (volumes, activations, parameters, multiply-adds, receptive field) and its totals, the
 * training memory estimate, the pattern language, the sizing linter, FC -> CONV conversion.
 * Every function returns plain data; the `render*` functions turn it into text.
 */
export { summarize, renderSummary, type SummaryOptions, type SummaryReport, type SummaryRow, type SummaryTotals, type ByteSizes } from './summary.js';
export { summarizePattern } from './summarize-pattern.js';
export { traceModule, traceConfig, type TracedLayer } from './trace.js';
export type { LayerKind, Window } from './layer-facts.js';
export {
  estimateTrainingMemory,
  largestBatchThatFits,
  renderTrainingMemory,
  renderBatchFit,
  type OptimizerName,
  type TrainingMemory,
  type TrainingMemoryOptions,
  type BatchFit,
} from './memory-estimate.js';
export {
  parsePattern,
  expandPattern,
  looksLikePattern,
  type PatternAst,
  type PatternNode,
  type PatternLayer,
  type LayerNode,
  type RepeatNode,
  type PatternInput,
} from './pattern-parser.js';
export { buildPattern, modelFromPattern, patternForClasses, type BuiltPattern, type PatternOptions, type PatternLayerSource } from './pattern-builder.js';
export { lint, lintLayers, lintPattern, renderLint, type LintWarning, type LintRule } from './lint.js';
export {
  toFullyConvolutional,
  fullyConvolutionalConfig,
  totalStride,
  scoreGrid,
  averageScoreGrid,
  shiftedScoreGrid,
  halfStrideScoreGrid,
  type ConversionStep,
} from './fc-to-conv.js';
export { formatVolume, parseVolume, formatBytes, parseMemorySize, formatCount, formatMetric } from './units.js';
export { profile, profileRegion, type ProfileOptions, type ProfileReport, type ProfileLayerRow, type ProfileKernelRow } from './profile.js';
export { formatProfile } from './profile-format.js';
