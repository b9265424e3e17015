import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConvkitError } from '../tensor/errors.js';
import { cifar10Dataset } from './cifar10.js';
import { checkSplit, findFile, readDataFile, type Split } from './data-files.js';
import type { ImageDataset } from './image-dataset.js';

/**
 * Reads the CIFAR-10 binary batches from a folder (Node only). CIFAR-10 is not shipped with
 * convkit; users who have the binary version (cifar-10-binary.tar.gz, which unpacks to
 * cifar-10-batches-bin/) point `dataDir` at it.
 */

const FILES: Record<Split, string[]> = {
  train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
  test: ['test_batch.bin'],
};

/** The folder among `dataDir` and `dataDir/cifar-10-batches-bin` that holds the split's first batch, or null. */
export function locateCifar10(dataDir: string, split: Split): string | null {
  for (const dir of [dataDir, join(dataDir, 'cifar-10-batches-bin')]) {
    if (findFile(dir, [FILES[split][0]!])) return dir;
  }
  return null;
}

/**
 * CIFAR-10 of one split as uint8 [N, 3, 32, 32] (served as float32 in [0, 1]): 'train' is
 * data_batch_1..5 (50,000 images; those present are read, in order), 'test' is test_batch
 * (10,000). Batch files may be gzipped.
 */
export function loadCifar10(opts: { dataDir?: string; split?: Split } = {}): ImageDataset {
  const split = opts.split ?? 'train';
  checkSplit(split);
  const dir = opts.dataDir === undefined ? null : locateCifar10(opts.dataDir, split);
  if (dir === null) {
    const looked = opts.dataDir === undefined ? 'no data folder was given' : `looked in ${opts.dataDir}${existsSync(opts.dataDir) ? '' : ' (absent)'} and its cifar-10-batches-bin/`;
    throw new ConvkitError(
      `CIFAR-10 ${split} files not found (${FILES[split][0]}): ${looked}. convkit does not ship CIFAR-10: download the ` +
        'binary version (cifar-10-binary.tar.gz, "CIFAR-10 binary version (suitable for C programs)") from ' +
        'https://www.cs.toronto.edu/~kriz/cifar.html, unpack it, and pass --data-dir FOLDER (dataDir in code)',
    );
  }
  const paths = FILES[split].map((name) => findFile(dir, [name])).filter((p): p is string => p !== null);
  return cifar10Dataset(
    paths.map((path) => ({ bytes: readDataFile(path), source: path })),
    `cifar10/${split}`,
  );
}
