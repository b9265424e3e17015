import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import * as ck from '../../src/index.js';
import { expectConvkitError } from '../helpers/assert.js';

// The mapping needs the models' names and shapes, not their values: skip the random
// initialization (VGG-19's 143M weights take seconds to draw) and leave fresh weights at zero.
vi.mock('../../src/nn/init.js', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../src/nn/init.js')>();
  const { zeros } = await import('../../src/tensor/creation.js');
  return { ...orig, kaimingNormal: (shape: readonly number[]) => zeros(shape) };
});

const { models } = ck;

/** torchvision 0.14's state dicts, key by key (scripts/fixtures/make_torchvision_fixtures.py). */
interface KeysFile {
  torchvisionVersion: string;
  architectures: Record<string, { params: number; keys: [string, number[], string][] }>;
}
const KEYS = JSON.parse(readFileSync(new URL('../fixtures/torchvision/state-dict-keys.json', import.meta.url), 'utf8')) as KeysFile;

/** A state dict of torchvision's keys and shapes whose values are the position of each key (to check where they land). */
function fakeDict(keys: [string, number[], string][]): Map<string, ck.Tensor> {
  return new Map(
    keys.map(([k, shape], i) => {
      const t = ck.zeros(shape);
      (t.storage.data as Float32Array)[0] = i + 1;
      return [k, t];
    }),
  );
}

