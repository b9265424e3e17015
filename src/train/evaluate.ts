import { ConvkitError } from '../tensor/errors.js';
import { keep, tidy } from '../tensor/scope.js';
import { getBackend } from '../backend/registry.js';
import { noGrad } from '../autograd/tape.js';
import type { Module } from '../nn/module.js';
import { optimizeForInference } from '../nn/optimize-for-inference.js';
import * as F from '../functional.js';
import { NonFiniteLossError } from '../losses/loss-args.js';
import { EpochMeter, topKCorrect } from './metrics.js';
import { ttaForward } from './tta.js';
import type { BatchSource, LossFn } from './trainer.js';

/*
 * Measuring a model over a whole source: evaluate() on the host backends, evaluateAsync() on
 * every backend (a device backend's results are read back asynchronously). The Trainer
 * validates with them; `convkit eval`, `train` and `finetune` report with them.
 */

/** Mean loss, top-1 and top-5 accuracy over `count` samples. */
export interface EvalResult {
  loss: number;
  accuracy: number;
  top5: number;
  count: number;
}

/** Options of `evaluate`. */
export interface EvaluateOptions {
  /**
   * Horizontal-flip test-time augmentation: score each image and its mirror image and use the
   * log of the mean of the two softmax outputs as the model's output (see ttaForward).
   */
  tta?: boolean;
}

/**
 * Loss, top-1 and top-5 accuracy over a whole source, without recording gradients, running
 * the model's inference plan (ck.nn.optimizeForInference). A model
 * whose outputs are not finite gets a NaN loss (and whatever accuracy it has), not an error.
 */
export function evaluate(model: Module, source: BatchSource, lossFn: LossFn = (o, y) => F.crossEntropy(o, y), opts: EvaluateOptions = {}): EvalResult {
  const wasTraining = model.training;
  // The fused plan, as predict runs it (puts the model in eval mode; shares its weights).
  const runner = optimizeForInference(model);
  const meter = new EpochMeter();
  try {
    noGrad(() => {
      for (const batch of source) {
        tidy(() => {
          const out = opts.tta ? ttaForward(runner, batch.x) : runner.forward(batch.x);
          let loss: number;
          try {
            loss = lossFn(out, batch.y).item();
          } catch (e) {
            // Measuring a diverged model is not an error: its loss is NaN, its accuracy what it is.
            if (!(e instanceof NonFiniteLossError)) throw e;
            loss = NaN;
          }
          meter.add(loss, batch.x.shape[0]!, out.ndim === 2 && batch.y.dtype === 'int32' ? topKCorrect(out, batch.y) : undefined);
        });
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return { loss: meter.loss, accuracy: meter.accuracy, top5: meter.top5, count: meter.count };
}

/**
 * evaluate() on every backend: on a device backend (webgpu) each batch's loss and outputs are
 * read back asynchronously; elsewhere it is evaluate() itself.
 */
export async function evaluateAsync(model: Module, source: BatchSource, lossFn: LossFn = (o, y) => F.crossEntropy(o, y), opts: EvaluateOptions = {}): Promise<EvalResult> {
  if (getBackend().deviceMemory === undefined) return evaluate(model, source, lossFn, opts);
  if (opts.tta) throw new ConvkitError('test-time augmentation (tta) reads values synchronously and does not run on the webgpu backend yet; use wasm for it');
  const wasTraining = model.training;
  const runner = optimizeForInference(model);
  const meter = new EpochMeter();
  try {
    for (const batch of source) {
      const { loss, out } = noGrad(() =>
        tidy(() => {
          const o = runner.forward(batch.x);
          return { loss: keep(lossFn(o, batch.y).detach()), out: keep(o.detach()) };
        }),
      );
      await Promise.all([loss.storage.read(), out.storage.read(), batch.y.storage.read()]);
      meter.add(loss.item(), batch.x.shape[0]!, out.ndim === 2 && batch.y.dtype === 'int32' ? topKCorrect(out, batch.y) : undefined);
      loss.dispose();
      out.dispose();
    }
  } finally {
    model.train(wasTraining);
  }
  return { loss: meter.loss, accuracy: meter.accuracy, top5: meter.top5, count: meter.count };
}
