/**
 * `convkit export` and `convkit finetune`, run as the real command (dist/cli/main.js, rebuilt
 * by the CLI test helpers when stale): files come out that onnxruntime-node runs, and bad
 * input ends in one clean `convkit: ...` line.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { ensureBuilt, expectCleanError, runCli, tempDir } from '../cli/cli-helpers.js';
import { expectAgrees, loadOrt, runOrt } from './onnx-export-helpers.js';

const LENET = fileURLToPath(new URL('../fixtures/onnx-lenet/lenet5-digits.onnx', import.meta.url));
const dir = tempDir('convkit-export-cli-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(loadOrt() !== null)('convkit export / finetune', () => {
  beforeAll(async () => {
    await ensureBuilt();
  }, 300_000);

  it('exports a zoo model with a symbolic batch', async () => {
    const out = join(dir, 'lenet5.onnx');
    const r = await runCli(['export', 'lenet5', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { opset: number; inputShape: number[]; parameters: number };
    expect(report).toMatchObject({ opset: 13, inputShape: [1, 28, 28], parameters: 61706 });
    const [y] = await runOrt(new Uint8Array(readFileSync(out)), [ck.randn([3, 1, 28, 28], { seed: 1 })]);
    expect(y!.dims).toEqual([3, 10]);
  });

  it('takes --input as W x H x D and --opset', async () => {
    const out = join(dir, 'tiny.onnx');
    const r = await runCli(['export', 'tinyVgg', out, '--input', '32x32x3', '--opset', '17', '--num-classes', '4']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/opset 17, input \[N, 3, 32, 32\]/);
    const back = ck.io.loadOnnxBytes(new Uint8Array(readFileSync(out)));
    expect(back.opset).toBe(17);
    expect(ck.noGrad(() => back.forward(ck.zeros([2, 3, 32, 32]))).shape).toEqual([2, 4]);
  });

  it('writes an ONNX file back out (ONNX -> convkit -> ONNX)', async () => {
    const out = join(dir, 'again.onnx');
    const r = await runCli(['export', LENET, out]);
    expect(r.code, r.stderr).toBe(0);
    const x = ck.randn([2, 1, 28, 28], { seed: 2 });
    const [a] = await runOrt(new Uint8Array(readFileSync(LENET)), [x]);
    const [b] = await runOrt(new Uint8Array(readFileSync(out)), [x]);
    expectAgrees(b!.data, a!.data, 're-exported LeNet');
  });

  it('refuses bad arguments with one clean line', async () => {
    expectCleanError(await runCli(['export', 'nonet', join(dir, 'x.onnx')]), /unknown model 'nonet'/);
    expectCleanError(await runCli(['export', 'lenet5', join(dir, 'x.onnx'), '--input', '28x28']), /--input must be W x H x D/);
    expectCleanError(await runCli(['export', 'lenet5', join(dir, 'x.onnx'), '--opset', '9']), /opset must be an integer from 11 to 21/);
    expectCleanError(await runCli(['export', 'lenet5', join(dir, 'x.txt')]), /should end in \.onnx/);
    expectCleanError(await runCli(['finetune', LENET, '--data', 'digits', '--num-classes', '10', '--compare', 'nonet']), /--compare takes a zoo model name/);
    expectCleanError(await runCli(['finetune', LENET, '--data', 'digits', '--num-classes', '3']), /digits has 10 classes but --num-classes is 3/);
  });

  it('fine-tunes an imported model and writes the result as ONNX', async () => {
    const out = join(dir, 'tuned.onnx');
    const r = await runCli([
      'finetune', LENET, '--data', 'digits', '--num-classes', '10', '--train-size', '200', '--test-size', '300',
      '--freeze-trunk', '--epochs', '2', '--lr', '0.01', '--json', '--out', out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const done = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; finetuned?: { testAccuracy: number; trainable: number } }).find((e) => e.event === 'done');
    expect(done?.finetuned?.trainable).toBe(850);
    expect(done?.finetuned?.testAccuracy).toBeGreaterThan(0.7);
    expect(existsSync(out)).toBe(true);
    const [y] = await runOrt(new Uint8Array(readFileSync(out)), [ck.zeros([4, 1, 28, 28])]);
    expect(y!.dims).toEqual([4, 10]);
  }, 120_000);
});
