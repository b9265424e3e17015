import type { Command } from 'commander';
import { ConvkitError } from '../../tensor/errors.js';
import type { PreprocessSpec } from '../../data/image/preprocess.js';
import { positiveInt } from '../run.js';

export interface ImageFlags {
  size: number;
  channels?: string;
  aspect: string;
  resample: string;
}

/** The preprocessing options shared by `stats` and `preprocess`. */
export function addImageOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--size <n>', 'square output size in pixels', positiveInt('--size'))
    .option('--channels <n>', '1 (grayscale), 3 (RGB) or 4 (RGBA)', '3')
    .option('--aspect <mode>', 'crop (center square), pad, or stretch', 'crop')
    .option('--resample <method>', 'bilinear, area, lanczos or nearest', 'bilinear');
}

export function preprocessSpec(flags: ImageFlags): PreprocessSpec {
  const channels = Number(flags.channels ?? 3);
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new ConvkitError(`--channels must be 1, 3 or 4, got '${flags.channels}'`);
  if (!['crop', 'pad', 'stretch'].includes(flags.aspect)) throw new ConvkitError(`--aspect must be crop, pad or stretch, got '${flags.aspect}'`);
  if (!['bilinear', 'area', 'lanczos', 'nearest'].includes(flags.resample)) {
    throw new ConvkitError(`--resample must be bilinear, area, lanczos or nearest, got '${flags.resample}'`);
  }
  return {
    size: flags.size,
    channels,
    aspect: flags.aspect as PreprocessSpec['aspect'] & string,
    resample: flags.resample as PreprocessSpec['resample'] & string,
  };
}
