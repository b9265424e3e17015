import { ConvkitError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  checkBoolean,
  checkNonNegative,
  checkRange,
  Optimizer,
  type ParamGroup,
  type ParamGroupInput,
  type ParamState,
  stateBuffer,
  type GroupEntry,
} from './optimizer.js';
import { kernel } from '../backend/registry.js';
import type { OptimizerSlot } from '../backend/kernels.js';

/** SGD's hyperparameters, as PyTorch's. */
export interface SGDHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

/** SGD's hyperparameters, each optional (PyTorch's defaults). */
export type SGDOptions = Partial<SGDHyper>;

interface SGDState extends ParamState {
  /** Created from the first update's gradient (as PyTorch), so null until then. */
  momentumBuffer: Float32Array | null;
}

/**
 * Stochastic gradient descent with optional momentum, as torch.optim.SGD:
 *   d = g + weightDecay * w
 *   b = d on the first step, else momentum * b + (1 - dampening) * d
 *   w -= lr * (nesterov ? d + momentum * b : b)       (w -= lr * d without momentum)
 */
export class SGD extends Optimizer<SGDHyper, SGDState> {
  constructor(params: Iterable<Tensor>, options: SGDOptions & { lr: number });
  constructor(params: readonly ParamGroupInput<SGDHyper>[], options?: SGDOptions);
  constructor(params: Iterable<Tensor> | readonly ParamGroupInput<SGDHyper>[], options: SGDOptions = {}) {
    super(params, options, {
      name: 'SGD',
      defaults: { lr: undefined, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
      validate: validateSGD,
      newState: () => ({ step: 0, momentumBuffer: null }),
    });
  }

  protected override updateGroup(entries: readonly GroupEntry<SGDState>[], group: ParamGroup<SGDHyper>): void {
    const slots: OptimizerSlot[] = entries.map(({ w, g, state: st }) => {
      st.step++;
      let m: Float32Array | null = null;
      let first = false;
      if (group.momentum !== 0) {
        first = st.momentumBuffer === null;
        m = st.momentumBuffer ??= stateBuffer(w.length);
      }
      return { w, g, m, v: null, vMax: null, first, step: st.step };
    });
    kernel('SGDStep')(slots, group);
  }

  protected override update(w: Float32Array, g: Float32Array, st: SGDState, group: ParamGroup<SGDHyper>): void {
    this.updateGroup([{ w, g, state: st }], group);
  }
}

function validateSGD(h: SGDHyper): void {
  checkNonNegative('SGD', 'lr', h.lr);
  checkRange('SGD', 'momentum', h.momentum, 0, 1);
  checkRange('SGD', 'dampening', h.dampening, 0, 1, true);
  checkNonNegative('SGD', 'weightDecay', h.weightDecay);
  checkBoolean('SGD', 'nesterov', h.nesterov);
  if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) {
    throw new ConvkitError(
      `SGD: nesterov needs momentum > 0 and dampening 0 (as PyTorch), got momentum ${h.momentum} and dampening ${h.dampening}`,
    );
  }
}
