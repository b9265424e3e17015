import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { gradcheck } from '../helpers/gradcheck.js';

const { F } = ck;

describeEachBackend('dropout', () => {
  it('zeroes about a fraction p, scales survivors by 1/(1-p), keeps the mean', () => {
    ck.manualSeed(1);
    const n = 200_000;
    for (const p of [0.1, 0.5, 0.8]) {
      const y = F.dropout(ck.ones([n]), { p }).dataSync();
      let zeros = 0;
      let total = 0;
      let badScale = 0;
      const scale = Math.fround(1 / (1 - p));
      for (const v of y) {
        if (v === 0) zeros++;
        else if (v !== scale) badScale++;
        total += v;
      }
      expect(badScale).toBe(0);
      // Binomial std of the zero fraction is sqrt(p(1-p)/n) < 0.0012; allow 5 sigma.
      expect(Math.abs(zeros / n - p)).toBeLessThan(0.006);
      expect(Math.abs(total / n - 1)).toBeLessThan(0.03);
    }
  });

  it('is deterministic with a seed or a generator', () => {
    const x = ck.randn([1000], { seed: 3 });
    ck.manualSeed(42);
    const a = F.dropout(x).dataSync();
    ck.manualSeed(42);
    const b = F.dropout(x).dataSync();
    expect(b).toEqual(a);
    const c = F.dropout(x).dataSync();
    expect(c).not.toEqual(a);
    const g1 = F.dropout(x, { p: 0.3, generator: new ck.Generator(7) }).dataSync();
    const g2 = F.dropout(x, { p: 0.3, generator: new ck.Generator(7) }).dataSync();
    expect(g2).toEqual(g1);
  });

  it('is the identity when not training or p = 0', () => {
    const x = ck.randn([4, 5], { seed: 4 });
    expect(F.dropout(x, { training: false })).toBe(x);
    expect(F.dropout(x, { p: 0 })).toBe(x);
  });

  it('the gradient is the same mask', () => {
    const x = ck.randn([6, 7], { seed: 5, requiresGrad: true });
    gradcheck((t) => F.dropout(t, { p: 0.4, generator: new ck.Generator(9) }), [x]);
    x.grad = null;
    const y = F.dropout(x, { p: 0.25, generator: new ck.Generator(2) });
    F.sum(y).backward();
    const xv = x.dataSync();
    const yv = y.dataSync();
    // Each element's gradient is its own factor y/x: 0 or 1/(1-p).
    expectClose(x.grad!, Array.from(yv, (v, i) => v / xv[i]!), { rtol: 1e-5 });
  });

  it('p outside [0, 1) is an error', () => {
    const x = ck.ones([3]);
    expectConvkitError(() => F.dropout(x, { p: 1 }), 'dropout', 'p must be in [0, 1)', 'got 1');
    expectConvkitError(() => F.dropout(x, { p: -0.1 }), 'dropout', 'got -0.1');
    expectConvkitError(() => F.dropout(x, { p: Number.NaN }), 'dropout', 'NaN');
  });
});

it('Generator.fillMask draws the same mask as uniform() element by element, and leaves the stream where that loop does', () => {
  // p * 2^32 whole (0.5, 0.25) or not (0.3, 0.1), tiny, and so near 1 that ceil(p * 2^32) is 2^32.
  for (const p of [0.5, 0.25, 0.3, 0.1, 1e-9, 0.999, 1 - 2 ** -40]) {
    for (const seed of [1, 123456789]) {
      const a = new ck.Generator(seed), b = new ck.Generator(seed);
      const keep = 1 / (1 - p);
      const got = new Float32Array(10_007);
      a.fillMask(got, p, keep);
      const want = Float32Array.from(got, () => (b.uniform() < p ? 0 : keep));
      expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer)), `p ${p} seed ${seed}`).toBe(true);
      expect(a.nextUint32()).toBe(b.nextUint32());
    }
  }
});
