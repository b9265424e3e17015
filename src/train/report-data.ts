import { ConvkitError } from '../tensor/errors.js';
import { Generator } from '../tensor/random.js';
import { tidy } from '../tensor/scope.js';
import { noGrad } from '../autograd/tape.js';
import type { Module } from '../nn/module.js';
import { Conv2d } from '../nn/conv2d.js';
import { optimizeForInference } from '../nn/optimize-for-inference.js';
import { DataLoader, type SampleTransform } from '../data/data-loader.js';
import type { Dataset } from '../data/dataset.js';
import type { EpochEvent } from './progress.js';

/**
 * What a training report shows, as plain JSON: the history, the test set's confusion matrix,
 * per-class accuracy, the worst-classified test images (their pixels before normalization, so
 * they display as the eye saw them) and the first convolution's filters. Computing it runs the
 * model once over the test set in eval mode (its inference plan, as `evaluate` runs it);
 * report-html.ts turns it into a page.
 */

export type SettingValue = string | number | boolean | null;

/** One epoch of the history (missing validation figures are null: JSON has no undefined). */
export interface ReportEpoch {
  epoch: number;
  trainLoss: number | null;
  trainAccuracy: number | null;
  valLoss: number | null;
  valAccuracy: number | null;
  lr: number | null;
  seconds: number | null;
  imagesPerSecond: number | null;
}

export interface ReportGuess {
  label: number;
  probability: number;
}

/** A test image the model got most wrong: lowest probability on its true class. */
export interface ReportExample {
  /** Its index in the test set. */
  index: number;
  label: number;
  /** The model's probability for the true label. */
  probability: number;
  /** The three most probable classes, best first. */
  top: ReportGuess[];
  /** Pixels in [0, 1] as bytes 0..255, channel-major [C, H, W], base64. */
  pixels: string;
}

/** Images as drawn in the report: 1 (gray) or 3 (RGB) channels of height x width bytes. */
export interface ReportImageShape {
  channels: 1 | 3;
  height: number;
  width: number;
}

export interface ReportFilters {
  /** The parameter drawn (e.g. 'features.0.weight') and its shape [out, in, kh, kw]. */
  name: string;
  shape: number[];
  /** How each filter is drawn: 3 channels when it has 3 inputs, else 1 (the mean over its inputs). */
  image: ReportImageShape;
  /** One base64 string of bytes [C, kh, kw] per filter, each scaled from its own min..max to 0..255. */
  filters: string[];
}

export interface ReportData {
  title: string;
  /** ISO time the report was made. */
  created: string;
  settings: Record<string, SettingValue>;
  /** The run's wall time in seconds, when known. */
  wallSeconds: number | null;
  history: ReportEpoch[];
  classes: string[];
  test: { count: number; loss: number | null; accuracy: number | null; top5: number | null };
  /** counts[true][predicted]. */
  confusion: number[][];
  perClass: { name: string; count: number; correct: number; accuracy: number | null }[];
  image: ReportImageShape;
  worst: ReportExample[];
  filters: ReportFilters | null;
}

export interface ReportDataOptions {
  model: Module;
  /** The test set as loaded: pixels before normalization (what the report draws). */
  test: Dataset;
  /** The input transform evaluation applies (normalization), run before the model sees a batch. */
  transform?: SampleTransform;
  history?: readonly EpochEvent[];
  /** Class names (label i names classNames[i]); default the test set's, else the numbers. */
  classNames?: readonly string[];
  settings?: Record<string, unknown>;
  wallSeconds?: number;
  title?: string;
  /** How many worst images to keep (default 24). */
  worst?: number;
  batchSize?: number;
  /** Images larger than this (height or width) are drawn scaled down, so the page stays small (default 128). */
  maxImageSide?: number;
}

const finite = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);

