import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';

const { nn } = ck;

describeEachBackend('nn.Flatten', () => {
  it('keeps the batch by default, and its outputShape agrees with forward', () => {
    const f = new nn.Flatten();
    const x = ck.arange(2 * 16 * 5 * 5).reshape(2, 16, 5, 5);
    const y = f.forward(x);
    expect(y.shape).toEqual([2, 400]);
    expect(f.outputShape([2, 16, 5, 5])).toEqual([2, 400]);
    expect(Array.from(y.dataSync().subarray(0, 5))).toEqual([0, 1, 2, 3, 4]);
    const g = new nn.Flatten({ startDim: 2 });
    expect(g.forward(x).shape).toEqual([2, 16, 25]);
    expect(g.outputShape([2, 16, 5, 5])).toEqual([2, 16, 25]);
    expect(f.describe()).toBe('Flatten()');
    expect(g.describe()).toBe('Flatten(startDim=2, endDim=-1)');
    expect((nn.fromConfig(JSON.parse(JSON.stringify(g.getConfig()))) as ck.nn.Flatten).startDim).toBe(2);
  });

  it('errors name the layer', () => {
    expectConvkitError(() => new nn.Flatten().forward(ck.zeros([5])), 'Flatten', 'startDim 1');
    expectConvkitError(() => new nn.Flatten().outputShape([5]), 'Flatten', 'startDim 1 is out of range');
    expectConvkitError(() => new nn.Flatten({ startDim: 0.5 }), 'Flatten', 'startDim must be an integer');
  });
});
