import {
  checkNonNegative,
  checkPositive,
  Optimizer,
  type ParamGroup,
  type Params,
  type ParamState,
} from './optimizer.js';

/** Adagrad's hyperparameters, as PyTorch's. */
export interface AdagradHyper {
  lr: number;
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
}

/** Adagrad's hyperparameters, each optional (PyTorch's defaults). */
export type AdagradOptions = Partial<AdagradHyper>;

interface AdagradState extends ParamState {
  /** Running sum of squared gradients, starting at initialAccumulatorValue. */
  sum: Float32Array | null;
}

/**
 * Adagrad, as torch.optim.Adagrad: each weight's step shrinks with the sum of its squared
 * gradients, so rarely-updated weights keep larger steps.
 *   d = g + weightDecay * w;  sum += d^2
 *   w -= lr / (1 + (t - 1) * lrDecay) * d / (sqrt(sum) + eps)
 */
export class Adagrad extends Optimizer<AdagradHyper, AdagradState> {
  constructor(params: Params<AdagradHyper>, options: AdagradOptions = {}) {
    super(params, options, {
      name: 'Adagrad',
      defaults: { lr: 0.01, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10 },
      validate: validateAdagrad,
      newState: () => ({ step: 0, sum: null }),
    });
  }

  protected override update(w: Float32Array, g: Float32Array, st: AdagradState, group: ParamGroup<AdagradHyper>): void {
    const { lr, lrDecay, weightDecay: wd, initialAccumulatorValue, eps } = group;
    const n = w.length;
    const sum = (st.sum ??= new Float32Array(n).fill(initialAccumulatorValue));
    st.step++;
    const clr = lr / (1 + (st.step - 1) * lrDecay);
    for (let i = 0; i < n; i++) {
      const d = g[i]! + wd * w[i]!;
      sum[i] = sum[i]! + d * d;
      w[i] = w[i]! - (clr * d) / (Math.sqrt(sum[i]!) + eps);
    }
  }
}

function validateAdagrad(h: AdagradHyper): void {
  checkNonNegative('Adagrad', 'lr', h.lr);
  checkNonNegative('Adagrad', 'lrDecay', h.lrDecay);
  checkNonNegative('Adagrad', 'weightDecay', h.weightDecay);
  checkNonNegative('Adagrad', 'initialAccumulatorValue', h.initialAccumulatorValue);
  checkPositive('Adagrad', 'eps', h.eps);
}
