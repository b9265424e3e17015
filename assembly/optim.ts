// Optimizer updates (src/backend/js/optimizers.ts): SGD (momentum, dampening, nesterov,
// weight decay) and Adam / AdamW (amsgrad), in place, over every parameter of a param group in
// one job. Tasks are chunks of parameters listed in a table (slot, begin, end); each slot
// holds the pointers of one parameter's values, gradient and state. Every operation is one
// float32 operation in the reference's order (no fused multiply-add), so the results are the
// reference's bits on every build.
import { arg, argf } from './job';

// Job arguments. SGD: LR, MOM, KEEP (1 - dampening), WD, NESTEROV. Adam: B1, C1 (1 - b1),
// B2, C2 (1 - b2), EPS, WD, DECAY, AMS.
export const OP_TAB = 0, OP_SLOTS = 1;
export const OS_LR = 2, OS_MOM = 3, OS_KEEP = 4, OS_WD = 5, OS_NESTEROV = 6;
export const OA_B1 = 2, OA_C1 = 3, OA_B2 = 4, OA_C2 = 5, OA_EPS = 6, OA_WD = 7, OA_DECAY = 8, OA_AMS = 9;
// A slot: 8 words. SGD's A is 1 on a momentum buffer's first update; Adam's A and B are the
// float32 step size lr / (1 - b1^t) and sqrt(1 - b2^t).
export const SL_W = 0, SL_G = 1, SL_M = 2, SL_V = 3, SL_VMAX = 4, SL_A = 6, SL_B = 7, SL_WORDS = 8;

// @ts-ignore: decorator
@inline function word(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline function wordf(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

export function sgdTask(job: usize, t: i32): void {
  const tab = <usize>arg(job, OP_TAB) + (<usize>(t * 3) << 2);
  const slot = <usize>arg(job, OP_SLOTS) + (<usize>(word(tab, 0) * SL_WORDS) << 2);
  const i0 = word(tab, 1), i1 = word(tab, 2);
  const w = <usize>word(slot, SL_W), g = <usize>word(slot, SL_G), m = <usize>word(slot, SL_M);
  const lr = argf(job, OS_LR), mom = argf(job, OS_MOM), keep = argf(job, OS_KEEP), wd = argf(job, OS_WD);
  const vlr = f32x4.splat(lr), vmom = f32x4.splat(mom), vkeep = f32x4.splat(keep), vwd = f32x4.splat(wd);
  let i = i0;
  if (m == 0) {
    // w -= lr * (g + wd * w)
    for (; i + 4 <= i1; i += 4) {
      const o = <usize>i << 2;
      const wv = v128.load(w + o);
      const d = f32x4.add(v128.load(g + o), f32x4.mul(vwd, wv));
      v128.store(w + o, f32x4.sub(wv, f32x4.mul(vlr, d)));
    }
    for (; i < i1; i++) {
      const o = <usize>i << 2;
      const wv = load<f32>(w + o);
      store<f32>(w + o, wv - lr * (load<f32>(g + o) + wd * wv));
    }
    return;
  }
  const first = word(slot, SL_A) != 0, nesterov = arg(job, OS_NESTEROV) != 0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    const wv = v128.load(w + o);
    const d = f32x4.add(v128.load(g + o), f32x4.mul(vwd, wv));
    const b = first ? d : f32x4.add(f32x4.mul(vmom, v128.load(m + o)), f32x4.mul(vkeep, d));
    v128.store(m + o, b);
    const step = nesterov ? f32x4.add(d, f32x4.mul(vmom, b)) : b;
    v128.store(w + o, f32x4.sub(wv, f32x4.mul(vlr, step)));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    const wv = load<f32>(w + o);
    const d = load<f32>(g + o) + wd * wv;
    const b = first ? d : mom * load<f32>(m + o) + keep * d;
    store<f32>(m + o, b);
    store<f32>(w + o, wv - lr * (nesterov ? d + mom * b : b));
  }
}

export function adamTask(job: usize, t: i32): void {
  const tab = <usize>arg(job, OP_TAB) + (<usize>(t * 3) << 2);
  const slot = <usize>arg(job, OP_SLOTS) + (<usize>(word(tab, 0) * SL_WORDS) << 2);
  const i0 = word(tab, 1), i1 = word(tab, 2);
  const w = <usize>word(slot, SL_W), g = <usize>word(slot, SL_G), m = <usize>word(slot, SL_M), v = <usize>word(slot, SL_V);
  const vmax = <usize>word(slot, SL_VMAX);
  const ss = wordf(slot, SL_A), bc2 = wordf(slot, SL_B);
  const b1 = argf(job, OA_B1), c1 = argf(job, OA_C1), b2 = argf(job, OA_B2), c2 = argf(job, OA_C2);
  const eps = argf(job, OA_EPS), wd = argf(job, OA_WD), decay = argf(job, OA_DECAY);
  const ams = arg(job, OA_AMS) != 0;
  const vb1 = f32x4.splat(b1), vc1 = f32x4.splat(c1), vb2 = f32x4.splat(b2), vc2 = f32x4.splat(c2);
  const veps = f32x4.splat(eps), vwd = f32x4.splat(wd), vdecay = f32x4.splat(decay), vss = f32x4.splat(ss), vbc2 = f32x4.splat(bc2);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    const wi = f32x4.mul(v128.load(w + o), vdecay);
    const d = f32x4.add(v128.load(g + o), f32x4.mul(vwd, wi));
    const mi = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(vc1, d));
    let vi = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(f32x4.mul(vc2, d), d));
    v128.store(m + o, mi);
    v128.store(v + o, vi);
    if (ams) {
      // The largest so far; a NaN v does not replace it (the reference's v > max).
      const old = v128.load(vmax + o);
      vi = v128.bitselect(vi, old, f32x4.gt(vi, old));
      v128.store(vmax + o, vi);
    }
    const den = f32x4.add(f32x4.div(f32x4.sqrt(vi), vbc2), veps);
    v128.store(w + o, f32x4.sub(wi, f32x4.div(f32x4.mul(vss, mi), den)));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    const wi = load<f32>(w + o) * decay;
    const d = load<f32>(g + o) + wd * wi;
    const mi = b1 * load<f32>(m + o) + c1 * d;
    let vi = b2 * load<f32>(v + o) + c2 * d * d;
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    if (ams) {
      const old = load<f32>(vmax + o);
      if (!(vi > old)) vi = old;
      store<f32>(vmax + o, vi);
    }
    store<f32>(w + o, wi - (ss * mi) / (sqrt<f32>(vi) / bc2 + eps));
  }
}
