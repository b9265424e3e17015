import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';

/**
 * The folded eval batch norm (BatchNorm2d.foldedAffine) is reused across inference steps while
 * the numbers it came from are unchanged. Every way those numbers change in place must show in
 * the next step: running statistics, weight, bias, the convolution's bias, eps. Checked against
 * the layers run one by one (no fusion).
 */
const { nn } = ck;

describeEachBackend('eval batch norm folded into the convolution: the fold follows its numbers', () => {
  it('reuses the fold while nothing changes, and recomputes after every in-place change', () => {
    ck.manualSeed(7);
    const conv = new nn.Conv2d(3, 5, 3, { padding: 1 });
    const bn = new nn.BatchNorm2d(5);
    const relu = new nn.ReLU();
    const model = new nn.Sequential(conv, bn, relu);
    model.eval();
    const x = ck.randn([2, 3, 6, 7]);
    const fused = (): Float32Array => ck.tidy(() => ck.noGrad(() => Float32Array.from(model.forward(x).dataSync())));
    const oneByOne = (): Float32Array => ck.tidy(() => ck.noGrad(() => Float32Array.from(relu.forward(bn.forward(conv.forward(x))).dataSync())));
    const first = fused();
    expectClose(first, oneByOne(), { rtol: 1e-5, atol: 1e-5, what: 'first step' });
    const fold1 = bn.foldedAffine(conv.bias);
    expect(bn.foldedAffine(conv.bias).scale, 'unchanged numbers: the same fold').toBe(fold1.scale);
    expect(Array.from(fused())).toEqual(Array.from(first));
    const changes: [string, () => void][] = [
      ['running mean', () => void (bn.runningMean!.values()[1]! += 0.5)],
      ['running variance', () => void (bn.runningVar!.values()[2]! *= 3)],
      ['weight', () => void (bn.weight!.values()[0]! = -2)],
      ['bias', () => void (bn.bias!.values()[4]! += 1)],
      ['conv bias', () => void (conv.bias!.values()[3]! -= 0.75)],
      ['eps', () => void ((bn as unknown as { eps: number }).eps = 0.5)],
    ];
    let before = first;
    for (const [what, change] of changes) {
      change();
      const after = fused();
      expect(Array.from(after), `${what}: the output changes`).not.toEqual(Array.from(before));
      expectClose(after, oneByOne(), { rtol: 1e-5, atol: 1e-5, what });
      before = after;
    }
  });
});
