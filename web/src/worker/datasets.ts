import * as ck from 'convkit';
import type { DatasetName } from '../shared/run-config.js';
import type { UploadedIdx } from '../shared/protocol.js';
import { colourShapes } from './colour-shapes.js';

/**
 * The worker's datasets, each a training and a test split of uint8 images: the digits and
 * Fashion-MNIST subsets written by scripts/playground-data.mjs (gzipped IDX files, fetched
 * and parsed here with convkit's IDX reader), the generated colour shapes, or IDX files
 * uploaded on the page.
 */

export interface Splits {
  train: ck.data.ImageDataset;
  test: ck.data.ImageDataset;
}

/** gunzips when the bytes are gzip (a server may also have decoded them already). */
async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  if (!ck.data.isGzip(bytes)) return bytes;
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new ck.ConvkitError(`cannot load ${url} (HTTP ${res.status}); was the playground built with \`npm run build:web\`?`);
  return new Uint8Array(await res.arrayBuffer());
}

async function idxPair(images: Uint8Array, labels: Uint8Array, names: [string, string], classes: readonly string[] | undefined, name: string): Promise<ck.data.ImageDataset> {
  const [imagesSource, labelsSource] = names;
  return ck.data.idxImageDataset(ck.data.parseIdx(await gunzip(images), imagesSource), ck.data.parseIdx(await gunzip(labels), labelsSource), {
    imagesSource,
    labelsSource,
    name,
    ...(classes ? { classes } : {}),
  });
}

const CLASS_NAMES: Partial<Record<DatasetName, readonly string[]>> = {
  digits: ck.data.DIGITS_CLASSES,
  'fashion-mnist': ck.data.FASHION_MNIST_CLASSES,
};

/** Loads both splits of a dataset; `dataBase` is the URL of the build's data/ folder. */
export async function loadSplits(name: DatasetName, seed: number, dataBase: string, upload?: UploadedIdx): Promise<Splits> {
  if (name === 'shapes') {
    // The test set's own seed keeps it disjoint from the training images of any run seed.
    return { train: colourShapes(4000, seed, 'shapes/train'), test: colourShapes(1000, seed + 7919, 'shapes/test') };
  }
  if (name === 'upload') {
    if (!upload) throw new ck.ConvkitError('no dataset was uploaded: pick the four IDX files (train/test images and labels) first');
    return {
      train: await idxPair(upload.trainImages, upload.trainLabels, ['uploaded train images', 'uploaded train labels'], undefined, 'upload/train'),
      test: await idxPair(upload.testImages, upload.testLabels, ['uploaded test images', 'uploaded test labels'], undefined, 'upload/test'),
    };
  }
  const load = async (split: 'train' | 'test'): Promise<ck.data.ImageDataset> => {
    const url = (kind: string) => new URL(`${name}/${split}-${kind}.idx.gz`, dataBase).href;
    const [images, labels] = await Promise.all([fetchBytes(url('images')), fetchBytes(url('labels'))]);
    return idxPair(images, labels, [url('images'), url('labels')], CLASS_NAMES[name], `${name}/${split}`);
  };
  const [train, test] = await Promise.all([load('train'), load('test')]);
  return { train, test };
}
