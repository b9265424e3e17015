import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { gradcheck } from '../helpers/gradcheck.js';

const { F } = ck;
const int32 = (v: number[], shape?: number[]) => ck.tensor(v, shape, { dtype: 'int32' });

/** sum over i != y of w[y] * max(0, margin - x[y] + x[i])^p / C, per row. */
function naiveHinge(rows: number[][], targets: number[], p: number, margin: number, weight?: number[]): number[] {
  return rows.map((x, n) => {
    const y = targets[n]!;
    let s = 0;
    x.forEach((v, i) => {
      if (i !== y) s += Math.max(0, margin - x[y]! + v) ** p;
    });
    return (s * (weight ? weight[y]! : 1)) / x.length;
  });
}

describeEachBackend('multiMarginLoss (multiclass SVM)', () => {
  it('the CS231n example: scores [13, -7, 11], class 0, margin 10', () => {
    // max(0, -7 - 13 + 10) + max(0, 11 - 13 + 10) = 0 + 8; PyTorch divides by C = 3
    const loss = F.multiMarginLoss(ck.tensor([[13, -7, 11]]), int32([0]), { margin: 10 });
    expectClose(loss, [8 / 3]);
    expectClose(F.multiMarginLoss(ck.tensor([13, -7, 11]), int32([0], []), { margin: 10 }), [8 / 3]);
    // squared hinge: 8^2 / 3; with weight[0] = 2 applied after the square (PyTorch: 42.6667)
    expectClose(F.multiMarginLoss(ck.tensor([[13, -7, 11]]), int32([0]), { margin: 10, p: 2 }), [64 / 3]);
    expectClose(F.multiMarginLoss(ck.tensor([[13, -7, 11]]), int32([0]), { margin: 10, p: 2, weight: ck.tensor([2, 1, 1]) }), [128 / 3]);
  });

  it('PyTorch fixture: p=2, margin 0.8, weights, reduction none', () => {
    // multi_margin_loss(x, [1, 2, 0], p=2, margin=0.8, weight=[0.5, 2, 1, 1.5], reduction='none') = [0, 0, 2.5675]
    const x = ck.tensor([[1.0, 2.0, 0.5, -1.0], [0.3, -0.2, 2.2, 1.1], [-1.5, 0.0, 0.7, 0.2]]);
    const loss = F.multiMarginLoss(x, int32([1, 2, 0]), { p: 2, margin: 0.8, weight: ck.tensor([0.5, 2, 1, 1.5]), reduction: 'none' });
    expectClose(loss, [0, 0, 2.5675]);
  });

  const cases: [string, 1 | 2, number, number[] | undefined, 'mean' | 'sum' | 'none'][] = [
    ['hinge, mean', 1, 1, undefined, 'mean'],
    ['hinge, margin 2, sum', 1, 2, undefined, 'sum'],
    ['squared, weights, none', 2, 1, [0.5, 1, 2, 1.5, 1], 'none'],
  ];
  it.each(cases)('%s matches the definition', (_name, p, margin, weight, reduction) => {
    const x = ck.randn([6, 5], { seed: 1 });
    const t = [0, 4, 2, 3, 2, 1];
    const per = naiveHinge(x.toArray() as number[][], t, p, margin, weight);
    const want = reduction === 'none' ? per : reduction === 'sum' ? [per.reduce((a, b) => a + b)] : [per.reduce((a, b) => a + b) / 6];
    const got = F.multiMarginLoss(x, int32(t), { p, margin, weight: weight && ck.tensor(weight), reduction });
    expectClose(got, want);
  });

  it.each([1, 2] as const)('gradient with p = %i, with and without weights', (p) => {
    // Scores spread out so that no margin term sits within the finite-difference step of 0.
    const x = ck.tensor(Array.from({ length: 20 }, (_, i) => ((i * 7) % 20) * 0.37 - 3), [4, 5], { requiresGrad: true });
    gradcheck((a) => F.multiMarginLoss(a, int32([0, 4, 2, 3]), { p, margin: 0.9 }), [x]);
    gradcheck((a) => F.multiMarginLoss(a, int32([0, 4, 2, 3]), { p, margin: 0.9, weight: ck.tensor([0.5, 1, 2, 1.5, 1]), reduction: 'sum' }), [x]);
  });

  it('bad arguments', () => {
    const x = ck.zeros([2, 3]);
    expectConvkitError(() => F.multiMarginLoss(x, int32([0, 3])), 'multiMarginLoss', 'target 3', 'position [1]', '3 classes', '0..2');
    expectConvkitError(() => F.multiMarginLoss(x, int32([0, -100])), 'target -100');
    expectConvkitError(() => F.multiMarginLoss(x, int32([0, 1]), { p: 3 as 1 }), 'p must be 1 or 2', 'got 3');
    expectConvkitError(() => F.multiMarginLoss(ck.zeros([2, 3, 4]), int32([0, 1])), 'multiMarginLoss', '[N, C]', '[2, 3, 4]');
    expectConvkitError(() => F.multiMarginLoss(ck.tensor([[0, Number.NaN, 1]]), int32([0])), 'loss input has NaN at position [0, 1]');
    expect(() => F.multiMarginLoss(x, int32([0, 2]))).not.toThrow();
  });
});
