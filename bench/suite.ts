/**
 * convkit's side of the bench suite: one inference or training measurement of a workload
 * (bench/timing.ts's rule), with its GFLOP/s where the summary can count multiply-adds.
 */
import * as ck from '../src/index.js';
import { parameterCount, type Kind, type Workload } from './models.js';
import { measure, type Measurement, type TimingOptions } from './timing.js';

export interface Result extends Measurement {
  workload: string;
  kind: Kind;
  batch: number;
  /** 2 FLOPs per multiply-add of the CONV and FC layers (a training step as 3 forward passes); null where not counted. */
  gflops: number | null;
  params: number;
}

/** Multiply-adds of one image's forward pass, from convkit's summary (null where it cannot trace the model). */
export function forwardMacs(model: ck.nn.Module, w: Workload): number | null {
  try {
    return ck.analysis.summarize(model, { input: w.input }).totals.macs || null;
  } catch {
    return null;
  }
}

/** `countMacs: false` skips the summary's trace (the smoke test's one step needs no GFLOP/s). */
export function runWorkload(w: Workload, kind: Kind, batch: number, timing: TimingOptions & { countMacs?: boolean }): Result {
  const model = w.make();
  const params = parameterCount(model);
  // The summary's count, else PyTorch's (the summary does not count transposed convolutions).
  const macs = timing.countMacs === false ? null : forwardMacs(model, w) ?? w.torch?.macs ?? null;
  const x = ck.randn([batch, ...w.input], { seed: 1 });
  let step: () => void;
  if (kind === 'infer') {
    // Inference runs as the CLI's predict does: the model's fused plan (ck.nn.optimizeForInference).
    const runner = ck.nn.optimizeForInference(model);
    step = () => ck.tidy(() => ck.noGrad(() => { runner.forward(x).dataSync(); }));
  } else {
    if (w.classes < 1) throw new ck.ConvkitError(`workload ${w.name} has no classes to train on`);
    model.train();
    const y = ck.randint(0, w.classes, [batch], { seed: 3 });
    const opt = new ck.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
    step = () => ck.tidy(() => {
      opt.zeroGrad();
      const loss = ck.F.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
      loss.dataSync();
    });
  }
  let m: Measurement;
  try {
    m = measure(step, batch, timing);
  } finally {
    // The next workload should not run beside this one's weights (VGG-16's are 553 MB).
    x.dispose();
    for (const t of model.stateDict().values()) t.dispose();
  }
  const passes = kind === 'infer' ? 1 : 3;
  return { workload: w.name, kind, batch, params, ...m, gflops: macs === null ? null : (2 * passes * macs * m.imagesPerS) / 1e9 };
}
