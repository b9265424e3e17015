import { ConvkitError } from '../tensor/errors.js';
import {
  checkBoolean,
  checkNonNegative,
  checkPositive,
  checkRange,
  Optimizer,
  type ParamGroup,
  type Params,
  type ParamState,
} from './optimizer.js';

export interface AdamHyper {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

export type AdamOptions = Partial<AdamHyper>;

interface AdamState extends ParamState {
  expAvg: Float32Array | null;
  expAvgSq: Float32Array | null;
  /** Only with amsgrad: the largest expAvgSq seen. */
  maxExpAvgSq: Float32Array | null;
}

const newAdamState = (): AdamState => ({ step: 0, expAvg: null, expAvgSq: null, maxExpAvgSq: null });

/**
 * Adam, as torch.optim.Adam (t counts this parameter's updates):
 *   d = g + weightDecay * w   (L2 penalty folded into the gradient)
 *   m = b1 * m + (1 - b1) * d;  v = b2 * v + (1 - b2) * d^2   (amsgrad: use max of all v)
 *   w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 */
export class Adam extends Optimizer<AdamHyper, AdamState> {
  constructor(params: Params<AdamHyper>, options: AdamOptions = {}) {
    super(params, options, {
      name: 'Adam',
      defaults: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false },
      validate: (h) => validateAdam('Adam', h),
      newState: newAdamState,
    });
  }

  protected override update(w: Float32Array, g: Float32Array, st: AdamState, group: ParamGroup<AdamHyper>): void {
    adamUpdate(w, g, st, group, false);
  }
}

/**
 * AdamW, as torch.optim.AdamW: Adam with weight decay decoupled from the gradient
 * (Loshchilov & Hutter): w *= 1 - lr * weightDecay before the Adam step, so the decay does
 * not pass through the adaptive scaling. Default weightDecay 0.01.
 */
export class AdamW extends Optimizer<AdamHyper, AdamState> {
  constructor(params: Params<AdamHyper>, options: AdamOptions = {}) {
    super(params, options, {
      name: 'AdamW',
      defaults: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, amsgrad: false },
      validate: (h) => validateAdam('AdamW', h),
      newState: newAdamState,
    });
  }

  protected override update(w: Float32Array, g: Float32Array, st: AdamState, group: ParamGroup<AdamHyper>): void {
    adamUpdate(w, g, st, group, true);
  }
}

function adamUpdate(w: Float32Array, g: Float32Array, st: AdamState, group: ParamGroup<AdamHyper>, decoupled: boolean): void {
  const { lr, eps, weightDecay, amsgrad } = group;
  const [b1, b2] = group.betas;
  const n = w.length;
  const m = (st.expAvg ??= new Float32Array(n));
  const v = (st.expAvgSq ??= new Float32Array(n));
  const vMax = amsgrad ? (st.maxExpAvgSq ??= new Float32Array(n)) : null;
  const t = ++st.step;
  const stepSize = lr / (1 - b1 ** t);
  const bc2Sqrt = Math.sqrt(1 - b2 ** t);
  const decay = decoupled ? 1 - lr * weightDecay : 1;
  const wd = decoupled ? 0 : weightDecay;
  for (let i = 0; i < n; i++) {
    // w[i] * 1 is exact, so Adam pays nothing for sharing this line with AdamW.
    const wi = (w[i] = w[i]! * decay);
    const d = g[i]! + wd * wi;
    m[i] = b1 * m[i]! + (1 - b1) * d;
    v[i] = b2 * v[i]! + (1 - b2) * d * d;
    let vi = v[i]!;
    if (vMax !== null) {
      if (vi > vMax[i]!) vMax[i] = vi;
      vi = vMax[i]!;
    }
    w[i] = w[i]! - (stepSize * m[i]!) / (Math.sqrt(vi) / bc2Sqrt + eps);
  }
}

function validateAdam(name: string, h: AdamHyper): void {
  checkNonNegative(name, 'lr', h.lr);
  if (!Array.isArray(h.betas) || h.betas.length !== 2) {
    throw new ConvkitError(`${name}: invalid betas ${String(h.betas)}; betas must be a pair [beta1, beta2], e.g. [0.9, 0.999]`);
  }
  checkRange(name, 'betas[0]', h.betas[0], 0, 1);
  checkRange(name, 'betas[1]', h.betas[1], 0, 1);
  checkPositive(name, 'eps', h.eps);
  checkNonNegative(name, 'weightDecay', h.weightDecay);
  checkBoolean(name, 'amsgrad', h.amsgrad);
}
