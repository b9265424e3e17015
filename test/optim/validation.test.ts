import { describe, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectConvkitError } from '../helpers/assert.js';
import { OPTIMIZERS, type OptimizerName } from './torch-optim.js';

const p = () => new ck.nn.Parameter(ck.zeros([2]));

/** [optimizer, options, what the message must name]. */
const BAD: [OptimizerName, Record<string, unknown>, (string | RegExp)[]][] = [
  ['SGD', { lr: -0.1 }, ['lr', '-0.1', '>= 0']],
  ['SGD', { lr: NaN }, ['lr', 'NaN']],
  ['SGD', {}, ['lr is required']],
  ['SGD', { lr: 0.1, momentum: 1 }, ['momentum', '1', '[0, 1)']],
  ['SGD', { lr: 0.1, momentum: -0.5 }, ['momentum', '-0.5', '[0, 1)']],
  ['SGD', { lr: 0.1, dampening: 2 }, ['dampening', '2', '[0, 1]']],
  ['SGD', { lr: 0.1, weightDecay: -1e-4 }, ['weightDecay', '-0.0001', '>= 0']],
  ['SGD', { lr: 0.1, nesterov: true }, ['nesterov', 'momentum > 0', 'momentum 0']],
  ['SGD', { lr: 0.1, nesterov: true, momentum: 0.9, dampening: 0.1 }, ['nesterov', 'dampening 0.1']],
  ['SGD', { lr: 0.1, nesterov: 1 }, ['nesterov', 'true or false']],
  ['SGD', { lr: 0.1, weight_decay: 0.1 }, ["unknown option 'weight_decay'", 'weightDecay']],
  ['Adagrad', { lr: -1 }, ['lr', '-1']],
  ['Adagrad', { lrDecay: -0.1 }, ['lrDecay', '-0.1', '>= 0']],
  ['Adagrad', { initialAccumulatorValue: -1 }, ['initialAccumulatorValue', '-1']],
  ['Adagrad', { eps: 0 }, ['eps', '0', '> 0']],
  ['Adagrad', { weightDecay: Infinity }, ['weightDecay', 'Infinity', 'finite']],
  ['RMSprop', { alpha: 1.5 }, ['alpha', '1.5', '[0, 1]']],
  ['RMSprop', { eps: -1e-8 }, ['eps', '-1e-8', '> 0']],
  ['RMSprop', { momentum: 1.2 }, ['momentum', '1.2', '[0, 1)']],
  ['RMSprop', { centered: 'yes' }, ['centered', 'yes', 'true or false']],
  ['RMSprop', { betas: [0.9, 0.99] }, ["unknown option 'betas'", 'alpha']],
  ['Adam', { lr: -1e-3 }, ['lr', '-0.001']],
  ['Adam', { betas: [1, 0.999] }, ['betas[0]', '1', '[0, 1)']],
  ['Adam', { betas: [0.9, -0.1] }, ['betas[1]', '-0.1', '[0, 1)']],
  ['Adam', { betas: [0.9] }, ['betas', 'pair']],
  ['Adam', { eps: 0 }, ['eps', '0', '> 0']],
  ['Adam', { weightDecay: -0.01 }, ['weightDecay', '-0.01']],
  ['Adam', { amsgrad: 0 }, ['amsgrad', 'true or false']],
  ['AdamW', { weightDecay: -0.01 }, ['AdamW', 'weightDecay', '-0.01']],
  ['AdamW', { betas: [0.9, 1] }, ['AdamW', 'betas[1]', '1']],
];

describe('bad hyperparameters are errors naming the optimizer, the value and what is allowed', () => {
  it.each(BAD.map(([name, opts, patterns]) => [`${name} ${JSON.stringify(opts)}`, name, opts, patterns] as const))(
    '%s',
    (_, name, opts, patterns) => {
      expectConvkitError(() => new OPTIMIZERS[name]([p()], opts), name, ...patterns);
      // The same value in a param group is caught as well (every case carries SGD's lr itself).
      expectConvkitError(() => new OPTIMIZERS[name]([{ params: [p()], ...opts }], {}), name, ...patterns);
    },
  );
});

describe('bad parameter lists', () => {
  it('empty lists, empty groups, duplicates, non-leaves and non-tensors', () => {
    expectConvkitError(() => new ck.optim.Adam([]), 'Adam', 'empty parameter list');
    expectConvkitError(() => new ck.optim.Adam([{ params: [] }]), 'Adam', 'param group 0 has no parameters');
    const w = p();
    expectConvkitError(() => new ck.optim.SGD([w, w], { lr: 0.1 }), 'SGD', 'more than once');
    expectConvkitError(() => new ck.optim.SGD([{ params: [w] }, { params: [w] }], { lr: 0.1 }), 'param group 1', 'more than once');
    const nonLeaf = ck.F.mul(w, 2);
    expectConvkitError(() => new ck.optim.Adam([nonLeaf]), 'Adam', 'computed by mul', 'leaf');
    expectConvkitError(() => new ck.optim.Adam(w as unknown as ck.Tensor[]), 'Adam', 'single Tensor', 'list');
    expectConvkitError(() => new ck.optim.Adam([w, { params: [p()] }] as unknown as ck.Tensor[]), 'Adam', 'do not mix');
    expectConvkitError(() => new ck.optim.Adam([ck.zeros([2, 3]).transpose(0, 1)]), 'Adam', 'not contiguous');
    expectConvkitError(() => new ck.optim.Adam([ck.zeros([2], { dtype: 'int32' })]), 'Adam', 'int32', 'float32');
  });

  it('a gradient of the wrong shape is an error at step', () => {
    const w = p();
    const opt = new ck.optim.SGD([w], { lr: 0.1 });
    w.grad = ck.zeros([3]);
    expectConvkitError(() => opt.step(), 'SGD.step', '[2]', '[3]');
  });
});
