import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ck from '../../src/node.js';
import * as browser from '../../src/index.js';
import { expectConvkitError } from '../helpers/assert.js';
import { tempDir, tinyMnist } from './make-files.js';

const { loadDataset, loadFashionMnist, locateFashionMnist, FASHION_MNIST_SYSTEM_DIR } = ck.data;
const tmp = tempDir();
afterAll(() => tmp.remove());

// The published MNIST per-class counts, digits 0 to 9.
const MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
const MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

describe('embedded digits (MNIST)', () => {
  it('loads 60,000 training and 10,000 test digits with every class present', () => {
    const train = loadDataset('digits', { split: 'train' });
    expect(train.length).toBe(60000);
    expect(train.sampleShape).toEqual([1, 28, 28]);
    expect(train.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(train.labelCounts()).toEqual(MNIST_TRAIN_COUNTS);
    const test = loadDataset('mnist', { split: 'test' });
    expect(test.length).toBe(10000);
    expect(test.labelCounts()).toEqual(MNIST_TEST_COUNTS);
    // Real digits: ink covers roughly a fifth of the pixels, and the border is background.
    const img = train.image(0);
    const ink = img.reduce((n, v) => n + (v > 128 ? 1 : 0), 0);
    expect(ink).toBeGreaterThan(50);
    expect(ink).toBeLessThan(400);
    expect(img[0]).toBe(0);
    expect(train.labels[0]).toBe(5); // the first MNIST training digit is a 5
    const s = test.get(0);
    expect(s.input.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('feeds a DataLoader [B, 1, 28, 28] batches', () => {
    const test = loadDataset('digits', { split: 'test' });
    const loader = new ck.data.DataLoader(test, { batchSize: 256, shuffle: true, generator: new ck.Generator(1) });
    const first = loader[Symbol.iterator]().next().value as ck.data.Batch;
    expect(first.x.shape).toEqual([256, 1, 28, 28]);
    expect(first.y.shape).toEqual([256]);
    expect(loader.length).toBe(40);
  });
});

describe('fashion-mnist', () => {
  it('a missing folder says how to get the data', () => {
    const missing = join(tmp.dir, 'no-such-dir');
    expectConvkitError(
      () => loadDataset('fashion-mnist', { dataDir: missing }),
      missing,
      'apt-get install dataset-fashion-mnist',
      '--data-dir',
    );
    expectConvkitError(() => locateFashionMnist({ systemDir: missing, split: 'test' }), /t10k-images-idx3-ubyte/, /absent/, 'apt-get install dataset-fashion-mnist');
  });

  it('reads the four files from a data dir, with or without .gz', () => {
    const a = tinyMnist(4, 28, 28);
    const b = tinyMnist(2, 28, 28);
    tmp.write('train-images-idx3-ubyte.gz', a.images);
    tmp.write('train-labels-idx1-ubyte', a.labels);
    tmp.write('t10k-images-idx3-ubyte', b.images);
    tmp.write('t10k-labels-idx1-ubyte.gz', b.labels);
    const train = loadFashionMnist({ dataDir: tmp.dir });
    expect(train.length).toBe(4);
    expect(train.classes[9]).toBe('Ankle boot');
    expect(loadDataset('fashion-mnist', { dataDir: tmp.dir, split: 'test' }).length).toBe(2);
    // A folder path works too, as a generic IDX dataset.
    expect(loadDataset(tmp.dir, { split: 'train' }).length).toBe(4);
  });

  it.skipIf(!existsSync(FASHION_MNIST_SYSTEM_DIR))('loads the installed Debian package when present', () => {
    const train = loadDataset('fashion-mnist', { split: 'train' });
    expect(train.length).toBe(60000);
    expect(train.labelCounts()).toEqual(new Array(10).fill(6000));
    const test = loadDataset('fashion-mnist', { split: 'test' });
    expect(test.length).toBe(10000);
    expect(test.sampleShape).toEqual([1, 28, 28]);
  });
});

describe('loadDataset resolver and entries', () => {
  it('an unknown name lists the known ones', () => {
    expectConvkitError(() => loadDataset('imagenet'), /unknown dataset 'imagenet'/, /digits, mnist, fashion-mnist, cifar10/);
    expectConvkitError(() => loadDataset('./not/here'), /does not exist/, /digits/);
    expectConvkitError(() => loadDataset('digits', { split: 'val' as 'train' }), /unknown split 'val'/);
    const empty = join(tmp.dir, 'empty');
    mkdirSync(empty);
    expectConvkitError(() => loadDataset(empty, {}), empty, /no train data found/, /train-images-idx3-ubyte/);
  });

  it('the browser entry has the data namespace without the Node-only loaders', () => {
    expect(typeof browser.data.DataLoader).toBe('function');
    expect('loadDataset' in browser.data).toBe(false);
    expect(typeof ck.data.loadDataset).toBe('function');
    expect(typeof ck.tensor).toBe('function');
  });
});
