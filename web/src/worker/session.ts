import * as ck from 'convkit';
import type { CurvePoint, NetSpec } from '../shared/protocol.js';
import type { Hyper } from '../shared/run-config.js';
import { BatchSampler } from './batch-sampler.js';
import type { Splits } from './datasets.js';
import { makeOptimizer, updateOptimizer, type LiveOptimizer } from './optimizers.js';
import { onDevice } from './reads.js';

/**
 * One training run: the model built from the page's network, its optimizer, the batch
 * sampler and the counters. `trainStep()` is one mini-batch of gradient descent, timed in two parts
 * (forward + loss, then backward + update) for the page's readout. Gradients are cleared at
 * the start of a step rather than the end, so the views can show the last step's gradients.
 *
 * On webgpu a step only queues work on the GPU and reads nothing back: its loss, scores and
 * labels stay there until settle() reads the queued steps' together (the worker calls it every
 * few steps and before the views), which is also when a divergence is found and when the
 * images per second are measured.
 */

/** Steps averaged into one point of the training curve. */
const CURVE_EVERY = 10;

/** A step queued on the device, its results not read yet. */
interface Queued {
  step: number;
  loss: ck.Tensor;
  out: ck.Tensor;
  y: ck.Tensor;
}

export class Session {
  readonly model: ck.nn.Module;
  readonly params: ck.nn.Parameter[];
  private live: LiveOptimizer;
  private readonly sampler: BatchSampler;
  step = 0;
  /** Images in the last step's batch. */
  lastBatch = 0;
  /** The last step's parts in ms (null on a device, where a step only queues work). */
  forwardMs: number | null = 0;
  backwardMs: number | null = 0;
  /** The backend keeps tensors on a device (webgpu): steps are queued, then settled. */
  private readonly device = onDevice();
  private queue: Queued[] = [];
  /** When the first queued step started (the settled steps' wall time starts there). */
  private queuedSince = 0;
  /** Recent steps: [time the step finished, images, ms it took]. */
  private recent: [number, number, number][] = [];
  private pending: CurvePoint[] = [];
  private acc = { loss: 0, correct: 0, count: 0, steps: 0 };
  /** The last step counted into `acc` (behind `step` while steps are queued on a device). */
  private countedStep = 0;

  constructor(
    readonly net: NetSpec,
    readonly data: Splits,
    private hyper: Hyper,
    seed: number,
    /** Trained weights to continue from (a loaded model); otherwise fresh ones from the seed. */
    model?: ck.nn.Module,
  ) {
    // One seed fixes the initial weights and the order of the batches.
    ck.manualSeed(seed);
    this.model = model ?? ck.nn.fromConfig(net.config);
    this.params = this.model.parameters();
    this.sampler = new BatchSampler(data.train, new ck.Generator(seed + 1));
    this.live = makeOptimizer(this.params, hyper);
    // The views switch to eval mode and back for their passes; training itself stays in train mode.
    this.model.train();
  }

  /** New hyperparameters, from the next step on (the batch size too). */
  setHyper(h: Hyper): void {
    this.live = updateOptimizer(this.live, this.params, h);
    this.hyper = h;
  }

  get epoch(): number {
    return this.sampler.epoch;
  }

  /** Images of the current epoch seen so far. */
  get seenInEpoch(): number {
    return this.sampler.seen;
  }

  /** Steps queued on the device and not yet settled. */
  get queued(): number {
    return this.queue.length;
  }

  private diverged(v: number, step: number): ck.ConvkitError {
    return new ck.ConvkitError(`the loss became ${v} at step ${step}: training diverged; lower the learning rate (now ${this.hyper.lr}) and reset`);
  }

  /**
   * One step of mini-batch gradient descent. Throws a ConvkitError when the loss diverges (on a
   * device, settle() does, for the steps it reads).
   */
  trainStep(): void {
    if (this.device) return this.queueStep();
    const t0 = performance.now();
    let t1 = t0;
    const { loss, correct, n } = ck.tidy(() => {
      const { x, y } = this.sampler.next(this.hyper.batchSize);
      const opt = this.live.optimizer;
      opt.zeroGrad();
      const out = this.model.forward(x);
      const diverged = (v: number) => this.diverged(v, this.step + 1);
      let lossT: ck.Tensor;
      try {
        lossT = ck.F.crossEntropy(out, y);
      } catch (e) {
        // The loss refuses NaN/Inf scores: to the user, that is divergence.
        if (e instanceof ck.NonFiniteLossError) throw diverged(e.value);
        throw e;
      }
      const value = lossT.item();
      t1 = performance.now();
      if (!Number.isFinite(value)) throw diverged(value);
      lossT.backward();
      opt.step();
      return { loss: value, correct: countCorrect(out, y), n: y.shape[0]! };
    });
    const t2 = performance.now();
    this.forwardMs = t1 - t0;
    this.backwardMs = t2 - t1;
    this.step++;
    this.lastBatch = n;
    this.recent.push([t2, n, t2 - t0]);
    while (this.recent.length > 1 && t2 - this.recent[0]![0] > 1000) this.recent.shift();
    this.count(this.step, loss, correct, n);
  }

