import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConvkitError } from '../tensor/errors.js';
import { FASHION_MNIST_CLASSES } from './class-names.js';
import { checkSplit, findFile, idxFileNames, loadIdxImages, type Split } from './data-files.js';
import type { ImageDataset } from './image-dataset.js';

/**
 * Fashion-MNIST (Zalando Research: 70,000 28x28 greyscale images of clothing in 10 classes, in
 * MNIST's IDX format). It is not shipped with convkit: Debian's package dataset-fashion-mnist
 * installs it in /usr/share/datasets/fashion-mnist, or the files can sit in any folder given
 * as `dataDir` (`--data-dir` on the command line). Node only.
 */

export const FASHION_MNIST_SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';

/** Options of `loadFashionMnist`: which split and where to look for the files. */
export interface FashionMnistOptions {
  split?: Split;
  /** A folder holding the four files (or a fashion-mnist folder inside it); searched instead of the system folder. */
  dataDir?: string;
  /** The system folder to search when no dataDir is given (for tests; default FASHION_MNIST_SYSTEM_DIR). */
  systemDir?: string;
}

/** The IDX image and label files of one split. */
export interface IdxSplitFiles {
  images: string;
  labels: string;
}

/** The images and labels files of one split, or an error that says how to get them. */
export function locateFashionMnist(opts: FashionMnistOptions = {}): IdxSplitFiles {
  const split = opts.split ?? 'train';
  checkSplit(split);
  const roots = opts.dataDir !== undefined ? [opts.dataDir, join(opts.dataDir, 'fashion-mnist')] : [opts.systemDir ?? FASHION_MNIST_SYSTEM_DIR];
  const names = idxFileNames(split);
  for (const dir of roots) {
    const images = findFile(dir, names.images);
    const labels = findFile(dir, names.labels);
    if (images && labels) return { images, labels };
  }
  const where = roots.map((d) => `${d}${existsSync(d) ? ' (exists, but lacks the files)' : ' (absent)'}`).join(', ');
  throw new ConvkitError(
    `Fashion-MNIST ${split} files not found: looked in ${where} for ${names.images[0]}[.gz] and ${names.labels[0]}[.gz]. ` +
      `Install them with \`sudo apt-get install dataset-fashion-mnist\` (Debian/Ubuntu: they go to ${FASHION_MNIST_SYSTEM_DIR}), ` +
      'or put the four files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, ' +
      't10k-labels-idx1-ubyte.gz from https://github.com/zalandoresearch/fashion-mnist) in a folder and pass ' +
      '--data-dir FOLDER (dataDir in code)',
  );
}

/** Fashion-MNIST of one split as uint8 [N, 1, 28, 28] (served as float32 in [0, 1]), labels 0-9. */
export function loadFashionMnist(opts: FashionMnistOptions = {}): ImageDataset {
  const split = opts.split ?? 'train';
  const files = locateFashionMnist({ ...opts, split });
  return loadIdxImages(files.images, files.labels, { classes: FASHION_MNIST_CLASSES, name: `fashion-mnist/${split}` });
}
