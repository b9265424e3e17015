// Inference through ck.nn.optimizeForInference keeps only the activations it still needs
// (nn/optimize-for-inference.ts): VGG-16 at batch 1 peaks at its weights plus about the two
// largest activation volumes (conv1_1's and conv1_2's outputs, 64x224x224 floats each), not at
// all fifteen million activations. The plain model keeps them all (each layer's forward in
// turn), and so does the optimized one while a forward hook watches; the input is never freed.
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';

const MiB = 2 ** 20;
const mib = (b: number) => `${(b / MiB).toFixed(1)} MiB`;

/** Tensor bytes alive at the peak of fn, above what was alive before it. */
function peakAbove(fn: () => void): number {
  const before = ck.memory().numBytes;
  ck.resetPeakMemory();
  fn();
  return ck.memory().peakBytes - before;
}

describe('inference frees activations layer by layer', () => {
  it('VGG-16 at batch 1: weights + the two largest activations (+ small change), all 15.2M activations otherwise', () => {
    const model = ck.nn.optimizeForInference(ck.models.vgg16());
    const x = ck.randn([1, 3, 224, 224], { seed: 1 });
    const weights = model.parameters().reduce((s, p) => s + 4 * p.size, 0);
    const largestTwo = 2 * 4 * 64 * 224 * 224;
    // Warm-up (the backend's memory settles), then the measured call.
    ck.tidy(() => ck.noGrad(() => model.forward(x).dataSync()));
    const before = ck.memory().numBytes;
    let logits: Float32Array | null = null;
    const peak = peakAbove(() => ck.tidy(() => ck.noGrad(() => { logits = model.forward(x).dataSync() as Float32Array; })));
    console.log(`VGG-16 b1 inference: weights ${mib(weights)}, peak above them ${mib(peak)} (two largest activations ${mib(largestTwo)}; all activations ${mib(4 * 15_237_608)})`);
    expect(before).toBeGreaterThanOrEqual(weights);
    expect(peak).toBeGreaterThanOrEqual(largestTwo);
    expect(peak).toBeLessThan(largestTwo * 1.1);
    expect(logits!.length).toBe(1000);
    expect(ck.memory().numBytes).toBe(before);
  }, 120_000);

  const net = () => new ck.nn.Sequential(
    new ck.nn.Conv2d(3, 8, 3, { padding: 1 }), new ck.nn.ReLU(), new ck.nn.Conv2d(8, 8, 3, { padding: 1 }),
    new ck.nn.Conv2d(8, 8, 3, { padding: 1 }), new ck.nn.Flatten(), new ck.nn.Linear(8 * 16 * 16, 4),
  ).eval();
  const x = ck.randn([2, 3, 16, 16], { seed: 2 });
  // One activation between the convolutions: freeing keeps two of the three alive at once.
  const act = 4 * 2 * 8 * 16 * 16;

  it('gives the same outputs as keeping everything, and never frees the caller\'s input', () => {
    const model = net();
    const freed = ck.nn.optimizeForInference(model).forward(x).toArray();
    const kept = ck.noGrad(() => model.forward(x)).toArray(); // the plain model: nothing freed
    expect(freed).toEqual(kept);
    expect(x.isDisposed).toBe(false);
  });

  it('the plain model keeps every activation; the optimized one too while a forward hook watches', () => {
    const model = net();
    const opt = ck.nn.optimizeForInference(model);
    const optPeak = peakAbove(() => ck.tidy(() => opt.forward(x)));
    const plainPeak = peakAbove(() => ck.tidy(() => ck.noGrad(() => model.forward(x))));
    expect(plainPeak - optPeak).toBeGreaterThanOrEqual(act);
    const seen: ck.Tensor[] = [];
    const handle = model.at(3).registerForwardHook((_m, args) => { seen.push(args[0] as ck.Tensor); });
    try {
      const hookedPeak = peakAbove(() => ck.tidy(() => opt.forward(x)));
      expect(hookedPeak - optPeak).toBeGreaterThanOrEqual(act);
      ck.tidy(() => {
        opt.forward(x);
        expect(seen.at(-1)!.isDisposed).toBe(false); // what a hook saw stays until the scope ends
      });
    } finally {
      handle.remove();
    }
    expect(ck.nn.Module.forwardHooks).toBe(0);
  });
});
