import * as ck from '../../src/index.js';
import { Generator } from '../../src/index.js';

export interface GradcheckOptions {
  /** Finite-difference step. */
  eps?: number;
  /** Largest accepted |analytic - numeric| / max(|analytic|, |numeric|, floor). */
  tol?: number;
  /** Denominator floor, so that tiny gradients are compared absolutely. */
  floor?: number;
  /** Check at most this many elements per input (chosen at random), to keep tests fast. */
  maxPerInput?: number;
  seed?: number;
}

/**
 * Compares autograd's gradients with central finite differences of a random projection of
 * the output: L = sum(f(inputs) * R). Inputs are float32 tensors with requiresGrad set.
 * Throws with the worst element when the relative error exceeds `tol`.
 */
export function gradcheck(f: (...xs: ck.Tensor[]) => ck.Tensor, inputs: ck.Tensor[], opts: GradcheckOptions = {}): number {
  const eps = opts.eps ?? 1e-2;
  const tol = opts.tol ?? 1e-2;
  const floor = opts.floor ?? 1e-2;
  const gen = new Generator(opts.seed ?? 7);
  for (const x of inputs) x.grad = null;
  const out = f(...inputs);
  const proj = ck.randn(out.shape, { generator: gen });
  const projected = (y: ck.Tensor) => {
    const yv = y.dataSync();
    const pv = proj.dataSync();
    let s = 0;
    for (let i = 0; i < yv.length; i++) s += yv[i]! * pv[i]!;
    return s;
  };
  out.backward(proj);
  let worst = 0;
  inputs.forEach((x, k) => {
    if (!x.requiresGrad) return;
    const analytic = x.grad ? x.grad.dataSync() : new Float32Array(x.size);
    const data = x.storage.data as Float32Array;
    const idx = [...Array(x.size).keys()];
    if (opts.maxPerInput && idx.length > opts.maxPerInput) {
      gen.shuffle(idx);
      idx.length = opts.maxPerInput;
    }
    for (const i of idx) {
      const j = x.offset + i;
      const orig = data[j]!;
      data[j] = orig + eps;
      const plus = ck.noGrad(() => projected(f(...inputs)));
      data[j] = orig - eps;
      const minus = ck.noGrad(() => projected(f(...inputs)));
      data[j] = orig;
      const numeric = (plus - minus) / (2 * eps);
      const err = Math.abs(analytic[i]! - numeric) / Math.max(Math.abs(analytic[i]!), Math.abs(numeric), floor);
      if (err > worst) worst = err;
      if (!(err <= tol)) {
        throw new Error(`gradcheck: input ${k} element ${i}: analytic ${analytic[i]}, numeric ${numeric} (relative error ${err.toExponential(2)} > ${tol})`);
      }
    }
  });
  return worst;
}
