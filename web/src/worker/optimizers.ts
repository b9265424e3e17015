import * as ck from 'convkit';
import type { Hyper, OptimizerName } from '../shared/run-config.js';

/**
 * The page's optimizer menu over ck.optim. "Momentum" is SGD's and RMSprop's momentum and
 * Adam's beta1; Adagrad has none. Changes while training go into the live param group (the
 * optimizers read it at every step); a different optimizer starts fresh state.
 */

export interface LiveOptimizer {
  name: OptimizerName;
  optimizer: ck.optim.Optimizer;
}

export function makeOptimizer(params: ck.nn.Parameter[], h: Hyper): LiveOptimizer {
  const common = { lr: h.lr, weightDecay: h.weightDecay };
  switch (h.optimizer) {
    case 'sgd':
      return { name: h.optimizer, optimizer: new ck.optim.SGD(params, { ...common, momentum: h.momentum }) };
    case 'adam':
      return { name: h.optimizer, optimizer: new ck.optim.Adam(params, { ...common, betas: [h.momentum, 0.999] }) };
    case 'rmsprop':
      return { name: h.optimizer, optimizer: new ck.optim.RMSprop(params, { ...common, momentum: h.momentum }) };
    case 'adagrad':
      return { name: h.optimizer, optimizer: new ck.optim.Adagrad(params, common) };
  }
}

/** Applies new hyperparameters; returns a new optimizer only when its kind changed. */
export function updateOptimizer(live: LiveOptimizer, params: ck.nn.Parameter[], h: Hyper): LiveOptimizer {
  if (live.name !== h.optimizer) return makeOptimizer(params, h);
  for (const group of live.optimizer.paramGroups as unknown as Record<string, unknown>[]) {
    group['lr'] = h.lr;
    group['weightDecay'] = h.weightDecay;
    if (h.optimizer === 'sgd' || h.optimizer === 'rmsprop') group['momentum'] = h.momentum;
    if (h.optimizer === 'adam') group['betas'] = [h.momentum, 0.999];
  }
  return live;
}