  /** A step on the device: queued, read by settle(). */
  private queueStep(): void {
    if (this.queue.length === 0) this.queuedSince = performance.now();
    const q = ck.tidy(() => {
      const { x, y } = this.sampler.next(this.hyper.batchSize);
      const opt = this.live.optimizer;
      opt.zeroGrad();
      const out = this.model.forward(x);
      const lossT = ck.F.crossEntropy(out, y);
      lossT.backward();
      opt.step();
      return { loss: ck.keep(lossT.detach()), out: ck.keep(out.detach()), y: ck.keep(y) };
    });
    this.step++;
    this.lastBatch = q.y.shape[0]!;
    this.queue.push({ step: this.step, ...q });
    this.forwardMs = null;
    this.backwardMs = null;
  }

  /**
   * Reads the queued steps' losses and scores back (one wait on the device for all of them) and
   * counts them into the curve. Nothing to do on a host backend. Throws a ConvkitError at the
   * first diverged loss.
   */
  async settle(): Promise<void> {
    const steps = this.queue.splice(0);
    if (steps.length === 0) return;
    let values: ArrayLike<number>[];
    try {
      values = await Promise.all(steps.flatMap((q) => [q.loss.data(), q.out.data(), q.y.data()]));
    } finally {
      for (const q of steps) for (const t of [q.loss, q.out, q.y]) t.dispose();
    }
    const end = performance.now();
    let images = 0;
    steps.forEach((q, i) => {
      const [loss, logits, labels] = [values[3 * i]![0]!, values[3 * i + 1]!, values[3 * i + 2]!];
      if (!Number.isFinite(loss)) throw this.diverged(loss, q.step);
      images += labels.length;
      this.count(q.step, loss, correctOf(logits, labels, q.out.shape[1]!), labels.length);
    });
    this.recent.push([end, images, end - this.queuedSince]);
    while (this.recent.length > 1 && end - this.recent[0]![0] > 1000) this.recent.shift();
  }

  private count(step: number, loss: number, correct: number, n: number): void {
    this.countedStep = step;
    const a = this.acc;
    a.loss += loss * n;
    a.correct += correct;
    a.count += n;
    if (++a.steps === CURVE_EVERY) this.flushPoint(step);
  }

  private flushPoint(step = this.countedStep): void {
    const a = this.acc;
    if (a.count > 0) this.pending.push({ step, loss: a.loss / a.count, accuracy: a.correct / a.count });
    this.acc = { loss: 0, correct: 0, count: 0, steps: 0 };
  }

  /** Curve points since the last call (a partial point too when `flush`, e.g. when pausing). */
  takePoints(flush = false): CurvePoint[] {
    if (flush && this.acc.steps > 0) this.flushPoint();
    const out = this.pending;
    this.pending = [];
    return out;
  }

  /** Training images per second over the last second of steps, counting step time only. */
  imagesPerSecond(): number {
    const images = this.recent.reduce((s, r) => s + r[1], 0);
    const ms = this.recent.reduce((s, r) => s + r[2], 0);
    return ms > 0 ? (images / ms) * 1000 : 0;
  }

  get epochSize(): number {
    return this.data.train.length;
  }
}

/** Top-1 hits of logits [B, K] against labels [B]. */
export function countCorrect(out: ck.Tensor, y: ck.Tensor): number {
  return correctOf(out.dataSync(), y.values(), out.shape[1]!);
}

/** Top-1 hits of `k` scores per row against the labels. */
function correctOf(logits: ArrayLike<number>, labels: ArrayLike<number>, k: number): number {
  let hits = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (logits[i * k + j]! > logits[i * k + best]!) best = j;
    if (best === labels[i]) hits++;
  }
  return hits;
}
