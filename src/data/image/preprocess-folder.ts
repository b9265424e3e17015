import { existsSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, basename } from 'node:path';
import { ConvkitError } from '../../tensor/errors.js';
import type { ImageFormat } from './encode.js';
import { IMAGE_EXTENSIONS } from './image-folder.js';
import { listImageFiles } from './list-images.js';
import type { PreprocessSpec } from './preprocess.js';
import type { SampleTask } from './sample-task.js';
import { chunk, defaultWorkers, sharedImagePool } from './worker-pool.js';

/**
 * `convkit preprocess <in> <out> --size 100`: a resized, cropped copy of a folder tree, same
 * relative paths (class folders included), each image decoded, converted, cropped to the
 * aspect of size and scaled, then written as PNG (lossless; default) or JPEG / WebP. Training
 * from the copy skips the decoding of large originals every epoch.
 */

export interface PreprocessFolderOptions extends PreprocessSpec {
  format?: ImageFormat;
  /** JPEG / WebP quality (default 90). */
  quality?: number;
  workers?: number;
  maxPixels?: number;
  extensions?: readonly string[];
  /** 'throw' (default): stop at the first bad file; 'skip': report bad files and go on. */
  onError?: 'throw' | 'skip';
  /** Called after each batch of files with the count done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** What `preprocessFolder` did: files written and files skipped (with their errors). */
export interface PreprocessFolderResult {
  written: number;
  skipped: { path: string; error: string }[];
  outDir: string;
}

/** Writes a preprocessed copy of the folder tree `inDir` into `outDir` (see above), on worker threads. */
export function preprocessFolder(inDir: string, outDir: string, opts: PreprocessFolderOptions = {}): PreprocessFolderResult {
  if (resolve(inDir) === resolve(outDir)) throw new ConvkitError(`preprocess: the output folder ${outDir} is the input folder; give another one`);
  if (!existsSync(inDir)) throw new ConvkitError(`preprocess: ${inDir} does not exist`);
  const files = listImageFiles(inDir, opts.extensions ?? IMAGE_EXTENSIONS);
  const format = opts.format ?? 'png';
  const ext = format === 'jpeg' ? '.jpg' : `.${format}`;
  const outside = relative(resolve(inDir), resolve(outDir));
  // An output folder inside the input folder must not be read back as input.
  const inputs = outside && !outside.startsWith('..') ? files.filter((f) => !resolve(f).startsWith(resolve(outDir))) : files;
  const target = (path: string) => {
    const rel = relative(inDir, path);
    return join(outDir, dirname(rel), basename(rel, extname(rel)) + ext);
  };
  const seen = new Map<string, string>();
  for (const f of inputs) {
    const t = target(f);
    if (seen.has(t)) throw new ConvkitError(`preprocess: ${seen.get(t)} and ${f} would both be written to ${t}; rename one`);
    seen.set(t, f);
  }
  const preprocess: PreprocessSpec = {};
  for (const key of ['size', 'channels', 'aspect', 'resample', 'antialias', 'fill'] as const) {
    if (opts[key] !== undefined) (preprocess as Record<string, unknown>)[key] = opts[key];
  }
  const workers = opts.workers ?? defaultWorkers();
  const keepGoing = opts.onError === 'skip';
  const tasks: SampleTask[] = chunk(inputs, workers).map((paths) => ({
    jobs: paths.map((path) => ({ path, outPath: target(path) })),
    output: 'file',
    format,
    keepGoing,
    decode: { preprocess, quantize: true, ...(opts.maxPixels !== undefined ? { maxPixels: opts.maxPixels } : {}) },
    ...(opts.quality !== undefined ? { quality: opts.quality } : {}),
  }));
  const pool = sharedImagePool(workers);
  const skipped: PreprocessFolderResult['skipped'] = [];
  let done = 0;
  // One batch of tasks per round so that progress can be reported.
  for (let start = 0; start < tasks.length; start += workers) {
    const round = tasks.slice(start, start + workers);
    pool.run(round, workers).forEach((r, t) => {
      r.errors.forEach((e, k) => {
        if (e) skipped.push({ path: round[t]!.jobs[k]!.path!, error: e });
      });
      done += r.errors.length;
    });
    opts.onProgress?.(done, inputs.length);
  }
  return { written: inputs.length - skipped.length, skipped, outDir };
}
