import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWithMetadata } from '../../src/io/save-load.js';
import { ROOT, ensureBuilt, expectCleanError, quickTrainArgs, removeDir, runCli, tempDir, writeTinyDigits } from './cli-helpers.js';

/** summary, convert-fc, stats and preprocess through the real command. */

let root: string;

beforeAll(async () => {
  await ensureBuilt();
  root = tempDir();
}, 240_000);

afterAll(() => removeDir(root));

describe('convkit summary', { timeout: 120_000 }, () => {
  it('reproduces the CS231n VGG-16 totals from the zoo', async () => {
    const r = await runCli(['summary', 'vgg16', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.totals.params).toBe(138_357_544);
    expect(r.stdout).toContain('15237608');
    const text = await runCli(['summary', 'vgg16']);
    expect(text.stdout).toMatch(/CONV3-64\s+0\s+\[224x224x64\]\s+3,211,264\s+1,728/);
    expect(text.stdout).toMatch(/FC4096\s+32\s+\[1x1x4096\]\s+4,096\s+102,760,448/);
  });

  it('summarizes a pattern, answers --fit and lints', async () => {
    const pattern = 'INPUT[32x32x3] -> [[CONV3-16 -> RELU]*2 -> POOL2]*3 -> [FC64 -> RELU]*2 -> FC10';
    const r = await runCli(['summary', pattern, '--batch', '64', '--optimizer', 'adam', '--fit', '1GB', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.fit.batch).toBeGreaterThan(64);
    expect(j.trainingMemory.batch).toBe(64);
    const lint = await runCli(['summary', 'INPUT[32x32x3] -> CONV7-16p0 -> RELU -> POOL2 -> FC10']);
    expect(lint.code, lint.stderr).toBe(0);
    expect(lint.stdout).toMatch(/warning/);
  });

  it('points at the column of a geometry error', async () => {
    const r = await runCli(['summary', 'INPUT[32x32x3] -> CONV3-16/2 -> FC10']);
    // The message, then the pattern with a caret under column 19 (the only multi-line error).
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^convkit: pattern error at column 19: .*\(32 - 3 \+ 2\*0\)\/2 \+ 1 = 15.5 is not an integer/);
    expect(r.stderr.split('\n')[2]).toBe(`${' '.repeat(22)}^`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('summarizes an ONNX file, reading the input volume from its graph', async () => {
    const r = await runCli(['summary', join(ROOT, 'test/fixtures/onnx-lenet/lenet5-digits.onnx'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.input).toEqual([1, 28, 28]);
    expect(j.totals.params).toBe(61_706);
  });

  it('--fused shows the inference plan predict and eval run (summary and info)', async () => {
    const pattern = 'INPUT[16x16x3] -> CONV3-8 -> BN -> RELU -> POOL2 -> FC10';
    const r = await runCli(['summary', pattern, '--fused']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('inference plan (what predict and eval run; ck.nn.optimizeForInference):');
    expect(r.stdout).toMatch(/\(root\): Sequential \[frees each activation once the next step has run\]/);
    expect(r.stdout).toMatch(/0\+1\+2: Conv2d\(3, 8, .*\) \+ BatchNorm2d\(8.*\) \+ ReLU\(.*\) \[batch norm folded into the convolution, ReLU in its epilogue\]/);
    const plain = await runCli(['summary', pattern]);
    expect(plain.stdout).not.toContain('inference plan');
    const info = await runCli(['info', 'resnet18', '--fused', '--json']);
    expect(info.code, info.stderr).toBe(0);
    const plan = JSON.parse(info.stdout).fusedPlan as { path: string; step: string }[];
    expect(plan.find((p) => p.path === 'layer1.0')!.step).toMatch(/^BasicBlock\(64, 64\) \[residual add \+ ReLU fused/);
    expect(plan.find((p) => p.path === 'layer2.0.conv2+bn2')!.step).toContain('[batch norm folded into the convolution]');
    // An imported ONNX graph runs by its own plan, which it states.
    const onnx = await runCli(['info', join(ROOT, 'test/fixtures/onnx-lenet/lenet5-digits.onnx'), '--fused']);
    expect(onnx.code, onnx.stderr).toBe(0);
    expect(onnx.stdout).toMatch(/\(root\): OnnxModel\(.*\) \[its own graph plan: 0 batch norms folded into convolutions, [1-9]\d* Relus? in the epilogue/);
  });

  it('refuses an unknown model and a bad --input', async () => {
    expectCleanError(await runCli(['summary', 'vgg17']), /unknown model 'vgg17'/);
    expectCleanError(await runCli(['summary', 'vgg16', '--input', '224x224']), /224x224/);
  });
});

describe('convkit convert-fc', { timeout: 240_000 }, () => {
  it('writes a fully convolutional copy that records its stride', async () => {
    const data = writeTinyDigits(join(root, 'digits'), 128, 32);
    const out = join(root, 'run');
    const t = await runCli(quickTrainArgs(data, out, ['--epochs', '1']));
    expect(t.code, t.stderr).toBe(0);
    const fcnFile = join(root, 'fcn.convkit');
    const r = await runCli(['convert-fc', join(out, 'model.convkit'), fcnFile, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { model, metadata } = await loadWithMetadata(fcnFile);
    expect(metadata.fullyConvolutional).toBe(true);
    expect(model.modules().some((m) => m.typeName === 'Linear')).toBe(false);
    expect(JSON.parse(r.stdout).totalStride).toEqual([4, 4]);
  });
});

describe('convkit stats and preprocess', { timeout: 120_000 }, () => {
  it('writes mean/std images and numbers, and a resized copy of a folder', async () => {
    const imgs = join(root, 'imgs');
    for (const [cls, color] of [['red', { r: 255, g: 0, b: 0 }], ['blue', { r: 0, g: 0, b: 255 }]] as const) {
      mkdirSync(join(imgs, cls), { recursive: true });
      await sharp({ create: { width: 30, height: 20, channels: 3, background: color } }).png().toFile(join(imgs, cls, 'a.png'));
    }
    const statsDir = join(root, 'stats');
    const s = await runCli(['stats', imgs, '--size', '8', '--out', statsDir, '--json']);
    expect(s.code, s.stderr).toBe(0);
    const numbers = JSON.parse(readFileSync(join(statsDir, 'stats.json'), 'utf8'));
    // One all-red and one all-blue image: channel means 0.5, 0, 0.5 and stds 0.5, 0, 0.5.
    expect(numbers.channelMean.map((v: number) => +v.toFixed(6))).toEqual([0.5, 0, 0.5]);
    expect(numbers.channelStd.map((v: number) => +v.toFixed(6))).toEqual([0.5, 0, 0.5]);
    expect(existsSync(join(statsDir, 'mean.png')) && existsSync(join(statsDir, 'std.png'))).toBe(true);
    const out = join(root, 'small');
    const p = await runCli(['preprocess', imgs, out, '--size', '8', '--json']);
    expect(p.code, p.stderr).toBe(0);
    expect(JSON.parse(p.stdout).written).toBe(2);
    const meta = await sharp(join(out, 'red', 'a.png')).metadata();
    expect([meta.width, meta.height]).toEqual([8, 8]);
    expectCleanError(await runCli(['stats', join(root, 'nothing-here'), '--size', '8']), /no such folder/);
    expectCleanError(await runCli(['stats', imgs]), /--size/);
  });
});
