import type { Normalization } from '../../data/image/normalize.js';
import { ConvkitError } from '../../tensor/errors.js';
import { py, pyJson } from './python.js';
import { TRAIN_BODY, TRAIN_IMPORTS } from './train-py-body.js';

/**
 * train.py: the same training as `convkit train`, in PyTorch, for one process or many under
 * torchrun. The settings at its top come from a checkpoint's recorded settings, a model
 * file's training record, or convkit's defaults; each is a command-line option too.
 */

export interface TrainSettings {
  /** The data folder train.py reads by default (relative to train.py, or absolute); null: --data is required. */
  data: string | null;
  /** What the data is, for the comment beside it. */
  dataNote: string;
  epochs: number;
  batchSize: number;
  optimizer: string;
  /** null: the optimizer's default (as convkit's). */
  lr: number | null;
  momentum: number | null;
  weightDecay: number;
  schedule: string;
  valFraction: number;
  /** Train on a seeded random subset of this many images (null: all), as convkit train --train-size. */
  trainSize: number | null;
  seed: number;
  /** The normalization the model was trained with (null: pixels in [0, 1]). */
  normalization: Normalization | null;
  /** Round resized images to 8 bits, as convkit's input pipelines do. */
  quantize: boolean;
  /** Where the settings come from, for the docstring. */
  source: string;
}

/** convkit train's defaults (src/cli/commands/train.ts). */
export const DEFAULT_TRAIN_SETTINGS: Omit<TrainSettings, 'data' | 'dataNote' | 'normalization' | 'source'> = {
  epochs: 3,
  batchSize: 32,
  optimizer: 'adam',
  lr: null,
  momentum: null,
  weightDecay: 0,
  schedule: 'cosine',
  valFraction: 0.1,
  trainSize: null,
  seed: 0,
  quantize: true,
};

const OPTIMIZERS = ['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam', 'adamw'];
const SCHEDULES = ['none', 'step', 'cosine'];

export function trainSource(title: string, s: TrainSettings): string {
  if (!OPTIMIZERS.includes(s.optimizer)) throw new ConvkitError(`PyTorch export: unknown optimizer '${s.optimizer}' in the training settings; known: ${OPTIMIZERS.join(', ')}`);
  if (!SCHEDULES.includes(s.schedule)) throw new ConvkitError(`PyTorch export: unknown schedule '${s.schedule}' in the training settings; known: ${SCHEDULES.join(', ')}`);
  const doc = `"""Train ${title.replace(/"""/g, "'''")} with PyTorch, on one machine or many.

Written by convkit's \`export --format pytorch\` beside model.py and weights.safetensors. SETTINGS
below are ${s.source}; every one is also a command-line option (python train.py --help).

    python train.py                                      # one process (CPU, or one GPU)
    torchrun --standalone --nproc_per_node 2 train.py    # two processes on this machine
    torchrun --nnodes N --nproc_per_node G --rdzv_backend c10d --rdzv_endpoint HOST:29500 train.py

Under torchrun each process trains on its share of every batch and DistributedDataParallel
averages the gradients (NCCL on GPUs, gloo on CPUs); --batch-size is the global batch, as in
convkit. Rank 0 writes <out>/checkpoint.pt after every epoch (--resume continues from it; on
several machines <out> must be a shared folder) and <out>/trained.safetensors at the end: float32
weights under convkit's names, for ck.io.loadSafetensors and model.loadStateDict.
"""
`;
  const settings = [
    'SETTINGS = {',
    `    "data": ${py(s.data)},  # ${s.dataNote}`,
    `    "epochs": ${s.epochs},`,
    `    "batch_size": ${s.batchSize},  # global: split over the processes`,
    `    "optimizer": ${py(s.optimizer)},  # sgd | momentum | nesterov | adagrad | rmsprop | adam | adamw`,
    `    "lr": ${py(s.lr)},  # None: the optimizer's default (0.01 for the SGD family and adagrad, else 0.001)`,
    `    "momentum": ${py(s.momentum)},`,
    `    "weight_decay": ${py(s.weightDecay)},`,
    `    "schedule": ${py(s.schedule)},  # per epoch: none | step (/10 after each third) | cosine (to 0)`,
    `    "val_fraction": ${py(s.valFraction)},  # share of the training images held out for validation`,
    `    "train_size": ${py(s.trainSize)},  # None: every training image; N: a seeded random subset of N`,
    `    "seed": ${s.seed},`,
    '    # Applied to every image after resizing, exactly as convkit did (None: pixels in [0, 1]).',
    `    "normalization": ${pyJson(s.normalization)},`,
    `    "quantize": ${py(s.quantize)},  # round resized images to 8 bits, as convkit's image pipeline does`,
    '}',
  ].join('\n');
  return `${doc}${TRAIN_IMPORTS}\n${settings}\n${TRAIN_BODY}`;
}
