import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readIdxFile } from '../../src/data/data-files.js';
import { DIGITS_ASSET_DIR } from '../../src/data/digits.js';
import { ensureBuilt, jsonLines, removeDir, runCli, tempDir, writeTinyDigits } from './cli-helpers.js';

/**
 * The commands chained as a new user would (issue #16): for every data kind (the embedded
 * digits, an IDX folder, a 3-channel image folder of mixed sizes, a 1-channel image folder) and
 * every model kind (zoo name, pattern, saved model, ONNX file), train -> eval -> predict -> info
 * -> export -> finetune (the exported ONNX) -> eval (the fine-tuned ONNX) -> convert-fc ->
 * predict --dense, each later command given only data flags the first train was given. Each
 * data kind meets a different model kind, so that all of both are covered in four chains.
 */

let root: string;
const CLASSES = ['blue', 'green', 'red'];

/** Class folders of solid-colour images, 10 per class, of mixed sizes (and a 16x16 one to predict). */
async function imageFolder(dir: string, gray: boolean): Promise<void> {
  const colours: Record<string, [number, number, number]> = { red: [220, 30, 30], green: [30, 190, 30], blue: [30, 30, 220] };
  for (const cls of CLASSES) {
    mkdirSync(join(dir, cls), { recursive: true });
    for (let i = 0; i < 10; i++) {
      const [r, g, b] = colours[cls]!;
      const level = cls === 'red' ? 40 : cls === 'green' ? 130 : 220;
      const background = gray ? { r: level, g: level, b: level } : { r: (r + 7 * i) % 256, g, b };
      const img = sharp({ create: { width: 18 + 3 * i, height: 16 + 2 * (i % 3), channels: 3, background } });
      await (gray ? img.grayscale() : img).png().toFile(join(dir, cls, `${i}.png`));
    }
  }
}

