import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { firstLayerFilters, imageBytes, reportData, toBase64, type ReportData } from '../../src/train/report-data.js';
import { reportHtml } from '../../src/train/report-html.js';
import type { EpochEvent } from '../../src/train/progress.js';

/**
 * The training report's data on a model whose scores are known by hand: a 1x3 convolution with
 * 4 x identity weights reads a 1x1x3 image, so the logits are 4 x the three pixels. Then the
 * page built from it: self-contained, its confusion cells and JSON agree.
 */

function handModel(scale = 4): ck.nn.Module {
  const conv = new ck.nn.Conv2d(1, 3, [1, 3], { bias: false });
  const w = new Float32Array(9);
  for (let k = 0; k < 3; k++) w[k * 3 + k] = scale;
  conv.weight.values().set(w);
  return new ck.nn.Sequential(conv, new ck.nn.Flatten());
}

/** Pixels per image (three values in [0, 1]) and labels. */
const PIXELS = [
  [0.9, 0.1, 0.1], // 0 -> 0 right
  [0.2, 0.8, 0.1], // 1 -> 1 right
  [0.1, 0.2, 0.7], // 2 -> 2 right
  [0.8, 0.3, 0.0], // label 1 -> 0 wrong
  [0.0, 0.1, 1.0], // label 0 -> 2 wrong (very)
  [0.5, 0.5, 0.1], // label 1: tie 0/1 goes to class 0 -> wrong
  [0.3, 0.9, 0.0], // 1 -> 1 right
];
const LABELS = [0, 1, 2, 1, 0, 1, 1];

function handSet(): ck.data.TensorDataset {
  return new ck.data.TensorDataset(ck.tensor(PIXELS.flat(), [PIXELS.length, 1, 1, 3]), ck.tensor(LABELS, [LABELS.length], { dtype: 'int32' }), { classes: ['zero', 'one', 'two'] });
}

