import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';

const { nn } = ck;

describeEachBackend('nn.Dropout', () => {
  it('drops while training and is the identity after eval()', () => {
    const layer = new nn.Dropout(0.5);
    const x = ck.ones([10_000]);
    ck.manualSeed(3);
    const y = layer.forward(x).dataSync();
    const zeros = y.filter((v) => v === 0).length;
    expect(Math.abs(zeros / 10_000 - 0.5)).toBeLessThan(0.03);
    expect(y.every((v) => v === 0 || v === 2)).toBe(true);
    ck.manualSeed(3);
    expect(layer.forward(x).dataSync()).toEqual(y);
    layer.eval();
    expect(layer.forward(x)).toBe(x);
    layer.train();
    expect(layer.forward(x)).not.toBe(x);
  });

  it('defaults, describe, config, outputShape', () => {
    const layer = new nn.Dropout();
    expect(layer.p).toBe(0.5);
    expect(layer.describe()).toBe('Dropout(p=0.5)');
    expect(new nn.Dropout(0.2).describe()).toBe('Dropout(p=0.2)');
    expect((nn.fromConfig(new nn.Dropout(0.3).getConfig()) as ck.nn.Dropout).p).toBe(0.3);
    expect(layer.outputShape([4, 5])).toEqual([4, 5]);
    expect(layer.parameters()).toHaveLength(0);
  });

  it('p outside [0, 1) fails at construction', () => {
    expectConvkitError(() => new nn.Dropout(1), 'Dropout', 'p must be in [0, 1)', '1');
    expectConvkitError(() => new nn.Dropout(-0.5), 'Dropout', '-0.5');
  });
});
