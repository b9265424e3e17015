import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ConvkitError } from '../tensor/errors.js';
import type { ImageDataset } from './image-dataset.js';
import { idxImageDataset, isGzip, parseIdx, type IdxArray } from './idx.js';

/**
 * Reading dataset files from disk (Node only: exported from 'convkit/node'). Files may be
 * gzipped or raw, whatever their name says: gzip is recognised by its magic number, so a `.gz`
 * file that a browser already decompressed on download still reads.
 */

/** The bytes of a file, gunzipped when it is gzip data. */
export function readDataFile(path: string): Uint8Array {
  if (!existsSync(path)) throw new ConvkitError(`${path}: no such file`);
  if (statSync(path).isDirectory()) throw new ConvkitError(`${path}: is a directory, expected a data file`);
  const raw = readFileSync(path);
  if (!isGzip(raw)) return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  let out: Buffer;
  try {
    out = gunzipSync(raw);
  } catch (e) {
    throw new ConvkitError(
      `${path}: starts like a gzip file but cannot be decompressed (${(e as Error).message}, after ${raw.length} bytes); ` +
        'the file is truncated or corrupt: download it again',
    );
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Reads and parses one IDX file (raw or gzipped). */
export function readIdxFile(path: string): IdxArray {
  return parseIdx(readDataFile(path), path);
}

/** Class count or names (and a name for messages) of a dataset read from IDX files. */
export interface IdxFilesOptions {
  numClasses?: number;
  classes?: readonly string[];
  name?: string;
}

/** An ImageDataset from an images file and a labels file (raw or gzipped), checked as a pair. */
export function loadIdxImages(imagesPath: string, labelsPath: string, opts: IdxFilesOptions = {}): ImageDataset {
  return idxImageDataset(readIdxFile(imagesPath), readIdxFile(labelsPath), {
    ...opts,
    imagesSource: imagesPath,
    labelsSource: labelsPath,
  });
}

/** Which part of a dataset: the training or the test images. */
export type Split = 'train' | 'test';

/** The usual MNIST-family file names of a split: train-* and t10k-* (test-* also accepted). */
export function idxFileNames(split: Split): { images: string[]; labels: string[] } {
  const prefixes = split === 'train' ? ['train'] : ['t10k', 'test'];
  return {
    images: prefixes.flatMap((p) => [`${p}-images-idx3-ubyte`, `${p}-images.idx3-ubyte`]),
    labels: prefixes.flatMap((p) => [`${p}-labels-idx1-ubyte`, `${p}-labels.idx1-ubyte`]),
  };
}

/**
 * The first of `names` present in `dir`, with or without `.gz` (the compressed copy first), or
 * null when none is.
 */
export function findFile(dir: string, names: readonly string[]): string | null {
  for (const name of names) {
    for (const candidate of [`${name}.gz`, name]) {
      const path = join(dir, candidate);
      if (existsSync(path) && statSync(path).isFile()) return path;
    }
  }
  return null;
}

export function checkSplit(split: string): asserts split is Split {
  if (split !== 'train' && split !== 'test') {
    throw new ConvkitError(`unknown split '${split}': expected 'train' or 'test'`);
  }
}
