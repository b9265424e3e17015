import { it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { gradcheck } from '../helpers/gradcheck.js';

const { F } = ck;

describeEachBackend('mseLoss', () => {
  it('hand-worked reductions', () => {
    const a = ck.tensor([[1, 2], [3, 4]]);
    const b = ck.tensor([[0, 2], [5, 1]]);
    // squared differences 1, 0, 4, 9
    expectClose(F.mseLoss(a, b), [14 / 4]);
    expectClose(F.mseLoss(a, b, { reduction: 'sum' }), [14]);
    expectClose(F.mseLoss(a, b, { reduction: 'none' }), [1, 0, 4, 9]);
  });

  it('gradients w.r.t. input and target', () => {
    const a = ck.randn([3, 4], { seed: 1, requiresGrad: true });
    const b = ck.randn([3, 4], { seed: 2, requiresGrad: true });
    gradcheck((x, y) => F.mseLoss(x, y), [a, b]);
    gradcheck((x, y) => F.mseLoss(x, y, { reduction: 'none' }), [a, b]);
  });

  it('shape mismatches are errors rather than broadcasts', () => {
    expectConvkitError(() => F.mseLoss(ck.zeros([4, 1]), ck.zeros([4])), 'mseLoss', '[4, 1]', '[4]', 'same shape');
    expectConvkitError(() => F.mseLoss(ck.tensor([Infinity]), ck.zeros([1])), 'loss input has Infinity at position [0]');
  });
});
