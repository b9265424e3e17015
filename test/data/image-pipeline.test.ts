import { afterAll, expect, it } from 'vitest';
import { join } from 'node:path';
import * as ck from '../../src/node.js';
import { lcg, shapeImage, SHAPE_CLASSES, tempFolder } from './image-fixtures.js';

/**
 * The acceptance pipeline: a folder of 200 generated pictures (4 shape classes, sizes from
 * 36 to 99 pixels a side, PNG / JPEG / WebP / RGBA PNG / 16-bit PNG) -> square 32x32
 * normalized batches with augmentation on a worker thread -> a small CNN that must classify
 * held-out pictures at better than 95%.
 */

const { nn, F } = ck;
const img = ck.data.image;
const tmp = tempFolder('convkit-pipeline-');
afterAll(() => tmp.remove());

async function writeFolder(perClass: number): Promise<string> {
  const rand = lcg(2024);
  const formats = ['png', 'jpg', 'webp', 'rgba', 'png16'] as const;
  for (const shape of SHAPE_CLASSES) {
    for (let i = 0; i < perClass; i++) {
      const w = 36 + Math.floor(rand() * 64);
      const h = 36 + Math.floor(rand() * 64);
      const x = shapeImage(shape, w, h, rand);
      const fmt = formats[i % formats.length]!;
      const name = `${shape}/${String(i).padStart(3, '0')}`;
      if (fmt === 'jpg') tmp.write(`${name}.jpg`, await img.encodeImage(x, 'jpeg', { quality: 90 }));
      else if (fmt === 'webp') tmp.write(`${name}.webp`, await img.encodeImage(x, 'webp', { quality: 90 }));
      else if (fmt === 'rgba') tmp.write(`${name}.png`, await img.encodePng(img.toChannels(x, 4)));
      else tmp.write(`${name}.png`, await img.encodePng(x, { bitDepth: fmt === 'png16' ? 16 : 8 }));
    }
  }
  return join(tmp.dir);
}

it('200 mixed images -> 32x32 normalized batches -> a CNN above 95% on held-out images', async () => {
  const root = await writeFolder(50);
  const split = (part: 'train' | 'test') => ({ size: 32, holdout: { part, fraction: 0.2 } }) as const;
  // Statistics of the training images only, then the same normalization for both splits.
  const plain = new ck.data.ImageFolder(root, split('train'));
  const stats = img.datasetStatistics(plain);
  const normalize = new img.Normalize(img.normalizationFromStats(stats, { per: 'channel' }));
  const train = plain.withTransform(normalize);
  const test = new ck.data.ImageFolder(root, { ...split('test'), transform: normalize });
  expect(train.get(0).input).toEqual(new ck.data.ImageFolder(root, { ...split('train'), transform: normalize }).get(0).input);
  expect([train.length, test.length]).toEqual([160, 40]);
  expect(train.sampleShape).toEqual([3, 32, 32]);

  const augment = new img.Compose([new img.RandomHorizontalFlip(), new img.RandomCrop(32, { padding: 2, padMode: 'edge' })]);
  const loader = new ck.data.ImageLoader(train, { batchSize: 16, shuffle: true, augment, workers: 1, generator: new ck.Generator(1) });
  const first = [...loader][0]!;
  expect(first.x.shape).toEqual([16, 3, 32, 32]);
  // Normalized: the batch is centered near 0 with unit-ish spread.
  const v = first.x.dataSync();
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  expect(Math.abs(mean)).toBeLessThan(0.5);

  ck.manualSeed(0);
  const model = new nn.Sequential(
    new nn.Conv2d(3, 8, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(8, 16, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(4),
    new nn.Flatten(),
    new nn.Linear(16 * 4 * 4, SHAPE_CLASSES.length),
  );
  const opt = new ck.optim.Adam(model.parameters(), { lr: 0.01 });
  for (let epoch = 0; epoch < 6; epoch++) {
    for (const { x, y } of loader) {
      ck.tidy(() => {
        opt.zeroGrad();
        F.crossEntropy(model.forward(x), y).backward();
        opt.step();
      });
    }
  }
  model.eval();
  const batch = [...new ck.data.DataLoader(test, { batchSize: test.length })][0]!;
  const predicted = ck.noGrad(() => ck.argmax(model.forward(batch.x), 1)).dataSync();
  const labels = batch.y.dataSync();
  const correct = predicted.reduce((n, p, i) => n + (p === labels[i] ? 1 : 0), 0);
  expect(correct / test.length).toBeGreaterThan(0.95);
});
