/**
 * The analysis tools the playground uses (pattern language, summary, number formats). They
 * are not on convkit's public surface yet, so this one file reaches into the sources; when
 * `ck.analysis` exists, only this file changes.
 */
export { buildPattern, type BuiltPattern } from '../../../src/analysis/pattern-builder.js';
export { parsePattern, expandPattern, type PatternLayer } from '../../../src/analysis/pattern-parser.js';
export { summarize, type SummaryReport, type SummaryRow } from '../../../src/analysis/summary.js';
export { formatBytes, formatCount, formatMetric, formatVolume } from '../../../src/analysis/units.js';
