import { existsSync, statSync } from 'node:fs';
import { ConvkitError } from '../tensor/errors.js';
import { loadCifar10, locateCifar10 } from './cifar10-files.js';
import { checkSplit, findFile, idxFileNames, loadIdxImages, type Split } from './data-files.js';
import { loadDigits } from './digits.js';
import { loadFashionMnist } from './fashion-mnist.js';
import type { ImageDataset } from './image-dataset.js';
import { imageFolderSplit, type ImageFolder } from './image/image-folder.js';
import type { AspectMode } from './image/pad.js';

/**
 * One entry point from a dataset name (or a folder) to a dataset, which the CLI's
 * `--dataset NAME --data-dir DIR` options call. Node only.
 */

/** The names loadDataset knows; 'mnist' is the embedded digits under its usual name. */
export const DATASET_NAMES = ['digits', 'mnist', 'fashion-mnist', 'cifar10'] as const;
/** A dataset `loadDataset` knows by name. */
export type DatasetName = (typeof DATASET_NAMES)[number];

/** Options of `loadDataset`. */
export interface LoadDatasetOptions {
  split?: Split;
  /** Where to look for files that convkit does not ship (fashion-mnist, cifar10). */
  dataDir?: string;
  /** For a folder of IDX files: the number of classes (default: inferred from the labels). */
  numClasses?: number;
  /** For an image folder (one sub-folder per class): images are cropped to this aspect and scaled to it. */
  size?: number | [number, number];
  /** For an image folder: 1 (gray), 3 (RGB, default) or 4 channels. */
  channels?: 1 | 3 | 4;
  /** For an image folder: 'crop' (default), 'pad' or 'stretch' to a uniform aspect. */
  aspect?: AspectMode;
  /** For an image folder without train/ and test/ sub-folders: the share of each class held out as 'test' (default 0.2). */
  testFraction?: number;
}

/**
 * Loads a split of a known dataset or of a folder of data files:
 * - 'digits' (alias 'mnist'): MNIST, embedded, works offline;
 * - 'fashion-mnist': from dataDir, else /usr/share/datasets/fashion-mnist;
 * - 'cifar10': CIFAR-10 binary batches from dataDir;
 * - a folder path: MNIST-style IDX files (train-/t10k-images-idx3-ubyte[.gz] and labels), or CIFAR-10 batches,
 *   or image files in one sub-folder per class (an ImageFolder: dir/train/<class>/... and dir/test/<class>/...,
 *   or dir/<class>/... split by testFraction).
 * Images are uint8 in memory and reach a DataLoader as float32 in [0, 1].
 */
export function loadDataset(name: DatasetName, opts?: LoadDatasetOptions): ImageDataset;
export function loadDataset(nameOrPath: DatasetName | (string & {}), opts?: LoadDatasetOptions): ImageDataset | ImageFolder;
export function loadDataset(nameOrPath: DatasetName | (string & {}), opts: LoadDatasetOptions = {}): ImageDataset | ImageFolder {
  const split = opts.split ?? 'train';
  checkSplit(split);
  const dataDir = opts.dataDir;
  switch (nameOrPath) {
    case 'digits':
    case 'mnist':
      return loadDigits({ split });
    case 'fashion-mnist':
      return loadFashionMnist(dataDir === undefined ? { split } : { split, dataDir });
    case 'cifar10':
    case 'cifar-10':
      return loadCifar10(dataDir === undefined ? { split } : { split, dataDir });
  }
  if (existsSync(nameOrPath) && statSync(nameOrPath).isDirectory()) return loadFolder(nameOrPath, split, opts);
  const looksLikePath = /[/\\]/.test(nameOrPath) || nameOrPath.startsWith('.');
  throw new ConvkitError(
    looksLikePath
      ? `dataset folder ${nameOrPath} does not exist; give an existing folder of IDX files or CIFAR-10 batches, ` +
          `or one of the known names: ${DATASET_NAMES.join(', ')}`
      : `unknown dataset '${nameOrPath}': the known names are ${DATASET_NAMES.join(', ')}; ` +
          'or give the path of a folder holding MNIST-style IDX files or CIFAR-10 binary batches',
  );
}

function loadFolder(dir: string, split: Split, opts: LoadDatasetOptions): ImageDataset | ImageFolder {
  const numClasses = opts.numClasses;
  const names = idxFileNames(split);
  const images = findFile(dir, names.images);
  const labels = findFile(dir, names.labels);
  if (images && labels) {
    return loadIdxImages(images, labels, { name: `${dir}/${split}`, ...(numClasses !== undefined ? { numClasses } : {}) });
  }
  if (locateCifar10(dir, split)) return loadCifar10({ dataDir: dir, split });
  const { size, channels, aspect, testFraction } = opts;
  const folder = imageFolderSplit(dir, split, { size, channels, aspect, testFraction });
  if (folder) return folder;
  throw new ConvkitError(
    `${dir}: no ${split} data found: expected MNIST-style IDX files ${names.images[0]}[.gz] and ${names.labels[0]}[.gz]` +
      `${images ? ` (found only ${images})` : labels ? ` (found only ${labels})` : ''}, or CIFAR-10 binary batches ` +
      `(${split === 'train' ? 'data_batch_1.bin ...' : 'test_batch.bin'}), or image files in one sub-folder per class; known dataset names: ${DATASET_NAMES.join(', ')}`,
  );
}
