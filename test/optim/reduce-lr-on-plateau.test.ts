import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectConvkitError } from '../helpers/assert.js';

/**
 * ReduceLROnPlateau against sequences worked out by hand from PyTorch's rule (and checked with
 * torch 1.13's ReduceLROnPlateau: the same lrs, to the last digit).
 */

function sgd(lr = 1): ck.optim.SGD {
  return new ck.optim.SGD([ck.zeros([1], { requiresGrad: true })], { lr });
}

function lrsAfter(options: ck.optim.ReduceLROnPlateauOptions, metrics: number[]): number[] {
  const opt = sgd();
  const s = new ck.optim.ReduceLROnPlateau(opt, options);
  return metrics.map((m) => {
    s.step(m);
    return opt.lr;
  });
}

describe('ReduceLROnPlateau', () => {
  it('reduces after more than `patience` epochs without a relative improvement of 1e-4', () => {
    // best 10, 9; 9 is no better than 9 * (1 - 1e-4); the third bad epoch (> patience 2) halves the lr;
    // 8.9999 is not below 8.9991; 8 is; three more bad epochs halve it again.
    expect(lrsAfter({ patience: 2, factor: 0.5 }, [10, 9, 9, 9, 9, 8.9999, 8, 8, 8, 8])).toEqual([1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25]);
  });

  it("has PyTorch's defaults: factor 0.1 after the 11th bad epoch (patience 10)", () => {
    const lrs = lrsAfter({}, new Array(25).fill(1));
    expect(lrs.slice(0, 11)).toEqual(new Array(11).fill(1));
    expect(lrs.slice(11, 22)).toEqual(new Array(11).fill(0.1));
    expect(lrs[22]).toBeCloseTo(0.01, 15);
    expect(lrs[22]).toBe(0.1 * 0.1); // the same float64 product as PyTorch's 0.010000000000000002
  });

  it('does not count bad epochs during the cooldown', () => {
    expect(lrsAfter({ patience: 1, factor: 0.1, cooldown: 2 }, new Array(10).fill(5))).toEqual([1, 1, 0.1, 0.1, 0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1, 0.1 * 0.1, 0.1 * 0.1]);
  });

  it("mode 'max' with an absolute threshold", () => {
    // 0.55 is not above 0.5 + 0.1; 0.61 is; 0.6 is not above 0.71; 0.8 is; 0.85 is not above 0.9.
    expect(lrsAfter({ mode: 'max', patience: 0, threshold: 0.1, thresholdMode: 'abs' }, [0.5, 0.55, 0.61, 0.6, 0.8, 0.85])).toEqual([1, 0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1, 0.1 * 0.1 * 0.1]);
  });

  it('stops at minLr', () => {
    expect(lrsAfter({ patience: 0, factor: 0.1, minLr: 0.005 }, [3, 3, 3, 3, 3])).toEqual([1, 0.1, 0.1 * 0.1, 0.005, 0.005]);
  });

  it('round-trips its state: a restored schedule continues as the original', () => {
    const metrics = [10, 9, 9, 9, 9, 8.9999, 8, 8, 8, 8];
    const a = sgd();
    const sa = new ck.optim.ReduceLROnPlateau(a, { patience: 2, factor: 0.5 });
    metrics.slice(0, 4).forEach((m) => sa.step(m));
    const state = JSON.parse(JSON.stringify(sa.stateDict()));
    const b = sgd();
    const sb = new ck.optim.ReduceLROnPlateau(b, { patience: 2, factor: 0.5 });
    sb.loadStateDict(state);
    b.lr = a.lr;
    for (const m of metrics.slice(4)) {
      sa.step(m);
      sb.step(m);
      expect(b.lr).toBe(a.lr);
    }
    expect(sb.stateDict()).toEqual(sa.stateDict());
    // A fresh state (best = Infinity) survives JSON as null.
    const fresh = new ck.optim.ReduceLROnPlateau(sgd());
    expect(fresh.stateDict().best).toBeNull();
  });

  it('refuses bad options and states with clear errors', () => {
    expectConvkitError(() => new ck.optim.ReduceLROnPlateau(sgd(), { factor: 1 }), /factor/);
    expectConvkitError(() => new ck.optim.ReduceLROnPlateau(sgd(), { patience: -1 }), /patience/);
    expectConvkitError(() => new ck.optim.ReduceLROnPlateau(sgd(), { mode: 'up' as 'min' }), /mode/);
    expectConvkitError(() => new ck.optim.ReduceLROnPlateau({} as ck.optim.Optimizer), /must be an optimizer/);
    const s = new ck.optim.ReduceLROnPlateau(sgd());
    expectConvkitError(() => s.loadStateDict({ type: 'StepLR' } as never), /not ReduceLROnPlateau/);
    expectConvkitError(() => s.step(undefined as never), /give the monitored value/);
  });
});
