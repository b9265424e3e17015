import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { gradcheck } from '../helpers/gradcheck.js';

const { F } = ck;

const int32 = (v: number[] | number[][], shape?: number[]) => ck.tensor(v, shape, { dtype: 'int32' });

interface NaiveOpts {
  weight?: number[];
  ignoreIndex?: number;
  smoothing?: number;
  reduction?: 'mean' | 'sum' | 'none';
}

/**
 * Cross-entropy over rows of logits, written from the definition: log p = x - log(sum e^x);
 * per row (1 - s) * (-w[t] log p[t]) + (s / C) * (-sum_c w[c] log p[c]), ignored rows 0;
 * 'mean' divides by the summed weights of the non-ignored targets.
 */
function naiveCrossEntropy(rows: number[][], targets: number[], o: NaiveOpts = {}): number | number[] {
  const s = o.smoothing ?? 0;
  const ignore = o.ignoreIndex ?? -100;
  const losses: number[] = [];
  let denom = 0;
  rows.forEach((x, n) => {
    const t = targets[n]!;
    if (t === ignore) {
      losses.push(0);
      return;
    }
    const C = x.length;
    const w = o.weight ?? new Array<number>(C).fill(1);
    const lse = Math.log(x.reduce((acc, v) => acc + Math.exp(v), 0));
    const logp = x.map((v) => v - lse);
    const smooth = -logp.reduce((acc, lp, c) => acc + w[c]! * lp, 0);
    losses.push((1 - s) * -w[t]! * logp[t]! + (s / C) * smooth);
    denom += w[t]!;
  });
  if (o.reduction === 'none') return losses;
  const total = losses.reduce((a, b) => a + b, 0);
  return o.reduction === 'sum' ? total : total / denom;
}

const X = [[1.0, 2.0, 0.5, -1.0], [0.3, -0.2, 2.2, 1.1], [-1.5, 0.0, 0.7, 0.2]];
const W = [0.5, 2.0, 1.0, 1.5];

