import type { Tensor } from '../tensor/tensor.js';

/**
 * Counts of correct top-1 and top-k predictions in a batch of logits [N, C] against int32
 * labels [N]. Ties count against the prediction (a class is in the top k only if fewer than
 * k classes score strictly higher), so constant outputs do not look accurate; nor do NaN ones.
 */
export function topKCorrect(logits: Tensor, labels: Tensor, k = 5): { top1: number; topK: number } {
  const [n, c] = logits.shape as [number, number];
  const scores = logits.values();
  const y = labels.values();
  let top1 = 0;
  let topK = 0;
  for (let i = 0; i < n; i++) {
    const row = i * c;
    const target = scores[row + y[i]!]!;
    // A NaN score is never a correct prediction (it compares false with everything).
    if (Number.isNaN(target)) continue;
    let higher = 0;
    let tiesBefore = 0;
    for (let j = 0; j < c; j++) {
      const s = scores[row + j]!;
      if (s > target) higher++;
      else if (s === target && j < y[i]!) tiesBefore++;
    }
    const rank = higher + tiesBefore;
    if (rank === 0) top1++;
    if (rank < k) topK++;
  }
  return { top1, topK };
}

/** Running sums over an epoch, reported as means. */
export class EpochMeter {
  private lossSum = 0;
  private top1 = 0;
  private topK = 0;
  count = 0;

  /** Adds one batch: its mean loss, its size and, when known, how many were right (top-1 and top-k). */
  add(loss: number, batchSize: number, correct?: { top1: number; topK: number }): void {
    this.lossSum += loss * batchSize;
    this.count += batchSize;
    if (correct) {
      this.top1 += correct.top1;
      this.topK += correct.topK;
    }
  }

  get loss(): number {
    return this.count ? this.lossSum / this.count : NaN;
  }

  get accuracy(): number {
    return this.count ? this.top1 / this.count : NaN;
  }

  get top5(): number {
    return this.count ? this.topK / this.count : NaN;
  }
}
