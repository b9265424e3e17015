import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { gradcheck } from '../helpers/gradcheck.js';

const { F } = ck;
const int32 = (v: number[], shape?: number[]) => ck.tensor(v, shape, { dtype: 'int32' });

describeEachBackend('nllLoss', () => {
  // Any scores work: nllLoss picks -x[n, t] without applying log-softmax itself.
  const x = ck.tensor([[-1, -2, -3], [-0.5, -4, -0.25], [-6, -7, -8]]);

  it('hand-worked: the negated score of the target class, averaged', () => {
    // -(-2 + -0.5 + -8) / 3
    expectClose(F.nllLoss(x, int32([1, 0, 2])), [10.5 / 3]);
    expectClose(F.nllLoss(x, int32([1, 0, 2]), { reduction: 'sum' }), [10.5]);
    expectClose(F.nllLoss(x, int32([1, 0, 2]), { reduction: 'none' }), [2, 0.5, 8]);
    expectClose(F.nllLoss(ck.tensor([-1, -2]), int32([1], [])), [2]);
  });

  it("weights scale each sample, and 'mean' divides by the summed target weights", () => {
    const weight = ck.tensor([2, 0.5, 1]);
    // (0.5*2 + 2*0.5 + 1*8) / (0.5 + 2 + 1); torch.nn.functional.nll_loss agrees (see crossEntropy tests)
    expectClose(F.nllLoss(x, int32([1, 0, 2]), { weight }), [10 / 3.5]);
    expectClose(F.nllLoss(x, int32([1, 0, 2]), { weight, reduction: 'none' }), [1, 1, 8]);
  });

  it('ignored targets count neither in the sum nor in the mean; all ignored is NaN', () => {
    expectClose(F.nllLoss(x, int32([1, -100, 2])), [5]);
    expectClose(F.nllLoss(x, int32([1, 0, 2]), { ignoreIndex: 0 }), [5]);
    expect(Number.isNaN(F.nllLoss(x, int32([-100, -100, -100])).item())).toBe(true);
    expect(F.nllLoss(x, int32([-100, -100, -100]), { reduction: 'sum' }).item()).toBe(0);
  });

  it('composes with logSoftmax into crossEntropy', () => {
    const logits = ck.randn([5, 4], { seed: 1 });
    const t = int32([3, 0, 1, 1, 2]);
    expectClose(F.nllLoss(F.logSoftmax(logits, 1), t), F.crossEntropy(logits, t));
  });

  it('gradients', () => {
    const lp = ck.randn([4, 3, 2], { seed: 2, requiresGrad: true });
    const t = int32([0, 2, 1, -100, 2, 2, 0, 1], [4, 2]);
    gradcheck((a) => F.nllLoss(a, t), [lp]);
    gradcheck((a) => F.nllLoss(a, t, { weight: ck.tensor([0.3, 1, 2]), reduction: 'sum' }), [lp]);
    const w = ck.randn([3, 3], { seed: 3, requiresGrad: true });
    F.nllLoss(w, int32([2, 0, 2]), { reduction: 'sum' }).backward();
    expect(Array.from(w.grad!.dataSync())).toEqual([0, 0, -1, -1, 0, 0, 0, 0, -1]);
  });

  it('bad arguments', () => {
    expectConvkitError(() => F.nllLoss(x, int32([1, 3, 0])), 'nllLoss', 'target 3', 'position [1]', '3 classes');
    expectConvkitError(() => F.nllLoss(x, ck.tensor([1, 0, 0])), 'nllLoss', 'int32', 'float32');
    expectConvkitError(() => F.nllLoss(ck.tensor([[Number.NEGATIVE_INFINITY, 0]]), int32([0])), 'nllLoss', '-Infinity at position [0, 0]');
    expectConvkitError(() => F.nllLoss(x, int32([1, 0, 0]), { ignoreIndex: 0.5 }), 'ignoreIndex must be an integer');
  });
});
