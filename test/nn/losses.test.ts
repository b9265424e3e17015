import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';

const { nn, F } = ck;
const int32 = (v: number[]) => ck.tensor(v, [v.length], { dtype: 'int32' });

describeEachBackend('loss modules', () => {
  const logits = ck.randn([4, 3], { seed: 1 });
  const target = int32([0, 2, 1, 1]);

  it('CrossEntropyLoss equals F.crossEntropy with the same options', () => {
    expectClose(new nn.CrossEntropyLoss().forward(logits, target), F.crossEntropy(logits, target));
    const opts = { weight: [0.5, 2, 1], labelSmoothing: 0.1, ignoreIndex: 2, reduction: 'sum' as const };
    const layer = new nn.CrossEntropyLoss(opts);
    const expected = F.crossEntropy(logits, target, { ...opts, weight: ck.tensor(opts.weight) });
    expectClose(layer.forward(logits, target), expected);
    expect(layer.describe()).toBe("CrossEntropyLoss(reduction='sum', labelSmoothing=0.1, ignoreIndex=2, weight)");
    expect([...layer.stateDict().keys()]).toEqual(['weight']);
    const rebuilt = nn.fromConfig(JSON.parse(JSON.stringify(layer.getConfig())));
    expectClose(rebuilt.forward(logits as never, target as never), expected);
  });

  it('MultiMarginLoss: the CS231n example through the module', () => {
    const layer = new nn.MultiMarginLoss({ margin: 10 });
    expectClose(layer.forward(ck.tensor([[13, -7, 11]]), int32([0])), [8 / 3]);
    expect(layer.describe()).toBe('MultiMarginLoss(p=1, margin=10)');
    const weighted = new nn.MultiMarginLoss({ p: 2, weight: ck.tensor([1, 2, 3]) });
    expectClose(weighted.forward(logits, target), F.multiMarginLoss(logits, target, { p: 2, weight: ck.tensor([1, 2, 3]) }));
    const rebuilt = nn.fromConfig(JSON.parse(JSON.stringify(weighted.getConfig())));
    expectClose(rebuilt.forward(logits as never, target as never), weighted.forward(logits, target));
  });

  it('MSELoss', () => {
    const layer = new nn.MSELoss({ reduction: 'sum' });
    expectClose(layer.forward(ck.tensor([1, 2]), ck.tensor([0, 4])), [5]);
    expect(layer.describe()).toBe("MSELoss(reduction='sum')");
    expect(new nn.MSELoss().describe()).toBe('MSELoss()');
  });

  it('errors name the module', () => {
    expectConvkitError(() => new nn.CrossEntropyLoss().forward(logits, int32([0, 3, 1, 1])), 'CrossEntropyLoss', 'target 3', 'position [1]', '3 classes');
    expectConvkitError(() => new nn.CrossEntropyLoss({ reduction: 'avg' as 'mean' }), 'CrossEntropyLoss', 'reduction');
    expectConvkitError(() => new nn.MultiMarginLoss({ weight: 'heavy' as unknown as number[] }), 'MultiMarginLoss', 'weight');
    expectConvkitError(() => new nn.MSELoss({ reduce: true } as { reduction?: 'mean' }), "unknown option 'reduce'");
  });
});
