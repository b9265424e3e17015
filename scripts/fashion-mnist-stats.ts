/**
 * `npx vite-node scripts/fashion-mnist-stats.ts [outDir]`: the mean and standard-deviation
 * images of the 60,000 Fashion-MNIST training images (Debian package dataset-fashion-mnist),
 * computed in one streaming pass, written as mean.png / std.png (28x28, std scaled so the most
 * variable pixel is white), 8x enlarged copies for viewing, and stats.json with the numbers.
 * Default outDir: docs/fashion-mnist-stats.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFashionMnist } from '../src/data/fashion-mnist.js';
import { writeImage } from '../src/data/image/encode.js';
import { writeStatistics } from '../src/data/image/folder-stats.js';
import { resize } from '../src/data/image/resize.js';
import { datasetStatistics, stdForDisplay } from '../src/data/image/statistics.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2] ?? join(root, 'docs', 'fashion-mnist-stats');
const t0 = performance.now();
const stats = datasetStatistics(loadFashionMnist({ split: 'train' }));
const written = await writeStatistics(stats, out);
await writeImage(join(out, 'mean-x8.png'), resize(stats.mean, 224, { method: 'nearest' }));
await writeImage(join(out, 'std-x8.png'), resize(stdForDisplay(stats.std), 224, { method: 'nearest' }));
console.log(`${stats.count} images in ${((performance.now() - t0) / 1000).toFixed(1)} s -> ${out}`);
console.log(JSON.stringify(written.numbers));
