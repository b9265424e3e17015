import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';

const { nn, F } = ck;

describeEachBackend('nn.Linear', () => {
  it('parameters: weight [out, in] He-normal, bias [out] zero', () => {
    ck.manualSeed(1);
    const fc = new nn.Linear(400, 120);
    expect(fc.weight.shape).toEqual([120, 400]);
    expect(fc.bias!.shape).toEqual([120]);
    expect(fc.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias']);
    expect(Array.from(fc.bias!.dataSync()).every((v) => v === 0)).toBe(true);
    const w = fc.weight.dataSync();
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
    // He: std = sqrt(2 / 400) = 0.0707; 48000 samples put the estimate within 1%.
    expect(Math.abs(std - Math.sqrt(2 / 400))).toBeLessThan(0.0707 * 0.02);
    expect(Math.abs(mean)).toBeLessThan(0.002);
    expect(new nn.Linear(3, 2, { bias: false }).bias).toBeNull();
    expect(new nn.Linear(3, 2, { bias: false }).parameters().length).toBe(1);
  });

  it('forward is F.linear with its parameters, and trains', () => {
    const fc = new nn.Linear(3, 2);
    fc.weight.assign([1, 0, 0, 1, 1, 1]);
    fc.bias!.assign([10, 20]);
    expect(fc.forward(ck.tensor([[1, 2, 3]])).toArray()).toEqual([[11, 26]]);
    F.sum(fc.forward(ck.tensor([[1, 2, 3], [1, 1, 1]]))).backward();
    expectClose(fc.weight.grad!, [2, 3, 4, 2, 3, 4]);
    expectClose(fc.bias!.grad!, [2, 2]);
  });

  it('outputShape, describe and config round trip', () => {
    const fc = new nn.Linear(16, 4, { bias: false });
    expect(fc.outputShape([8, 16])).toEqual([8, 4]);
    expect(fc.outputShape([2, 3, 16])).toEqual([2, 3, 4]);
    expect(fc.describe()).toBe('Linear(16, 4, bias=false)');
    expect(new nn.Linear(16, 4).describe()).toBe('Linear(16, 4)');
    const rebuilt = nn.fromConfig(JSON.parse(JSON.stringify(fc.getConfig()))) as ck.nn.Linear;
    expect(rebuilt).toBeInstanceOf(nn.Linear);
    expect(rebuilt.inFeatures).toBe(16);
    expect(rebuilt.bias).toBeNull();
  });

  it('a feature mismatch names the layer and both numbers', () => {
    const model = new nn.Sequential(new nn.Flatten(), new nn.Linear(400, 120));
    // Links the children to their parent (Module.runForward alone does not yet, see report).
    model.namedModules();
    const err = expectConvkitError(() => model.forward(ck.zeros([2, 16, 4, 4])), '1 (Linear)', 'expected 400 input features, got 256');
    expect(err.message).toMatch('[2, 256]');
    expectConvkitError(() => new nn.Linear(400, 120).forward(ck.zeros([2, 16, 5, 5])), 'expected 400 input features, got 5', 'flatten', '400 features');
    expectConvkitError(() => new nn.Linear(400, 120).outputShape([2, 256]), 'Linear', 'expected 400 input features, got 256');
    expectConvkitError(() => new nn.Linear(0, 3), 'Linear', 'inFeatures must be a positive integer', '0');
    expectConvkitError(() => new nn.Linear(3, 2.5), 'outFeatures', '2.5');
    expectConvkitError(() => new nn.Linear(3, 2, { bais: true } as { bias?: boolean }), "unknown option 'bais'");
  });
});
