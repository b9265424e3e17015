import type { AdamStepHyper, OptimizerSlot, SGDStepHyper } from '../../../src/backend/kernels.js';
import { values } from '../../../bench/kernel-inputs.js';
import type { Runner } from './runner.js';

/*
 * SGDStep and AdamStep, in place on GPU arrays, against the js reference over several steps in
 * a row (the momentum buffer's first update, Adam's step count rising), slots of different
 * lengths in one call, a fresh gradient each step: float32 rounding (rtol 1e-5, atol 1e-7) as in
 * test/backend/webgpu-optimizers.test.ts. A momentum buffer holds NaN before its first update,
 * which must then not be read.
 */

const SIZES = [1, 3, 257, 70001];
const STEPS = 3;

interface State { w: Float32Array; m: Float32Array | null; v: Float32Array | null; vMax: Float32Array | null }

function initial(seed: number, has: { m: boolean; v: boolean; vMax: boolean }, nanMomentum: boolean, zero: boolean): State[] {
  return SIZES.map((n, i) => {
    const s = seed * 100 + i * 7;
    const state = (a: Float32Array) => (zero ? a.fill(0) : a);
    return {
      w: values(n, s),
      m: has.m ? (nanMomentum ? new Float32Array(n).fill(NaN) : state(values(n, s + 1))) : null,
      v: has.v ? state(values(n, s + 2).map(Math.abs)) : null,
      vMax: has.vMax ? state(values(n, s + 3).map(Math.abs)) : null,
    };
  });
}

async function compare(r: Runner, kernel: 'SGDStep' | 'AdamStep', state: State[], seed: number, firstStep: number, what: string, step: (k: typeof r.js, slots: OptimizerSlot[]) => void): Promise<void> {
  await r.run(kernel, what, async () => {
    const host = state.map((s) => ({ w: s.w.slice(), m: s.m?.slice() ?? null, v: s.v?.slice() ?? null, vMax: s.vMax?.slice() ?? null }));
    const up = (a: Float32Array | null) => (a ? r.up({ data: a, shape: [a.length] }).data : null);
    const dev = state.map((s) => ({ w: up(s.w)!, m: up(s.m), v: up(s.v), vMax: up(s.vMax) }));
    for (let k = 0; k < STEPS; k++) {
      const common = (i: number) => ({ first: k === 0, step: firstStep + k + i });
      const grads = state.map((s, i) => values(s.w.length, seed * 1000 + k * 31 + i).map((x) => x * 0.7));
      step(r.gpu, dev.map((d, i) => ({ ...d, g: up(grads[i]!)!, ...common(i) })));
      step(r.js, host.map((h, i) => ({ ...h, g: grads[i]!, ...common(i) })));
    }
    for (const [i, h] of host.entries()) {
      const d = dev[i]!;
      const at = `${what}, slot ${i} (n=${h.w.length})`;
      for (const name of ['w', 'm', 'v', 'vMax'] as const) {
        const got = d[name], want = h[name];
        if ((got === null) !== (want === null)) throw new Error(`${at}: ${name} present on one side only`);
        if (got && want) await r.check(kernel, `${at}: ${name}`, got, want, { rtol: 1e-5, atol: 1e-7 });
      }
    }
  });
}

const SGD: SGDStepHyper[] = [
  { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
  { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 5e-4, nesterov: false },
  { lr: 0.3, momentum: 0.5, dampening: 0.25, weightDecay: 0.1, nesterov: true },
];

const ADAM: AdamStepHyper[] = [
  { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, amsgrad: false },
  { lr: 3e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.01, decoupled: false, amsgrad: true },
  { lr: 0.2, beta1: 0, beta2: 0.5, eps: 1e-3, weightDecay: 0.3, decoupled: true, amsgrad: true },
];

export async function optimizerCases(r: Runner): Promise<void> {
  for (const [hi, h] of SGD.entries()) {
    const has = { m: h.momentum !== 0, v: false, vMax: false };
    await compare(r, 'SGDStep', initial(hi + 1, has, has.m, false), hi + 1, 1, `SGD ${JSON.stringify(h)}`, (k, s) => k.SGDStep(s, h));
  }
  for (const [hi, h] of ADAM.entries()) {
    const has = { m: true, v: true, vMax: h.amsgrad };
    await compare(r, 'AdamStep', initial(hi + 11, has, false, true), hi + 11, 1, `Adam ${JSON.stringify(h)} from step 1`, (k, s) => k.AdamStep(s, h));
    await compare(r, 'AdamStep', initial(hi + 21, has, false, false), hi + 21, 5 + 3 * hi, `Adam ${JSON.stringify(h)} from step ${5 + 3 * hi}`, (k, s) => k.AdamStep(s, h));
  }
}
