import { buildPattern, type PatternOptions } from './pattern-builder.js';
import { summarize, type SummaryOptions, type SummaryReport } from './summary.js';

/**
 * The summary of a pattern (`convkit summary "INPUT[32x32x3] -> ..."`), nothing built; each
 * row's label is the layer as the pattern writes it.
 */
export function summarizePattern(pattern: string, opts: Omit<SummaryOptions, 'input'> & PatternOptions = {}): SummaryReport {
  const built = buildPattern(pattern, opts.input ? { input: opts.input } : {});
  return summarize(built.config, { ...opts, input: built.input, name: opts.name ?? 'pattern' });
}