/** Computes the report's data; errors are ConvkitErrors that say what the report needs. */
export function reportData(opts: ReportDataOptions): ReportData {
  const { model, test } = opts;
  if (test.length === 0) throw new ConvkitError('training report: the test set is empty');
  if (test.sampleShape.length !== 3) throw new ConvkitError(`training report: test samples must be images [C, H, W], got [${test.sampleShape.join(', ')}]`);
  const keep = Math.max(0, Math.floor(opts.worst ?? 24));
  const { probabilities, numClasses, labels } = predict(model, test, opts.transform, opts.batchSize ?? 256);
  const names = opts.classNames ?? test.classes;
  const classes = Array.from({ length: numClasses }, (_, i) => (names && i < names.length ? String(names[i]) : String(i)));

  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  const trueProb = new Float64Array(test.length);
  let lossSum = 0;
  let top5 = 0;
  for (let i = 0; i < test.length; i++) {
    const p = probabilities.subarray(i * numClasses, (i + 1) * numClasses);
    const y = labels[i]!;
    const pred = argmax(p);
    confusion[y]![pred]!++;
    const py = p[y]!;
    trueProb[i] = Number.isNaN(py) ? 0 : py;
    lossSum += -Math.log(trueProb[i]!);
    if (rankOf(p, y) < 5) top5++;
  }
  const correct = confusion.reduce((s, row, i) => s + row[i]!, 0);
  const perClass = classes.map((name, i) => {
    const row = confusion[i]!;
    const count = row.reduce((a, b) => a + b, 0);
    return { name, count, correct: row[i]!, accuracy: count ? row[i]! / count : null };
  });

  // Lowest true-class probability first; ties (e.g. several at 0) in test-set order.
  const order = Array.from({ length: test.length }, (_, i) => i).sort((a, b) => trueProb[a]! - trueProb[b]! || a - b);
  const maxSide = opts.maxImageSide ?? 128;
  const [c, h, w] = test.sampleShape as [number, number, number];
  const image = drawnShape(c, h, w, maxSide);
  const worst = order.slice(0, keep).map((index): ReportExample => {
    const p = probabilities.subarray(index * numClasses, (index + 1) * numClasses);
    return {
      index,
      label: labels[index]!,
      probability: trueProb[index]!,
      top: topK(p, 3),
      pixels: toBase64(imageBytes(test.get(index).input, [c, h, w], image)),
    };
  });

  return {
    title: opts.title ?? 'convkit training report',
    created: new Date().toISOString(),
    settings: plainSettings(opts.settings ?? {}),
    wallSeconds: finite(opts.wallSeconds),
    history: (opts.history ?? []).map((e) => ({
      epoch: e.epoch,
      trainLoss: finite(e.trainLoss),
      trainAccuracy: finite(e.trainAccuracy),
      valLoss: finite(e.valLoss),
      valAccuracy: finite(e.valAccuracy),
      lr: finite(e.lr),
      seconds: finite(e.seconds),
      imagesPerSecond: finite(e.imagesPerSecond),
    })),
    classes,
    test: { count: test.length, loss: finite(lossSum / test.length), accuracy: correct / test.length, top5: top5 / test.length },
    confusion,
    perClass,
    image,
    worst,
    filters: firstLayerFilters(model),
  };
}

