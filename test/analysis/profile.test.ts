import { afterEach, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { activeRecorder } from '../../src/backend/profiler-hooks.js';
import { getBackend, kernel } from '../../src/backend/registry.js';
import { kernelMacs } from '../../src/analysis/kernel-macs.js';
import { describeEachBackend } from '../helpers/backends.js';
import { expectConvkitError } from '../helpers/assert.js';

/**
 * ck.profile: rows that add up to the step, time in the right phase of the right layer,
 * multiply-adds that agree with the summary's, and nothing left installed afterwards.
 */

const PATTERN = 'INPUT[16x16x3] -> CONV3-8 -> BN -> RELU -> POOL2 -> CONV3-16 -> RELU -> POOL2 -> FC32 -> RELU -> FC10';
const BATCH = 8;

function setup(seed = 1) {
  ck.manualSeed(seed);
  const { model, input } = ck.analysis.modelFromPattern(PATTERN);
  const x = ck.randn([BATCH, ...input]);
  const y = ck.randint(0, 10, [BATCH]);
  const optimizer = new ck.optim.SGD(model.parameters(), { lr: 1e-4 });
  const trainStep = () =>
    ck.tidy(() => {
      const loss = ck.profileRegion('(loss)', () => ck.F.crossEntropy(model.forward(x), y));
      loss.backward();
      ck.profileRegion('(optimizer)', () => {
        optimizer.step();
        optimizer.zeroGrad();
      });
    });
  const inferStep = () => ck.noGrad(() => ck.tidy(() => void model.forward(x)));
  return { model, input, x, trainStep, inferStep };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const row = (r: ck.ProfileReport, path: string) => {
  const found = r.layers.find((l) => l.path === path);
  if (!found) throw new Error(`no row ${path}; rows: ${r.layers.map((l) => l.path).join(', ')}`);
  return found;
};

afterEach(() => expect(activeRecorder()).toBeNull());

describeEachBackend('profile', () => {
  it('per-layer times add up to the measured training step within 10%', () => {
    const { model, trainStep } = setup();
    model.train();
    trainStep(); // first-run costs (threads starting, compilation) out of the measurement
    // The step measured from outside: the profile's own wall time around the same steps.
    // Noise can only add to the outside measurement, so one of three tries suffices.
    const tries: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const t0 = performance.now();
      const report = ck.profile(trainStep, { steps: 5, model });
      const outside = performance.now() - t0;
      const rows = sum(report.layers.map((l) => l.totalMs)) * report.steps;
      // Against the report's own step times: the same intervals, so this one is tight.
      expect(Math.abs(report.attributedMs - report.totalMs)).toBeLessThanOrEqual(0.1 * report.totalMs);
      expect(sum(report.stepMs)).toBeCloseTo(report.totalMs * report.steps, 6);
      tries.push(`rows ${rows.toFixed(2)} ms, measured ${outside.toFixed(2)} ms`);
      if (Math.abs(rows - outside) <= 0.1 * outside) return;
    }
    throw new Error(`the rows never added up to the measured steps within 10%: ${tries.join('; ')}`);
  });

  it('charges forward, input gradient and weight gradient to the right layers', () => {
    const { model, input, trainStep } = setup();
    model.train();
    const report = ck.profile(trainStep, { steps: 2, warmup: 1, model });
    // A row for every layer of the model, in order, and the named regions after them.
    const leaves = model.namedModules().filter(([, m]) => m.children().length === 0).map(([p]) => p);
    const paths = report.layers.map((l) => l.path);
    expect(paths.filter((p) => leaves.includes(p))).toEqual(leaves);
    expect(paths).toContain('(loss)');
    expect(paths).toContain('(optimizer)');
    expect(paths[paths.length - 1]).toBe('(outside modules)');

    const summary = ck.analysis.summarize(model, { input, batch: BATCH });
    for (const s of summary.rows.filter((r) => r.kind === 'conv' || r.kind === 'fc')) {
      const r = row(report, s.path);
      // The kernels' multiply-adds are the summary's, and each gradient costs as much as the forward.
      expect(r.macs.forward, s.path).toBe(s.macs * BATCH);
      expect(r.macs.weightGrad, s.path).toBe(s.macs * BATCH);
      // The first layer's input is data: no gradient is computed for it.
      expect(r.macs.inputGrad, s.path).toBe(s.path === '0' ? 0 : s.macs * BATCH);
      expect(r.calls).toBe(1);
      expect(r.forwardMs).toBeGreaterThan(0);
      expect(r.weightGradMs).toBeGreaterThan(0);
      if (s.path === '0') expect(r.inputGradMs).toBe(0);
      else expect(r.inputGradMs).toBeGreaterThan(0);
      for (const v of [r.gflops.forward, r.gflops.weightGrad, r.gflops.total]) {
        expect(Number.isFinite(v)).toBe(true);
        expect(v!).toBeGreaterThan(0);
      }
    }
    // Batch norm's gradient comes from one kernel for all its parts: other backward.
    const bn = row(report, '1');
    expect(bn.type).toBe('BatchNorm2d');
    expect(bn.otherBackwardMs).toBeGreaterThan(0);
    expect(bn.inputGradMs + bn.weightGradMs).toBe(0);
    expect(bn.gflops.total).toBeNull();
    // A ReLU fused into the batch norm, convolution or FC before it never runs on its own (in
    // training too).
    const relus = report.layers.map((l, i) => [l, report.layers[i - 1]?.type] as const).filter(([l]) => l.type === 'ReLU');
    expect(relus.map(([, before]) => before)).toEqual(['BatchNorm2d', 'Conv2d', 'Linear']);
    for (const [r] of relus) expect([r.calls, r.totalMs, r.output]).toEqual([0, 0, null]);
    expect(report.layers.filter((l) => l.type === 'Conv2d').map((l) => l.output)).toEqual([[8, 16, 16], [16, 8, 8]]);

    const names = report.kernels.map((k) => k.name);
    for (const k of ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'MatMul', 'BatchNormGrad']) expect(names).toContain(k);
    const filter = report.kernels.find((k) => k.name === 'Conv2DBackpropFilter')!;
    expect([filter.phase, filter.calls]).toEqual(['weightGrad', 2]);
    // The FC layers' MatMuls: one row per phase, a call per layer each (the first FC's input
    // is a flattened activation, so it gets a gradient too); the biases' sums are weight gradients.
    const matmul = report.kernels.filter((k) => k.name === 'MatMul').map((k) => [k.phase, k.calls]);
    expect(matmul.sort()).toEqual([['forward', 2], ['inputGrad', 2], ['weightGrad', 2]]);
    expect(report.kernels.find((k) => k.name === 'Reduce' && k.phase === 'weightGrad')!.calls).toBe(3);
    // The second convolution's fused ReLU: its mask and bias gradient come from one kernel, like
    // batch norm's combined gradient counted as other backward.
    const fused = report.kernels.filter((k) => k.name === 'ReluGradChannelSum').map((k) => [k.phase, k.calls]);
    expect(fused).toEqual([['otherBackward', 1]]);
    expect(Number.isFinite(filter.gflops)).toBe(true);
    expect(report.kernelMs).toBeCloseTo(sum(report.kernels.map((k) => k.ms)), 6);
    expect(report.kernelMs).toBeCloseTo(sum(report.layers.map((l) => l.kernelMs)), 6);
    expect(report.outsideKernelsShare).toBeGreaterThanOrEqual(0);
    expect(report.outsideKernelsShare).toBeLessThan(1);

    const text = report.format();
    expect(text).toMatch(/weight-grad ms/);
    expect(text).toMatch(/^Conv2DBackpropFilter\s+weight-grad\s+2\s+\d/m);
    expect(text).toMatch(/hot spots: /);
    expect(ck.formatProfile(report)).toBe(text);
    expect(JSON.parse(JSON.stringify(report)).layers).toHaveLength(report.layers.length);
  });

  it('inference has forward time only', () => {
    const { model, x } = setup();
    // As predict runs it: the inference plan (ck.nn.optimizeForInference).
    const opt = ck.nn.optimizeForInference(model);
    const report = ck.profile(() => ck.tidy(() => void opt.forward(x)), { steps: 2, warmup: 1, model });
    for (const r of report.layers) expect(r.inputGradMs + r.weightGradMs + r.otherBackwardMs).toBe(0);
    const names = report.kernels.map((k) => k.name);
    expect(names).toContain('Conv2D');
    expect(names.some((n) => n.includes('Backprop'))).toBe(false);
    // The eval batch norm is folded into the convolution before it.
    expect(row(report, '1').calls).toBe(0);
    expect(row(report, '0').macs.forward).toBe(16 * 16 * 8 * 27 * BATCH);
    expect(report.format()).not.toMatch(/input-grad/);
  });
});

