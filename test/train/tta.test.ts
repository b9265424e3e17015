import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectConvkitError } from '../helpers/assert.js';

/** Horizontal-flip test-time augmentation on a model whose output depends on left and right. */

/** Scores of an image [1, 1, 3]: class 0 = its left pixel, class 1 = its right pixel. */
function leftRight(): ck.nn.Module {
  const fc = new ck.nn.Linear(3, 2);
  fc.loadStateDict(new Map([['weight', ck.tensor([1, 0, 0, 0, 0, 1], [2, 3])], ['bias', ck.tensor([0, 0], [2])]]));
  return new ck.nn.Sequential(new ck.nn.Flatten(), fc);
}

describe('test-time augmentation', () => {
  it('flipWidth mirrors each row of every channel and image', () => {
    const x = ck.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 1, 2, 3]);
    expect(Array.from(ck.train.flipWidth(x).dataSync())).toEqual([3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10]);
    expectConvkitError(() => ck.train.flipWidth(ck.zeros([2, 3])), /expected images \[N, C, H, W\]/);
  });

  it('ttaForward is the log of the mean of the two softmax outputs (hand-computed)', () => {
    // Scores (left, right, middle pixel) of an image [1, 1, 3].
    const fc = new ck.nn.Linear(3, 3);
    fc.loadStateDict(new Map([['weight', ck.tensor([1, 0, 0, 0, 0, 1, 0, 1, 0], [3, 3])], ['bias', ck.tensor([0, 0, 0], [3])]]));
    const model = new ck.nn.Sequential(new ck.nn.Flatten(), fc);
    const out = ck.train.ttaForward(model, ck.tensor([2, 1, 0], [1, 1, 1, 3])).dataSync();
    // [2, 1, 0] scores (2, 0, 1); mirrored [0, 1, 2] scores (0, 2, 1); S = e^2 + e^0 + e^1 for both.
    const S = Math.exp(2) + 1 + Math.exp(1);
    const want = [(Math.exp(2) + 1) / (2 * S), (1 + Math.exp(2)) / (2 * S), (2 * Math.exp(1)) / (2 * S)];
    Array.from(out).forEach((v, i) => expect(Math.exp(v)).toBeCloseTo(want[i]!, 6));
  });

  it('evaluate with tta scores the mean prediction: here the flip undoes what the model tells apart', () => {
    const model = leftRight();
    // Class 0: bright on the left; class 1: bright on the right. The model is right on every image alone.
    const x = ck.tensor([3, 0, 1, 1, 0, 3, 2, 0, 0, 0, 0, 2], [4, 1, 1, 3]);
    const y = ck.tensor([0, 1, 0, 1], [4], { dtype: 'int32' });
    const source = new ck.data.DataLoader(new ck.data.TensorDataset(x, y), { batchSize: 3 });
    const plain = ck.train.evaluate(model, source);
    const tta = ck.train.evaluate(model, source, undefined, { tta: true });
    expect(plain.accuracy).toBe(1);
    // Averaged with the mirror image every prediction is a tie (0.5 / 0.5): loss log 2, accuracy of ties (class 0 first).
    expect(tta.loss).toBeCloseTo(Math.log(2), 6);
    expect(tta.accuracy).toBe(0.5);
    expect(tta.count).toBe(4);
  });

  it('keeps what the mirror agrees with: a symmetric model gives the same result with and without tta', () => {
    const fc = new ck.nn.Linear(3, 2);
    fc.loadStateDict(new Map([['weight', ck.tensor([1, -1, 1, -1, 1, -1], [2, 3])], ['bias', ck.tensor([0.1, 0], [2])]]));
    const model = new ck.nn.Sequential(new ck.nn.Flatten(), fc);
    const x = ck.tensor([0.3, 0.9, -0.2, 1, 0.5, 2], [2, 1, 1, 3]);
    const plain = ck.F.logSoftmax(model.forward(x), 1).dataSync();
    const tta = ck.train.ttaForward(model, x).dataSync();
    Array.from(tta).forEach((v, i) => expect(v).toBeCloseTo(plain[i]!, 5));
  });
});
