import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { makeScheduler } from '../../src/cli/optimizer-spec.js';
import { expectConvkitError } from '../helpers/assert.js';

/** LinearWarmup: lr(s) = base * (s + 1) / W over the first W steps, then the epoch schedule from its epoch 0. */

function sgd(lr: number): ck.optim.SGD {
  return new ck.optim.SGD([ck.zeros([1], { requiresGrad: true })], { lr });
}

/** The lr of every optimizer step of `epochs` epochs of `steps` steps, driving the schedule as the Trainer does. */
function trace(schedule: { stepBatch?(): void; step(metric?: number): void }, opt: ck.optim.Optimizer, epochs: number, steps: number, metric = () => 1): number[] {
  const lrs: number[] = [];
  for (let e = 0; e < epochs; e++) {
    for (let s = 0; s < steps; s++) {
      lrs.push(opt.lr);
      schedule.stepBatch?.();
    }
    schedule.step(metric());
  }
  return lrs;
}

describe('LinearWarmup', () => {
  it('rises linearly per step from lr / W to lr, then stays without a schedule', () => {
    const opt = sgd(0.6);
    const w = new ck.optim.LinearWarmup(opt, { epochs: 2, stepsPerEpoch: 3 });
    const lrs = trace(w, opt, 4, 3);
    // W = 6: 0.1, 0.2, ..., 0.6, then 0.6.
    expect(lrs).toEqual([1, 2, 3, 4, 5, 6].map((k) => (0.6 * k) / 6).concat(new Array(6).fill(0.6)));
    expect(ck.optim.LinearWarmup.factor(0, 6)).toBe(1 / 6);
    expect(ck.optim.LinearWarmup.factor(6, 6)).toBe(1);
  });

  it('hands over to cosine over the remaining epochs (the CLI layout)', () => {
    const opt = sgd(0.1);
    const sched = makeScheduler('cosine', opt, { epochs: 5, warmup: 1, stepsPerEpoch: 2 })!;
    const lrs = trace(sched as ck.optim.LinearWarmup, opt, 5, 2);
    const cos = (e: number) => (0.1 * (1 + Math.cos((Math.PI * e) / 4))) / 2;
    expect(lrs).toEqual([0.05, 0.1, cos(0), cos(0), cos(1), cos(1), cos(2), cos(2), cos(3), cos(3)]);
  });

  it('hands over to plateau, which only starts counting after the warm-up', () => {
    const opt = sgd(1);
    const sched = makeScheduler('plateau', opt, { epochs: 6, warmup: 2, stepsPerEpoch: 1, plateauPatience: 0, plateauFactor: 0.5 })!;
    // The same metric every epoch: the warm-up epochs do not count; then best is set, then each epoch is bad.
    expect(trace(sched as ck.optim.LinearWarmup, opt, 6, 1)).toEqual([0.5, 1, 1, 1, 0.5, 0.25]);
  });

  it('round-trips its state mid-warm-up: the restored schedule gives the same lrs', () => {
    const make = () => {
      const opt = sgd(0.3);
      return { opt, sched: makeScheduler('cosine', opt, { epochs: 4, warmup: 2, stepsPerEpoch: 3 }) as ck.optim.LinearWarmup };
    };
    const ref = make();
    const all = trace(ref.sched, ref.opt, 4, 3);
    const a = make();
    trace(a.sched, a.opt, 1, 3);
    const b = make();
    b.sched.loadStateDict(JSON.parse(JSON.stringify(a.sched.stateDict())));
    b.opt.loadStateDict(a.opt.stateDict());
    expect(trace(b.sched, b.opt, 3, 3)).toEqual(all.slice(3));
  });

  it('refuses bad options and mismatched states', () => {
    expectConvkitError(() => new ck.optim.LinearWarmup(sgd(1), { epochs: 0, stepsPerEpoch: 1 }), /epochs must be an integer >= 1/);
    expectConvkitError(() => new ck.optim.LinearWarmup(sgd(1), { epochs: 1, stepsPerEpoch: 0.5 }), /stepsPerEpoch/);
    const w = new ck.optim.LinearWarmup(sgd(1), { epochs: 1, stepsPerEpoch: 4 });
    const other = new ck.optim.LinearWarmup(sgd(1), { epochs: 1, stepsPerEpoch: 5 });
    expectConvkitError(() => w.loadStateDict(other.stateDict()), /over 1 epochs of 5 steps/);
  });
});
