import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectConvkitError } from '../helpers/assert.js';

const { analysis, models, nn, optim } = ck;
const vgg16 = () => analysis.summarize(models.zooConfig('vgg16'), { input: [3, 224, 224] });

describe('training memory estimate', () => {
  it('adds up activations and their gradients, parameters, gradients, optimizer state and the data', () => {
    const r = vgg16();
    const m = analysis.estimateTrainingMemory(r, { batch: 32, optimizer: 'momentum' });
    // Per image: 15,237,608 activations of which 150,528 are the input (counted as data instead).
    expect(m.activations).toBe(32 * (15_237_608 - 150_528) * 4);
    expect(m.activationGradients).toBe(m.activations);
    expect(m.parameters).toBe(553_430_176);
    expect(m.parameterGradients).toBe(553_430_176);
    expect(m.optimizerState).toBe(553_430_176); // momentum: one velocity per parameter
    expect(m.data).toBe(32 * (150_528 * 4 + 4)); // float32 images + int32 labels
    // The five max pools' outputs (112x112x64 + 56x56x128 + 28x28x256 + 14x14x512 + 7x7x512 =
    // 1,530,368 per image) each keep an int32 switch for backward.
    expect(m.switches).toBe(32 * 1_530_368 * 4);
    expect(m.total).toBe(2 * m.activations + 3 * 553_430_176 + m.switches + m.data);
    // 3,862,292,480 + 1,660,290,528 + 195,887,104 + 19,267,712: about 5.3 GB (5.16 GB without the switches)
    expect(m.total).toBe(5_737_737_824);
    const text = analysis.renderTrainingMemory(m);
    expect(text).toContain('optimizer state (momentum: 1x parameters)');
    expect(text).toContain('max-pool switches (int32)');
    expect(text).toMatch(/total\s+5\.34 GB/);
  });

  it('keeps one or two copies of the parameters per optimizer: none, momentum 1, Adagrad/RMSprop 1, Adam 2', () => {
    const r = vgg16();
    const state = (optimizer: ck.analysis.OptimizerName) => analysis.estimateTrainingMemory(r, { batch: 1, optimizer }).optimizerState / 553_430_176;
    expect(['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam'].map((o) => state(o as ck.analysis.OptimizerName))).toEqual([0, 1, 1, 1, 1, 2]);
    expect(analysis.estimateTrainingMemory(r, { batch: 1, bytesPerValue: 8 }).parameters).toBe(1_106_860_352);
    expectConvkitError(() => analysis.estimateTrainingMemory(r, { batch: 1, optimizer: 'lbfgs' as ck.analysis.OptimizerName }), "unknown optimizer 'lbfgs'", 'adam');
    expectConvkitError(() => analysis.estimateTrainingMemory(r, { batch: 0 }), 'batch must be a positive integer');
  });

  it('answers --fit: the largest batch that fits', () => {
    const r = vgg16();
    const budget = analysis.parseMemorySize('4GB');
    const fit = analysis.largestBatchThatFits(r, budget, { optimizer: 'adam' });
    expect(fit.batch).toBe(16);
    expect(fit.memory.total).toBeLessThanOrEqual(budget);
    expect(analysis.estimateTrainingMemory(r, { batch: 17, optimizer: 'adam' }).total).toBeGreaterThan(budget);
    expect(analysis.renderBatchFit(fit)).toMatch(/^largest batch that fits in 4\.00 GB: 16 \(3\.\d\d GB\)/);
    // Parameters, gradients and Adam's two moments of VGG-16 alone take 2.06 GB.
    const none = analysis.largestBatchThatFits(r, analysis.parseMemorySize('2GB'), { optimizer: 'adam' });
    expect(none.batch).toBe(0);
    expect(analysis.renderBatchFit(none)).toMatch(/^nothing fits in 2\.00 GB: batch 1 needs 2\.\d+ GB/);
  });
});

