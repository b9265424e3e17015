/**
 * The CIFAR ResNets' option A shortcut in ONNX: Slice with steps and a Pad along the channels
 * (no parameters), checked against onnxruntime-node and convkit's own importer on odd sizes
 * (13 -> 7 -> 4) with trained batch-norm statistics, grayscale and 7 classes. The zoo entries
 * at their reduced size are in onnx-export-zoo.test.ts like every other zoo model.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { decodeModel } from '../../src/io/onnx/proto.js';
import { checkExport, loadOrt, useFastBackend } from './onnx-export-helpers.js';

/** The op_type of every node of the file. */
function opTypes(bytes: Uint8Array): string[] {
  return decodeModel(bytes).graph!.node.map((n) => n.op_type);
}

describe.runIf(loadOrt() !== null)('CIFAR ResNet -> ONNX -> onnxruntime-node', () => {
  beforeAll(async () => {
    await useFastBackend();
  });

  it.each([
    [1, 13, 7],
    [3, 32, 10],
  ])('resnet20 with %i channels on %i-pixel inputs, %i classes and trained statistics agrees', async (c, s, k) => {
    ck.manualSeed(21);
    const m = ck.models.resnet20({ inChannels: c, inputSize: s, numClasses: k });
    ck.noGrad(() => m.forward(ck.randn([4, c, s, s], { seed: 22 }))); // running statistics away from 0 and 1
    const { bytes } = await checkExport(m, ck.randn([2, c, s, s], { seed: 23 }), { inputShape: [c, s, s] }, `resnet20 ${c}x${s}x${s}`);
    const ops = opTypes(bytes);
    // Two widening blocks: one Slice (x[:, :, ::2, ::2]) and one Pad (zero channels) each.
    expect(ops.filter((o) => o === 'Slice')).toHaveLength(2);
    expect(ops.filter((o) => o === 'Pad')).toHaveLength(2);
    expect(ops.filter((o) => o === 'Conv')).toHaveLength(19);
    expect(ops.filter((o) => o === 'Add')).toHaveLength(9);
  }, 60_000);

  it('exports a lone shortcut that widens without subsampling, or only subsamples', async () => {
    for (const [cin, cout, stride] of [[3, 8, 1], [4, 4, 2], [2, 5, 3]] as const) {
      const sc = new ck.models.ZeroPadShortcut(cin, cout, { stride });
      await checkExport(sc, ck.randn([2, cin, 7, 6], { seed: 24 }), { inputShape: [cin, 7, 6] }, `ZeroPadShortcut(${cin}, ${cout}, ${stride})`);
    }
  });
});
