/**
 * The parts of `ck.analysis` the playground uses: the pattern language, the summary and the
 * number formats. Imported by path (the same module the 'convkit' alias resolves to), so that
 * Node's type check and the unit tests of web/ resolve this file too.
 */
export {
  buildPattern,
  parsePattern,
  expandPattern,
  summarize,
  formatBytes,
  formatCount,
  formatMetric,
  formatVolume,
  type BuiltPattern,
  type PatternLayer,
  type SummaryReport,
  type SummaryRow,
} from '../../../src/analysis/index.js';
