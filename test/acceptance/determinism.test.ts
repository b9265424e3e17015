import { hostBackends } from '../helpers/backends.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';

/**
 * Issue #2 acceptance: "same seed, same backend -> identical results". Twenty training steps of
 * a small CNN whose randomness comes from every source DESIGN.md names: initializers, the
 * DataLoader's shuffle and dropout masks, all drawn from ck.manualSeed's generator.
 * Equality is bit-for-bit (compared as uint32 words, so -0/+0 and NaN payloads count too).
 */

const STEPS = 20;

/** The uint32 words of every parameter, in stateDict order: what "bit-identical" compares. */
function weightBits(model: ck.nn.Module): Uint32Array {
  const parts = [...model.stateDict().values()].map((t) => t.dataSync());
  const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new Uint32Array(all.buffer);
}

function countDifferent(a: Uint32Array, b: Uint32Array): number {
  expect(a.length).toBe(b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

/**
 * Seeds, builds the model and data, then trains STEPS steps (4 epochs of 5 shuffled batches of
 * 8, or 16 when `wide`). `reseedAfterInit` re-seeds between initialization and training, so only the shuffle
 * and dropout streams change: it proves those draw from the seeded generator too.
 */
function train(seed: number, opts: { reseedAfterInit?: number; wide?: boolean } = {}): { bits: Uint32Array; losses: number[] } {
  ck.manualSeed(seed);
  // `wide` is big enough (about 1.8M multiply-adds per conv) for the wasm kernels to split
  // work over threads, where a careless reduction order would show up as run-to-run noise.
  const [inC, width, size, batch] = opts.wide ? [3, 16, 16, 16] : [1, 4, 8, 8];
  const model = new ck.nn.Sequential(
    new ck.nn.Conv2d(inC, width, 3, { padding: 1 }),
    new ck.nn.ReLU(),
    new ck.nn.MaxPool2d(2),
    new ck.nn.Flatten(),
    new ck.nn.Dropout(0.5),
    new ck.nn.Linear(width * (size / 2) ** 2, 10),
  );
  // The data is fixed (its own seeds), so runs differ only by what the global seed drives.
  const n = 5 * batch;
  const data = new ck.data.TensorDataset(ck.randn([n, inC, size, size], { seed: 100 }), ck.randint(0, 10, [n], { seed: 101 }));
  if (opts.reseedAfterInit !== undefined) ck.manualSeed(opts.reseedAfterInit);
  const loader = new ck.data.DataLoader(data, { batchSize: batch, shuffle: true });
  const opt = new ck.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  model.train();
  const losses: number[] = [];
  while (losses.length < STEPS) {
    for (const { x, y } of loader) {
      if (losses.length === STEPS) break;
      losses.push(
        ck.tidy(() => {
          const loss = ck.F.crossEntropy(model.forward(x), y);
          const v = loss.item();
          loss.backward();
          opt.step();
          opt.zeroGrad();
          return v;
        }),
      );
    }
  }
  return { bits: weightBits(model), losses };
}

for (const backend of hostBackends()) {
  describe(`determinism [${backend}]`, () => {
    // Selected when the tests run, not while collecting (describe bodies all run first).
    let previous = '';
    beforeAll(() => {
      previous = ck.getBackendName();
      ck.setBackendSync(backend);
    });
    afterAll(() => ck.setBackendSync(previous));

    it(`two runs of ${STEPS} steps from the same seed give bit-identical weights and losses`, () => {
      expect(ck.getBackendName()).toBe(backend);
      const a = train(7);
      const b = train(7);
      expect(a.losses).toEqual(b.losses);
      expect(countDifferent(a.bits, b.bits)).toBe(0);
      expect(a.losses.every(Number.isFinite)).toBe(true);
    });

    it('a different seed gives different weights', () => {
      const a = train(7);
      const c = train(8);
      // Every weight starts elsewhere, so practically all of them end elsewhere.
      expect(countDifferent(a.bits, c.bits)).toBeGreaterThan(a.bits.length / 2);
    });

    it('the same initialization with another shuffle/dropout stream gives different weights', () => {
      const a = train(7, { reseedAfterInit: 1000 });
      const again = train(7, { reseedAfterInit: 1000 });
      const other = train(7, { reseedAfterInit: 1001 });
      expect(countDifferent(a.bits, again.bits)).toBe(0);
      expect(countDifferent(a.bits, other.bits)).toBeGreaterThan(0);
      expect(a.losses).not.toEqual(other.losses);
    });

    it('a CNN large enough for multi-threaded kernels is bit-identical run to run', () => {
      const a = train(11, { wide: true });
      const b = train(11, { wide: true });
      expect(a.losses).toEqual(b.losses);
      expect(countDifferent(a.bits, b.bits)).toBe(0);
    });
  });
}
