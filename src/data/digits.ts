import { fileURLToPath } from 'node:url';
import { DIGITS_CLASSES } from './class-names.js';
import { checkSplit, loadIdxImages, type Split } from './data-files.js';
import type { ImageDataset } from './image-dataset.js';

/**
 * The embedded digits: the full MNIST database (60,000 training and 10,000 test images of
 * handwritten digits, 28x28) shipped gzipped in the package's assets/digits (CC BY-SA 3.0; see
 * the README and LICENSE there), so examples and the CLI train offline with nothing to
 * download. Node only.
 */

/** The folder holding the asset; the same relative place from src/data and from dist/data. */
export const DIGITS_ASSET_DIR = fileURLToPath(new URL('../../assets/digits/', import.meta.url));

const FILES: Record<Split, [images: string, labels: string]> = {
  train: ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'],
  test: ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'],
};

/**
 * MNIST digits of one split as uint8 [N, 1, 28, 28] (served as float32 in [0, 1]), labels
 * 0-9. 'test' is the official test set, disjoint from 'train'; take a validation set out of
 * 'train' with randomSplit.
 */
export function loadDigits(opts: { split?: Split } = {}): ImageDataset {
  const split = opts.split ?? 'train';
  checkSplit(split);
  const [images, labels] = FILES[split];
  return loadIdxImages(DIGITS_ASSET_DIR + images, DIGITS_ASSET_DIR + labels, {
    classes: DIGITS_CLASSES,
    name: `digits/${split}`,
  });
}
