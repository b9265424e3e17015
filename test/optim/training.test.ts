import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';

const { F } = ck;

/**
 * Each optimizer, as used in a training loop, drives a least-squares loss down:
 * loss = mean((X w + b - y)^2) with y made from known weights, gradients from autograd.
 */
function problem() {
  const X = ck.randn([16, 3], { seed: 11 });
  const wTrue = ck.tensor([1.5, -2, 0.5]);
  const y = F.add(F.sum(F.mul(X, wTrue), 1), 0.3);
  const w = new ck.nn.Parameter(ck.zeros([3]));
  const b = new ck.nn.Parameter(ck.zeros([1]));
  const loss = () => F.mean(F.pow(F.sub(F.add(F.sum(F.mul(X, w), 1), b), y), 2));
  return { w, b, loss };
}

const CASES: [string, (ps: ck.Tensor[]) => ck.optim.Optimizer][] = [
  ['SGD', (ps) => new ck.optim.SGD(ps, { lr: 0.1 })],
  ['SGD momentum', (ps) => new ck.optim.SGD(ps, { lr: 0.05, momentum: 0.9 })],
  ['SGD nesterov + weightDecay', (ps) => new ck.optim.SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-4 })],
  ['Adagrad', (ps) => new ck.optim.Adagrad(ps, { lr: 0.5 })],
  ['RMSprop', (ps) => new ck.optim.RMSprop(ps, { lr: 0.01 })],
  ['RMSprop centered momentum', (ps) => new ck.optim.RMSprop(ps, { lr: 0.005, centered: true, momentum: 0.5 })],
  ['Adam', (ps) => new ck.optim.Adam(ps, { lr: 0.05 })],
  ['Adam amsgrad', (ps) => new ck.optim.Adam(ps, { lr: 0.05, amsgrad: true })],
  ['AdamW', (ps) => new ck.optim.AdamW(ps, { lr: 0.05 })],
];

describe('optimizers reduce a least-squares loss', () => {
  it.each(CASES)('%s', (_, make) => {
    const { w, b, loss } = problem();
    const opt = make([w, b]);
    const initial = loss().item();
    let before = 0;
    for (let i = 0; i < 200; i++) {
      ck.tidy(() => {
        opt.zeroGrad();
        loss().backward();
        opt.step();
      });
      // The optimizer allocates no tensors: memory is flat from one step to the next.
      if (i === 10) before = ck.memory().numTensors;
    }
    expect(ck.memory().numTensors).toBeLessThanOrEqual(before);
    const final = loss().item();
    expect(final).toBeLessThan(initial * 0.01);
  });

  it('a model`s parameters() can be passed directly', () => {
    class Affine extends ck.nn.Module {
      w = new ck.nn.Parameter(ck.zeros([3]));
      b = new ck.nn.Parameter(ck.zeros([1]));
      forward(x: ck.Tensor): ck.Tensor {
        return F.add(F.sum(F.mul(x, this.w), 1), this.b);
      }
    }
    const model = new Affine();
    const X = ck.randn([8, 3], { seed: 3 });
    const y = F.sum(F.mul(X, ck.tensor([1, 2, 3])), 1);
    const opt = new ck.optim.Adam(model.parameters(), { lr: 0.1 });
    const lossOf = () => F.mean(F.pow(F.sub(model.forward(X), y), 2));
    const initial = lossOf().item();
    for (let i = 0; i < 100; i++) {
      opt.zeroGrad();
      lossOf().backward();
      opt.step();
    }
    expect(lossOf().item()).toBeLessThan(initial * 0.01);
  });
});
