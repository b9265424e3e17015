/**
 * Every zoo model -> ONNX -> onnxruntime-node agrees with convkit (rtol 1e-4, atol 1e-5 of the
 * output scale), on a seeded random batch of 2 (the file was traced on one item: this proves
 * the symbolic batch), and the file re-imports with ck.io.loadOnnxBytes to the same numbers.
 *
 * The table is the zoo itself (ck.models.zoo, aliases once), so new entries are picked up.
 * This file takes all but the VGG family (onnx-export-zoo-vgg.test.ts). By default each model
 * runs at a reduced input size (the same layers and dataflow, a fraction of the cost, e.g.
 * ResNet-50 on 32x32 with 10 classes); CONVKIT_SLOW_TESTS=1 adds the full-size models.
 */
import { beforeAll, describe, it } from 'vitest';
import { checkZooEntry, loadOrt, reducedZooOptions, SLOW_TESTS, useFastBackend, zooEntries } from './onnx-export-helpers.js';

const entries = zooEntries().filter((n) => !n.startsWith('vgg'));

describe.runIf(loadOrt() !== null)('zoo -> ONNX -> onnxruntime-node', () => {
  beforeAll(async () => {
    await useFastBackend();
  });

  // Re-importing repeats what other entries check (AlexNet's and ZFNet's layers are LeNet's and
  // VGG's, ResNet-34's blocks ResNet-18's, ResNet-32's and -56's ResNet-20's); skipped there to keep the file fast.
  const noReimport = new Set(['alexnet', 'zfnet', 'resnet34', 'resnet32', 'resnet56']);
  // torchvision's AlexNet is the zoo AlexNet's layer types plus a 6x6 adaptive average pool,
  // with the same 4096-wide FCs even at a reduced input (~20 s): CONVKIT_SLOW_TESTS=1 only.
  const slowOnly = new Set(['alexnetTorchvision']);
  for (const name of entries) {
    const run = SLOW_TESTS || !slowOnly.has(name) ? it : it.skip;
    run(`${name} (reduced input${run === it ? '' : ': set CONVKIT_SLOW_TESTS=1'})`, async () => {
      await checkZooEntry(name, reducedZooOptions(name), !noReimport.has(name));
    }, 120_000);
  }

  for (const name of entries) {
    const run = SLOW_TESTS ? it : it.skip;
    run(`${name} (full size${SLOW_TESTS ? '' : ': set CONVKIT_SLOW_TESTS=1'})`, async () => {
      await checkZooEntry(name, {}, false);
    }, 600_000);
  }
});