describe("loadStateDict from: 'torchvision'", () => {
  it('the fixture lists every architecture of issue 19', () => {
    expect(Object.keys(KEYS.architectures).sort()).toEqual(Object.keys(models.TORCHVISION_ZOO_NAMES).sort());
    expect(KEYS.torchvisionVersion).toMatch(/^0\.14/);
  });

  // VGG-13/16/19 (with and without BN) repeat VGG-11's mapping with more layers and take half a
  // minute of 100M-weight copies: they run with CONVKIT_SLOW_TESTS=1, and npm run test:torch
  // checks every architecture end to end against torchvision.
  const slow = process.env['CONVKIT_SLOW_TESTS'] === '1';
  const deepVgg = /^vgg(13|16|19)/;
  it.each(Object.entries(KEYS.architectures).filter(([name]) => slow || !deepVgg.test(name)))('%s: every key lands on one convkit tensor of its shape', (name, arch) => {
    const model = models.createModel(models.TORCHVISION_ZOO_NAMES[name]!);
    const own = model.stateDict();
    // The same parameter count as torchvision (GoogLeNet without its auxiliary heads).
    const aux = arch.keys.filter(([k]) => /^aux[12]\./.test(k) && !k.endsWith('running_mean') && !k.endsWith('running_var') && !k.endsWith('num_batches_tracked'));
    const auxParams = aux.reduce((s, [, shape]) => s + shape.reduce((a, b) => a * b, 1), 0);
    expect(model.parameters().reduce((s, p) => s + p.size, 0)).toBe(arch.params - auxParams);

    const given = fakeDict(arch.keys);
    const mapped = models.torchvisionStateDict(model, given);
    // Every convkit key is covered, each by exactly one torchvision key (values are key positions).
    expect([...mapped.keys()].sort()).toEqual([...own.keys()].sort());
    const used = new Set<number>();
    for (const [k, t] of mapped) {
      expect(t.shape).toEqual(own.get(k)!.shape);
      const v = t.size ? t.values()[0]! : t.item();
      expect(used.has(v)).toBe(false);
      used.add(v);
    }
    // Only GoogLeNet's auxiliary classifiers are left over.
    const leftover = arch.keys.filter((_, i) => !used.has(i + 1)).map(([k]) => k);
    expect(leftover.every((k) => /^aux[12]\./.test(k))).toBe(true);
    expect(leftover.length > 0).toBe(name === 'googlenet');

    // loadStateDict copies them in: spot-check the first and the last weights (the small
    // nets only: copying VGG's 550 MB adds seconds and tests nothing more).
    if (arch.params > 30e6) return;
    model.loadStateDict(given, { from: 'torchvision' });
    const firstKey = arch.keys[0]![0];
    const lastW = arch.keys.filter(([k]) => !/^aux/.test(k)).at(-2)![0];
    for (const k of [firstKey, lastW]) {
      const pos = arch.keys.findIndex(([kk]) => kk === k) + 1;
      const ownKey = [...mapped].find(([, t]) => t === given.get(k))![0];
      expect(own.get(ownKey)!.values()[0]).toBe(pos);
    }
  }, 30_000);

  it('maps features / classifier across the Flatten (VGG-16 with batch norm)', () => {
    const m = models.vgg16bn({ inputSize: 32, numClasses: 7 });
    const names = [...m.stateDict().keys()];
    // conv, bn, relu: features.1 is the first BN; the Flatten is layer 44, classifier.6 the last FC.
    expect(names.slice(0, 4)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
    expect(names).toContain('1.running_mean');
    expect(names).toContain('1.num_batches_tracked');
    expect(m.at(44)!.typeName).toBe('Flatten');
    const given = new Map([...m.stateDict()].map(([k, t]) => {
      const i = Number(k.split('.')[0]);
      return [i < 44 ? `features.${k}` : `classifier.${i - 45}.${k.split('.').slice(1).join('.')}`, ck.full(t.shape, 2)];
    }));
    m.loadStateDict(given, { from: 'torchvision' });
    expect(m.stateDict().get('51.bias')!.values()[0]).toBe(2);
  });

  it('drops num_batches_tracked when the file has none, and copies it when it has', () => {
    const m = models.resnet18({ numClasses: 3 });
    const state = new Map([...m.stateDict()].filter(([k]) => !k.endsWith('num_batches_tracked')).map(([k, t]) => [k, ck.full(t.shape, 0.5)]));
    m.loadStateDict(state, { from: 'torchvision' });
    expect(m.stateDict().get('layer1.0.bn1.running_var')!.values()[0]).toBe(0.5);
    expect(m.stateDict().get('bn1.num_batches_tracked')!.item()).toBe(0);
    state.set('bn1.num_batches_tracked', ck.full([], 42, { dtype: 'int32' }));
    m.loadStateDict(state, { from: 'torchvision' });
    expect(m.stateDict().get('bn1.num_batches_tracked')!.item()).toBe(42);
  });

  it('lists unmatched, missing and mis-shaped keys all at once, in both names, and changes nothing', () => {
    const m = models.vgg11({ inputSize: 32, numClasses: 10 });
    const before = m.stateDict().get('0.weight')!.values().slice();
    const given = new Map([...m.stateDict()].map(([k, t]) => {
      const i = Number(k.split('.')[0]);
      const rest = k.split('.').slice(1).join('.');
      return [i < 21 ? `features.${i}.${rest}` : `classifier.${i - 22}.${rest}`, ck.ones(t.shape)];
    }));
    given.delete('classifier.6.bias');
    given.set('features.3.weight', ck.ones([128, 64, 3, 3, 1]));
    given.set('features.99.weight', ck.ones([1]));
    given.set('extra.thing', ck.ones([1]));
    const e = expectConvkitError(
      () => m.loadStateDict(given, { from: 'torchvision' }),
      'unexpected keys: features.99.weight, extra.thing',
      'missing keys: classifier.6.bias (convkit 28.bias)',
      'features.3.weight (convkit 3.weight): expected shape [128, 64, 3, 3], got [128, 64, 3, 3, 1]',
    );
    expect(e).toBeDefined();
    expect(m.stateDict().get('0.weight')!.values()).toEqual(before);
  });

  it("points torchvision's AlexNet at alexnetTorchvision when given to the zoo's alexnet", () => {
    const tv = models.alexnetTorchvision({ numClasses: 4 });
    const dict = new Map([...tv.stateDict()].map(([k, t]) => {
      const i = Number(k.split('.')[0]);
      const rest = k.split('.').slice(1).join('.');
      return [i < 14 ? `features.${i}.${rest}` : `classifier.${i - 15}.${rest}`, t];
    }));
    tv.loadStateDict(dict, { from: 'torchvision' });
    expectConvkitError(() => models.alexnet({ numClasses: 4 }).loadStateDict(dict, { from: 'torchvision' }), 'features.3.weight', 'alexnetTorchvision');
  });

  it('refuses models and sources it has no names for', () => {
    expectConvkitError(() => models.lenet5().loadStateDict(new Map(), { from: 'torchvision' }), 'missing keys: features.0.weight (convkit 0.weight)');
    expectConvkitError(() => new ck.nn.Sequential(new ck.nn.Conv2d(1, 1, 1)).loadStateDict(new Map(), { from: 'torchvision' }), 'no Flatten');
    expectConvkitError(() => models.resnet18().loadStateDict(new Map(), { from: 'keras' as 'torchvision' }), "unknown from \"keras\"");
    expectConvkitError(() => new ck.nn.Conv2d(1, 1, 1).loadStateDict(new Map(), { from: 'torchvision' }), 'Conv2d has no torchvision counterpart');
  });

  it('builds torchvision AlexNet: 61,100,840 parameters, 224 and 227 inputs to 1000 scores', () => {
    const summarize = (size: number) => ck.analysis.summarize(models.alexnetTorchvisionConfig({ inputSize: size }), { input: [3, size, size] }).totals.params;
    expect(summarize(224)).toBe(61_100_840);
    expect(summarize(227)).toBe(61_100_840);
    expectConvkitError(() => models.alexnetTorchvision({ inputSize: 40 }), 'too small');
  });
});