describe('profile', () => {
  it('leaves no hook behind: kernels are the backend functions themselves', () => {
    const { inferStep } = setup();
    const own = () => getBackend().kernels.Conv2D;
    ck.profile(inferStep);
    expect(kernel('Conv2D')).toBe(own() ?? kernel('Conv2D'));
    // An error inside fn ends the profile too.
    expect(() => ck.profile(() => ck.F.conv2d(ck.zeros([1, 2, 4, 4]), ck.zeros([1, 3, 3, 3])))).toThrow(/expected 3 input channels/);
    expect(activeRecorder()).toBeNull();
  });

  it('profiles an async function, and regions outside a profile just run', async () => {
    const { inferStep } = setup();
    const report = await ck.profile(async () => {
      await Promise.resolve();
      inferStep();
    }, { steps: 2, warmup: 1 });
    expect(report.steps).toBe(2);
    expect(report.stepMs).toHaveLength(2);
    expect(report.layers.some((l) => l.type === 'Conv2d' && l.calls === 1)).toBe(true);
    expect(ck.profileRegion('(x)', () => 42)).toBe(42);
  });

  it('refuses nesting and bad counts', () => {
    expectConvkitError(() => ck.profile(() => ck.profile(() => 0)), /do not nest/);
    expectConvkitError(() => ck.profile(() => 0, { steps: 0 }), /steps must be an integer of at least 1/);
    expectConvkitError(() => ck.profile(() => 0, { warmup: -1 }), /warmup/);
    expectConvkitError(() => ck.profile(42 as unknown as () => void), /expected a function/);
  });

  it('counts multiply-adds of each kernel from its arguments', () => {
    const t = (shape: number[]) => ({ data: new Float32Array(0), shape });
    const win = { kernel: [3, 2] as [number, number], stride: [2, 1] as [number, number], pad: [0, 0, 0, 0] as [number, number, number, number], dilation: [1, 1] as [number, number], out: [5, 7] as [number, number], groups: 2 };
    // x [3, 4, ., .], w [6, 2, 3, 2] (groups 2): 3*6*5*7 outputs, 2*3*2 products each.
    expect(kernelMacs('Conv2D', [t([3, 4, 11, 8]), t([6, 2, 3, 2]), null, win])).toBe(3 * 6 * 5 * 7 * 12);
    expect(kernelMacs('Conv2DBackpropInput', [t([3, 6, 5, 7]), t([6, 2, 3, 2]), [3, 4, 11, 8], win])).toBe(3 * 6 * 5 * 7 * 12);
    expect(kernelMacs('Conv2DBackpropFilter', [t([3, 4, 11, 8]), t([3, 6, 5, 7]), [6, 2, 3, 2], win])).toBe(3 * 6 * 5 * 7 * 12);
    // [M, K] x [K, N], transposes, and broadcast batch dimensions.
    expect(kernelMacs('MatMul', [t([5, 3]), t([3, 7]), false, false, null, 'none'])).toBe(105);
    expect(kernelMacs('MatMul', [t([3, 5]), t([7, 3]), true, true, null, 'none'])).toBe(105);
    expect(kernelMacs('MatMul', [t([4, 1, 5, 3]), t([6, 3, 7]), false, false, null, 'none'])).toBe(4 * 6 * 105);
    expect(kernelMacs('LocallyConnected2D', [t([2, 3, 6, 6]), t([4, 4, 5, 3, 3, 3]), null, win])).toBe(2 * 4 * 4 * 5 * 27);
    expect(kernelMacs('MaxPool2D', [t([1, 1, 4, 4]), win])).toBe(0);
  });

  it('a transposed convolution counts as much as the convolution it inverts', () => {
    ck.manualSeed(3);
    const x = ck.randn([2, 4, 5, 5], { requiresGrad: true });
    const w = ck.randn([4, 6, 3, 3], { requiresGrad: true });
    const report = ck.profile(() => ck.tidy(() => ck.F.sum(ck.F.convTranspose2d(x, w, null, { stride: 2 })).backward()));
    const macs = 2 * 4 * 5 * 5 * 6 * 3 * 3; // each input value meets 6 * 3 * 3 weights
    const outside = row(report, '(outside modules)');
    expect(outside.macs).toEqual({ forward: macs, inputGrad: macs, weightGrad: macs });
  });
});
