import type { Command } from 'commander';
import { ConvkitError } from '../tensor/errors.js';
import { Generator } from '../tensor/random.js';
import { loadDataset } from '../data/builtin.js';
import { Subset, checkIndex, type Dataset, type Sample } from '../data/dataset.js';
import { ImageFolder } from '../data/image/image-folder.js';
import { imageBuffer } from '../data/image/image-buffer.js';
import { InputPipeline, type InputPipelineJson, type PreprocessSpec } from '../data/image/preprocess.js';
import type { Normalization } from '../data/image/normalize.js';
import type { ModelMetadata } from '../io/model-file.js';
import { fitNormalization, NORMALIZE_MODES, savedNormalization } from './input-normalization.js';
import { positiveInt } from './run.js';

/**
 * The data options every command that reads a dataset shares (train, eval, finetune), and how
 * they meet a model: --size and --channels prepare the images (an image folder is decoded at
 * that size, center-cropped; a fixed-size set such as the digits is resized and its channels
 * converted), a model records that preparation (metadata.inputPipeline) and its normalization,
 * and a later command reuses both unless its own flags say otherwise.
 */

export interface DataFlags {
  data?: string;
  dataDir?: string;
  size?: number;
  channels?: number;
  normalize?: string;
  trainSize?: number;
  testSize?: number;
}

export interface DataOptionSpec {
  /** Help for --data (default, required...). */
  dataHelp: string;
  required?: boolean;
  /** Offer --train-size (commands that train). */
  trainSize?: boolean;
  normalizeHelp: string;
}

export function addDataOptions(cmd: Command, spec: DataOptionSpec): Command {
  const data = 'digits | fashion-mnist | cifar10 | a folder of IDX files, CIFAR-10 batches or one sub-folder of images per class';
  if (spec.required) cmd.requiredOption('--data <name|dir>', `${data} (${spec.dataHelp})`);
  else cmd.option('--data <name|dir>', `${data} (${spec.dataHelp})`);
  cmd
    .option('--data-dir <dir>', 'where fashion-mnist / cifar10 files are')
    .option('--size <n>', "images as n x n: an image folder is center-cropped and resized, a fixed-size set (digits...) resized (default: as the model's images were prepared)", positiveInt('--size'))
    .option('--channels <n>', "1 (grayscale) or 3 (RGB) (default: as the model's images were prepared)", positiveInt('--channels'))
    .option('--normalize <how>', spec.normalizeHelp);
  if (spec.trainSize) cmd.option('--train-size <n>', 'train on this many images (a seeded random subset)', positiveInt('--train-size'));
  return cmd.option('--test-size <n>', 'evaluate on this many test images (a seeded random subset; default: all)', positiveInt('--test-size'));
}

/** Checks --channels and --normalize before any data is read. */
export function checkDataFlags(flags: DataFlags): void {
  if (flags.channels !== undefined && flags.channels !== 1 && flags.channels !== 3) throw new ConvkitError(`--channels must be 1 or 3, got ${flags.channels}`);
  if (flags.normalize !== undefined && !(NORMALIZE_MODES as readonly string[]).includes(flags.normalize)) {
    throw new ConvkitError(`unknown --normalize '${flags.normalize}'; choose one of ${NORMALIZE_MODES.join(', ')}`);
  }
}

/** How a model's images were prepared (size [h, w], channels), from its metadata. */
export function recordedPreparation(metadata: ModelMetadata): { size?: [number, number]; channels?: 1 | 3 } {
  const p = (metadata.inputPipeline as InputPipelineJson | undefined)?.preprocess;
  if (!p || typeof p !== 'object') return {};
  const size = typeof p.size === 'number' ? ([p.size, p.size] as [number, number]) : Array.isArray(p.size) ? ([p.size[0], p.size[1]] as [number, number]) : undefined;
  const channels = p.channels === 1 || p.channels === 3 ? p.channels : undefined;
  return { ...(size ? { size } : {}), ...(channels ? { channels } : {}) };
}

export interface LoadedSplit {
  set: Dataset;
  /** The decoded-image -> sample conversion, when the images were prepared (image folder, or resized): saved with a model. */
  pipeline?: InputPipelineJson;
}

export interface SplitOptions {
  split: 'train' | 'test';
  dataDir?: string;
  /** [C, H, W] the model takes: an image folder is prepared to it unless the flags or the recording say otherwise. */
  modelInput?: readonly number[];
  /** Where the model input comes from, for the mismatch message ('the model', "the pattern's INPUT[...]"). */
  modelInputName?: string;
  /** The model's metadata: its recorded preparation. */
  metadata?: ModelMetadata;
}

const fmtVolume = (s: readonly number[]): string => `${s[2]}x${s[1]}x${s[0]}`;

