import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { gradcheck } from '../helpers/gradcheck.js';

const { F } = ck;

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** Random values kept at least 0.1 away from 0, so finite differences never straddle a kink. */
function awayFromZero(shape: number[], seed: number, requiresGrad = true): ck.Tensor {
  const v = ck.randn(shape, { seed }).dataSync().map((x) => x + Math.sign(x || 1) * 0.1);
  return ck.tensor(v, shape, { requiresGrad });
}

/** Hand-worked values: [input, expected] per op. */
const handWorked: [string, (x: ck.Tensor) => ck.Tensor, number[], number[]][] = [
  ['relu', (x) => F.relu(x), [-2, -0.5, 0, 1.5], [0, 0, 0, 1.5]],
  ['leakyRelu default slope 0.01', (x) => F.leakyRelu(x), [-2, -0.5, 0, 1.5], [-0.02, -0.005, 0, 1.5]],
  ['leakyRelu slope 0.2', (x) => F.leakyRelu(x, { negativeSlope: 0.2 }), [-2, 3], [-0.4, 3]],
  // e^-1 - 1 = -0.6321205588
  ['elu', (x) => F.elu(x), [-1, 0, 2], [-0.6321205588, 0, 2]],
  ['elu alpha 2', (x) => F.elu(x, { alpha: 2 }), [-1, 2], [-1.2642411177, 2]],
  ['selu', (x) => F.selu(x), [-1, 2], [SELU_SCALE * SELU_ALPHA * (Math.exp(-1) - 1), SELU_SCALE * 2]],
  // 1/(1+e^-2) = 0.8807970779778823
  ['sigmoid', (x) => F.sigmoid(x), [0, 2, -2], [0.5, 0.8807970779778823, 0.11920292202211755]],
  ['tanh', (x) => F.tanh(x), [0, 1, -1], [0, 0.7615941559557649, -0.7615941559557649]],
  // ln 2; ln(1 + e) = 1.3132616875
  ['softplus', (x) => F.softplus(x), [0, 1, -30], [Math.LN2, 1.3132616875182228, 9.357622968840175e-14]],
  // ln(1 + e^2) / 2
  ['softplus beta 2', (x) => F.softplus(x, { beta: 2 }), [1], [1.0634640055214863]],
  // beta*x = 2 > threshold 1: the input itself, not ln(1 + e^2) = 2.1269
  ['softplus threshold', (x) => F.softplus(x, { threshold: 1 }), [2, 0.5], [2, 0.9740769841801067]],
  ['hardtanh', (x) => F.hardtanh(x), [-3, -0.5, 0.25, 2], [-1, -0.5, 0.25, 1]],
  ['hardtanh bounds', (x) => F.hardtanh(x, { minVal: -2, maxVal: 0.5 }), [-3, -0.5, 2], [-2, -0.5, 0.5]],
  ['clamp', (x) => ck.clamp(x, 0, 1), [-1, 0.5, 3], [0, 0.5, 1]],
  ['clamp max only', (x) => ck.clamp(x, null, 0), [-1, 0.5, 3], [-1, 0, 0]],
  ['clamp min only', (x) => F.clamp(x, 0.5), [-1, 0.5, 3], [0.5, 0.5, 3]],
  // torch.clamp with min > max gives max everywhere
  ['clamp min > max', (x) => ck.clamp(x, 2, 1), [-1, 1.5, 3], [1, 1, 1]],
  ['exp', (x) => F.exp(x), [0, 1, -1], [1, Math.E, 1 / Math.E]],
  ['log', (x) => F.log(x), [1, Math.E, 0.5], [0, 1, -Math.LN2]],
  ['sqrt', (x) => F.sqrt(x), [4, 0.25, 0], [2, 0.5, 0]],
  ['abs', (x) => F.abs(x), [-3, 0, 2], [3, 0, 2]],
  ['neg', (x) => F.neg(x), [-3, 0, 2], [3, -0, -2]],
];

