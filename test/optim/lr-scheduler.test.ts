import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { fixtures } from './torch-optim.js';

type Make = (opt: ck.optim.Optimizer, options: Record<string, unknown>) => ck.optim.LRScheduler;

const SCHEDULES: Record<string, Make> = {
  StepLR: (o, x) => new ck.optim.StepLR(o, x as unknown as ck.optim.StepLROptions),
  MultiStepLR: (o, x) => new ck.optim.MultiStepLR(o, x as unknown as ck.optim.MultiStepLROptions),
  ExponentialLR: (o, x) => new ck.optim.ExponentialLR(o, x as unknown as ck.optim.ExponentialLROptions),
  CosineAnnealingLR: (o, x) => new ck.optim.CosineAnnealingLR(o, x as unknown as ck.optim.CosineAnnealingLROptions),
  LinearLR: (o, x) => new ck.optim.LinearLR(o, x as ck.optim.LinearLROptions),
};

/** An SGD with two groups at the fixture's base lrs (nothing is trained: only lr matters). */
function twoGroups(): ck.optim.SGD {
  const [a, b] = [ck.zeros([2], { requiresGrad: true }), ck.zeros([2], { requiresGrad: true })];
  return new ck.optim.SGD([{ params: [a], lr: fixtures.baseLrs[0] }, { params: [b], lr: fixtures.baseLrs[1] }]);
}

describe(`schedules follow PyTorch ${fixtures.torch} epoch by epoch`, () => {
  it.each(fixtures.schedules.map((c) => [`${c.schedule}(${JSON.stringify(c.options)})`, c] as const))('%s', (_, c) => {
    const opt = twoGroups();
    const sched = SCHEDULES[c.schedule]!(opt, c.options);
    c.lrs.forEach((expected, epoch) => {
      if (epoch > 0) {
        opt.step();
        sched.step();
      }
      expectClose(sched.getLastLr(), expected, { rtol: 1e-9, atol: 1e-12, what: `epoch ${epoch}` });
      expect(opt.paramGroups.map((g) => g.lr)).toEqual(sched.getLastLr());
    });
    expect(sched.lastEpoch).toBe(c.lrs.length - 1);
  });

  it('covers every schedule with a PyTorch twin', () => {
    expect(new Set(fixtures.schedules.map((c) => c.schedule))).toEqual(new Set(Object.keys(SCHEDULES)));
  });
});

describe('schedules', () => {
  it('LambdaLR multiplies the base lr by the function of the epoch', () => {
    const opt = twoGroups();
    const sched = new ck.optim.LambdaLR(opt, { lrLambda: (e) => Math.min(1, (e + 1) / 4) });
    const seen = [sched.getLastLr()];
    for (let e = 0; e < 4; e++) {
      sched.step();
      seen.push(sched.getLastLr());
    }
    expectClose(seen.flat(), [0.025, 0.0125, 0.05, 0.025, 0.075, 0.0375, 0.1, 0.05, 0.1, 0.05], { rtol: 1e-12 });
    expectConvkitError(() => new ck.optim.LambdaLR(twoGroups(), { lrLambda: () => -1 }), 'LambdaLR', 'returned -1');
  });

  it('a lr set by hand between epochs is replaced at the next step (closed form)', () => {
    const opt = twoGroups();
    const sched = new ck.optim.ExponentialLR(opt, { gamma: 0.5 });
    opt.lr = 7;
    sched.step();
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.05, 0.025]);
  });

  it('stateDict / loadStateDict resume the epoch count and options', () => {
    const opt = twoGroups();
    const sched = new ck.optim.CosineAnnealingLR(opt, { tMax: 10, etaMin: 0.001 });
    for (let e = 0; e < 4; e++) sched.step();
    const saved = JSON.parse(JSON.stringify(sched.stateDict())) as ck.optim.LRSchedulerStateDict;
    expect(saved).toMatchObject({ type: 'CosineAnnealingLR', lastEpoch: 4, baseLrs: [0.1, 0.05], options: { tMax: 10, etaMin: 0.001 } });

    const opt2 = twoGroups();
    const resumed = new ck.optim.CosineAnnealingLR(opt2, { tMax: 3 });
    resumed.loadStateDict(saved);
    expect(resumed.getLastLr()).toEqual(sched.getLastLr());
    for (let e = 0; e < 8; e++) {
      sched.step();
      resumed.step();
      expect(resumed.getLastLr()).toEqual(sched.getLastLr());
    }
    expectConvkitError(() => new ck.optim.StepLR(twoGroups(), { stepSize: 2 }).loadStateDict(saved), 'StepLR', 'CosineAnnealingLR');
    const one = new ck.optim.SGD([ck.zeros([1], { requiresGrad: true })], { lr: 0.1 });
    expectConvkitError(() => new ck.optim.CosineAnnealingLR(one, { tMax: 3 }).loadStateDict(saved), '2 base lrs', '1 param groups');
    const bad = { ...saved, options: { ...saved.options, tMax: 0 } };
    expectConvkitError(() => resumed.loadStateDict(bad), 'tMax', '0');
  });

  it('bad options are errors naming the schedule, the value and what is allowed', () => {
    const o = twoGroups;
    expectConvkitError(() => new ck.optim.StepLR(o(), { stepSize: 0 }), 'StepLR', 'stepSize 0', 'integer >= 1');
    expectConvkitError(() => new ck.optim.StepLR(o(), { stepSize: 2.5 }), 'StepLR', 'stepSize 2.5');
    expectConvkitError(() => new ck.optim.StepLR(o(), { stepSize: 2, gamma: -0.1 }), 'StepLR', 'gamma -0.1', '> 0');
    expectConvkitError(() => new ck.optim.MultiStepLR(o(), { milestones: [5, 3] }), 'MultiStepLR', '[5, 3]', 'increasing');
    expectConvkitError(() => new ck.optim.ExponentialLR(o(), { gamma: NaN }), 'ExponentialLR', 'gamma NaN');
    expectConvkitError(() => new ck.optim.CosineAnnealingLR(o(), { tMax: 0 }), 'CosineAnnealingLR', 'tMax 0');
    expectConvkitError(() => new ck.optim.CosineAnnealingLR(o(), { tMax: 5, etaMin: -1 }), 'etaMin -1', '>= 0');
    expectConvkitError(() => new ck.optim.LinearLR(o(), { startFactor: 0 }), 'LinearLR', 'startFactor 0', '(0, 1]');
    expectConvkitError(() => new ck.optim.LinearLR(o(), { endFactor: 1.5 }), 'LinearLR', 'endFactor 1.5', '[0, 1]');
    expectConvkitError(() => new ck.optim.LinearLR(o(), { totalIters: -2 }), 'LinearLR', 'totalIters -2');
    expectConvkitError(() => new ck.optim.StepLR({} as ck.optim.Optimizer, { stepSize: 1 }), 'StepLR', 'must be an optimizer');
  });

  it('a group added after the schedule was made is an error at its next step', () => {
    const opt = twoGroups();
    const sched = new ck.optim.StepLR(opt, { stepSize: 1 });
    opt.addParamGroup({ params: [ck.zeros([1], { requiresGrad: true })], lr: 0.1 });
    expectConvkitError(() => sched.step(), 'StepLR', '3 param groups', 'made for 2');
  });
});
