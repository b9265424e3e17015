import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { fixtures, initialParams, setGrads } from './torch-optim.js';

describe(`clipGradNorm follows torch.nn.utils.clip_grad_norm_ (${fixtures.torch})`, () => {
  it.each(fixtures.clipGradNorm.map((c) => [`maxNorm ${c.maxNorm}, normType ${c.normType}`, c] as const))('%s', (_, c) => {
    const params = initialParams();
    setGrads(params, 0);
    const normType = c.normType === 'inf' ? Infinity : c.normType;
    const total = ck.optim.clipGradNorm(params, c.maxNorm, { normType });
    expectClose([total], [c.totalNorm], { rtol: 1e-6 });
    params.forEach((p, j) => expectClose(p.grad!, c.grads[j]!, { rtol: 1e-5, atol: 1e-7, what: `gradient ${j}` }));
  });
});

describe('clipGradNorm', () => {
  it('skips parameters without a gradient and returns 0 when there are none', () => {
    const [w, b] = initialParams();
    expect(ck.optim.clipGradNorm([w!, b!], 1)).toBe(0);
    w!.grad = ck.tensor(new Array(12).fill(0).map((_, i) => (i === 0 ? 3 : i === 1 ? 4 : 0)), [3, 4]);
    expect(ck.optim.clipGradNorm([w!, b!], 1)).toBeCloseTo(5, 6);
    expectClose(w!.grad.dataSync().slice(0, 2), [0.6, 0.8], { rtol: 1e-5 });
  });

  it('clips a strided gradient set by hand', () => {
    const w = new ck.nn.Parameter(ck.zeros([2, 2]));
    w.grad = ck.tensor([[3, 0], [4, 0]]).transpose(0, 1);
    expect(ck.optim.clipGradNorm(w, 2.5)).toBeCloseTo(5, 6);
    expectClose(w.grad, [1.5, 2, 0, 0], { rtol: 1e-5 });
  });

  it('bad arguments and non-finite norms', () => {
    const [w] = initialParams();
    expectConvkitError(() => ck.optim.clipGradNorm([w!], -1), 'clipGradNorm', 'maxNorm -1');
    expectConvkitError(() => ck.optim.clipGradNorm([w!], 1, { normType: 0 }), 'clipGradNorm', 'normType 0');
    w!.grad = ck.full([3, 4], Infinity);
    expectConvkitError(() => ck.optim.clipGradNorm([w!], 1, { errorIfNonfinite: true }), 'clipGradNorm', 'Infinity', 'learning rate');
  });
});
