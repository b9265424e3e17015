import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';

const { nn, F } = ck;

type Layer = ck.nn.Module & { outputShape(s: readonly number[]): number[] };

/** [layer, the functional op it must equal, its describe()]. */
const layers: [string, () => Layer, (x: ck.Tensor) => ck.Tensor, string][] = [
  ['ReLU', () => new nn.ReLU(), (x) => F.relu(x), 'ReLU()'],
  ['LeakyReLU', () => new nn.LeakyReLU({ negativeSlope: 0.2 }), (x) => F.leakyRelu(x, { negativeSlope: 0.2 }), 'LeakyReLU(negativeSlope=0.2)'],
  ['ELU', () => new nn.ELU({ alpha: 0.5 }), (x) => F.elu(x, { alpha: 0.5 }), 'ELU(alpha=0.5)'],
  ['SELU', () => new nn.SELU(), (x) => F.selu(x), 'SELU()'],
  ['Sigmoid', () => new nn.Sigmoid(), (x) => F.sigmoid(x), 'Sigmoid()'],
  ['Tanh', () => new nn.Tanh(), (x) => F.tanh(x), 'Tanh()'],
  ['Softplus', () => new nn.Softplus({ beta: 2, threshold: 5 }), (x) => F.softplus(x, { beta: 2, threshold: 5 }), 'Softplus(beta=2, threshold=5)'],
  ['Hardtanh', () => new nn.Hardtanh({ minVal: -0.5, maxVal: 2 }), (x) => F.hardtanh(x, { minVal: -0.5, maxVal: 2 }), 'Hardtanh(minVal=-0.5, maxVal=2)'],
  ['PReLU', () => new nn.PReLU(3, { init: 0.1 }), (x) => F.prelu(x, ck.full([3], 0.1)), 'PReLU(numParameters=3)'],
  ['Softmax', () => new nn.Softmax(1), (x) => F.softmax(x, 1), 'Softmax(dim=1)'],
  ['LogSoftmax', () => new nn.LogSoftmax(-1), (x) => F.logSoftmax(x, -1), 'LogSoftmax(dim=-1)'],
  ['Identity', () => new nn.Identity(), (x) => x, 'Identity()'],
];

describeEachBackend('activation layers', () => {
  it.each(layers)('%s: forward, outputShape, describe, config round trip', (_name, make, op, text) => {
    const layer = make();
    const x = ck.randn([2, 3, 4], { seed: 1 });
    const y = layer.forward(x as never);
    expectClose(y, op(x));
    expect(layer.outputShape([2, 3, 4])).toEqual([2, 3, 4]);
    expect(layer.describe()).toBe(text);
    const rebuilt = nn.fromConfig(JSON.parse(JSON.stringify(layer.getConfig())));
    expect(rebuilt.describe()).toBe(text);
    expectClose(rebuilt.forward(x as never), y);
  });

  it('hand-worked values through the layers', () => {
    const x = ck.tensor([-2, 0.5]);
    expect(new nn.ReLU().forward(x).toArray()).toEqual([0, 0.5]);
    expectClose(new nn.LeakyReLU().forward(x), [-0.02, 0.5]);
    expectClose(new nn.Hardtanh().forward(ck.tensor([-2, 0.5, 3])), [-1, 0.5, 1]);
  });

  it('ReLU inplace overwrites a non-leaf input', () => {
    const w = ck.tensor([-1, 2], [2], { requiresGrad: true });
    const h = F.mul(w, 1);
    const out = new nn.ReLU({ inplace: true }).forward(h);
    expect(out).toBe(h);
    expect(new nn.ReLU({ inplace: true }).describe()).toBe('ReLU(inplace=true)');
  });

  it('PReLU learns its slopes', () => {
    const layer = new nn.PReLU();
    expect(layer.weight.shape).toEqual([1]);
    expect(layer.weight.item()).toBe(0.25);
    expect(layer.parameters()).toHaveLength(1);
    F.sum(layer.forward(ck.tensor([[-2, 3], [-1, 1]]))).backward();
    expectClose(layer.weight.grad!, [-3]);
    expectConvkitError(() => new nn.PReLU(4).forward(ck.zeros([2, 3, 5])), 'PReLU', 'prelu', '[4]', '3');
  });

  it('bad hyperparameters fail at construction', () => {
    expectConvkitError(() => new nn.LeakyReLU({ negativeSlope: Number.NaN }), 'LeakyReLU', 'negativeSlope');
    expectConvkitError(() => new nn.Softplus({ beta: 0 }), 'Softplus', 'beta');
    expectConvkitError(() => new nn.Hardtanh({ minVal: 1, maxVal: 0 }), 'Hardtanh', 'minVal (1)');
    expectConvkitError(() => new nn.Softmax(undefined as unknown as number), 'Softmax', 'dim must be an integer');
    expectConvkitError(() => new nn.PReLU(0), 'PReLU', 'numParameters', '0');
    expectConvkitError(() => new nn.ELU({ alfa: 1 } as { alpha?: number }), "unknown option 'alfa'");
  });
});
