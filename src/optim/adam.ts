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
  stateBuffer,
  type GroupEntry,
} from './optimizer.js';
import { kernel } from '../backend/registry.js';
import type { OptimizerSlot } from '../backend/kernels.js';

/** Adam's hyperparameters, as PyTorch's. */
export interface AdamHyper {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

/** Adam's hyperparameters, each optional (PyTorch's defaults). */
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

  protected override updateGroup(entries: readonly GroupEntry<AdamState>[], group: ParamGroup<AdamHyper>): void {
    adamGroup(entries, group, false);
  }

  protected override update(w: Float32Array, g: Float32Array, st: AdamState, group: ParamGroup<AdamHyper>): void {
    adamGroup([{ w, g, state: st }], group, false);
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

  protected override updateGroup(entries: readonly GroupEntry<AdamState>[], group: ParamGroup<AdamHyper>): void {
    adamGroup(entries, group, true);
  }

  protected override update(w: Float32Array, g: Float32Array, st: AdamState, group: ParamGroup<AdamHyper>): void {
    adamGroup([{ w, g, state: st }], group, true);
  }
}

/** Every parameter of a group in one AdamStep kernel (float32 arithmetic, as PyTorch). */
function adamGroup(entries: readonly GroupEntry<AdamState>[], group: ParamGroup<AdamHyper>, decoupled: boolean): void {
  const slots: OptimizerSlot[] = entries.map(({ w, g, state: st }) => {
    const n = w.length;
    const m = (st.expAvg ??= stateBuffer(n));
    const v = (st.expAvgSq ??= stateBuffer(n));
    const vMax = group.amsgrad ? (st.maxExpAvgSq ??= stateBuffer(n)) : null;
    return { w, g, m, v, vMax, first: false, step: ++st.step };
  });
  const { lr, eps, weightDecay, amsgrad } = group;
  kernel('AdamStep')(slots, { lr, beta1: group.betas[0], beta2: group.betas[1], eps, weightDecay, decoupled, amsgrad });
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
