import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { describeEachBackend } from '../helpers/backends.js';

/**
 * The tape hands gradient buffers over without copying when nobody else holds them and sums
 * the ones that meet (src/autograd/tape.ts). These cases check that no user-visible tensor is
 * ever aliased or changed by it: every gradient is compared with hand-worked values, and
 * writing into or freeing one gradient must leave every other tensor as it was. Sizes are
 * large enough (4096) for the wasm kernels, small ones take the js paths.
 */

const F = ck.F;

function leaf(n: number, f: (i: number) => number): ck.Tensor {
  return ck.tensor(Float32Array.from({ length: n }, (_, i) => f(i)), [n], { requiresGrad: true });
}

function vals(t: ck.Tensor | null): number[] {
  return Array.from(t!.dataSync());
}

describeEachBackend('gradient accumulation in the tape', () => {
  for (const n of [5, 4096]) {
    it(`a + b: both leaves get their own buffer (n=${n})`, () => {
      const a = leaf(n, (i) => i);
      const b = leaf(n, (i) => -i);
      F.sum(F.add(a, b)).backward();
      expect(a.grad!.storage).not.toBe(b.grad!.storage);
      (a.grad!.storage.data as Float32Array).fill(7);
      a.grad!.dispose();
      expect(vals(b.grad).every((v) => v === 1)).toBe(true);
    });

    it(`x used three times, directly and through a view, sums (n=${n})`, () => {
      const x = leaf(n, (i) => i % 3);
      const y = F.add(F.add(x, F.mul(x, x)), x.view(-1));
      F.sum(y).backward();
      expect(vals(x.grad)).toEqual(vals(x).map((v) => 2 + 2 * v));
    });

    it(`gradients accumulate over backward calls; an earlier gradient held by the user is unchanged (n=${n})`, () => {
      const x = leaf(n, (i) => i);
      F.sum(F.mul(x, x)).backward();
      const first = x.grad!;
      const firstVals = vals(first);
      F.sum(F.mul(x, x)).backward();
      expect(vals(first)).toEqual(firstVals);
      expect(vals(x.grad)).toEqual(firstVals.map((v) => 2 * v));
      F.sum(x).backward();
      expect(vals(x.grad)).toEqual(firstVals.map((v) => 2 * v + 1));
    });

    it(`backward(gradOutput) never aliases the user's gradOutput (n=${n})`, () => {
      const x = leaf(n, (i) => i);
      const g = ck.tensor(Float32Array.from({ length: n }, (_, i) => i + 0.5), [n]);
      F.mul(x, 2).backward(g);
      x.view(-1).backward(g);
      expect(x.grad!.storage).not.toBe(g.storage);
      expect(vals(x.grad)).toEqual(vals(g).map((v) => 3 * v));
      x.grad!.dispose();
      expect(vals(g)[1]).toBe(1.5);
      // A leaf that is the root itself.
      const z = leaf(n, () => 1);
      z.backward(g);
      expect(z.grad!.storage).not.toBe(g.storage);
      expect(vals(z.grad)).toEqual(vals(g));
    });

    it(`a view of a leaf's gradient buffer used by two leaves is not shared (n=${n})`, () => {
      const a = leaf(n, (i) => i);
      const b = leaf(n, (i) => 2 * i);
      // c = a + b, then c viewed twice: both paths carry the same gradient tensor.
      const c = F.add(a, b);
      F.sum(F.add(c.view(-1), c)).backward();
      expect(vals(a.grad).every((v) => v === 2)).toBe(true);
      expect(a.grad!.storage).not.toBe(b.grad!.storage);
      a.grad!.dispose();
      expect(vals(b.grad).every((v) => v === 2)).toBe(true);
    });
  }

  it('a training step inside tidy keeps gradients alive and memory flat', () => {
    const w = leaf(4096, (i) => (i % 7) * 0.1);
    const opt = new ck.optim.SGD([w], { lr: 0.1, momentum: 0.9 });
    const step = () =>
      ck.tidy(() => {
        opt.zeroGrad();
        F.sum(F.add(F.mul(w, w), w)).backward();
        opt.step();
      });
    step();
    const before = ck.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(ck.memory().numTensors).toBe(before);
    expect(w.grad!.isDisposed).toBe(false);
  });
});
