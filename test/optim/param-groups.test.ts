import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { fixtures, initialParams, OPTIMIZERS, setGrads } from './torch-optim.js';

const names = Object.keys(OPTIMIZERS) as (keyof typeof OPTIMIZERS)[];

describe('parameters that must not move', () => {
  it.each(names)('%s leaves frozen parameters and those without a gradient alone', (name) => {
    const [w, b] = initialParams();
    const frozen = new ck.nn.Parameter(ck.tensor([1, 2, 3]), false);
    const noGrad = new ck.nn.Parameter(ck.tensor([4, 5]));
    const opt = new OPTIMIZERS[name]([w!, b!, frozen, noGrad], { lr: 0.1 });
    const w0 = w!.dataSync();
    for (let k = 0; k < 3; k++) {
      setGrads([w!, b!], 0);
      // A frozen parameter may still be handed a gradient (e.g. by hand); it is ignored.
      frozen.grad = ck.tensor([1, 1, 1]);
      opt.step();
    }
    expect(frozen.dataSync()).toEqual(new Float32Array([1, 2, 3]));
    expect(noGrad.dataSync()).toEqual(new Float32Array([4, 5]));
    expect(w!.dataSync()).not.toEqual(w0);
    // Unfreezing later works: the parameter starts its own state at its first update.
    frozen.requiresGrad = true;
    opt.step();
    expect(frozen.dataSync()).not.toEqual(new Float32Array([1, 2, 3]));
  });
});

describe('zeroGrad', () => {
  it('sets every gradient to null and frees it', () => {
    const [w, b] = initialParams();
    const opt = new ck.optim.SGD([w!, b!], { lr: 0.1 });
    ck.F.sum(ck.F.mul(w!, 2)).backward();
    const g = w!.grad!;
    opt.zeroGrad();
    expect(w!.grad).toBeNull();
    expect(b!.grad).toBeNull();
    expect(g.isDisposed).toBe(true);
    // The next backward starts from zero, not from the old gradient.
    ck.F.sum(ck.F.mul(w!, 3)).backward();
    expectClose(w!.grad!, new Array(12).fill(3));
  });

  it('never frees a parameter handed in as a gradient', () => {
    const [w] = initialParams();
    const opt = new ck.optim.SGD([w!], { lr: 0.1 });
    w!.grad = w!.view(-1).view(3, 4);
    opt.zeroGrad();
    expect(w!.isDisposed).toBe(false);
  });
});

describe('learning rate and groups', () => {
  it('lr is read and set for all groups; a group lr can be set alone', () => {
    const [w, b] = initialParams();
    const opt = new ck.optim.SGD([{ params: [w!] }, { params: [b!], lr: 0.5 }], { lr: 0.1 });
    expect(opt.lr).toBe(0.1);
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.5]);
    opt.lr = 0.01;
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.01, 0.01]);
    opt.paramGroups[1]!.lr = 0;
    setGrads([w!, b!], 0);
    const b0 = b!.dataSync();
    opt.step();
    expect(b!.dataSync()).toEqual(b0);
    expectClose(w!, fixtures.initial[0]!.map((x, i) => x - 0.01 * fixtures.grads[0]![0]![i]!), { rtol: 1e-6 });
    expectConvkitError(() => (opt.lr = -1), 'SGD', 'lr', '-1', '>= 0');
  });

  it('a bad value written into a group is caught at the next step', () => {
    const [w] = initialParams();
    const opt = new ck.optim.Adam([w!]);
    opt.paramGroups[0]!.betas = [0.9, 1.5];
    setGrads([w!], 0);
    expectConvkitError(() => opt.step(), 'Adam', 'betas[1]', '1.5', '[0, 1)');
  });

  it('groups take the optimizer options, then the defaults; addParamGroup too', () => {
    const [w, b] = initialParams();
    const extra = new ck.nn.Parameter(ck.zeros([2]));
    const opt = new ck.optim.Adam([{ params: [w!], betas: [0.5, 0.6] }, { params: [b!] }], { lr: 0.01, weightDecay: 0.1 });
    opt.addParamGroup({ params: [extra], eps: 1e-3 });
    expect(opt.paramGroups.map(({ params: _, ...h }) => h)).toEqual([
      { lr: 0.01, betas: [0.5, 0.6], eps: 1e-8, weightDecay: 0.1, amsgrad: false },
      { lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1, amsgrad: false },
      { lr: 0.01, betas: [0.9, 0.999], eps: 1e-3, weightDecay: 0.1, amsgrad: false },
    ]);
    expect(new ck.optim.AdamW([w!]).paramGroups[0]!.weightDecay).toBe(0.01);
    expectConvkitError(() => opt.addParamGroup({ params: [w!] }), 'Adam', 'more than once');
  });

  it('a generator of parameters is read once, like model.parameters()', () => {
    const [w, b] = initialParams();
    function* gen() {
      yield w!;
      yield b!;
    }
    const opt = new ck.optim.RMSprop(gen());
    expect(opt.paramGroups[0]!.params).toEqual([w, b]);
  });
});
