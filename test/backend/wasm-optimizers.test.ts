import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import type { AdamStepHyper, OptimizerSlot, SGDStepHyper } from '../../src/backend/kernels.js';
import * as js from '../../src/backend/js/optimizers.js';
import * as wasm from '../../src/backend/wasm/optimizers.js';
import { runtime } from '../../src/backend/wasm/instance.js';
import { Storage } from '../../src/tensor/storage.js';
import { values, workersReady } from './wasm-helpers.js';
import { expectIdentical, withSpecials } from './wasm-exact.js';

/*
 * SGDStep and AdamStep on wasm (assembly/optim.ts) against the js reference: the same bits in
 * the parameters and every state buffer, over several steps, sizes that are not multiples of
 * the SIMD width or of a task's chunk, NaN / Inf / signed zeros in gradients, parameters and
 * state in wasm memory (updated in place) or on the JS heap (copied in and back), threaded
 * or not.
 */

const SIZES = [1, 3, 4, 7, 33, 1030, 16387, 70001];

/** An array of n floats, in wasm memory when `resident`. */
function arr(n: number, seed: number, resident: boolean, specials = false): Float32Array {
  let a = values(n, seed);
  if (specials) a = withSpecials(a, 5);
  if (!resident) return a;
  const s = new Storage(a);
  runtime().adopt(s);
  return s.data as Float32Array;
}

interface Case {
  slots: OptimizerSlot[];
  arrays: Float32Array[];
}

/** One set of slots; `state` says which state buffers each has; steps / first flags as given. */
function makeCase(seed: number, state: { m: boolean; v: boolean; vMax: boolean }, first: boolean, step: number, specials: boolean): Case {
  const arrays: Float32Array[] = [];
  const slots = SIZES.map((n, i) => {
    const resident = i % 2 === 1;
    const mk = (k: number, sp = false) => {
      const a = arr(n, seed * 100 + i * 7 + k, resident, sp);
      arrays.push(a);
      return a;
    };
    const w = mk(0);
    const g = mk(1, specials);
    const m = state.m ? mk(2) : null;
    const v = state.v ? mk(3).map(Math.abs) : null;
    if (v) arrays[arrays.length - 1] = v;
    const vMax = state.vMax ? mk(4).map(Math.abs) : null;
    if (vMax) arrays[arrays.length - 1] = vMax;
    return { w, g, m, v, vMax, first, step: step + i };
  });
  return { slots, arrays };
}

function clone(c: Case): Case {
  const map = new Map<Float32Array, Float32Array>();
  const cp = (a: Float32Array | null) => {
    if (a === null) return null;
    if (!map.has(a)) map.set(a, a.slice());
    return map.get(a)!;
  };
  const slots = c.slots.map((s) => ({ ...s, w: cp(s.w)!, g: cp(s.g)!, m: cp(s.m), v: cp(s.v), vMax: cp(s.vMax) }));
  return { slots, arrays: c.arrays.map((a) => map.get(a) ?? a.slice()) };
}

function compare(run: (slots: OptimizerSlot[]) => void, ref: (slots: OptimizerSlot[]) => void, make: () => Case, what: string): void {
  for (const single of [false, true]) {
    const a = make();
    const b = clone(a);
    runtime().singleThreaded = single;
    try {
      for (let k = 0; k < 3; k++) {
        run(a.slots);
        ref(b.slots);
      }
    } finally {
      runtime().singleThreaded = false;
    }
    a.slots.forEach((s, i) => {
      const t = b.slots[i]!;
      const w = `${what}, slot ${i} (n=${s.w.length}), ${single ? 'single' : 'threaded'}`;
      expectIdentical(s.w, t.w, `${w}: w`);
      if (s.m) expectIdentical(s.m, t.m!, `${w}: m`);
      if (s.v) expectIdentical(s.v, t.v!, `${w}: v`);
      if (s.vMax) expectIdentical(s.vMax, t.vMax!, `${w}: vMax`);
    });
  }
}

describe.runIf(ck.listBackends().includes('wasm'))('wasm SGDStep and AdamStep against the js reference', () => {
  it('are wasm kernels', async () => {
    expect(await workersReady()).toBeGreaterThanOrEqual(1);
    expect(ck.kernelCoverage('wasm').own).toEqual(expect.arrayContaining(['SGDStep', 'AdamStep']));
  });

  const sgd: SGDStepHyper[] = [
    { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
    { lr: 0.037, momentum: 0, dampening: 0, weightDecay: 1e-3, nesterov: false },
    { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 5e-4, nesterov: false },
    { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: true },
    { lr: 1.3, momentum: 0.5, dampening: 0.25, weightDecay: 0.1, nesterov: false },
  ];
  sgd.forEach((h, hi) => {
    for (const first of [true, false]) {
      it(`SGD ${JSON.stringify(h)}, first=${first}: identical bits`, () => {
        compare(
          (s) => wasm.sgdStep(s, h),
          (s) => js.sgdStep(s, h),
          () => makeCase(hi + 1, { m: h.momentum !== 0, v: false, vMax: false }, first, 1, hi % 2 === 0),
          `SGD ${hi}`,
        );
      });
    }
  });

  const adam: AdamStepHyper[] = [
    { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, amsgrad: false },
    { lr: 3e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.01, decoupled: false, amsgrad: true },
    { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled: true, amsgrad: false },
    { lr: 0.2, beta1: 0, beta2: 0.5, eps: 1e-3, weightDecay: 0.3, decoupled: true, amsgrad: true },
  ];
  adam.forEach((h, hi) => {
    it(`Adam ${JSON.stringify(h)}: identical bits`, () => {
      compare(
        (s) => wasm.adamStep(s, h),
        (s) => js.adamStep(s, h),
        () => makeCase(hi + 11, { m: true, v: true, vMax: h.amsgrad }, false, 1 + 3 * hi, hi % 2 === 1),
        `Adam ${hi}`,
      );
    });
  });

  it('a slot whose gradient has another length is a ConvkitError', () => {
    const slot = { w: new Float32Array(5), g: new Float32Array(4), m: null, v: null, vMax: null, first: false, step: 1 };
    expect(() => wasm.sgdStep([slot], sgd[0]!)).toThrow(ck.ConvkitError);
  });
});