/** Naive scalar references for random inputs. */
const naive: [string, (x: ck.Tensor) => ck.Tensor, (v: number) => number][] = [
  ['relu', (x) => F.relu(x), (v) => (v > 0 ? v : 0)],
  ['leakyRelu', (x) => F.leakyRelu(x, { negativeSlope: 0.1 }), (v) => (v > 0 ? v : 0.1 * v)],
  ['elu', (x) => F.elu(x, { alpha: 0.7 }), (v) => (v > 0 ? v : 0.7 * (Math.exp(v) - 1))],
  ['selu', (x) => F.selu(x), (v) => SELU_SCALE * (v > 0 ? v : SELU_ALPHA * (Math.exp(v) - 1))],
  ['sigmoid', (x) => F.sigmoid(x), (v) => 1 / (1 + Math.exp(-v))],
  ['tanh', (x) => F.tanh(x), (v) => (Math.exp(v) - Math.exp(-v)) / (Math.exp(v) + Math.exp(-v))],
  ['softplus beta 1.5', (x) => F.softplus(x, { beta: 1.5 }), (v) => Math.log(1 + Math.exp(1.5 * v)) / 1.5],
  ['hardtanh', (x) => F.hardtanh(x, { minVal: -0.5, maxVal: 0.7 }), (v) => (v < -0.5 ? -0.5 : v > 0.7 ? 0.7 : v)],
  ['clamp', (x) => ck.clamp(x, -0.3, 0.9), (v) => (v < -0.3 ? -0.3 : v > 0.9 ? 0.9 : v)],
  ['exp', (x) => F.exp(x), Math.exp],
  ['abs', (x) => F.abs(x), (v) => (v < 0 ? -v : v)],
  ['neg', (x) => F.neg(x), (v) => -v],
];

