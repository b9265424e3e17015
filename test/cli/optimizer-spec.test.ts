import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { makeOptimizer, makeScheduler } from '../../src/cli/optimizer-spec.js';
import { expectConvkitError } from '../helpers/assert.js';

/** The CLI's optimizer and schedule names: --momentum reaches nesterov; schedules after a warm-up. */

const params = () => [new ck.nn.Parameter(ck.zeros([2]))];

describe('makeOptimizer / makeScheduler', () => {
  it('--optimizer nesterov takes --momentum (default 0.9) and refuses 0', () => {
    const given = makeOptimizer('nesterov', params(), { momentum: 0.8, weightDecay: 5e-4, lr: 0.1 }) as ck.optim.SGD;
    expect(given.paramGroups[0]).toMatchObject({ lr: 0.1, momentum: 0.8, nesterov: true, weightDecay: 5e-4 });
    const dflt = makeOptimizer('nesterov', params(), { weightDecay: 0 }) as ck.optim.SGD;
    expect(dflt.paramGroups[0]).toMatchObject({ momentum: 0.9, nesterov: true });
    expectConvkitError(() => makeOptimizer('nesterov', params(), { momentum: 0, weightDecay: 0 }), /--optimizer nesterov needs --momentum above 0/);
  });

  it('lays the schedule out over the epochs after the warm-up', () => {
    const opt = makeOptimizer('sgd', params(), { lr: 1, weightDecay: 0 });
    const w = makeScheduler('step', opt, { epochs: 7, warmup: 1, stepsPerEpoch: 1 }) as ck.optim.LinearWarmup;
    expect(w).toBeInstanceOf(ck.optim.LinearWarmup);
    expect(w.then).toBeInstanceOf(ck.optim.StepLR);
    expect((w.then as ck.optim.StepLR).stateDict().options).toEqual({ stepSize: 2, gamma: 0.1 });
    expect(makeScheduler('none', makeOptimizer('sgd', params(), { weightDecay: 0 }), 3)).toBeUndefined();
    expect(makeScheduler('plateau', makeOptimizer('sgd', params(), { weightDecay: 0 }), { epochs: 3, plateauPatience: 2, plateauFactor: 0.5 })).toBeInstanceOf(ck.optim.ReduceLROnPlateau);
    expectConvkitError(() => makeScheduler('linear', opt, 3), /unknown schedule 'linear'; choose one of none, step, cosine, plateau/);
  });
});
