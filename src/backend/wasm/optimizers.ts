/**
 * SGDStep and AdamStep on assembly/optim.ts: one job updates every parameter of the call, in
 * chunks spread over the threads. Parameters the backend adopted and gradients made by kernels
 * already live in wasm memory and are updated where they are; anything else (small
 * parameters, optimizer state on the JS heap) is copied in and its new values copied back.
 * The float32 constants come from the js reference (src/backend/js/optimizers.ts), whose bits
 * the kernel reproduces.
 */
import type { AdamStepHyper, OptimizerSlot, SGDStepHyper } from '../kernels.js';
import { adamBiasCorrections, adamConstants, sgdConstants } from '../js/optimizers.js';
import { ConvkitError } from '../../tensor/errors.js';
import { KIND, OA, OP, OS, SL } from './job-layout.js';
import { runtime } from './instance.js';
import type { WasmRuntime } from './runtime.js';

/** Elements per task: large enough to amortize a task, small enough to balance threads. */
const CHUNK = 1 << 14;
/** Elements below which the workers are not woken. */
const PARALLEL_MIN = 1 << 16;

/** Puts each slot's arrays into memory, fills the slot and chunk tables; returns the copy-backs. */
function stage(rt: WasmRuntime, slots: readonly OptimizerSlot[], perSlot: (s: OptimizerSlot, i: number, words: Int32Array, floats: Float32Array) => void): { backs: [Float32Array, number][]; tasks: number; total: number } {
  const backs: [Float32Array, number][] = [];
  const words = new Int32Array(slots.length * SL.WORDS);
  const floats = new Float32Array(words.buffer);
  const place = (a: Float32Array | null, writes: boolean): number => {
    if (a === null) return 0;
    const resident = rt.isResident(a);
    const ptr = rt.put(a);
    if (writes && !resident) backs.push([a, ptr]);
    return ptr;
  };
  let tasks = 0;
  let total = 0;
  slots.forEach((s, i) => {
    const n = s.w.length;
    for (const [name, a] of [['g', s.g], ['m', s.m], ['v', s.v], ['vMax', s.vMax]] as const) {
      if (a !== null && a.length !== n) throw new ConvkitError(`optimizer kernel: slot ${i} has ${n} values but ${a.length} in ${name}`);
    }
    const o = i * SL.WORDS;
    words[o + SL.W] = place(s.w, true);
    words[o + SL.G] = place(s.g, false);
    words[o + SL.M] = place(s.m, true);
    words[o + SL.V] = place(s.v, true);
    words[o + SL.VMAX] = place(s.vMax, true);
    perSlot(s, o, words, floats);
    tasks += Math.ceil(n / CHUNK);
    total += n;
  });
  const tab = new Int32Array(tasks * 3);
  let t = 0;
  slots.forEach((s, i) => {
    for (let b = 0; b < s.w.length; b += CHUNK, t++) {
      tab[3 * t] = i;
      tab[3 * t + 1] = b;
      tab[3 * t + 2] = Math.min(s.w.length, b + CHUNK);
    }
  });
  rt.arg(OP.TAB, rt.putI32(tab));
  rt.arg(OP.SLOTS, rt.putI32(words));
  return { backs, tasks, total };
}

function finish(rt: WasmRuntime, kind: number, staged: { backs: [Float32Array, number][]; tasks: number; total: number }): void {
  if (staged.tasks > 0) rt.run(kind, staged.tasks, 0, staged.total >= PARALLEL_MIN);
  const f32 = rt.f32;
  for (const [a, ptr] of staged.backs) a.set(f32.subarray(ptr >>> 2, (ptr >>> 2) + a.length));
}

export function sgdStep(slots: readonly OptimizerSlot[], h: SGDStepHyper): void {
  const c = sgdConstants(h);
  const rt = runtime();
  rt.begin();
  const staged = stage(rt, slots, (s, o, words) => {
    words[o + SL.A] = s.first ? 1 : 0;
  });
  rt.argsf(OS, { LR: c.lr, MOM: c.momentum, KEEP: c.keep, WD: c.wd });
  rt.arg(OS.NESTEROV, h.nesterov ? 1 : 0);
  finish(rt, KIND.sgd, staged);
}

export function adamStep(slots: readonly OptimizerSlot[], h: AdamStepHyper): void {
  const c = adamConstants(h);
  const rt = runtime();
  rt.begin();
  const staged = stage(rt, slots, (s, o, _words, floats) => {
    if (s.m === null || s.v === null || (h.amsgrad && s.vMax === null)) throw new ConvkitError('AdamStep kernel: a slot lacks its state buffers');
    const [ss, bc2] = adamBiasCorrections(h, s.step);
    floats[o + SL.A] = ss;
    floats[o + SL.B] = bc2;
  });
  rt.argsf(OA, { B1: c.beta1, C1: c.c1, B2: c.beta2, C2: c.c2, EPS: c.eps, WD: c.wd, DECAY: c.decay });
  rt.arg(OA.AMS, h.amsgrad ? 1 : 0);
  finish(rt, KIND.adam, staged);
}