/** A test digit as a 28x28 PNG, and the same digit 3 times wider (for --dense). */
async function digitImages(dir: string): Promise<{ small: string; wide: string }> {
  const x = readIdxFile(join(DIGITS_ASSET_DIR, 't10k-images-idx3-ubyte.gz'));
  const px = Buffer.from(x.data.subarray(0, 784));
  const small = join(dir, 'digit.png');
  const wide = join(dir, 'digit-wide.png');
  await sharp(px, { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(small);
  await sharp(Buffer.concat(Array.from({ length: 28 }, (_, y) => Buffer.concat([0, 1, 2].map(() => px.subarray(y * 28, y * 28 + 28))))), { raw: { width: 84, height: 28, channels: 1 } })
    .png()
    .toFile(wide);
  return { small, wide };
}

interface Row {
  name: string;
  /** The flags of the first `train` that later commands may repeat (data and its preparation). */
  dataFlags: () => string[];
  /** The --model of the first train; may prepare a file first. */
  model: () => Promise<string>;
  input: number[];
  classes: number;
  /** An image at the training size (dense equals plain there), and a larger one. */
  images: () => { small: string; wide: string };
}

let digitsPng: { small: string; wide: string };
let idxDir: string;
let rgbDir: string;
let grayDir: string;

const ok = async (args: string[]) => {
  const r = await runCli(args);
  expect(r.code, `convkit ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r;
};
const json = (stdout: string) => jsonLines(stdout).at(-1)!;

const rows: Row[] = [
  {
    name: 'digits with a zoo model',
    dataFlags: () => ['--data', 'digits', '--train-size', '200', '--test-size', '100'],
    model: async () => 'lenet5',
    input: [1, 28, 28],
    classes: 10,
    images: () => digitsPng,
  },
  {
    name: 'an IDX folder with an ONNX model',
    dataFlags: () => ['--data', idxDir],
    model: async () => {
      const file = join(root, 'lenet5.onnx');
      await ok(['export', 'lenet5', file, '--input', '28x28x1']);
      return file;
    },
    input: [1, 28, 28],
    classes: 10,
    images: () => digitsPng,
  },
  {
    name: 'a 3-channel image folder of mixed sizes with a pattern',
    dataFlags: () => ['--data', rgbDir, '--size', '16'],
    model: async () => 'CONV3-4 -> RELU -> POOL2 -> FC3',
    input: [3, 16, 16],
    classes: 3,
    images: () => ({ small: join(root, 'rgb-16.png'), wide: join(rgbDir, 'red', '9.png') }),
  },
  {
    name: 'a 1-channel image folder with a saved model',
    dataFlags: () => ['--data', grayDir, '--size', '16', '--channels', '1'],
    model: async () => {
      const out = join(root, 'gray-base');
      await ok(['train', '--model', 'INPUT[16x16x1] -> CONV3-4 -> RELU -> POOL4 -> FC3', '--data', grayDir, '--size', '16', '--channels', '1', '--epochs', '1', '--out', out]);
      return join(out, 'model.convkit');
    },
    input: [1, 16, 16],
    classes: 3,
    images: () => ({ small: join(root, 'gray-16.png'), wide: join(grayDir, 'blue', '9.png') }),
  },
];

// Fashion-MNIST is installed by apt on the development machine, not in every CI: skipped (with a message) when absent.
const FASHION = '/usr/share/datasets/fashion-mnist';
if (existsSync(join(FASHION, 't10k-images-idx3-ubyte.gz'))) {
  rows.push({
    name: 'fashion-mnist with a pattern that declares its INPUT',
    dataFlags: () => ['--data', 'fashion-mnist', '--train-size', '200', '--test-size', '100', '--normalize', 'channel'],
    model: async () => 'INPUT[28x28x1] -> CONV5-4 -> RELU -> POOL4 -> FC10',
    input: [1, 28, 28],
    classes: 10,
    images: () => digitsPng,
  });
} else {
  console.warn(`chain.test.ts: ${FASHION} is absent; the fashion-mnist chain is skipped`);
}

beforeAll(async () => {
  await ensureBuilt();
  root = tempDir('convkit-chain-');
  idxDir = writeTinyDigits(join(root, 'idx'), 200, 100);
  rgbDir = join(root, 'rgb');
  grayDir = join(root, 'gray');
  await imageFolder(rgbDir, false);
  await imageFolder(grayDir, true);
  digitsPng = await digitImages(root);
  await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 220, g: 30, b: 30 } } }).png().toFile(join(root, 'rgb-16.png'));
  await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 220, g: 220, b: 220 } } }).grayscale().png().toFile(join(root, 'gray-16.png'));
}, 120_000);

afterAll(() => removeDir(root));

describe.concurrent('train -> eval -> predict -> info -> export -> finetune -> eval -> convert-fc -> predict --dense', { timeout: 600_000 }, () => {
  it.each(rows)('$name', async (row) => {
    const dir = join(root, row.name.replace(/\W+/g, '-'));
    const data = row.dataFlags();
    // The --test-size (if any) and data flags are what later commands may repeat; --train-size only trains.
    const evalFlags = data.filter((_, i) => data[i] !== '--train-size' && data[i - 1] !== '--train-size');

    const trained = json((await ok(['train', '--model', await row.model(), ...data, '--epochs', '1', '--out', dir, '--json'])).stdout);
    const model = join(dir, 'model.convkit');
    expect(existsSync(model) && existsSync(join(dir, 'checkpoint.convkit'))).toBe(true);
    expect(trained['event']).toBe('done');

    // eval repeats the training run's test score exactly: same images, same preparation.
    const ev = json((await ok(['eval', model, ...evalFlags, '--json'])).stdout);
    expect(ev['accuracy']).toBeCloseTo(trained['testAccuracy'] as number, 6);
    expect(ev['count']).toBe(trained['testCount']);
    // ...and on the checkpoint, which holds the same weights after the only epoch.
    const evCheckpoint = json((await ok(['eval', join(dir, 'checkpoint.convkit'), ...evalFlags, '--json'])).stdout);
    expect(evCheckpoint['accuracy']).toBeCloseTo(ev['accuracy'] as number, 6);

    const { small, wide } = row.images();
    const plain = json((await ok(['predict', model, small, '--json'])).stdout) as { top: { index: number; probability: number }[] };
    expect(plain.top).toHaveLength(Math.min(5, row.classes));
    expect(plain.top[0]!.probability).toBeGreaterThan(1 / row.classes - 1e-6);

    const info = json((await ok(['info', model, '--json'])).stdout) as { metadata: { inputShape: number[]; classNames: string[] } };
    expect(info.metadata.inputShape).toEqual(row.input);
    expect(info.metadata.classNames).toHaveLength(row.classes);

    const onnx = join(dir, 'model.onnx');
    const exported = json((await ok(['export', model, onnx, '--json'])).stdout);
    expect(exported['inputShape']).toEqual(row.input);
    // The exported file predicts what the model predicts.
    const fromOnnx = json((await ok(['predict', onnx, small, '--json'])).stdout) as typeof plain;
    expect(fromOnnx.top.map((t) => t.index)).toEqual(plain.top.map((t) => t.index));
    expect(fromOnnx.top[0]!.probability).toBeCloseTo(plain.top[0]!.probability, 4);

    const tuned = join(dir, 'tuned.onnx');
    const ft = json((await ok(['finetune', onnx, ...data, '--epochs', '1', '--out', tuned, '--json'])).stdout) as { finetuned: { testAccuracy: number }; testImages: number };
    expect(existsSync(tuned)).toBe(true);
    const evTuned = json((await ok(['eval', tuned, ...evalFlags, '--json'])).stdout);
    expect(evTuned['accuracy']).toBeCloseTo(ft.finetuned.testAccuracy, 6);
    expect(evTuned['count']).toBe(ft.testImages);

    const fcn = join(dir, 'fcn.convkit');
    const converted = json((await ok(['convert-fc', tuned, fcn, '--json'])).stdout) as { input: number[]; totalStride: number[] };
    expect(converted.input).toEqual(row.input);
    expect(existsSync(fcn)).toBe(true);

    // At the training size the grid is one cell and equals the plain prediction of the tuned model.
    const tunedPlain = json((await ok(['predict', tuned, small, '--json'])).stdout) as typeof plain;
    const one = json((await ok(['predict', fcn, small, '--dense', '--json'])).stdout) as typeof plain & { grid: { rows: number; cols: number } };
    expect([one.grid.rows, one.grid.cols]).toEqual([1, 1]);
    expect(one.top[0]!.index).toBe(tunedPlain.top[0]!.index);
    expect(one.top[0]!.probability).toBeCloseTo(tunedPlain.top[0]!.probability, 4);
    // A wider image is scaled to the training height and gives a row of cells, each with every class's probability.
    const dense = await ok(['predict', fcn, wide, '--dense', '--json']);
    const g = (json(dense.stdout) as { grid: { rows: number; cols: number; top: number[][]; probabilities: number[][][] } }).grid;
    expect(g.rows).toBe(1);
    expect(g.cols).toBeGreaterThan(1);
    expect(g.probabilities[0]).toHaveLength(g.cols);
    for (const cell of g.probabilities[0]!) {
      expect(cell).toHaveLength(row.classes);
      expect(cell.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    }
    g.top[0]!.forEach((t, j) => expect(g.probabilities[0]![j]![t]).toBe(Math.max(...g.probabilities[0]![j]!)));
    if (row.classes !== 3) return;
    const text = await ok(['predict', fcn, wide, '--dense']);
    expect(text.stdout).toMatch(new RegExp(`top class per window, ${g.cols}x1 grid`));
    expect(text.stdout).toMatch(/average over the grid:\n +\d+\.\d\d% {2}\S+/);
  });
});
