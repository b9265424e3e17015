import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ck from '../../src/node.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { imageFrom, lcg, pngBytes, shapeImage, SHAPE_CLASSES, tempFolder } from './image-fixtures.js';

/**
 * ImageFolder, the worker-thread ImageLoader, folder statistics and folder preprocessing on
 * small generated folders: class scanning, caching, determinism across worker counts, resume,
 * and the bad-file errors.
 */

const img = ck.data.image;
const tmp = tempFolder('convkit-folder-');
afterAll(() => tmp.remove());

/** root/<class>/<i>.<fmt>: `perClass` shape pictures per class, sizes and formats mixed. */
async function writeShapes(root: string, perClass: number, seed = 1): Promise<void> {
  const rand = lcg(seed);
  const formats = ['png', 'jpg', 'webp', 'rgba.png', '16.png'] as const;
  for (const shape of SHAPE_CLASSES) {
    for (let i = 0; i < perClass; i++) {
      const w = 36 + Math.floor(rand() * 64);
      const h = 36 + Math.floor(rand() * 64);
      const x = shapeImage(shape, w, h, rand);
      const fmt = formats[(i + shape.length) % formats.length]!;
      let bytes: Uint8Array;
      if (fmt === 'rgba.png') bytes = await img.encodePng(img.toChannels(x, 4));
      else if (fmt === '16.png') bytes = await img.encodePng(x, { bitDepth: 16 });
      else bytes = await img.encodeImage(x, fmt === 'jpg' ? 'jpeg' : fmt, { quality: 92 });
      tmp.write(`${root}/${shape}/${String(i).padStart(3, '0')}.${fmt === 'jpg' ? 'jpg' : fmt.endsWith('png') ? 'png' : fmt}`, bytes);
    }
  }
}

let shapes = '';
beforeAll(async () => {
  await writeShapes('shapes', 6);
  shapes = join(tmp.dir, 'shapes');
  tmp.write('shapes/.hidden/x.png', pngBytes(1, 1, 1, [0]));
  tmp.write('shapes/circle/notes.txt', 'not an image, not listed');
});

