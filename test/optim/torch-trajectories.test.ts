import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose } from '../helpers/assert.js';
import { describeCase, fixtures, initialParams, makeOptimizer, setGrads } from './torch-optim.js';

/**
 * Each optimizer against PyTorch's own (scripts/fixtures/make_optim_fixtures.py): the same
 * initial parameters and the same five gradients give the same parameters after every step.
 * Parameter 1 has no gradient at step 2, so it must be skipped with its step count unchanged.
 */
describe(`optimizers follow PyTorch ${fixtures.torch} step by step`, () => {
  it.each(fixtures.optimizers.map((c) => [describeCase(c), c] as const))('%s', (_, c) => {
    const params = initialParams();
    const opt = makeOptimizer(c, params);
    c.trajectory.forEach((expected, k) => {
      setGrads(params, k);
      opt.step();
      params.forEach((p, j) => expectClose(p, expected[j]!, { rtol: 1e-5, atol: 1e-6, what: `step ${k}, parameter ${j}` }));
    });
  });

  it('covers every optimizer', () => {
    expect(new Set(fixtures.optimizers.map((c) => c.optimizer))).toEqual(new Set(['SGD', 'Adagrad', 'RMSprop', 'Adam', 'AdamW']));
  });

  it('updates in place, inside tidy() scopes, with state kept across them', () => {
    const c = fixtures.optimizers.find((x) => x.optimizer === 'Adam' && x.options.amsgrad === true)!;
    const params = initialParams();
    const views = params.map((p) => p.view(-1));
    const opt = makeOptimizer(c, params);
    c.trajectory.forEach((expected, k) => {
      ck.tidy(() => {
        setGrads(params, k);
        opt.step();
      });
      // A view made before training shares the storage, so it sees every update.
      views.forEach((v, j) => expectClose(v, expected[j]!, { rtol: 1e-5, atol: 1e-6, what: `view of parameter ${j} at step ${k}` }));
    });
  });
});
