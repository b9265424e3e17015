import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectConvkitError } from '../helpers/assert.js';
import { fixtures, initialParams, OPTIMIZERS, setGrads, type OptimizerName } from './torch-optim.js';

/** Options that give each optimizer every kind of state it can keep. */
const FULL: [OptimizerName, Record<string, unknown>][] = [
  ['SGD', { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }],
  ['Adagrad', { lr: 0.1, lrDecay: 0.1, initialAccumulatorValue: 0.1 }],
  ['RMSprop', { lr: 0.01, momentum: 0.5, centered: true }],
  ['Adam', { lr: 0.01, amsgrad: true, weightDecay: 0.01 }],
  ['AdamW', { lr: 0.01, amsgrad: true }],
];

const STEPS = fixtures.grads.length;

/** A checkpoint as it would be written to a JSON file: Float32Arrays become number arrays. */
function throughJson(state: ck.optim.OptimizerStateDict): ck.optim.OptimizerStateDict {
  const text = JSON.stringify(state, (_, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v));
  return JSON.parse(text) as ck.optim.OptimizerStateDict;
}

function run(name: OptimizerName, opts: Record<string, unknown>, interruptAt: number | null, viaJson: boolean): Float32Array[] {
  let params = initialParams();
  let opt = new OPTIMIZERS[name](params, opts);
  for (let k = 0; k < STEPS; k++) {
    if (k === interruptAt) {
      // Save, then rebuild everything from scratch as a resumed process would.
      const saved = opt.stateDict();
      const values = params.map((p) => p.dataSync());
      params = fixtures.shapes.map((s, i) => new ck.nn.Parameter(ck.tensor(values[i]!, s)));
      // Different options on purpose: the checkpoint's hyperparameters win.
      opt = new OPTIMIZERS[name](params, { lr: 123 });
      opt.loadStateDict(viaJson ? throughJson(saved) : saved);
    }
    setGrads(params, k);
    opt.step();
  }
  return params.map((p) => p.dataSync());
}

describe('stateDict / loadStateDict', () => {
  it.each(FULL)('%s: a resumed run is bit-identical to an uninterrupted one', (name, opts) => {
    const straight = run(name, opts, null, false);
    // Step 3 comes after the step where parameter 1 had no gradient: per-parameter steps differ.
    for (const at of [1, 3]) {
      expect(run(name, opts, at, false)).toEqual(straight);
      expect(run(name, opts, at, true)).toEqual(straight);
    }
  });

  it('is a copy: later steps do not change a saved state', () => {
    const params = initialParams();
    const opt = new ck.optim.Adam(params, { lr: 0.1 });
    setGrads(params, 0);
    opt.step();
    const saved = opt.stateDict();
    const m = (saved.state[0]!['expAvg'] as Float32Array).slice();
    opt.paramGroups[0]!.betas = [0.5, 0.5];
    setGrads(params, 1);
    opt.step();
    expect(saved.state[0]!['expAvg']).toEqual(m);
    expect(saved.state[0]!['step']).toBe(1);
    expect(saved.paramGroups[0]!['betas']).toEqual([0.9, 0.999]);
  });

  it('has the documented structure', () => {
    const params = initialParams();
    const opt = new ck.optim.SGD(params, { lr: 0.1, momentum: 0.9 });
    expect(opt.stateDict()).toEqual({
      type: 'SGD',
      paramGroups: [{ params: [0, 1], lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false }],
      paramSizes: [12, 4],
      state: [null, null],
    });
    setGrads(params, 2); // parameter 1 has no gradient at step 2
    opt.step();
    const s = opt.stateDict();
    expect(s.state[1]).toBeNull();
    expect(s.state[0]!['step']).toBe(1);
    expect(s.state[0]!['momentumBuffer']).toBeInstanceOf(Float32Array);
  });

  it('refuses the state of another optimizer or of other parameters, and changes nothing then', () => {
    const params = initialParams();
    const adam = new ck.optim.Adam(params);
    setGrads(params, 0);
    adam.step();
    const saved = adam.stateDict();
    expectConvkitError(() => new ck.optim.SGD(initialParams(), { lr: 0.1 }).loadStateDict(saved), 'SGD.loadStateDict', 'Adam');
    expectConvkitError(() => new ck.optim.AdamW(initialParams()).loadStateDict(saved), 'AdamW', 'from a Adam optimizer');
    expectConvkitError(() => new ck.optim.Adam(initialParams().slice(0, 1)).loadStateDict(saved), '2 parameters', 'has 1');
    const resized = [new ck.nn.Parameter(ck.zeros([3, 5])), new ck.nn.Parameter(ck.zeros([4]))];
    expectConvkitError(() => new ck.optim.Adam(resized).loadStateDict(saved), 'parameter 0', '12 elements', '15', '[3, 5]');
    const [w, b] = initialParams();
    expectConvkitError(() => new ck.optim.Adam([{ params: [w!] }, { params: [b!] }]).loadStateDict(saved), '1 param groups', 'has 2');

    const target = new ck.optim.Adam(initialParams(), { lr: 0.5 });
    const before = target.stateDict();
    const badBuffer = { ...saved, state: [{ ...saved.state[0]!, expAvg: new Float32Array(3) }, null] };
    expectConvkitError(() => target.loadStateDict(badBuffer), 'parameter 0', 'expAvg has 3 elements', '12');
    const foreign = { ...saved, state: [{ ...saved.state[0]!, momentumBuffer: new Float32Array(12) }, null] };
    expectConvkitError(() => target.loadStateDict(foreign), 'momentumBuffer', 'does not keep');
    const badHyper = { ...saved, paramGroups: [{ ...saved.paramGroups[0]!, eps: -1 }] };
    expectConvkitError(() => target.loadStateDict(badHyper), 'eps', '-1');
    const unknownHyper = { ...saved, paramGroups: [{ ...saved.paramGroups[0]!, momentum: 0.9 }] };
    expectConvkitError(() => target.loadStateDict(unknownHyper), "unknown option 'momentum'");
    expect(target.stateDict()).toEqual(before);
  });
});
