/**
 * Optimizer updates, in place: SGD as torch.optim.SGD, Adam / AdamW as torch.optim.Adam / AdamW.
 * Every operation is rounded to float32 (Math.fround) in a fixed order, as PyTorch's float32
 * tensors compute, so that the wasm kernel (assembly/optim.ts, float32 SIMD without fused
 * multiply-adds) gives the same bits. The hyperparameters enter as the float32 constants that
 * `sgdConstants` / `adamConstants` make, shared by both backends.
 */
import type { AdamStepHyper, OptimizerSlot, SGDStepHyper } from '../kernels.js';

const f = Math.fround;

export interface SGDConstants {
  lr: number;
  momentum: number;
  /** 1 - dampening. */
  keep: number;
  wd: number;
}

export function sgdConstants(h: SGDStepHyper): SGDConstants {
  return { lr: f(h.lr), momentum: f(h.momentum), keep: f(1 - h.dampening), wd: f(h.weightDecay) };
}

/**
 *   d = g + wd * w
 *   b = d on the buffer's first update, else momentum * b + (1 - dampening) * d
 *   w -= lr * (nesterov ? d + momentum * b : b)        (w -= lr * d without a buffer)
 */
export function sgdStep(slots: readonly OptimizerSlot[], h: SGDStepHyper): void {
  const { lr, momentum, keep, wd } = sgdConstants(h);
  for (const { w, g, m, first } of slots) {
    const n = w.length;
    if (m === null) {
      for (let i = 0; i < n; i++) w[i] = f(w[i]! - f(lr * f(g[i]! + f(wd * w[i]!))));
      continue;
    }
    for (let i = 0; i < n; i++) {
      const d = f(g[i]! + f(wd * w[i]!));
      const b = first ? d : f(f(momentum * m[i]!) + f(keep * d));
      m[i] = b;
      w[i] = f(w[i]! - f(lr * (h.nesterov ? f(d + f(momentum * b)) : b)));
    }
  }
}

export interface AdamConstants {
  beta1: number;
  /** 1 - beta1. */
  c1: number;
  beta2: number;
  c2: number;
  eps: number;
  /** The L2 penalty folded into the gradient (Adam); 0 for AdamW. */
  wd: number;
  /** AdamW's 1 - lr * weightDecay; 1 for Adam (w * 1 is exact). */
  decay: number;
}

export function adamConstants(h: AdamStepHyper): AdamConstants {
  return {
    beta1: f(h.beta1),
    c1: f(1 - h.beta1),
    beta2: f(h.beta2),
    c2: f(1 - h.beta2),
    eps: f(h.eps),
    wd: h.decoupled ? 0 : f(h.weightDecay),
    decay: h.decoupled ? f(1 - h.lr * h.weightDecay) : 1,
  };
}

/** The step's float32 bias corrections: [lr / (1 - beta1^t), sqrt(1 - beta2^t)]. */
export function adamBiasCorrections(h: AdamStepHyper, t: number): [number, number] {
  return [f(h.lr / (1 - h.beta1 ** t)), f(Math.sqrt(1 - h.beta2 ** t))];
}

/**
 *   w *= decay;  d = g + wd * w
 *   m = beta1 * m + (1 - beta1) * d;  v = beta2 * v + (1 - beta2) * d * d   (amsgrad: vMax = max(vMax, v), used for v)
 *   w -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 */
export function adamStep(slots: readonly OptimizerSlot[], h: AdamStepHyper): void {
  const { beta1, c1, beta2, c2, eps, wd, decay } = adamConstants(h);
  for (const { w, g, m, v, vMax, step } of slots) {
    if (m === null || v === null || (h.amsgrad && vMax === null)) throw new Error('AdamStep kernel: a slot lacks its state buffers');
    const [ss, bc2] = adamBiasCorrections(h, step);
    const n = w.length;
    for (let i = 0; i < n; i++) {
      const wi = f(w[i]! * decay);
      const d = f(g[i]! + f(wd * wi));
      const mi = f(f(beta1 * m[i]!) + f(c1 * d));
      let vi = f(f(beta2 * v[i]!) + f(f(c2 * d) * d));
      m[i] = mi;
      v[i] = vi;
      if (h.amsgrad) {
        // A NaN v does not replace the largest so far (v > max is false).
        if (!(vi > vMax![i]!)) vi = vMax![i]!;
        vMax![i] = vi;
      }
      w[i] = f(wi - f(f(ss * mi) / f(f(f(Math.sqrt(vi)) / bc2) + eps)));
    }
  }
}