describe('ImageFolder', () => {
  it('finds classes (sorted sub-folders) and their images, skipping hidden entries and other files', () => {
    const ds = new ck.data.ImageFolder(shapes, { size: 16 });
    expect(ds.classes).toEqual(['circle', 'cross', 'square', 'triangle']);
    expect(ds.length).toBe(24);
    expect(ds.labelCounts()).toEqual([6, 6, 6, 6]);
    expect(ds.sampleShape).toEqual([3, 16, 16]);
    expect(ds.cached).toBe(true);
    expect(ds.relativePath(0)).toBe(join('circle', '000.jpg'));
    expect(ds.get(7).label).toBe(1);
  });

  it('serves the same samples cached and uncached; the transform runs last', () => {
    const norm = img.Normalize.perChannel([0.5, 0.5, 0.5], [0.25, 0.25, 0.25]);
    const cached = new ck.data.ImageFolder(shapes, { size: [12, 20], transform: norm });
    const lazy = new ck.data.ImageFolder(shapes, { size: [12, 20], transform: norm, cache: false });
    expect(lazy.cached).toBe(false);
    for (const i of [0, 5, 23]) expect(lazy.get(i).input).toEqual(cached.get(i).input);
    const plain = new ck.data.ImageFolder(shapes, { size: [12, 20] }).get(5).input;
    expectClose(cached.get(5).input, Array.from(plain, (v) => (v - 0.5) / 0.25), { atol: 1e-5 });
    // Values are 8-bit steps, as the cache stores them.
    for (const v of plain.subarray(0, 50)) expect(Math.abs(v * 255 - Math.round(v * 255))).toBeLessThan(1e-4);
  });

  it('matches decode + preprocess done by hand, and its pipeline round-trips as JSON', async () => {
    const ds = new ck.data.ImageFolder(shapes, { size: 16, channels: 1, aspect: 'pad', resample: 'area' });
    const decoded = await img.decodeImageFile(ds.files[3]!.path);
    const byHand = img.preprocessImage(decoded, { size: 16, channels: 1, aspect: 'pad', resample: 'area' });
    expectClose(ds.get(3).input, byHand.data, { atol: 0.5 / 255 + 1e-6 });
    const pipeline = img.InputPipeline.fromJSON(JSON.parse(JSON.stringify(ds.pipeline.toJSON())) as ck.data.image.InputPipelineJson);
    expect(pipeline.apply(decoded).dataSync()).toEqual(ds.get(3).input);
  });

  it('splits one folder deterministically, or uses train/ and test/ sub-folders (loadDataset)', () => {
    const train = ck.data.loadDataset(shapes, { split: 'train', size: 8 }) as ck.data.ImageFolder;
    const test = ck.data.loadDataset(shapes, { split: 'test', size: 8, testFraction: 0.5 }) as ck.data.ImageFolder;
    expect(train).toBeInstanceOf(ck.data.ImageFolder);
    expect(train.labelCounts()).toEqual([5, 5, 5, 5]);
    expect(test.labelCounts()).toEqual([3, 3, 3, 3]);
    const trainPaths = new Set(train.files.map((f) => f.path));
    const test20 = ck.data.loadDataset(shapes, { split: 'test', size: 8 }) as ck.data.ImageFolder;
    expect(test20.files.some((f) => trainPaths.has(f.path))).toBe(false);
    expect(test20.length + train.length).toBe(24);
    tmp.write('split/train/a/1.png', pngBytes(2, 2, 1, [0, 1, 2, 3]));
    tmp.write('split/train/b/1.png', pngBytes(2, 2, 1, [9, 9, 9, 9]));
    tmp.write('split/val/a/1.png', pngBytes(2, 2, 1, [0, 1, 2, 3]));
    tmp.write('split/val/b/2.png', pngBytes(2, 2, 1, [9, 9, 9, 9]));
    const val = ck.data.loadDataset(join(tmp.dir, 'split'), { split: 'test', channels: 1 });
    expect([val.length, ...val.sampleShape]).toEqual([2, 1, 2, 2]);
  });

  it('reports folder problems and bad files by name', () => {
    expectConvkitError(() => new ck.data.ImageFolder(join(tmp.dir, 'missing')), 'missing does not exist');
    tmp.write('flat/a.png', pngBytes(1, 1, 1, [0]));
    expectConvkitError(() => new ck.data.ImageFolder(join(tmp.dir, 'flat')), 'has no sub-folders', 'one sub-folder per class');
    tmp.write('holes/a/1.png', pngBytes(1, 1, 1, [0]));
    tmp.write('holes/b/readme.md', '#');
    expectConvkitError(() => new ck.data.ImageFolder(join(tmp.dir, 'holes')), 'no image files', 'class folder(s) b');
    tmp.write('bad/a/1.png', pngBytes(4, 4, 1, new Array(16).fill(3)));
    tmp.write('bad/b/broken.jpg', 'GIF? no, plain text');
    expectConvkitError(() => new ck.data.ImageFolder(join(tmp.dir, 'bad'), { size: 4 }), 'broken.jpg: not an image');
    tmp.write('sizes/a/1.png', pngBytes(4, 4, 1, new Array(16).fill(3)));
    tmp.write('sizes/b/2.png', pngBytes(5, 4, 1, new Array(20).fill(3)));
    expectConvkitError(() => new ck.data.ImageFolder(join(tmp.dir, 'sizes')), '2.png: comes out of the pipeline as [3, 4, 5]', '[3, 4, 4]', '--size');
    tmp.write('huge/a/1.png', pngBytes(50, 50, 1, new Array(2500).fill(3)));
    expectConvkitError(() => new ck.data.ImageFolder(join(tmp.dir, 'huge'), { size: 8, maxPixels: 2000 }), '1.png: 50x50 = 2,500 pixels is over the limit');
  });
});

describe('ImageLoader', () => {
  const augment = new img.Compose([
    new img.RandomCrop(16, { padding: 2 }),
    new img.RandomHorizontalFlip(),
    new img.RandomRotation(10),
    new img.ColorJitter({ brightness: 0.2, contrast: 0.2 }),
  ]);
  const epoch = (loader: ck.data.ImageLoader) => [...loader].map((b) => [b.x.dataSync(), b.y.dataSync(), b.indices]);

  it('gives identical batches with 0 or 2 workers, cached or decoding in the workers', () => {
    const cached = new ck.data.ImageFolder(shapes, { size: 16 });
    const lazy = new ck.data.ImageFolder(shapes, { size: 16, cache: false });
    const make = (ds: ck.data.Dataset, workers: number) =>
      new ck.data.ImageLoader(ds, { batchSize: 5, shuffle: true, augment, workers, generator: new ck.Generator(9) });
    const ref = make(cached, 0);
    const e1 = epoch(ref);
    const e2 = epoch(ref);
    expect(e1.length).toBe(5);
    expect(e1[0]![0]).not.toEqual(e2[0]![0]);
    for (const [ds, workers] of [[cached, 2], [lazy, 2], [lazy, 1]] as const) {
      const other = make(ds, workers);
      expect(epoch(other)).toEqual(e1);
      expect(epoch(other)).toEqual(e2);
    }
    // A Subset of an uncached folder also decodes in the workers.
    const sub = new ck.data.Subset(lazy, [3, 1, 4, 1, 5]);
    const viaWorkers = [...new ck.data.ImageLoader(sub, { batchSize: 5, augment, workers: 2, generator: new ck.Generator(1) })][0]!;
    const inThread = [...new ck.data.ImageLoader(new ck.data.Subset(cached, [3, 1, 4, 1, 5]), { batchSize: 5, augment, workers: 0, generator: new ck.Generator(1) })][0]!;
    expect(viaWorkers.x.dataSync()).toEqual(inThread.x.dataSync());
  });

  it('resumes mid-epoch from state() exactly', () => {
    const ds = new ck.data.ImageFolder(shapes, { size: 16 });
    const make = () => new ck.data.ImageLoader(ds, { batchSize: 4, shuffle: true, augment, workers: 2, generator: new ck.Generator(3) });
    const full = make();
    const all = [...epoch(full), ...epoch(full)];
    const first = make();
    const seen: unknown[] = [];
    let saved: ck.data.image.ImageLoaderState | null = null;
    for (const b of first) {
      seen.push([b.x.dataSync(), b.y.dataSync(), b.indices]);
      if (seen.length === 3) {
        saved = JSON.parse(JSON.stringify(first.state())) as ck.data.image.ImageLoaderState;
        break;
      }
    }
    const resumed = make();
    resumed.loadState(saved!);
    const rest = [...epoch(resumed), ...epoch(resumed)];
    expect([...seen, ...rest]).toEqual(all);
  });

  it('lets the augmentation change the shape, and works without augmentation', () => {
    const ds = new ck.data.ImageFolder(shapes, { size: 16 });
    const loader = new ck.data.ImageLoader(ds, { batchSize: 8, augment: new img.RandomResizedCrop(10), workers: 1 });
    expect([...loader][0]!.x.shape).toEqual([8, 3, 10, 10]);
    const plain = [...new ck.data.ImageLoader(ds, { batchSize: 24, workers: 2 })][0]!;
    expect(plain.x.dataSync()).toEqual([...new ck.data.DataLoader(ds, { batchSize: 24 })][0]!.x.dataSync());
  });
});

