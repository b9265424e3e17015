import { describe, expect, it } from 'vitest';
import { ConvkitError } from '../../src/tensor/errors.js';
import type { AdamStepHyper, OptimizerSlot, SGDStepHyper } from '../../src/backend/kernels.js';
import * as js from '../../src/backend/js/optimizers.js';
import * as gpuK from '../../src/backend/webgpu/kernels/optimizers.js';
import { asGpu, gpuMemory, gpuUpload } from '../../src/backend/webgpu/gpu-array.js';
import { fromGpu, startWebgpu, toGpu } from '../helpers/webgpu.js';
import { expectClose } from '../helpers/assert.js';
import { values } from './wasm-helpers.js';

/*
 * SGDStep and AdamStep on webgpu, in place on GPU arrays, against the js reference over several
 * steps in a row (the buffer's first update, then momentum; Adam's step count rising), several
 * slots of different lengths per call (one crossing many workgroups), a fresh gradient each
 * step. The GPU may fuse multiply-adds and its sqrt need not be correctly rounded, so the
 * comparison is to float32 rounding (rtol 1e-5), not bits. Only finite values: WGSL does not
 * promise IEEE NaN/Inf arithmetic. A momentum buffer holds NaN before its first update, which
 * must then not be read.
 */

const why = await startWebgpu();

const SIZES = [1, 3, 257, 70001];
const STEPS = 4;

type State = { w: Float32Array; m: Float32Array | null; v: Float32Array | null; vMax: Float32Array | null };

function initial(seed: number, has: { m: boolean; v: boolean; vMax: boolean }, nanMomentum: boolean): State[] {
  return SIZES.map((n, i) => {
    const s = seed * 100 + i * 7;
    return {
      w: values(n, s),
      m: has.m ? (nanMomentum ? new Float32Array(n).fill(NaN) : values(n, s + 1)) : null,
      v: has.v ? values(n, s + 2).map(Math.abs) : null,
      vMax: has.vMax ? values(n, s + 3).map(Math.abs) : null,
    };
  });
}

const gradient = (n: number, seed: number, step: number) => values(n, seed * 1000 + step * 31 + n).map((x) => x * 0.7);

/** Runs STEPS updates on the GPU and on the host, then compares every buffer. */
async function compare(
  run: (slots: OptimizerSlot[]) => void,
  ref: (slots: OptimizerSlot[]) => void,
  state: State[],
  seed: number,
  firstStep: number,
  what: string,
): Promise<void> {
  const host = state.map((s) => ({ w: s.w.slice(), m: s.m?.slice() ?? null, v: s.v?.slice() ?? null, vMax: s.vMax?.slice() ?? null }));
  const up = (a: Float32Array | null) => (a ? toGpu({ data: a, shape: [a.length] }).data : null);
  const dev = state.map((s) => ({ w: up(s.w)!, m: up(s.m), v: up(s.v), vMax: up(s.vMax) }));
  // One gradient buffer per slot, rewritten each step (buffer creation is slow on llvmpipe).
  const g = state.map((s) => up(s.w)!);
  for (let k = 0; k < STEPS; k++) {
    const common = (i: number) => ({ first: k === 0, step: firstStep + k + i });
    const grads = state.map((s, i) => gradient(s.w.length, seed + i, k));
    grads.forEach((a, i) => gpuUpload(a, asGpu(g[i])));
    run(dev.map((d, i) => ({ ...d, g: g[i]!, ...common(i) })));
    ref(host.map((h, i) => ({ ...h, g: grads[i]!, ...common(i) })));
  }
  for (const [i, h] of host.entries()) {
    const d = dev[i]!;
    const at = `${what}, slot ${i} (n=${h.w.length})`;
    const close = async (got: Float32Array | null, want: Float32Array | null, name: string) => {
      expect(got === null, `${at}: ${name} present`).toBe(want === null);
      if (got && want) expectClose(await fromGpu(got), want, { rtol: 1e-5, atol: 1e-7, what: `${at}: ${name}` });
    };
    await close(d.w, h.w, 'w');
    await close(d.m, h.m, 'm');
    await close(d.v, h.v, 'v');
    await close(d.vMax, h.vMax, 'vMax');
  }
  for (const a of [...dev.flatMap((d) => [d.w, d.m, d.v, d.vMax]), ...g]) if (a) gpuMemory.release(asGpu(a));
}

describe.skipIf(why !== null)('webgpu SGDStep and AdamStep', () => {
  const sgd: SGDStepHyper[] = [
    { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
    { lr: 0.037, momentum: 0, dampening: 0, weightDecay: 1e-3, nesterov: false },
    { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 5e-4, nesterov: false },
    { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: true },
    { lr: 0.3, momentum: 0.5, dampening: 0.25, weightDecay: 0.1, nesterov: true },
    { lr: 1.3, momentum: 0.5, dampening: 0.25, weightDecay: 0.1, nesterov: false },
  ];
  it('SGD: plain, weight decay, momentum, dampening, nesterov, over several steps', async () => {
    for (const [hi, h] of sgd.entries()) {
      const has = { m: h.momentum !== 0, v: false, vMax: false };
      await compare((s) => gpuK.sgdStep(s, h), (s) => js.sgdStep(s, h), initial(hi + 1, has, has.m), hi + 1, 1, `SGD ${JSON.stringify(h)}`);
    }
  });

  const adam: AdamStepHyper[] = [
    { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, amsgrad: false },
    { lr: 3e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.01, decoupled: false, amsgrad: true },
    { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled: true, amsgrad: false },
    { lr: 0.2, beta1: 0, beta2: 0.5, eps: 1e-3, weightDecay: 0.3, decoupled: true, amsgrad: true },
  ];
  it('Adam and AdamW, with and without amsgrad, over several steps', async () => {
    for (const [hi, h] of adam.entries()) {
      const has = { m: true, v: true, vMax: h.amsgrad };
      // From the first step (state zero, as the optimizer makes it) and from the middle of a run.
      const zero = initial(hi + 11, has, false).map((s) => ({ w: s.w, m: s.m!.fill(0), v: s.v!.fill(0), vMax: s.vMax?.fill(0) ?? null }));
      await compare((s) => gpuK.adamStep(s, h), (s) => js.adamStep(s, h), zero, hi + 11, 1, `Adam ${JSON.stringify(h)} from step 1`);
      await compare((s) => gpuK.adamStep(s, h), (s) => js.adamStep(s, h), initial(hi + 21, has, false), hi + 21, 5 + 3 * hi, `Adam ${JSON.stringify(h)} from step ${5 + 3 * hi}`);
    }
  });

  it('an Adam slot without its state buffers is a ConvkitError', () => {
    const w = toGpu({ data: new Float32Array(3), shape: [3] }).data;
    const slot = { w, g: w, m: null, v: null, vMax: null, first: false, step: 1 };
    expect(() => gpuK.adamStep([slot], adam[0]!)).toThrow(ConvkitError);
  });
});
