import * as ck from 'convkit';
import type { ModuleConfigJson, NetSpec } from '../shared/protocol.js';
import { buildPattern, formatVolume, summarize, type SummaryReport } from './analysis.js';

/**
 * A network as the page and the worker pass it around: the pattern text, the Sequential's
 * description, the input shape and one label per layer. Made from a pattern (the editor) or
 * from a loaded model (whose pattern is its layers' labels, unless the file recorded one).
 */

/** Checks and lays out a pattern; a ConvkitError (syntax, or geometry with its arithmetic) otherwise. */
export function netFromPattern(pattern: string): NetSpec {
  const built = buildPattern(pattern);
  return { pattern, config: built.config as ModuleConfigJson, input: built.input, labels: layerLabels(summarize(built.config, { input: built.input })) };
}

/** The label of each layer of a Sequential, by its index (the summary's rows are named by path). */
function layerLabels(report: SummaryReport): string[] {
  const labels: string[] = [];
  for (const r of report.rows) if (/^\d+$/.test(r.path)) labels[Number(r.path)] = r.label;
  return labels;
}

/** The summary the editor's table shows (per-layer shapes, parameters, activations, memory). */
export function netSummary(net: NetSpec, batch: number): SummaryReport {
  return summarize(net.config, { input: net.input, batch });
}

/** A loaded model as a NetSpec; only plain Sequentials (what the playground builds) qualify. */
export function netFromModel(model: ck.nn.Module, input: [number, number, number], pattern?: string): NetSpec {
  const config = model.getConfig() as ModuleConfigJson;
  if (config.type !== 'Sequential') {
    throw new ck.ConvkitError(`the playground trains Sequential models; this file holds a ${config.type}`);
  }
  const labels = layerLabels(summarize(config, { input }));
  // FLATTEN is implied before an FC in the pattern language.
  const text = pattern ?? `INPUT${formatVolume(input)} -> ${labels.filter((l) => l !== 'FLATTEN').join(' -> ')}`;
  return { pattern: text, config, input, labels };
}
