import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { serializeCheckpoint } from '../../src/train/checkpoint.js';
import { ensureBuilt, expectCleanError, removeDir, runCli, tempDir } from './cli-helpers.js';

/** `convkit profile` on a zoo model, a pattern, a saved model and a checkpoint, inference and training. */

let root: string;
const SMALL = 'INPUT[12x12x1] -> CONV3-4 -> RELU -> POOL2 -> FC10';
const QUICK = ['--steps', '2', '--warmup', '1'];

interface Row {
  path: string;
  type: string;
  calls: number;
  totalMs: number;
  forwardMs: number;
  inputGradMs: number;
  weightGradMs: number;
  gflops: { total: number | null };
}

interface Report {
  model: string;
  mode: string;
  input: number[];
  batch: number;
  backend: string;
  steps: number;
  stepMs: number[];
  totalMs: number;
  kernelMs: number;
  outsideKernelsShare: number;
  layers: Row[];
  kernels: { name: string; calls: number; ms: number }[];
}

async function profileJson(args: string[]): Promise<Report> {
  const r = await runCli(['profile', ...args, ...QUICK, '--json']);
  expect(r.code, r.stderr).toBe(0);
  const report = JSON.parse(r.stdout) as Report;
  // The rows add up to the measured step.
  const rows = report.layers.reduce((a, l) => a + l.totalMs, 0);
  expect(Math.abs(rows - report.totalMs)).toBeLessThanOrEqual(0.1 * report.totalMs);
  expect(report.stepMs).toHaveLength(2);
  expect(report.outsideKernelsShare).toBeGreaterThanOrEqual(0);
  return report;
}

beforeAll(async () => {
  await ensureBuilt();
  root = tempDir();
}, 240_000);

afterAll(() => removeDir(root));

describe('convkit profile', { timeout: 120_000 }, () => {
  it('profiles a zoo model for inference and training, with a row for every layer', async () => {
    const report = await profileJson(['lenet5', '--batch', '2']);
    expect(report).toMatchObject({ model: 'lenet5', mode: 'inference', input: [1, 28, 28], batch: 2, steps: 2 });
    const convs = report.layers.filter((l) => l.type === 'Conv2d');
    expect(convs).toHaveLength(2);
    for (const c of convs) {
      expect(c.calls).toBe(1);
      expect(c.inputGradMs + c.weightGradMs).toBe(0);
      expect(Number.isFinite(c.gflops.total)).toBe(true);
    }
    expect(report.layers.filter((l) => l.type === 'Linear')).toHaveLength(3);
    expect(report.kernels.map((k) => k.name)).toContain('Conv2D');
    const training = await profileJson(['lenet5', '--train', '--batch', '2']);
    expect(training.mode).toBe('train');
    for (const c of training.layers.filter((l) => l.type === 'Conv2d' || l.type === 'Linear')) expect(c.weightGradMs, c.path).toBeGreaterThan(0);
  });

  it('profiles a training step of a pattern on each backend', async () => {
    for (const backend of ['js', 'wasm']) {
      const report = await profileJson([SMALL, '--train', '--batch', '4', '--backend', backend]);
      expect(report.backend).toBe(backend);
      expect(report.mode).toBe('train');
      const names = report.kernels.map((k) => k.name);
      for (const k of ['Conv2D', 'Conv2DBackpropFilter', 'MatMul']) expect(names).toContain(k);
      // The only convolution sees the data: no input gradient for it.
      expect(names).not.toContain('Conv2DBackpropInput');
      const paths = report.layers.map((l) => l.path);
      expect(paths).toEqual(['', '0', '1', '2', '3', '4', '(loss)', '(backward)', '(optimizer)', '(outside modules)']);
      const fc = report.layers.find((l) => l.type === 'Linear')!;
      expect(fc.inputGradMs).toBeGreaterThan(0);
      expect(fc.weightGradMs).toBeGreaterThan(0);
    }
    const text = await runCli(['profile', SMALL, '--train', ...QUICK]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^layer\s+type\s+output\s+calls\s+forward ms\s+input-grad ms\s+weight-grad ms/m);
    expect(text.stdout).toMatch(/^Conv2DBackpropFilter\s+weight-grad\s+1\s/m);
    expect(text.stdout).toMatch(/outside kernels: /);
  });

  it('profiles a saved model and a checkpoint', async () => {
    ck.manualSeed(5);
    const { model, input } = ck.analysis.modelFromPattern(SMALL);
    const file = join(root, 'small.convkit');
    await model.save(file, { inputShape: input });
    const inference = await profileJson([file]);
    expect(inference.input).toEqual([1, 12, 12]);
    const training = await profileJson([file, '--train']);
    // A Linear layer fixes the input size: another one is refused with the layer's own message.
    expectCleanError(await runCli(['profile', file, '--input', '16x16x1']), /4 \(Linear\): expected 144 input features, got 256/);
    expect(training.kernels.map((k) => k.name)).toContain('Conv2DBackpropFilter');

    const checkpoint = join(root, 'checkpoint.convkit');
    writeFileSync(
      checkpoint,
      serializeCheckpoint({
        epoch: 1,
        architecture: model.getConfig(),
        model: model.stateDict(),
        optimizer: null,
        scheduler: null,
        generators: [],
        history: [],
        extra: {},
      }),
    );
    const fromCheckpoint = await profileJson([checkpoint, '--input', '12x12x1', '--train']);
    expect(fromCheckpoint.layers.some((l) => l.type === 'Conv2d' && l.weightGradMs > 0)).toBe(true);
    expectCleanError(await runCli(['profile', checkpoint]), /give it with --input WxHxC/);
  });

  it('refuses what it cannot run', async () => {
    expectCleanError(await runCli(['profile', 'no-such-model']), /unknown model 'no-such-model'/);
    expectCleanError(await runCli(['profile', 'lenet5', '--input', '28x20x1']), /square inputs/);
  });
});