function softmax(v: number[]): number[] {
  const m = Math.max(...v);
  const e = v.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

function fromBase64(s: string): number[] {
  return [...Buffer.from(s, 'base64')];
}

const HISTORY: EpochEvent[] = [1, 2, 3].map((epoch) => ({
  epoch,
  epochs: 3,
  trainLoss: 1 / epoch,
  trainAccuracy: 0.5 + epoch / 10,
  trainTop5: 1,
  ...(epoch > 1 ? { valLoss: 1.2 / epoch, valAccuracy: 0.4 + epoch / 10 } : {}),
  lr: 0.01 / epoch,
  seconds: 2,
  imagesPerSecond: 100,
}));

describe('reportData', () => {
  // Batches of 2 over 7 images: the last batch is partial and rows must map back to their images.
  const data = reportData({ model: handModel(), test: handSet(), batchSize: 2, history: HISTORY, settings: { model: 'hand', lr: 0.01, nested: { a: 1 } }, wallSeconds: 12.5 });

  it('counts the confusion matrix by hand (rows true, columns predicted; ties to the lower class)', () => {
    expect(data.classes).toEqual(['zero', 'one', 'two']);
    expect(data.confusion).toEqual([
      [1, 0, 1],
      [2, 2, 0],
      [0, 0, 1],
    ]);
    expect(data.confusion.flat().reduce((a, b) => a + b, 0)).toBe(PIXELS.length);
    expect(data.test.count).toBe(7);
    expect(data.test.accuracy).toBeCloseTo(4 / 7, 12);
  });

  it('gives per-class accuracy with the class names', () => {
    expect(data.perClass).toEqual([
      { name: 'zero', count: 2, correct: 1, accuracy: 0.5 },
      { name: 'one', count: 4, correct: 2, accuracy: 0.5 },
      { name: 'two', count: 1, correct: 1, accuracy: 1 },
    ]);
  });

  it('matches the loss and accuracy evaluate() reports', () => {
    const ev = ck.train.evaluate(handModel(), new ck.data.DataLoader(handSet(), { batchSize: 3 }));
    expect(data.test.accuracy).toBeCloseTo(ev.accuracy, 12);
    expect(data.test.loss!).toBeCloseTo(ev.loss, 5);
    expect(data.test.top5).toBe(1);
  });

  it('orders the worst images by the probability of their true class, with their top-3 guesses and raw pixels', () => {
    const probs = PIXELS.map((p) => softmax(p.map((v) => 4 * v)));
    const trueP = probs.map((p, i) => p[LABELS[i]!]!);
    const expected = trueP.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, i]) => i);
    expect(data.worst.map((w) => w.index)).toEqual(expected);
    expect(data.worst[0]!.index).toBe(4);
    for (const w of data.worst) {
      expect(w.label).toBe(LABELS[w.index]);
      expect(w.probability).toBeCloseTo(trueP[w.index]!, 6);
      const want = probs[w.index]!.map((p, label) => ({ label, p })).sort((a, b) => b.p - a.p || a.label - b.label);
      expect(w.top.map((g) => g.label)).toEqual(want.map((g) => g.label));
      w.top.forEach((g, k) => expect(g.probability).toBeCloseTo(want[k]!.p, 6));
      expect(fromBase64(w.pixels)).toEqual(PIXELS[w.index]!.map((v) => Math.round(Math.fround(v) * 255)));
    }
    expect(data.image).toEqual({ channels: 1, height: 1, width: 3 });
  });

  it('keeps only the worst n, and runs the transform on the model input but draws the pixels before it', () => {
    // The transform doubles the pixels: the scores double, the drawn pixels do not.
    const doubled = reportData({ model: handModel(2), test: handSet(), worst: 2, transform: (x) => x.forEach((v, i) => (x[i] = 2 * v)) });
    expect(doubled.worst).toHaveLength(2);
    expect(doubled.worst.map((w) => w.index)).toEqual(data.worst.slice(0, 2).map((w) => w.index));
    expect(doubled.worst[0]!.probability).toBeCloseTo(data.worst[0]!.probability, 6);
    expect(fromBase64(doubled.worst[0]!.pixels)).toEqual(PIXELS[4]!.map((v) => Math.round(Math.fround(v) * 255)));
  });

  it('carries the history (missing validation as null), the settings as plain values and the wall time', () => {
    expect(data.history).toHaveLength(3);
    expect(data.history[0]).toMatchObject({ epoch: 1, trainLoss: 1, valLoss: null, valAccuracy: null, lr: 0.01 });
    expect(data.history[2]!.valAccuracy).toBeCloseTo(0.7, 12);
    expect(data.settings).toEqual({ model: 'hand', lr: 0.01, nested: '{"a":1}' });
    expect(data.wallSeconds).toBe(12.5);
    expect(JSON.parse(JSON.stringify(data))).toEqual(data);
  });

  it('names classes by number without names, and refuses what it cannot report', () => {
    const plain = new ck.data.TensorDataset(ck.tensor(PIXELS.flat(), [7, 1, 1, 3]), ck.tensor(LABELS, [7], { dtype: 'int32' }));
    expect(reportData({ model: handModel(), test: plain }).classes).toEqual(['0', '1', '2']);
    const badLabel = new ck.data.TensorDataset(ck.tensor(PIXELS.flat(), [7, 1, 1, 3]), ck.tensor([0, 1, 2, 3, 0, 0, 0], [7], { dtype: 'int32' }));
    expect(() => reportData({ model: handModel(), test: badLabel })).toThrow(/test label 3 \(image 3\) is not one of the model's 3 classes/);
    const conv = new ck.nn.Conv2d(1, 3, [1, 3]);
    expect(() => reportData({ model: conv, test: handSet() })).toThrow(ck.ConvkitError);
    expect(() => reportData({ model: conv, test: handSet() })).toThrow(/one score per class/);
    const empty = new ck.data.TensorDataset(ck.zeros([0, 1, 1, 3]), ck.tensor([], [0], { dtype: 'int32' }));
    expect(() => reportData({ model: handModel(), test: empty })).toThrow(/the test set is empty/);
  });
});

