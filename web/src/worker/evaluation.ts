import * as ck from 'convkit';
import type { EvalResult, WorstExample } from '../shared/protocol.js';
import { Reads } from './reads.js';

/**
 * Validation over the test split: loss, accuracy, the confusion matrix (row = true class,
 * column = predicted; its cells sum to the number of examples evaluated), every example's
 * prediction (so that a cell can list its examples) and the worst-classified examples (the
 * lowest probability given to the true class).
 */

const BATCH = 250;
const WORST = 16;

export async function evaluateTest(model: ck.nn.Module, test: ck.data.ImageDataset, step: number, limit = test.length): Promise<EvalResult> {
  const count = Math.min(limit, test.length);
  const k = test.classes.length;
  const confusion = new Int32Array(k * k);
  const predicted = new Int32Array(count);
  const labels = new Int32Array(count);
  const trueProb = new Float32Array(count);
  let lossSum = 0;
  let correct = 0;
  const tally = (start: number, n: number, probs: Float32Array): void => {
    for (let i = 0; i < n; i++) {
      const row = probs.subarray(i * k, (i + 1) * k);
      let best = 0;
      for (let j = 1; j < k; j++) if (row[j]! > row[best]!) best = j;
      const label = labels[start + i]!;
      predicted[start + i] = best;
      trueProb[start + i] = row[label]!;
      confusion[label * k + best]!++;
      if (best === label) correct++;
      lossSum += -Math.log(Math.max(row[label]!, 1e-12));
    }
  };
  // Every batch's forward pass runs here, in eval mode; on webgpu their probabilities are read
  // back together after the loop (the mode is restored before waiting, so a step run meanwhile
  // trains in train mode).
  const reads = new Reads();
  const wasTraining = model.training;
  model.eval();
  try {
    ck.noGrad(() => {
      const shape = test.sampleShape;
      const size = shape.reduce((a, b) => a * b, 1);
      for (let start = 0; start < count; start += BATCH) {
        const n = Math.min(BATCH, count - start);
        const x = new Float32Array(n * size);
        for (let i = 0; i < n; i++) labels[start + i] = test.readInto(start + i, x, i * size);
        ck.tidy(() => reads.peek(ck.F.softmax(model.forward(ck.tensor(x, [n, ...shape])), 1), (probs) => tally(start, n, probs)));
      }
    });
  } finally {
    model.train(wasTraining);
  }
  await reads.flush();
  const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => trueProb[a]! - trueProb[b]!);
  const worst: WorstExample[] = order.slice(0, WORST).map((index) => ({
    index,
    label: labels[index]!,
    predicted: predicted[index]!,
    probability: trueProb[index]!,
    pixels: test.get(index).input,
  }));
  return { step, count, loss: lossSum / count, accuracy: correct / count, confusion, predicted, labels, worst };
}
