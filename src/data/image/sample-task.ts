import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConvkitError, fmtShape } from '../../tensor/errors.js';
import { Generator } from '../../tensor/random.js';
import { decodeImageFile } from './decode.js';
import { encodeImage, type ImageFormat } from './encode.js';
import { imageBuffer, shapeOf, type ImageBuffer, type ImageShape } from './image-buffer.js';
import { dequantize, quantize } from './pixels.js';
import { preprocessImage, type PreprocessSpec } from './preprocess.js';
import { transformFromJSON, type Transform, type TransformSpec } from './transforms/index.js';

/**
 * One unit of work of the image pipeline, as plain data so that it can run in a worker thread
 * (or in the calling thread, with identical results): per sample, decode a file and
 * preprocess it, or take values already in memory; then the dataset's deterministic transform
 * and the loader's augmentation, each with its own seed; then return the values, or the 8-bit
 * pixels (to fill a cache), or encode and write a file (convkit preprocess).
 */

export interface SampleJob {
  /** An image file to decode and preprocess... */
  path?: string;
  /** ...or values already decoded, of `shape`. */
  data?: Float32Array;
  shape?: ImageShape;
  /** The dataset index: seeds the dataset transform. */
  index?: number;
  /** The augmentation seed. */
  seed?: number;
  /** Write the preprocessed image here instead of returning it. */
  outPath?: string;
}

/** Work for an image worker: files or buffers to decode, preprocess and augment. */
export interface SampleTask {
  jobs: SampleJob[];
  decode?: { preprocess: PreprocessSpec; maxPixels?: number; quantize: boolean };
  datasetTransform?: TransformSpec;
  augment?: TransformSpec;
  output: 'float32' | 'uint8' | 'file';
  /** Each result must have this shape (a dataset's sampleShape). */
  expectShape?: ImageShape;
  /** For output 'file'. */
  format?: ImageFormat;
  quality?: number;
  /** Report failures per job instead of failing the task (convkit preprocess skips bad files). */
  keepGoing?: boolean;
}

/** What an image worker returns for a task: the outputs, their shapes and any errors, in job order. */
export interface SampleResult {
  /** All outputs, concatenated in job order (empty for failed jobs and for 'file'). */
  data: Float32Array | Uint8Array;
  shapes: (ImageShape | null)[];
  errors: (string | null)[];
}

const cache = new Map<string, Transform>();
function transformOf(spec: TransformSpec): Transform {
  const key = JSON.stringify(spec);
  let t = cache.get(key);
  if (!t) {
    if (cache.size > 32) cache.clear();
    t = transformFromJSON(spec);
    cache.set(key, t);
  }
  return t;
}

function sourceOf(job: SampleJob, k: number): string {
  return job.path ?? (job.index !== undefined ? `sample ${job.index}` : `job ${k}`);
}

async function runJob(task: SampleTask, job: SampleJob, k: number): Promise<ImageBuffer | null> {
  let x: ImageBuffer;
  if (job.path !== undefined) {
    const d = task.decode ?? { preprocess: {}, quantize: true };
    x = preprocessImage(await decodeImageFile(job.path, d.maxPixels !== undefined ? { maxPixels: d.maxPixels } : {}), d.preprocess);
    if (task.output === 'uint8') return x;
    if (task.output === 'file') {
      const bytes = await encodeImage(x, task.format ?? 'png', task.quality !== undefined ? { quality: task.quality } : {});
      mkdirSync(dirname(job.outPath!), { recursive: true });
      writeFileSync(job.outPath!, bytes);
      return null;
    }
    if (d.quantize) {
      const values = new Float32Array(x.data.length);
      dequantize(quantize(x.data), values);
      x = { ...x, data: values };
    }
  } else {
    x = dataOf(job, k);
  }
  return transformSample(task, job, x);
}

/** The in-memory part of a job: the dataset transform, then the augmentation, each with its own seed. */
function transformSample(task: SampleTask, job: SampleJob, img: ImageBuffer): ImageBuffer {
  let x = img;
  if (task.datasetTransform) x = transformOf(task.datasetTransform).apply(x, new Generator(job.index ?? 0));
  if (task.augment) x = transformOf(task.augment).apply(x, new Generator(job.seed ?? 0));
  return x;
}

function dataOf(job: SampleJob, k: number): ImageBuffer {
  if (!job.data || !job.shape) throw new ConvkitError(`image pipeline: ${sourceOf(job, k)} has neither a path nor data`);
  return imageBuffer(job.shape[0], job.shape[1], job.shape[2], job.data);
}

function checkShape(task: SampleTask, job: SampleJob, k: number, x: ImageBuffer | null): void {
  if (x && task.expectShape && shapeOf(x).some((v, i) => v !== task.expectShape![i])) {
    throw new ConvkitError(
      `${sourceOf(job, k)}: comes out of the pipeline as ${fmtShape(shapeOf(x))}, but the dataset's samples are ${fmtShape(task.expectShape)}; ` +
        'give a size (e.g. --size 64) so that every image is cropped and scaled to one shape',
    );
  }
}

function collect(task: SampleTask, outs: (ImageBuffer | null)[], errors: (string | null)[]): SampleResult {
  const total = outs.reduce((a, x) => a + (x ? x.data.length : 0), 0);
  const data = task.output === 'uint8' ? new Uint8Array(total) : new Float32Array(total);
  let o = 0;
  for (const x of outs) {
    if (!x) continue;
    if (data instanceof Uint8Array) quantize(x.data, data.subarray(o, o + x.data.length));
    else data.set(x.data, o);
    o += x.data.length;
  }
  return { data, shapes: outs.map((x) => (x ? shapeOf(x) : null)), errors };
}

/** Runs a task whose jobs hold data (no files), synchronously: the calling-thread twin of a worker. */
export function runSampleTaskSync(task: SampleTask): SampleResult {
  const outs = task.jobs.map((job, k) => {
    const x = transformSample(task, job, dataOf(job, k));
    checkShape(task, job, k, x);
    return x;
  });
  return collect(task, outs, outs.map(() => null));
}

/** Runs a task; shapes and errors come back per job. */
export async function runSampleTask(task: SampleTask): Promise<SampleResult> {
  const outs: (ImageBuffer | null)[] = [];
  const errors: (string | null)[] = [];
  for (let k = 0; k < task.jobs.length; k++) {
    const job = task.jobs[k]!;
    try {
      const x = await runJob(task, job, k);
      checkShape(task, job, k, x);
      outs.push(x);
      errors.push(null);
    } catch (e) {
      if (!task.keepGoing) throw e;
      outs.push(null);
      errors.push((e as Error).message);
    }
  }
  return collect(task, outs, errors);
}