/**
 * One split of the data as the flags, the model's recorded preparation and its input say:
 * size and channels come from --size/--channels, else the recording, else (for an image folder,
 * which has no size of its own) the model's input.
 */
export function loadSplit(name: string, flags: DataFlags, opts: SplitOptions): LoadedSplit {
  const recorded = opts.metadata ? recordedPreparation(opts.metadata) : {};
  const input = opts.modelInput && opts.modelInput.length === 3 ? opts.modelInput : undefined;
  const size: [number, number] | undefined = flags.size ? [flags.size, flags.size] : recorded.size;
  const channels = (flags.channels as 1 | 3 | undefined) ?? recorded.channels;
  const folderSize = size ?? (input ? ([input[1]!, input[2]!] as [number, number]) : undefined);
  const folderChannels = channels ?? (input && (input[0] === 1 || input[0] === 3) ? (input[0] as 1 | 3) : undefined);
  const raw = loadDataset(name, {
    split: opts.split,
    ...(flags.dataDir ?? opts.dataDir ? { dataDir: (flags.dataDir ?? opts.dataDir)! } : {}),
    ...(folderSize ? { size: folderSize } : {}),
    ...(folderChannels ? { channels: folderChannels } : {}),
    aspect: 'crop',
  });
  let loaded: LoadedSplit;
  if (raw instanceof ImageFolder) loaded = { set: raw, pipeline: raw.pipeline.toJSON() };
  else {
    const [c, h, w] = raw.sampleShape as [number, number, number];
    const want: [number, number, number] = [channels ?? c, size?.[0] ?? h, size?.[1] ?? w];
    if (want.join() === [c, h, w].join()) loaded = { set: raw };
    else {
      const pipeline = new InputPipeline({ size: [want[1], want[2]], channels: want[0] as 1 | 3, aspect: 'crop' });
      loaded = { set: new PreparedDataset(raw, pipeline), pipeline: pipeline.toJSON() };
    }
  }
  const shape = loaded.set.sampleShape;
  if (input && shape.join() !== input.join()) {
    const fix = input[1] === input[2] ? `give --size ${input[1]} --channels ${input[0]} to prepare the images for it` : `--size makes square images, and it takes ${input[2]}x${input[1]}`;
    throw new ConvkitError(`${opts.modelInputName ?? 'the model'} takes ${fmtVolume(input)} inputs but ${name} gives ${fmtVolume(shape)} images; ${fix}`);
  }
  return loaded;
}

/**
 * A fixed-size dataset seen through an InputPipeline (resize, channel conversion, 8-bit
 * rounding as an image folder's cache does), sample by sample, so that digits can train a
 * 32x32x3 network and `predict` prepares a picture exactly the same way.
 */
export class PreparedDataset implements Dataset {
  readonly length: number;
  readonly sampleShape: readonly number[];
  readonly classes?: readonly string[];
  constructor(
    readonly base: Dataset,
    readonly pipeline: InputPipeline,
  ) {
    if (base.sampleShape.length !== 3) throw new ConvkitError(`cannot resize samples of shape [${base.sampleShape.join(', ')}]: they are not images [C, H, W]`);
    const [, h, w] = base.sampleShape as [number, number, number];
    this.length = base.length;
    this.sampleShape = Object.freeze([...pipeline.outputShape([h, w])]);
    if (base.classes) this.classes = base.classes;
  }

  get(index: number): Sample {
    checkIndex(index, this.length, 'PreparedDataset');
    const { input, label } = this.base.get(index);
    const [c, h, w] = this.base.sampleShape as [number, number, number];
    return { input: this.pipeline.applyBuffer(imageBuffer(c, h, w, input)).data, label };
  }
}

/** The first `n` samples of a seeded permutation (all of them when n is unset or not smaller). */
export function sampleSubset(set: Dataset, n: number | undefined, seed: number): Dataset {
  if (n === undefined || n >= set.length) return set;
  const perm = new Int32Array(set.length).map((_, i) => i);
  new Generator(seed).shuffle(perm);
  return new Subset(set, perm.subarray(0, n));
}

/**
 * The normalization to apply: --normalize none turns it off, channel keeps the recorded
 * statistics or else fits per-channel ones on `fitOn`; no flag keeps what the model recorded.
 */
export function chooseNormalization(mode: string | undefined, metadata: ModelMetadata, fitOn: () => Dataset): Normalization | null {
  const recorded = savedNormalization(metadata);
  if (mode === undefined) return recorded;
  if (mode === 'none') return null;
  return recorded ?? fitNormalization(mode, fitOn());
}

/** The metadata that tells later commands how this data was prepared. */
export function preparationMetadata(pipeline: InputPipelineJson | undefined): ModelMetadata {
  return pipeline ? { inputPipeline: pipeline } : {};
}

export type { PreprocessSpec };