describe('report images', () => {
  it('draws the first convolution: one image per filter, scaled from its own min to max', () => {
    const f = firstLayerFilters(handModel())!;
    expect(f.name).toBe('0.weight');
    expect(f.shape).toEqual([3, 1, 1, 3]);
    expect(f.image).toEqual({ channels: 1, height: 1, width: 3 });
    expect(f.filters.map(fromBase64)).toEqual([
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
    ]);
  });

  it('keeps RGB for 3 input channels, and the mean of the inputs in gray otherwise', () => {
    ck.manualSeed(3);
    const rgb = new ck.nn.Sequential(new ck.nn.ReLU(), new ck.nn.Conv2d(3, 5, 3), new ck.nn.Conv2d(5, 2, 1));
    const f = firstLayerFilters(rgb)!;
    expect(f.name).toBe('1.weight');
    expect(f.shape).toEqual([5, 3, 3, 3]);
    expect(f.image.channels).toBe(3);
    for (const b64 of f.filters) {
      const bytes = fromBase64(b64);
      expect(bytes).toHaveLength(27);
      expect(Math.min(...bytes)).toBe(0);
      expect(Math.max(...bytes)).toBe(255);
    }
    const two = new ck.nn.Conv2d(2, 1, [1, 2], { bias: false });
    two.weight.values().set([0, 1, 2, 5]); // channel means: 1 and 3
    const g = firstLayerFilters(two)!;
    expect(g.image).toEqual({ channels: 1, height: 1, width: 2 });
    expect(fromBase64(g.filters[0]!)).toEqual([0, 255]);
    expect(firstLayerFilters(new ck.nn.Sequential(new ck.nn.Flatten(), new ck.nn.Linear(4, 2)))).toBeNull();
  });

  it('rescales pixels outside [0, 1] and scales large images down by block means', () => {
    expect([...imageBytes(Float32Array.from([-1, 0, 1]), [1, 1, 3], { channels: 1, height: 1, width: 3 })]).toEqual([0, 128, 255]);
    const big = Float32Array.from({ length: 16 }, (_, i) => (i % 4 < 2 ? 0 : 1));
    expect([...imageBytes(big, [1, 4, 4], { channels: 1, height: 2, width: 2 })]).toEqual([0, 255, 0, 255]);
    // Two channels are drawn gray: their mean.
    expect([...imageBytes(Float32Array.from([0, 1]), [2, 1, 1], { channels: 1, height: 1, width: 1 })]).toEqual([128]);
    const d = reportData({ model: new ck.nn.Sequential(new ck.nn.Flatten(), new ck.nn.Linear(3 * 300 * 200, 2)), test: new ck.data.TensorDataset(ck.zeros([1, 3, 300, 200]), ck.tensor([1], [1], { dtype: 'int32' })) });
    expect(d.image).toEqual({ channels: 3, height: 100, width: 67 });
    expect(fromBase64(d.worst[0]!.pixels)).toHaveLength(3 * 100 * 67);
  });

  it('encodes base64 as Buffer does', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 255, 256]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 255);
      expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    }
  });
});

describe('reportHtml', () => {
  const require = createRequire(import.meta.url);
  const assets = {
    uplotJs: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    uplotCss: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  };
  const test = new ck.data.TensorDataset(ck.tensor(PIXELS.flat(), [7, 1, 1, 3]), ck.tensor(LABELS, [7], { dtype: 'int32' }), { classes: ['<b>zero</b>', 'one & co', '</script>two'] });
  const data = reportData({ model: handModel(), test, history: HISTORY, settings: { model: 'INPUT[1x3x1] -> FC3', data: 'hand' } });
  const html = reportHtml(data, assets);

  it('references nothing outside the file: no URL at all, no src or href attribute', () => {
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/\s(src|href)\s*=/i);
    expect(html).not.toMatch(/@import|url\(/i);
    expect(html).toContain('uPlot (v');
  });

  it('holds the data as JSON that parses back, and escapes names in the markup', () => {
    const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)!;
    expect(JSON.parse(m[1]!) as ReportData).toEqual(data);
    expect(html).toContain('&#60;b&#62;zero&#60;/b&#62;');
    expect(html).not.toContain('<b>zero</b>');
    // The only closing script tags are the three the page has.
    expect(html.match(/<\/script>/g)).toHaveLength(3);
  });

  it('writes the confusion counts into cells that sum to the test-set size', () => {
    const cells = [...html.matchAll(/<td class="cell[^"]*" data-row="(\d+)" data-col="(\d+)" data-count="(\d+)"/g)];
    expect(cells).toHaveLength(9);
    for (const [, r, c, n] of cells) expect(Number(n)).toBe(data.confusion[Number(r)]![Number(c)]);
    expect(cells.reduce((s, m) => s + Number(m[3]), 0)).toBe(7);
    expect(html).toContain('data-total="7"');
  });

  it('has a canvas per worst image and per filter, and a place for each chart', () => {
    expect(html.match(/<canvas class="worst-image"/g)).toHaveLength(7);
    expect(html.match(/<canvas class="filter"/g)).toHaveLength(3);
    for (const id of ['chart-loss', 'chart-accuracy', 'chart-lr']) expect(html).toContain(`id="${id}"`);
    const noHistory = reportHtml(reportData({ model: handModel(), test }), assets);
    expect(noHistory).not.toContain('id="chart-loss"');
    expect(noHistory).toContain('no training history recorded');
  });
});
