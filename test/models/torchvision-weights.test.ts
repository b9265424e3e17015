import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';

/**
 * Small nets with full seeded PyTorch weights (scripts/fixtures/make_torchvision_fixtures.py):
 * each file loaded into the convkit model of the same layout gives PyTorch's eval-mode output
 * on the fixed input. Batch norm statistics, biases and num_batches_tracked are not defaults,
 * so a weight landing in the wrong place shows.
 */

const DIR = new URL('../fixtures/torchvision/', import.meta.url);

interface Expected {
  input: { shape: number[]; data: number[] };
  output: { shape: number[]; data: number[] };
}

const NETS: [string, () => ck.nn.Module, { from?: 'torchvision' }][] = [
  ['lenet5', () => ck.models.lenet5({ inputSize: 16 }), {}],
  ['resnet-basic-toy', () => new ck.models.ResNet({ block: 'basic', layers: [1, 1], widths: [8, 16], numClasses: 5 }), { from: 'torchvision' }],
  ['resnet-bottleneck-toy', () => new ck.models.ResNet({ block: 'bottleneck', layers: [1, 1], widths: [4, 8], numClasses: 5 }), { from: 'torchvision' }],
  [
    'bn-net',
    () => new ck.nn.Sequential(new ck.nn.Conv2d(3, 4, 3, { padding: 1 }), new ck.nn.BatchNorm2d(4), new ck.nn.ReLU(), new ck.nn.MaxPool2d(2), new ck.nn.Flatten(), new ck.nn.Linear(64, 3)),
    {},
  ],
];

/** max |a - b| over max |b|: the outputs' own scale, so that near-zero scores do not dominate. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

describe('PyTorch weights of small nets give PyTorch outputs', () => {
  const cases = NETS.flatMap(([name, make, opts]) => (['safetensors', 'pth'] as const).map((ext) => [name, ext, make, opts] as const));
  it.each(cases)('%s (.%s)', async (name, ext, make, opts) => {
    const expected = JSON.parse(readFileSync(new URL(`${name}.json`, DIR), 'utf8')) as Expected;
    const bytes = new Uint8Array(readFileSync(new URL(`${name}.${ext}`, DIR)));
    let tensors: Map<string, ck.Tensor>;
    if (ext === 'safetensors') {
      const file = await ck.io.loadSafetensors(bytes);
      expect(file.metadata['fixture']).toBe(name);
      tensors = file.tensors;
    } else {
      tensors = await ck.io.loadTorch(bytes);
    }
    const model = make().eval();
    const x = new ck.Tensor(Float32Array.from(expected.input.data), expected.input.shape);
    const fresh = ck.noGrad(() => model.forward(x)).dataSync();
    model.loadStateDict(tensors, opts);
    const y = ck.noGrad(() => model.forward(x));
    expect(y.shape).toEqual(expected.output.shape);
    expect(relErr(y.dataSync(), expected.output.data)).toBeLessThan(1e-5);
    // Not trivially so: the freshly initialized model is far off.
    expect(relErr(fresh, expected.output.data)).toBeGreaterThan(1e-2);
    const nbt = [...model.stateDict()].find(([k]) => k.endsWith('num_batches_tracked'));
    if (nbt) expect(nbt[1].item()).toBe(tensors.get(nbt[0])!.item());
  });
});