describeEachBackend('crossEntropy', () => {
  it('hand-worked: [[1, 2, 3]] with target 2 is log(e + e^2 + e^3) - 3', () => {
    const loss = F.crossEntropy(ck.tensor([[1, 2, 3]]), int32([2]));
    expect(loss.shape).toEqual([]);
    expectClose(loss, [Math.log(Math.E + Math.E ** 2 + Math.E ** 3) - 3]);
    // One unbatched sample: logits [C], target 0-d.
    expectClose(F.crossEntropy(ck.tensor([1, 2, 3]), int32([2], [])), [0.40760596444437]);
    // Uniform logits: log C whatever the target.
    expectClose(F.crossEntropy(ck.zeros([2, 10]), int32([3, 7])), [Math.log(10)]);
  });

  it('matches PyTorch on weights + ignoreIndex + label smoothing together', () => {
    // torch.nn.functional.cross_entropy(x, [1, -100, 3], weight=W, label_smoothing=0.2, reduction=r), float64
    const x = ck.tensor(X);
    const t = int32([1, -100, 3]);
    const opts = { weight: ck.tensor(W), labelSmoothing: 0.2 };
    expectClose(F.crossEntropy(x, t, { ...opts, reduction: 'mean' }), [0.90171279]);
    expectClose(F.crossEntropy(x, t, { ...opts, reduction: 'sum' }), [3.15599475]);
    expectClose(F.crossEntropy(x, t, { ...opts, reduction: 'none' }), [1.24108651, 0, 1.9149082]);
    // label_smoothing=0.2 alone: 1.06747310; weight=W alone with targets [1, 0, 3]: 1.02726317
    expectClose(F.crossEntropy(x, t, { labelSmoothing: 0.2 }), [1.0674731]);
    expectClose(F.crossEntropy(x, int32([1, 0, 3]), { weight: ck.tensor(W) }), [1.02726317]);
  });

  const naiveCases: [string, NaiveOpts][] = [
    ['plain mean', {}],
    ['sum', { reduction: 'sum' }],
    ['none', { reduction: 'none' }],
    ['weights', { weight: [0.2, 1, 3, 0.7, 1.5] }],
    ['ignoreIndex 2 (a real class)', { ignoreIndex: 2 }],
    ['smoothing 0.1', { smoothing: 0.1 }],
    ['all options, sum', { weight: [0.2, 1, 3, 0.7, 1.5], ignoreIndex: -1, smoothing: 0.3, reduction: 'sum' }],
    ['all options, mean', { weight: [0.2, 1, 3, 0.7, 1.5], ignoreIndex: -1, smoothing: 0.3 }],
  ];
  it.each(naiveCases)('%s matches the definition on random logits', (_name, o) => {
    const x = ck.randn([6, 5], { seed: 1 });
    // -1 is a target only in the cases that ignore it.
    const targets = [0, 4, 2, o.ignoreIndex === -1 ? -1 : 3, 2, 1];
    const got = F.crossEntropy(x, int32(targets), {
      weight: o.weight ? ck.tensor(o.weight) : undefined,
      ignoreIndex: o.ignoreIndex,
      labelSmoothing: o.smoothing,
      reduction: o.reduction,
    });
    const want = naiveCrossEntropy(x.toArray() as number[][], targets, o);
    expectClose(got, typeof want === 'number' ? [want] : want);
  });

  it('spatial targets: logits [N, C, H, W], target [N, H, W]', () => {
    const x = ck.randn([2, 3, 2, 2], { seed: 2 });
    const t = int32([0, 2, 1, 1, 2, 0, 0, 1], [2, 2, 2]);
    const v = x.dataSync();
    const tv = t.values();
    // Each pixel is one row of C logits, gathered naively.
    const rows: number[][] = [];
    for (let n = 0; n < 2; n++) for (let p = 0; p < 4; p++) rows.push([0, 1, 2].map((c) => v[(n * 3 + c) * 4 + p]!));
    const none = F.crossEntropy(x, t, { reduction: 'none', labelSmoothing: 0.1 });
    expect(none.shape).toEqual([2, 2, 2]);
    expectClose(none, naiveCrossEntropy(rows, Array.from(tv), { reduction: 'none', smoothing: 0.1 }) as number[]);
    expectClose(F.crossEntropy(x, t), [naiveCrossEntropy(rows, Array.from(tv)) as number]);
  });

  it('probability targets, with weights and smoothing (PyTorch semantics)', () => {
    const x = ck.tensor(X);
    const p = ck.tensor([[0.1, 0.6, 0.3, 0], [0.25, 0.25, 0.25, 0.25], [0, 0, 0, 1]]);
    // cross_entropy(x, p, reduction='none') = [1.04518190, 1.80308485, 1.29476430]
    expectClose(F.crossEntropy(x, p, { reduction: 'none' }), [1.0451819, 1.80308485, 1.2947643]);
    // cross_entropy(x, p, weight=W, label_smoothing=0.1): the mean is over rows, not weights
    expectClose(F.crossEntropy(x, p, { weight: ck.tensor(W), labelSmoothing: 0.1 }), [1.9033533]);
    // A one-hot probability target equals the index target.
    const oneHot = ck.tensor([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]]);
    expectClose(F.crossEntropy(x, oneHot), F.crossEntropy(x, int32([1, 0, 3])));
  });

  const gradCases: [string, ck.F.CrossEntropyOptions, number[]][] = [
    ['plain', {}, [0, 4, 2, 3]],
    ['sum', { reduction: 'sum' }, [0, 4, 2, 3]],
    ['none', { reduction: 'none' }, [0, 4, 2, 3]],
    ['weights', { weight: ck.tensor([0.2, 1, 3, 0.7, 1.5]) }, [0, 4, 2, 3]],
    ['label smoothing', { labelSmoothing: 0.25 }, [0, 4, 2, 3]],
    ['ignoreIndex', { ignoreIndex: 4 }, [0, 4, 2, 3]],
    ['all together', { weight: ck.tensor([0.2, 1, 3, 0.7, 1.5]), labelSmoothing: 0.25, ignoreIndex: -100 }, [0, -100, 2, 3]],
  ];
  it.each(gradCases)('gradient: %s', (_name, opts, targets) => {
    const x = ck.randn([4, 5], { seed: 3, requiresGrad: true });
    gradcheck((t) => F.crossEntropy(t, int32(targets), opts), [x]);
  });

  it('gradients: spatial and probability targets (w.r.t. logits and target)', () => {
    const x = ck.randn([2, 3, 2, 2], { seed: 4, requiresGrad: true });
    gradcheck((t) => F.crossEntropy(t, int32([0, 2, 1, 1, 2, 0, 0, 1], [2, 2, 2]), { labelSmoothing: 0.1 }), [x]);
    const logits = ck.randn([3, 4], { seed: 5, requiresGrad: true });
    const probs = ck.tensor(F.softmax(ck.randn([3, 4], { seed: 6 }), 1).dataSync(), [3, 4], { requiresGrad: true });
    gradcheck((a, b) => F.crossEntropy(a, b, { weight: ck.tensor(W), labelSmoothing: 0.2 }), [logits, probs]);
  });

  it('the softmax gradient is p - onehot over N', () => {
    const x = ck.tensor([[1, 2, 3]], undefined, { requiresGrad: true });
    F.crossEntropy(x, int32([0])).backward();
    const s = Math.E + Math.E ** 2 + Math.E ** 3;
    expectClose(x.grad!, [Math.E / s - 1, Math.E ** 2 / s, Math.E ** 3 / s]);
  });

  it('is stable for logits of 1000', () => {
    const loss = F.crossEntropy(ck.tensor([[1000, 0, -1000]]), int32([1]));
    expectClose(loss, [1000]);
  });

  it('targets out of range name the value, its position and the number of classes', () => {
    const x = ck.zeros([3, 10]);
    expectConvkitError(() => F.crossEntropy(x, int32([1, 12, 0])), 'crossEntropy', 'target 12', 'position [1]', '10 classes', '0..9');
    expectConvkitError(() => F.crossEntropy(x, int32([-3, 1, 0])), 'target -3', 'position [0]', 'ignoreIndex -100');
    expectConvkitError(
      () => F.crossEntropy(ck.zeros([2, 3, 2, 2]), int32([0, 0, 0, 0, 0, 0, 0, 5], [2, 2, 2])),
      'target 5',
      'position [1, 1, 1]',
      '3 classes',
    );
  });

  it('NaN or Infinity in the logits is an error naming the position', () => {
    const bad = ck.tensor([[0, 1, 2], [3, Number.NaN, 5]]);
    const err = expectConvkitError(() => F.crossEntropy(bad, int32([0, 1])), 'crossEntropy', 'loss input has NaN at position [1, 1]', 'diverged');
    // Its own class, so a training loop can tell divergence from a programming error.
    expect(err).toBeInstanceOf(ck.NonFiniteLossError);
    expect((err as ck.NonFiniteLossError).position).toEqual([1, 1]);
    const inf = ck.tensor([[0, Infinity, 2]]);
    expectConvkitError(() => F.crossEntropy(inf, int32([0])), 'loss input has Infinity at position [0, 1]');
    expectConvkitError(() => F.crossEntropy(ck.zeros([1, 2]), ck.tensor([[Number.NaN, 1]])), 'loss target has NaN at position [0, 0]');
  });

  it('other bad arguments are errors that say what to change', () => {
    const x = ck.zeros([4, 3]);
    expectConvkitError(() => F.crossEntropy(x, ck.tensor([0, 1, 2, 0])), 'crossEntropy', 'float32 target', 'probabilities', "logits' shape [4, 3]", 'int32');
    expectConvkitError(() => F.crossEntropy(x, int32([0, 1])), 'crossEntropy', 'target has shape [2]', '[4]');
    expectConvkitError(() => F.crossEntropy(x, int32([0, 1, 2, 0]), { reduction: 'avg' as 'mean' }), "reduction must be 'mean', 'sum' or 'none'", '"avg"');
    expectConvkitError(() => F.crossEntropy(x, int32([0, 1, 2, 0]), { labelSmoothing: 1.5 }), 'labelSmoothing must be in [0, 1]', '1.5');
    expectConvkitError(() => F.crossEntropy(x, int32([0, 1, 2, 0]), { weight: ck.ones([4]) }), 'weight', '[3]', '[4]');
    expectConvkitError(() => F.crossEntropy(x, ck.zeros([4, 3]), { ignoreIndex: 1 }), 'ignoreIndex (1)', 'class-index targets only');
    expectConvkitError(() => F.crossEntropy(ck.tensor(1), int32([0])), 'crossEntropy', 'scalar');
  });
});
