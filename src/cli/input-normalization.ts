import { ConvkitError } from '../tensor/errors.js';
import type { Dataset } from '../data/dataset.js';
import type { SampleTransform } from '../data/data-loader.js';
import { datasetStatistics } from '../data/image/statistics.js';
import { normalizationFromStats, normalizeBuffer, type Normalization } from '../data/image/normalize.js';
import type { ModelMetadata } from '../io/model-file.js';

/**
 * Input standardization for the CLI: `train` computes per-channel mean and std over the
 * training split (as the PyTorch reference does for Fashion-MNIST), feeds the loader
 * standardized images, and saves the Normalization in the model's metadata, from which
 * `eval` and `predict` repeat it exactly.
 */

export const NORMALIZE_MODES = ['channel', 'none'] as const;
export type NormalizeMode = (typeof NORMALIZE_MODES)[number];

/** The statistics of `train` as a Normalization, or null for 'none'. */
export function fitNormalization(mode: string, train: Dataset): Normalization | null {
  if (mode === 'none') return null;
  if (mode !== 'channel') throw new ConvkitError(`unknown --normalize '${mode}'; choose one of ${NORMALIZE_MODES.join(', ')}`);
  const n = normalizationFromStats(datasetStatistics(train), { per: 'channel' });
  // Plain numbers in the metadata JSON (statistics come as float64 of float32 sums).
  return n.kind === 'standardize' ? { ...n, mean: n.mean.map((v) => Number(v.toPrecision(7))), ...(n.std ? { std: n.std.map((v) => Number(v.toPrecision(7))) } : {}) } : n;
}

/** The saved normalization in the image module's form (older files store a bare per-channel {mean, std}). */
export function savedNormalization(metadata: ModelMetadata): Normalization | null {
  const saved = metadata.normalization;
  if (!saved) return null;
  if ('kind' in saved) return saved as Normalization;
  return { kind: 'standardize', per: 'channel', mean: saved.mean, std: saved.std };
}

/** A DataLoader transform applying `n` to each [C, H, W] sample in place. */
export function normalizationTransform(n: Normalization): SampleTransform {
  return (x, _generator, shape) => {
    const [channels, height, width] = shape as [number, number, number];
    x.set(normalizeBuffer({ data: x, channels, height, width }, n).data);
  };
}

/** For the training log: 'in [0, 1]' or 'standardized (mean 0.286, std 0.353)'. */
export function describeNormalization(n: Normalization | null): string {
  if (!n) return 'in [0, 1]';
  if (n.kind === 'rescale') return `rescaled to [${n.range.join(', ')}]`;
  const list = (v: number[]) => (v.length > 4 ? `${v.length} values` : v.map((x) => x.toFixed(3)).join('/'));
  return `standardized (mean ${list(n.mean)}${n.std ? `, std ${list(n.std)}` : ''})`;
}
