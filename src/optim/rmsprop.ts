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

/** RMSprop's hyperparameters, as PyTorch's. */
export interface RMSpropHyper {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
}

/** RMSprop's hyperparameters, each optional (PyTorch's defaults). */
export type RMSpropOptions = Partial<RMSpropHyper>;

interface RMSpropState extends ParamState {
  squareAvg: Float32Array | null;
  /** Only with momentum > 0. */
  momentumBuffer: Float32Array | null;
  /** Only when centered. */
  gradAvg: Float32Array | null;
}

/**
 * RMSprop, as torch.optim.RMSprop: divides each step by a running RMS of the gradient.
 *   d = g + weightDecay * w;  s = alpha * s + (1 - alpha) * d^2
 *   centered: a = alpha * a + (1 - alpha) * d, and s - a^2 replaces s below
 *   avg = sqrt(s) + eps
 *   momentum: b = momentum * b + d / avg, w -= lr * b;  else w -= lr * d / avg
 */
export class RMSprop extends Optimizer<RMSpropHyper, RMSpropState> {
  constructor(params: Params<RMSpropHyper>, options: RMSpropOptions = {}) {
    super(params, options, {
      name: 'RMSprop',
      defaults: { lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false },
      validate: validateRMSprop,
      newState: () => ({ step: 0, squareAvg: null, momentumBuffer: null, gradAvg: null }),
    });
  }

  protected override update(w: Float32Array, g: Float32Array, st: RMSpropState, group: ParamGroup<RMSpropHyper>): void {
    const { lr, alpha, eps, weightDecay: wd, momentum, centered } = group;
    const n = w.length;
    const sq = (st.squareAvg ??= new Float32Array(n));
    const avgG = centered ? (st.gradAvg ??= new Float32Array(n)) : null;
    const buf = momentum > 0 ? (st.momentumBuffer ??= new Float32Array(n)) : null;
    const beta = 1 - alpha;
    st.step++;
    for (let i = 0; i < n; i++) {
      const d = g[i]! + wd * w[i]!;
      sq[i] = alpha * sq[i]! + beta * d * d;
      let v = sq[i]!;
      if (avgG !== null) {
        avgG[i] = alpha * avgG[i]! + beta * d;
        // s - a^2 >= 0 in exact arithmetic; rounding must not turn it into sqrt(negative) = NaN.
        v = Math.max(0, v - avgG[i]! * avgG[i]!);
      }
      const avg = Math.sqrt(v) + eps;
      if (buf !== null) {
        buf[i] = momentum * buf[i]! + d / avg;
        w[i] = w[i]! - lr * buf[i]!;
      } else {
        w[i] = w[i]! - (lr * d) / avg;
      }
    }
  }
}

function validateRMSprop(h: RMSpropHyper): void {
  checkNonNegative('RMSprop', 'lr', h.lr);
  checkRange('RMSprop', 'alpha', h.alpha, 0, 1, true);
  checkPositive('RMSprop', 'eps', h.eps);
  checkNonNegative('RMSprop', 'weightDecay', h.weightDecay);
  checkRange('RMSprop', 'momentum', h.momentum, 0, 1);
  checkBoolean('RMSprop', 'centered', h.centered);
}
