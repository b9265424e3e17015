import { buildPattern, type PatternOptions } from './pattern-builder.js';
import { summarize, type SummaryOptions, type SummaryReport } from './summary.js';

/**
 * The summary of a pattern (`convkit summary "INPUT[32x32x3] -> ..."`), nothing built; each
 * row's label is the layer as the pattern writes it.
 */
export function summarizePattern(pattern: string, opts: Omit<SummaryOptions, 'input'> & PatternOptions = {}): SummaryReport {
  const built = buildPattern(pattern, opts.input ? { input: opts.input } : {});
  const report = summarize(built.config, { ...opts, input: built.input, name: opts.name ?? 'pattern' });
  // A CONV row reads as written (CONV5-8/1, not the equivalent CONV5-8p0 the geometry gives).
  const written = new Map(built.sources.map((s) => [s.path, s.text.toUpperCase().replace(/P(\d+)$/, 'p$1')]));
  for (const row of report.rows) {
    const text = written.get(row.path);
    if (text && /^CONV/.test(text) && /^CONV/.test(row.label)) row.label = text;
  }
  return report;
}