/** Softmax probabilities [N * classes] of every test sample, in test-set order, and the labels. */
function predict(model: Module, test: Dataset, transform: SampleTransform | undefined, batchSize: number): { probabilities: Float64Array; numClasses: number; labels: Int32Array } {
  const wasTraining = model.training;
  const runner = optimizeForInference(model);
  const labels = new Int32Array(test.length);
  let probabilities = new Float64Array(0);
  let numClasses = 0;
  let at = 0;
  // No shuffle: batch b holds samples b * batchSize onwards, so rows map back to test indices.
  const loader = new DataLoader(test, { batchSize, generator: new Generator(0), ...(transform ? { transform } : {}) });
  try {
    noGrad(() => {
      for (const batch of loader) {
        tidy(() => {
          const out = runner.forward(batch.x);
          if (out.ndim !== 2) throw new ConvkitError(`training report: the model gives outputs of shape [${out.shape.join(', ')}]; it needs one score per class [N, classes]`);
          const [n, k] = out.shape as [number, number];
          if (!numClasses) {
            numClasses = k;
            probabilities = new Float64Array(test.length * k);
          } else if (k !== numClasses) throw new ConvkitError(`training report: the model gave ${numClasses} scores per image, then ${k}`);
          const scores = out.contiguous().values();
          const ys = batch.y.values();
          for (let i = 0; i < n; i++) {
            const y = ys[i]!;
            if (!Number.isInteger(y) || y < 0 || y >= k) throw new ConvkitError(`training report: test label ${y} (image ${at + i}) is not one of the model's ${k} classes`);
            labels[at + i] = y;
            softmaxInto(scores, i * k, k, probabilities, (at + i) * k);
          }
          at += n;
        });
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return { probabilities, numClasses, labels };
}

/** Stable softmax of scores[from .. from + k) into out[to ..]; a row with NaN gives NaN. */
function softmaxInto(scores: ArrayLike<number>, from: number, k: number, out: Float64Array, to: number): void {
  let max = -Infinity;
  for (let j = 0; j < k; j++) max = Math.max(max, scores[from + j]!);
  let sum = 0;
  for (let j = 0; j < k; j++) sum += out[to + j] = Math.exp(scores[from + j]! - max);
  for (let j = 0; j < k; j++) out[to + j]! /= sum;
}

/** The first highest entry (ties go to the lower class, as topKCorrect counts them); NaN never wins. */
function argmax(p: Float64Array): number {
  let best = 0;
  for (let j = 1; j < p.length; j++) if (p[j]! > p[best]! || Number.isNaN(p[best]!)) best = j;
  return best;
}

/** How many classes rank before `y` (higher, or tied and lower-numbered); NaN ranks last. */
function rankOf(p: Float64Array, y: number): number {
  const t = p[y]!;
  if (Number.isNaN(t)) return p.length;
  let rank = 0;
  for (let j = 0; j < p.length; j++) if (p[j]! > t || (p[j] === t && j < y)) rank++;
  return rank;
}

function topK(p: Float64Array, k: number): ReportGuess[] {
  return Array.from(p, (probability, label) => ({ label, probability: Number.isNaN(probability) ? 0 : probability }))
    .sort((a, b) => b.probability - a.probability || a.label - b.label)
    .slice(0, k);
}

function drawnShape(c: number, h: number, w: number, maxSide: number): ReportImageShape {
  const factor = Math.max(1, Math.ceil(Math.max(h, w) / Math.max(1, maxSide)));
  return { channels: c === 3 ? 3 : 1, height: Math.ceil(h / factor), width: Math.ceil(w / factor) };
}

/** The smallest and largest finite values ([Infinity, -Infinity] when there are none). */
function finiteRange(values: ArrayLike<number> & Iterable<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return [lo, hi];
}

/**
 * A sample's pixels as bytes of `shape`: values in [0, 1] as they are, others scaled from the
 * image's own min..max; 3 channels kept, any other count averaged to gray; scaled down by
 * averaging blocks when the image is larger than `shape`.
 */
export function imageBytes(input: Float32Array, [c, h, w]: [number, number, number], shape: ReportImageShape): Uint8Array {
  const [lo, hi] = finiteRange(input);
  const inUnit = lo >= 0 && hi <= 1;
  const scale = (v: number) => (!Number.isFinite(v) ? 0 : inUnit ? v : hi > lo ? (v - lo) / (hi - lo) : 0.5);
  const fy = h / shape.height;
  const fx = w / shape.width;
  const out = new Uint8Array(shape.channels * shape.height * shape.width);
  for (let oc = 0; oc < shape.channels; oc++) {
    const from = shape.channels === 3 ? [oc] : Array.from({ length: c }, (_, i) => i);
    for (let oy = 0; oy < shape.height; oy++) {
      for (let ox = 0; ox < shape.width; ox++) {
        let sum = 0;
        let n = 0;
        for (let y = Math.floor(oy * fy); y < Math.min(h, Math.floor((oy + 1) * fy)); y++) {
          for (let x = Math.floor(ox * fx); x < Math.min(w, Math.floor((ox + 1) * fx)); x++) {
            for (const ic of from) {
              sum += scale(input[(ic * h + y) * w + x]!);
              n++;
            }
          }
        }
        out[(oc * shape.height + oy) * shape.width + ox] = Math.round(Math.min(1, Math.max(0, n ? sum / n : 0)) * 255);
      }
    }
  }
  return out;
}

/**
 * The first convolution's weights [out, in, kh, kw] (the first Conv2d, else the first 4-D
 * parameter): RGB when it reads 3 channels, else the mean over its inputs in gray, each
 * filter scaled from its own min..max to 0..255 (non-finite weights black). Null when the
 * model has none.
 */
export function firstLayerFilters(model: Module): ReportFilters | null {
  const named = model.namedModules();
  const conv = named.find(([, m]) => m instanceof Conv2d);
  const entry = conv ? ([`${conv[0] ? `${conv[0]}.` : ''}weight`, (conv[1] as Conv2d).weight] as const) : model.namedParameters().find(([, p]) => p.ndim === 4);
  if (!entry) return null;
  const [name, weight] = entry;
  const [out, inC, kh, kw] = weight.shape as [number, number, number, number];
  const values = weight.contiguous().values();
  const channels: 1 | 3 = inC === 3 ? 3 : 1;
  const size = inC * kh * kw;
  const filters: string[] = [];
  const from = (oc: number) => (channels === 3 ? [oc] : Array.from({ length: inC }, (_, k) => k));
  for (let f = 0; f < out; f++) {
    // What is drawn (the 3 channels, or the mean over the inputs), then scaled over its own range.
    const shown = new Float64Array(channels * kh * kw);
    for (let oc = 0; oc < channels; oc++) {
      for (let i = 0; i < kh * kw; i++) {
        let sum = 0;
        for (const ic of from(oc)) sum += values[f * size + ic * kh * kw + i]!;
        shown[oc * kh * kw + i] = sum / from(oc).length;
      }
    }
    const [lo, hi] = finiteRange(shown);
    const bytes = new Uint8Array(shown.length);
    shown.forEach((v, i) => (bytes[i] = !Number.isFinite(v) ? 0 : hi > lo ? Math.round(((v - lo) / (hi - lo)) * 255) : 128));
    filters.push(toBase64(bytes));
  }
  return { name, shape: [out, inC, kh, kw], image: { channels, height: kh, width: kw }, filters };
}

function plainSettings(settings: Record<string, unknown>): Record<string, SettingValue> {
  const out: Record<string, SettingValue> = {};
  for (const [k, v] of Object.entries(settings)) {
    if (v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) out[k] = v;
    else if (v !== undefined) out[k] = JSON.stringify(v) ?? null;
  }
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Base64 of bytes, without Node's Buffer (this module also runs in a browser). */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!;
    const b = bytes[i + 1] ?? 0;
    const c = bytes[i + 2] ?? 0;
    s += B64[a >> 2]! + B64[((a & 3) << 4) | (b >> 4)]!;
    s += i + 1 < bytes.length ? B64[((b & 15) << 2) | (c >> 6)]! : '=';
    s += i + 2 < bytes.length ? B64[c & 63]! : '=';
  }
  return s;
}
