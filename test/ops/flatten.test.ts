import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { gradcheck } from '../helpers/gradcheck.js';

const { F } = ck;

describeEachBackend('flatten', () => {
  const cases: [string, number[], ck.F.FlattenOptions | undefined, number[]][] = [
    ['default keeps the batch', [2, 3, 4, 5], undefined, [2, 60]],
    ['startDim 0', [2, 3, 4, 5], { startDim: 0 }, [120]],
    ['middle dims', [2, 3, 4, 5], { startDim: 1, endDim: 2 }, [2, 12, 5]],
    ['negative dims', [2, 3, 4, 5], { startDim: -3, endDim: -2 }, [2, 12, 5]],
    ['one dim is a no-op', [2, 3], { startDim: 1, endDim: 1 }, [2, 3]],
    ['0-d becomes [1]', [], { startDim: 0 }, [1]],
  ];
  it.each(cases)('%s', (_name, shape, opts, expected) => {
    const x = ck.arange(shape.reduce((a, b) => a * b, 1)).reshape(shape);
    const y = F.flatten(x, opts);
    expect(y.shape).toEqual(expected);
    expect(Array.from(y.dataSync())).toEqual(Array.from(x.dataSync()));
  });

  it('is a view of a contiguous input and a correct copy of a permuted one', () => {
    const x = ck.arange(6).reshape(1, 2, 3);
    const y = F.flatten(x);
    expect(y.storage).toBe(x.storage);
    const p = ck.arange(6).reshape(2, 3).transpose(0, 1).reshape(1, 3, 2);
    const q = ck.tensor([[[0, 3], [1, 4], [2, 5]]]).transpose(1, 2); // [1, 2, 3], non-contiguous
    expect(F.flatten(q).toArray()).toEqual([[0, 1, 2, 3, 4, 5]]);
    expect(F.flatten(p).toArray()).toEqual([[0, 3, 1, 4, 2, 5]]);
  });

  it('is differentiable', () => {
    const x = ck.randn([2, 3, 4], { seed: 1, requiresGrad: true });
    gradcheck((t) => F.flatten(t), [x]);
    gradcheck((t) => F.flatten(t.permute(2, 0, 1), { startDim: 0, endDim: 1 }), [x]);
  });

  it('bad dims are errors showing the shape', () => {
    expectConvkitError(() => F.flatten(ck.zeros([2, 3]), { startDim: 1, endDim: 0 }), 'flatten', 'startDim', 'after endDim', '[2, 3]');
    expectConvkitError(() => F.flatten(ck.zeros([2, 3]), { startDim: 2 }), 'flatten', 'startDim 2 is out of range', '[2, 3]');
    expectConvkitError(() => F.flatten(ck.zeros([5])), 'flatten', 'startDim 1', 'use startDim 0');
  });
});
