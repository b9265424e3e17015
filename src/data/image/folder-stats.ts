import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConvkitError } from '../../tensor/errors.js';
import { writeImage } from './encode.js';
import { imageBuffer } from './image-buffer.js';
import { IMAGE_EXTENSIONS } from './image-folder.js';
import { listImageFiles } from './list-images.js';
import type { PreprocessSpec } from './preprocess.js';
import type { SampleTask } from './sample-task.js';
import { ImageStatistics, statsToJson, stdForDisplay, type ImageStats, type ImageStatsJson } from './statistics.js';
import { defaultWorkers, sharedImagePool } from './worker-pool.js';

/**
 * `convkit stats <folder> --size 100`: the mean image, the standard-deviation image and the
 * per-channel numbers of every image under a folder, in one streaming pass. Workers decode and
 * preprocess (crop to square, scale to size) a window of files at a time while this thread
 * folds the previous window into the running statistics, in file order, so the result does not
 * depend on the number of workers and memory stays at a few windows of images.
 */

export interface FolderStatsOptions extends PreprocessSpec {
  workers?: number;
  maxPixels?: number;
  extensions?: readonly string[];
  /** 0 (default): population std; 1: sample std. */
  ddof?: number;
  /** Called after each window with the images done so far. */
  onProgress?: (done: number, total: number) => void;
}

/** Statistics of every image file under `root` (any depth), each preprocessed by the spec (give size: one shape is needed). */
export function folderStatistics(root: string, opts: FolderStatsOptions = {}): ImageStats {
  const files = listImageFiles(root, opts.extensions ?? IMAGE_EXTENSIONS);
  if (files.length === 0) throw new ConvkitError(`stats: no image files (${(opts.extensions ?? IMAGE_EXTENSIONS).join(', ')}) under ${root}`);
  const workers = opts.workers ?? defaultWorkers();
  const pool = sharedImagePool(workers);
  const preprocess: PreprocessSpec = {};
  for (const key of ['size', 'channels', 'aspect', 'resample', 'antialias', 'fill'] as const) {
    if (opts[key] !== undefined) (preprocess as Record<string, unknown>)[key] = opts[key];
  }
  const task = (paths: string[]): SampleTask => ({
    jobs: paths.map((path) => ({ path })),
    output: 'float32',
    decode: { preprocess, quantize: false, ...(opts.maxPixels !== undefined ? { maxPixels: opts.maxPixels } : {}) },
  });
  const acc = new ImageStatistics();
  // Tasks of 8 files; a window of 4 tasks per worker in flight while the previous window is folded in.
  const tasks: SampleTask[] = [];
  for (let i = 0; i < files.length; i += 8) tasks.push(task(files.slice(i, i + 8)));
  const window = workers * 4;
  let pending = pool.submit(tasks.slice(0, window), workers);
  let done = 0;
  for (let start = 0; start < tasks.length; start += window) {
    const next = start + window < tasks.length ? pool.submit(tasks.slice(start + window, start + 2 * window), workers) : [];
    const results = pool.wait(pending);
    results.forEach((r, t) => {
      let at = 0;
      r.shapes.forEach((shape, k) => {
        const [c, h, w] = shape!;
        const n = c * h * w;
        acc.add(imageBuffer(c, h, w, (r.data as Float32Array).subarray(at, at + n)), tasks[start + t]!.jobs[k]!.path);
        at += n;
      });
      done += r.shapes.length;
    });
    opts.onProgress?.(done, files.length);
    pending = next;
  }
  return acc.result(opts.ddof !== undefined ? { ddof: opts.ddof } : {});
}

/** The files `writeFolderStatistics` wrote (mean and std images, JSON) and the numbers in them. */
export interface WrittenStatistics {
  mean: string;
  std: string;
  json: string;
  numbers: ImageStatsJson & { stdMax: number };
}

/**
 * Writes mean.png (the mean image), std.png (the std image divided by its maximum, so the most
 * variable pixels show white) and stats.json (count, shape, per-channel mean and std, and the
 * std's maximum, to undo the display scaling) into `outDir`.
 */
export async function writeStatistics(stats: ImageStats, outDir: string): Promise<WrittenStatistics> {
  mkdirSync(outDir, { recursive: true });
  const paths = { mean: join(outDir, 'mean.png'), std: join(outDir, 'std.png'), json: join(outDir, 'stats.json') };
  let stdMax = 0;
  for (const v of stats.std.data) stdMax = Math.max(stdMax, v);
  await writeImage(paths.mean, stats.mean);
  await writeImage(paths.std, stdForDisplay(stats.std));
  const numbers = { ...statsToJson(stats), stdMax };
  writeFileSync(paths.json, `${JSON.stringify(numbers, null, 2)}\n`);
  return { ...paths, numbers };
}
