import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, expectCleanError, quickTrainArgs, removeDir, runCli, tempDir, writeTinyDigits } from './cli-helpers.js';

/** predict on an exported .onnx file and densely with a converted net; train on an image folder. */

let root: string;
let model: string;
let digit: string;

beforeAll(async () => {
  await ensureBuilt();
  root = tempDir();
  const data = writeTinyDigits(join(root, 'digits'), 256, 32);
  const r = await runCli(quickTrainArgs(data, join(root, 'run'), ['--epochs', '2']));
  expect(r.code, r.stderr).toBe(0);
  model = join(root, 'run', 'model.convkit');
  // A 28x28 gray image: a white vertical bar, digit-like enough for a prediction.
  digit = join(root, 'bar.png');
  const px = Buffer.alloc(28 * 28);
  for (let y = 4; y < 24; y++) for (let x = 12; x < 16; x++) px[y * 28 + x] = 255;
  await sharp(px, { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(digit);
}, 240_000);

afterAll(() => removeDir(root));

describe('predict variants', { timeout: 120_000 }, () => {
  it('an exported .onnx model predicts what the convkit model predicts', async () => {
    const onnx = join(root, 'm.onnx');
    expect((await runCli(['export', model, onnx])).code).toBe(0);
    const a = JSON.parse((await runCli(['predict', model, digit, '--json'])).stdout);
    const b = await runCli(['predict', onnx, digit, '--json']);
    expect(b.code, b.stderr).toBe(0);
    const pb = JSON.parse(b.stdout);
    expect(pb.top.map((t: { index: number }) => t.index)).toEqual(a.top.map((t: { index: number }) => t.index));
    pb.top.forEach((t: { probability: number }, i: number) => expect(t.probability).toBeCloseTo(a.top[i].probability, 5));
  });

  it('--dense on a converted net averages the grid; on the training size it equals the plain prediction', async () => {
    const fcn = join(root, 'fcn.convkit');
    expect((await runCli(['convert-fc', model, fcn])).code).toBe(0);
    const plain = JSON.parse((await runCli(['predict', model, digit, '--json'])).stdout);
    const dense = JSON.parse((await runCli(['predict', fcn, digit, '--json', '--dense'])).stdout);
    expect(dense.top[0].index).toBe(plain.top[0].index);
    expect(dense.top[0].probability).toBeCloseTo(plain.top[0].probability, 5);
    const big = join(root, 'big.png');
    await sharp(digit).resize(60, 60).png().toFile(big);
    const r = await runCli(['predict', fcn, big, '--dense', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).top).toHaveLength(5);
    expectCleanError(await runCli(['predict', model, big, '--dense']), /--dense needs a fully convolutional model/);
  });

  it('trains on a folder of class sub-folders with --size', async () => {
    const dir = join(root, 'shapes');
    for (const [cls, color] of [['red', { r: 230, g: 20, b: 20 }], ['blue', { r: 20, g: 20, b: 230 }]] as const) {
      mkdirSync(join(dir, cls), { recursive: true });
      for (let i = 0; i < 12; i++) {
        await sharp({ create: { width: 20 + i, height: 18, channels: 3, background: color } }).jpeg().toFile(join(dir, cls, `${i}.jpg`));
      }
    }
    const out = join(root, 'shapes-run');
    const r = await runCli(['train', '--data', dir, '--size', '8', '--model', 'CONV3-4 -> RELU -> POOL2 -> FC2', '--epochs', '1', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse((await runCli(['info', join(out, 'model.convkit'), '--json'])).stdout);
    expect(info.metadata.inputShape).toEqual([3, 8, 8]);
    expect(info.metadata.classNames).toEqual(['blue', 'red']);
  });
});
