/**
 * The fine-tuning demo of issue #7, fast: the LeNet-5 that PyTorch trained on the digits
 * (test/fixtures/onnx-lenet, written by scripts/fixtures/train_lenet_digits.py) imports to
 * PyTorch's own logits, and `convkit finetune`'s engine replaces its head, freezes the trunk,
 * trains, and writes an ONNX file that onnxruntime runs to convkit's numbers
 * (ONNX -> convkit -> fine-tune -> ONNX). The full demo on 1,000 Fashion-MNIST images is in
 * BENCHMARKS.md; here a few hundred digits keep it within seconds.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { runFinetune } from '../../src/cli/commands/finetune.js';
import { loadDigits } from '../../src/data/digits.js';
import { expectAgrees, loadOrt, runOrt } from './onnx-export-helpers.js';

const DIR = fileURLToPath(new URL('../fixtures/onnx-lenet/', import.meta.url));
const FILE = join(DIR, 'lenet5-digits.onnx');
const info = JSON.parse(readFileSync(join(DIR, 'lenet5-digits.json'), 'utf8')) as {
  testAccuracy: number;
  probe: { testImages: [number, number]; logits: number[]; labels: number[] };
};

const tmp = mkdtempSync(join(tmpdir(), 'convkit-finetune-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The first n test digits as one batch [n, 1, 28, 28]. */
function testDigits(n: number): ck.Tensor {
  const set = loadDigits({ split: 'test' });
  const out = new Float32Array(n * 784);
  for (let i = 0; i < n; i++) out.set(set.get(i).input, i * 784);
  return ck.tensor(out, [n, 1, 28, 28]);
}

describe('the ONNX LeNet-5 trained in PyTorch', () => {
  it('imports to the logits PyTorch computed', async () => {
    const model = await ck.io.loadOnnx(FILE);
    const y = ck.noGrad(() => model.forward(testDigits(8)));
    expect(y.shape).toEqual([8, 10]);
    expectAgrees(y.dataSync(), info.probe.logits, 'LeNet-5 logits vs PyTorch');
    expect(Array.from(ck.argmax(y, 1).dataSync())).toEqual(info.probe.labels);
    expect(info.testAccuracy).toBeGreaterThan(0.95);
  });

  it.runIf(loadOrt() !== null)('fine-tunes (head replaced, trunk frozen) and exports a file onnxruntime agrees with', async () => {
    const out = join(tmp, 'finetuned.onnx');
    const result = await runFinetune(FILE, {
      data: 'digits',
      numClasses: 10,
      trainSize: 300,
      testSize: 500,
      freezeTrunk: true,
      epochs: 3,
      batchSize: 32,
      optimizer: 'adam',
      lr: 0.01,
      seed: 1,
      out,
    });
    expect(result.head).toMatch(/Gemm/);
    expect(result.inFeatures).toBe(84);
    expect(result.finetuned.trainable).toBe(84 * 10 + 10);
    // Digits features classify digits: a new head on 300 images recovers most of the accuracy.
    expect(result.finetuned.testAccuracy).toBeGreaterThan(0.85);

    const tuned = await ck.io.loadOnnx(out);
    const original = await ck.io.loadOnnx(FILE);
    const x = testDigits(5);
    const [ortOut] = await runOrt(new Uint8Array(readFileSync(out)), [x]);
    const mine = ck.noGrad(() => tuned.forward(x));
    expectAgrees(ortOut!.data, mine.dataSync(), 'fine-tuned file: onnxruntime vs convkit');
    // The trunk kept its weights: the 84 features the head reads are the original model's.
    const trunk = (m: ck.io.OnnxModel) => {
      const names = m.nodes().filter(([, op]) => op === 'Gemm').map(([n]) => n);
      return ck.noGrad(() => m.replaceNode(names[names.length - 1]!, null).forward(x)).dataSync();
    };
    expectAgrees(trunk(tuned), trunk(original), 'trunk features after fine-tuning');
  }, 60_000);
});