describe('folder statistics and preprocessing', () => {
  it('folderStatistics equals ImageStatistics over the same preprocessed images, and writes mean.png / std.png', async () => {
    const stats = img.folderStatistics(shapes, { size: 10, workers: 2 });
    const acc = new img.ImageStatistics();
    for (const path of img.listImageFiles(shapes, img.IMAGE_EXTENSIONS)) acc.add(img.preprocessImage(await img.decodeImageFile(path), { size: 10 }));
    const direct = acc.result();
    expect(stats.count).toBe(24);
    expectClose(stats.mean.data, direct.mean.data, { atol: 1e-6 });
    expectClose(stats.std.data, direct.std.data, { atol: 1e-6 });
    expectClose(stats.channelMean, direct.channelMean, { atol: 1e-9 });
    const out = await img.writeStatistics(stats, join(tmp.dir, 'stats'));
    const mean = await img.decodeImageFile(out.mean);
    expect([mean.channels, mean.height, mean.width]).toEqual([3, 10, 10]);
    expectClose(mean.data, stats.mean.data, { atol: 0.5 / 255 + 1e-6 });
    const std = await img.decodeImageFile(out.std);
    expect(Math.max(...std.data)).toBe(1);
    const json = JSON.parse(readFileSync(out.json, 'utf8')) as { count: number; channelStd: number[]; stdMax: number };
    expect(json.count).toBe(24);
    expectClose(json.channelStd, stats.channelStd, { atol: 1e-12 });
  });

  it('preprocessFolder writes a resized, cropped PNG copy with the same tree', async () => {
    const out = join(tmp.dir, 'small');
    const r = img.preprocessFolder(shapes, out, { size: 12, workers: 2 });
    expect(r.written).toBe(24);
    expect(existsSync(join(out, 'circle', '000.png'))).toBe(true);
    const copy = new ck.data.ImageFolder(out);
    expect(copy.sampleShape).toEqual([3, 12, 12]);
    expect(copy.classes).toEqual(SHAPE_CLASSES);
    const direct = new ck.data.ImageFolder(shapes, { size: 12 });
    expectClose(copy.get(9).input, direct.get(9).input, { atol: 1e-6 });
    tmp.write('withbad/a/ok.png', pngBytes(3, 3, 3, new Array(27).fill(100)));
    tmp.write('withbad/a/bad.png', pngBytes(3, 3, 3, new Array(27).fill(100)).subarray(0, 30));
    expectConvkitError(() => img.preprocessFolder(join(tmp.dir, 'withbad'), join(tmp.dir, 'wb-out'), { size: 2 }), 'bad.png');
    const skipped = img.preprocessFolder(join(tmp.dir, 'withbad'), join(tmp.dir, 'wb-out2'), { size: 2, onError: 'skip' });
    expect(skipped.written).toBe(1);
    expect(skipped.skipped[0]!.path).toMatch(/bad\.png$/);
    expect(skipped.skipped[0]!.error).toMatch(/truncated or corrupt/);
    expectConvkitError(() => img.preprocessFolder(shapes, shapes), 'is the input folder');
    expect(imageFrom(1, 1, 1, () => 0).channels).toBe(1);
  });
});