describeEachBackend('activations', () => {
  it.each(handWorked)('%s: hand-worked values', (_name, f, input, expected) => {
    const y = f(ck.tensor(input));
    expect(y.shape).toEqual([input.length]);
    expectClose(y, expected, { rtol: 1e-5, atol: 1e-7 });
  });

  it.each(naive)('%s matches a naive reference on random input', (_name, f, ref) => {
    const x = ck.randn([3, 4, 5], { seed: 11 });
    const y = f(x);
    expect(y.shape).toEqual([3, 4, 5]);
    expectClose(y, Array.from(x.dataSync(), ref), { rtol: 1e-5, atol: 1e-6 });
  });

  it('works on non-contiguous views', () => {
    const x = ck.tensor([[-1, 2, -3], [4, -5, 6]]).transpose(0, 1);
    expect(F.relu(x).toArray()).toEqual([[0, 4], [2, 0], [0, 6]]);
    expect(ck.clamp(x, -2, 3).toArray()).toEqual([[-1, 3], [2, -2], [-2, 3]]);
  });

  const grads: [string, (x: ck.Tensor) => ck.Tensor][] = [
    ['relu', (x) => F.relu(x)],
    ['leakyRelu', (x) => F.leakyRelu(x, { negativeSlope: 0.3 })],
    ['elu', (x) => F.elu(x, { alpha: 1.5 })],
    ['selu', (x) => F.selu(x)],
    ['sigmoid', (x) => F.sigmoid(x)],
    ['tanh', (x) => F.tanh(x)],
    ['softplus', (x) => F.softplus(x)],
    ['softplus beta 3 threshold 2', (x) => F.softplus(x, { beta: 3, threshold: 2 })],
    ['exp', (x) => F.exp(x)],
    ['abs', (x) => F.abs(x)],
    ['neg', (x) => F.neg(x)],
  ];
  it.each(grads)('%s gradient matches finite differences', (_name, f) => {
    gradcheck(f, [awayFromZero([2, 3, 4], 5)]);
  });

  it('log and sqrt gradients on positive input', () => {
    const x = ck.tensor(ck.rand([3, 4], { seed: 2 }).dataSync().map((v) => v + 0.5), [3, 4], { requiresGrad: true });
    gradcheck((t) => F.log(t), [x]);
    gradcheck((t) => F.sqrt(t), [x]);
  });

  it('hardtanh and clamp gradients: 1 inside the bounds, 0 outside', () => {
    // Values at least 0.05 from the bounds -1 / 0.5 so the finite differences stay on one side.
    const x = ck.tensor([-2, -1.2, -0.8, 0, 0.3, 0.6, 2], [7], { requiresGrad: true });
    gradcheck((t) => F.hardtanh(t, { minVal: -1, maxVal: 0.5 }), [x]);
    gradcheck((t) => ck.clamp(t, -1, 0.5), [x]);
    gradcheck((t) => ck.clamp(t, null, 0.5), [x]);
    x.grad = null;
    F.sum(ck.clamp(x, -1, 0.5)).backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([0, 0, 1, 1, 1, 0, 0]);
  });

  it('at the bounds: clamp passes the gradient, hardtanh does not (as PyTorch)', () => {
    const x = ck.tensor([-1, 1], [2], { requiresGrad: true });
    F.sum(ck.clamp(x, -1, 1)).backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([1, 1]);
    x.grad = null;
    F.sum(F.hardtanh(x)).backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([0, 0]);
  });

  it('relu inplace overwrites the storage (views included) and returns the input', () => {
    const base = ck.tensor([[-1, 2], [3, -4]]);
    const view = base.transpose(0, 1);
    const out = F.relu(view, { inplace: true });
    expect(out).toBe(view);
    expect(base.toArray()).toEqual([[0, 2], [3, 0]]);
    expect(view.toArray()).toEqual([[0, 3], [2, 0]]);
  });

  it('relu inplace on a non-leaf keeps gradients right', () => {
    const w = ck.tensor([-1, 2, -3, 4], [4], { requiresGrad: true });
    const h = F.mul(w, 2);
    const r = F.relu(h, { inplace: true });
    expect(r).toBe(h);
    expect(Array.from(h.dataSync())).toEqual([0, 4, 0, 8]);
    F.sum(F.mul(r, ck.tensor([1, 10, 100, 1000]))).backward();
    // d/dw of sum(c * relu(2w)) = 2c where w > 0
    expect(Array.from(w.grad!.dataSync())).toEqual([0, 20, 0, 2000]);
    const v = awayFromZero([3, 4], 8);
    gradcheck((t) => F.relu(F.mul(t, 1.5), { inplace: true }), [v]);
  });

  it('relu inplace is refused on a leaf that requires grad, allowed under noGrad', () => {
    const w = ck.tensor([-1, 2], [2], { requiresGrad: true });
    expectConvkitError(() => F.relu(w, { inplace: true }), 'relu(inplace)', 'leaf', 'requires grad', '[2]');
    expect(Array.from(w.dataSync())).toEqual([-1, 2]);
    ck.noGrad(() => F.relu(w, { inplace: true }));
    expect(Array.from(w.dataSync())).toEqual([0, 2]);
  });

  it('bad arguments are ConvkitErrors naming the op', () => {
    const x = ck.tensor([1, 2]);
    expectConvkitError(() => F.relu(ck.tensor([1], [1], { dtype: 'int32' })), 'relu', 'float32', 'int32');
    expectConvkitError(() => F.sigmoid(null as unknown as ck.Tensor), 'sigmoid', 'must be a Tensor');
    expectConvkitError(() => F.leakyRelu(x, { negativeSlope: Number.NaN }), 'leakyRelu', 'negativeSlope', 'NaN');
    expectConvkitError(() => F.elu(x, { alpha: Infinity }), 'elu', 'alpha');
    expectConvkitError(() => F.softplus(x, { beta: 0 }), 'softplus', 'beta', 'non-zero');
    expectConvkitError(() => F.hardtanh(x, { minVal: 2, maxVal: 1 }), 'hardtanh', 'minVal (2)', 'maxVal (1)');
    expectConvkitError(() => ck.clamp(x), 'clamp', 'at least one of min and max');
    expectConvkitError(() => ck.clamp(x, Number.NaN, 1), 'clamp', 'min', 'NaN');
  });
});
