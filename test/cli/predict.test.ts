import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { loadDataset } from '../../src/data/builtin.js';
import { loadWithMetadata } from '../../src/io/save-load.js';
import { ensureBuilt, jsonLines, quickTrainArgs, removeDir, runCli, tempDir, writeTinyDigits } from './cli-helpers.js';

/**
 * `convkit predict <model> <image>...`: a digit from the test set, written as a PNG, gets the
 * probabilities the model gives the same digit from the dataset; other sizes and colour
 * images are converted to the model's input first.
 */

let root: string;
let data: string;
let modelFile: string;

beforeAll(async () => {
  await ensureBuilt();
  root = tempDir();
  data = writeTinyDigits(join(root, 'data'), 512, 16);
  // Standardized inputs, so that predict must repeat the normalization saved with the model.
  const r = await runCli(quickTrainArgs(data, join(root, 'm'), ['--epochs', '4', '--normalize', 'channel']));
  expect(r.code, r.stderr).toBe(0);
  modelFile = join(root, 'm', 'model.convkit');
}, 240_000);

afterAll(() => removeDir(root));

/** Test image i as 8-bit gray pixels (the IDX bytes). */
function digitPixels(i: number): { pixels: Uint8Array; label: number; input: Float32Array } {
  const set = loadDataset(data, { split: 'test' });
  const input = new Float32Array(784);
  const label = set.readInto!(i, input, 0);
  return { pixels: Uint8Array.from(input, (v) => Math.round(v * 255)), label, input };
}

describe('convkit predict', { timeout: 180_000 }, () => {
  it('a PNG of a test digit gets the same top-5 probabilities as the dataset sample', async () => {
    const { pixels, input } = digitPixels(3);
    const png = join(root, 'digit3.png');
    await sharp(Buffer.from(pixels), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(png);

    const r = await runCli(['predict', modelFile, png, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [p] = jsonLines(r.stdout) as unknown as { file: string; top: { index: number; label: string; probability: number }[] }[];
    expect(p!.file).toBe(png);
    expect(p!.top).toHaveLength(5);

    const { model, metadata } = await loadWithMetadata(modelFile);
    // Training standardized the inputs; the file says how, and predict must do the same.
    const n = metadata.normalization as { kind: string; per: string; mean: number[]; std: number[] };
    expect(n).toMatchObject({ kind: 'standardize', per: 'channel' });
    const x = input.map((v) => (v - n.mean[0]!) / n.std[0]!);
    const probs = ck.noGrad(() => ck.F.softmax(model.forward(ck.tensor(x, [1, 1, 28, 28])), 1).dataSync());
    const expected = Array.from(probs.keys()).sort((a, b) => probs[b]! - probs[a]!).slice(0, 5);
    expect(p!.top.map((t) => t.index)).toEqual(expected);
    p!.top.forEach((t) => {
      expect(t.probability).toBeCloseTo(probs[t.index]!, 5);
      expect(t.label).toBe(metadata.classNames![t.index]);
    });
    for (let i = 1; i < 5; i++) expect(p!.top[i - 1]!.probability).toBeGreaterThanOrEqual(p!.top[i]!.probability);
  });

  it('converts other sizes and colour to the model input, one block per image in plain text', async () => {
    const { pixels } = digitPixels(5);
    // An RGB picture, 2x larger and wider than tall: gray -> RGB, with an 8-pixel border left and right.
    const rgb = new Uint8Array(72 * 56 * 3);
    for (let y = 0; y < 56; y++) {
      for (let x = 0; x < 72; x++) {
        const inside = x >= 8 && x < 64;
        const v = inside ? pixels[Math.floor(y / 2) * 28 + Math.floor((x - 8) / 2)]! : 0;
        rgb.set([v, v, v], (y * 72 + x) * 3);
      }
    }
    const jpg = join(root, 'big.jpg');
    await sharp(Buffer.from(rgb), { raw: { width: 72, height: 56, channels: 3 } }).jpeg({ quality: 95 }).toFile(jpg);
    const png = join(root, 'small.png');
    await sharp(Buffer.from(pixels), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(png);

    const r = await runCli(['predict', modelFile, jpg, png, '--top', '3']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(8);
    expect(lines[0]).toBe(jpg);
    expect(lines[4]).toBe(png);
    for (const l of [...lines.slice(1, 4), ...lines.slice(5)]) expect(l).toMatch(/^ {2} *\d+\.\d\d% {2}\S+$/);
    // The same digit either way: the enlarged colour copy is center-cropped and resized back.
    expect(lines[1]!.split(/\s+/).at(-1)).toBe(lines[5]!.split(/\s+/).at(-1));
  });
});
