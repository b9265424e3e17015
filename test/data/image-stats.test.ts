import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ck from '../../src/node.js';
import { tempFolder } from './image-fixtures.js';

/**
 * The acceptance check on real data: the mean and std images of the 60,000 Fashion-MNIST
 * training images, streamed through ImageStatistics, against a plain two-pass float64
 * computation from the raw bytes; and the PNGs written from them. Skipped where the Debian
 * package dataset-fashion-mnist is not installed.
 */

const img = ck.data.image;
const installed = existsSync(join(ck.data.FASHION_MNIST_SYSTEM_DIR, 'train-images-idx3-ubyte.gz'));
const tmp = tempFolder('convkit-stats-');
afterAll(() => tmp.remove());

describe.skipIf(!installed)('Fashion-MNIST statistics', () => {
  it('streaming mean / std images and per-channel numbers agree with a plain computation to 1e-5', async () => {
    const train = ck.data.loadFashionMnist({ split: 'train' });
    const stats = img.datasetStatistics(train);
    expect(stats.count).toBe(60000);
    expect(stats.shape).toEqual([1, 28, 28]);

    // Plain: sum, then sum of squared deviations, in float64 over the bytes / 255.
    const N = train.length;
    const P = 28 * 28;
    const sum = new Float64Array(P);
    for (let i = 0; i < N; i++) {
      const px = train.image(i);
      for (let p = 0; p < P; p++) sum[p]! += px[p]! / 255;
    }
    const mean = sum.map((s) => s / N);
    const sq = new Float64Array(P);
    for (let i = 0; i < N; i++) {
      const px = train.image(i);
      for (let p = 0; p < P; p++) sq[p]! += (px[p]! / 255 - mean[p]!) ** 2;
    }
    const std = sq.map((s) => Math.sqrt(s / N));
    let worstMean = 0;
    let worstStd = 0;
    for (let p = 0; p < P; p++) {
      worstMean = Math.max(worstMean, Math.abs(stats.mean.data[p]! - mean[p]!));
      worstStd = Math.max(worstStd, Math.abs(stats.std.data[p]! - std[p]!));
    }
    expect(worstMean).toBeLessThan(1e-5);
    expect(worstStd).toBeLessThan(1e-5);
    const allMean = mean.reduce((a, b) => a + b, 0) / P;
    let allSq = 0;
    for (let i = 0; i < N; i++) for (const b of train.image(i)) allSq += (b / 255 - allMean) ** 2;
    // (The samples reach the statistics as float32, so agreement stops near float32 rounding.)
    expect(Math.abs(stats.channelMean[0]! - allMean)).toBeLessThan(1e-7);
    expect(Math.abs(stats.channelStd[0]! - Math.sqrt(allSq / (N * P)))).toBeLessThan(1e-7);
    // The well-known figures: mean 0.2860, std 0.3530.
    expect(stats.channelMean[0]).toBeCloseTo(0.286, 3);
    expect(stats.channelStd[0]).toBeCloseTo(0.353, 3);

    const out = await img.writeStatistics(stats, tmp.dir);
    const meanPng = await img.decodeImageFile(out.mean);
    const stdPng = await img.decodeImageFile(out.std);
    expect([meanPng.channels, meanPng.height, meanPng.width]).toEqual([1, 28, 28]);
    expect(Math.max(...stdPng.data)).toBe(1);
    // Garments fill the middle: the center is brighter on average than the corners, which never vary.
    expect(meanPng.data[14 * 28 + 14]!).toBeGreaterThan(0.3);
    expect(stdPng.data[0]!).toBeLessThan(0.02);
  });
});
