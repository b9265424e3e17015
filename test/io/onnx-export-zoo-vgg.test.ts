/**
 * The VGG family of the zoo -> ONNX -> onnxruntime-node (see onnx-export-zoo.test.ts for the
 * rest and the method). Even at a reduced input size a VGG carries its 4096-wide FC layers
 * (~35M parameters): by default this file checks VGG-11 (plain), VGG-11-LRN (the LRN layer)
 * and VGG-16 (the deepest stack of what the others also use), and the small vggSmallBn
 * (BatchNorm1d, floor pools); the other variants repeat
 * exactly those layer types and run with CONVKIT_SLOW_TESTS=1, as do the full-size models.
 */
import { beforeAll, describe, it } from 'vitest';
import { checkZooEntry, loadOrt, reducedZooOptions, SLOW_TESTS, useFastBackend, zooEntries } from './onnx-export-helpers.js';

const DEFAULT = new Set(['vgg11', 'vgg11lrn', 'vgg16', 'vggSmallBn']);
const entries = zooEntries().filter((n) => n.startsWith('vgg'));

describe.runIf(loadOrt() !== null)('zoo (VGG) -> ONNX -> onnxruntime-node', () => {
  beforeAll(async () => {
    await useFastBackend();
  });

  for (const name of entries) {
    const run = SLOW_TESTS || DEFAULT.has(name) ? it : it.skip;
    run(`${name} (reduced input${run === it ? '' : ': set CONVKIT_SLOW_TESTS=1'})`, async () => {
      // The re-import path is the same for every VGG; it is checked on VGG-11 only.
      await checkZooEntry(name, reducedZooOptions(name), name === 'vgg11');
    }, 120_000);
  }

  for (const name of entries) {
    const run = SLOW_TESTS ? it : it.skip;
    run(`${name} (full size${SLOW_TESTS ? '' : ': set CONVKIT_SLOW_TESTS=1'})`, async () => {
      await checkZooEntry(name, {}, false);
    }, 600_000);
  }
});