describe('the estimate against memory actually measured', () => {
  /** Ordinary (not in-place) RELUs: every layer output is a new tensor, so the summary counts them all. */
  function net(): ck.nn.Sequential {
    ck.manualSeed(5);
    return new nn.Sequential(
      new nn.Conv2d(3, 8, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(8, 16, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Flatten(), new nn.Linear(256, 10),
    );
  }
  const INPUT = [3, 16, 16];
  const BATCH = 8;

  function trainingStep(model: ck.nn.Module, opt: { zeroGrad(): void; step(): void }): number {
    opt.zeroGrad();
    // The max-pool layers hold the previous step's switches (lastIndices) until their next
    // forward frees them; this step's switches take their place, so they are not the step's.
    const heldSwitches = model.modules().reduce((s, m) => s + (m instanceof nn.MaxPool2d && m.lastIndices ? 4 * m.lastIndices.size : 0), 0);
    const before = ck.memory().numBytes - heldSwitches;
    let held = 0;
    ck.tidy(() => {
      const x = ck.randn([BATCH, ...INPUT]);
      const y = ck.randint(0, 10, [BATCH]);
      ck.F.crossEntropy(model.forward(x), y).backward();
      opt.step();
      // Everything of the step is alive until the scope ends: the peak.
      held = ck.memory().numBytes - before;
    });
    return held;
  }

  it('predicts the live tensor bytes of a training step within 1%', () => {
    const model = net();
    const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
    trainingStep(model, opt); // the first step also creates the optimizer's state
    const fusedMeasured = trainingStep(model, opt);
    // The estimate counts every layer's output. Sequential fuses CONV + RELU into one kernel
    // (nn/fusion.ts), which never keeps the CONV's own output; a forward hook turns that off.
    const hooks = model.modules().map((m) => m.registerForwardHook(() => {}));
    const measured = trainingStep(model, opt);
    hooks.forEach((h) => h.remove());
    // Fused, the two CONV outputs (8x16x16 and 16x8x8 per item) are not kept; their gradients still are.
    const convOutputs = BATCH * (8 * 16 * 16 + 16 * 8 * 8) * 4;
    expect(Math.abs(fusedMeasured - (measured - convOutputs)) / measured).toBeLessThan(0.01);
    const report = analysis.summarize(model, { input: INPUT, countInPlace: true });
    const est = analysis.estimateTrainingMemory(report, { batch: BATCH, optimizer: 'adam' });
    // Inside the step: the data, every activation and its gradient, the max-pool switches, the
    // parameter gradients. (The parameters were alive before; the optimizer state lives outside
    // tensors, checked below.)
    expect(est.switches).toBe(BATCH * (8 * 8 * 8 + 16 * 4 * 4) * 4);
    const predicted = est.data + est.activations + est.activationGradients + est.switches + est.parameterGradients;
    expect(predicted).toBe(524_424);
    // The estimate counts Flatten's output and its gradient, but both are views (no storage of
    // their own); each parameter gradient is held once (autograd takes the backward's buffer).
    const flattenViews = 2 * BATCH * 256 * 4;
    expect(Math.abs(measured - (predicted - flattenViews)) / predicted).toBeLessThan(0.01);
    expect(est.parameters).toBe(model.parameters().reduce((s, p) => s + 4 * p.size, 0));
  });

  it.each([
    ['sgd', () => ({ lr: 0.1 }), optim.SGD],
    ['momentum', () => ({ lr: 0.1, momentum: 0.9 }), optim.SGD],
    ['adagrad', () => ({ lr: 0.1 }), optim.Adagrad],
    ['rmsprop', () => ({ lr: 0.1 }), optim.RMSprop],
    ['adam', () => ({ lr: 0.1 }), optim.Adam],
  ] as const)("predicts the optimizer state of %s exactly", (name, opts, Opt) => {
    const model = net();
    const opt = new (Opt as new (p: ck.nn.Parameter[], o: object) => { zeroGrad(): void; step(): void; stateDict(): ck.optim.OptimizerStateDict })(model.parameters(), opts());
    trainingStep(model, opt);
    const stateBytes = opt
      .stateDict()
      .state.flatMap((s) => Object.values(s ?? {}))
      .reduce<number>((sum, v) => sum + (v instanceof Float32Array ? v.byteLength : 0), 0);
    const report = analysis.summarize(model, { input: INPUT });
    expect(analysis.estimateTrainingMemory(report, { batch: BATCH, optimizer: name }).optimizerState).toBe(stateBytes);
  });
});
