import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { naivePad, naivePadGrad, randomArray, type NaivePadMode } from '../helpers/naive-conv.js';

const { F } = ck;

describeEachBackend('pad', () => {
  // Hand-worked, and the same as torch.nn.functional.pad(torch.tensor([[[1., 2, 3]]]), (2, 2), mode=...).
  const oneD: { mode: NaivePadMode; value?: number; out: number[] }[] = [
    { mode: 'constant', value: 9, out: [9, 9, 1, 2, 3, 9, 9] },
    { mode: 'reflect', out: [3, 2, 1, 2, 3, 2, 1] },
    { mode: 'replicate', out: [1, 1, 1, 2, 3, 3, 3] },
    { mode: 'circular', out: [2, 3, 1, 2, 3, 1, 2] },
  ];
  for (const c of oneD) {
    it(`hand-worked '${c.mode}' padding of [1, 2, 3] by [2, 2]`, () => {
      const opts = c.value === undefined ? { mode: c.mode } : { mode: c.mode, value: c.value };
      expect(F.pad(ck.tensor([[[1, 2, 3]]]), [2, 2], opts).toArray()).toEqual([[c.out]]);
      // 1-d input too
      expect(F.pad(ck.tensor([1, 2, 3]), [2, 2], opts).toArray()).toEqual(c.out);
    });
  }

  it('hand-worked 2-d: [left, right, top, bottom] order', () => {
    const x = ck.tensor([[[[1, 2], [3, 4]]]]);
    // left 1, bottom 1, reflect (PyTorch gives the same)
    expect(F.pad(x, [1, 0, 0, 1], { mode: 'reflect' }).toArray()).toEqual([[[[2, 1, 2], [4, 3, 4], [2, 1, 2]]]]);
    // top 1 only, zeros
    expect(F.pad(x, [0, 0, 1, 0]).toArray()).toEqual([[[[0, 0], [1, 2], [3, 4]]]]);
    // negative pads crop in constant mode: drop the first column, add one on the right
    expect(F.pad(ck.tensor([[1, 2, 3, 4]]), [-1, 1]).toArray()).toEqual([[2, 3, 4, 0]]);
  });

  it('hand-worked gradients: pixels read several times collect every gradient', () => {
    // reflect [1,2,3] by [2,2] reads x[2],x[1],x[0],x[1],x[2],x[1],x[0] -> counts [2, 3, 2]
    const x = ck.tensor([1, 2, 3], [3], { requiresGrad: true });
    F.sum(F.pad(x, [2, 2], { mode: 'reflect' })).backward();
    expect([...x.grad!.dataSync()]).toEqual([2, 3, 2]);
    const y = ck.tensor([1, 2, 3], [3], { requiresGrad: true });
    F.sum(F.pad(y, [2, 0], { mode: 'replicate' })).backward();
    expect([...y.grad!.dataSync()]).toEqual([3, 1, 1]);
    const z = ck.tensor([1, 2, 3], [3], { requiresGrad: true });
    F.sum(F.pad(z, [2, 1], { value: 5 })).backward();
    expect([...z.grad!.dataSync()]).toEqual([1, 1, 1]);
  });

  const random: { shape: number[]; pad: number[]; mode: NaivePadMode; value?: number }[] = [
    { shape: [2, 3, 4, 5], pad: [1, 2, 3, 0], mode: 'constant', value: -1.5 },
    { shape: [2, 3, 4, 5], pad: [3, 4, 3, 2], mode: 'reflect' },
    { shape: [1, 2, 3, 4], pad: [5, 0, 1, 6], mode: 'replicate' },
    { shape: [2, 1, 4, 5], pad: [5, 5, 4, 2], mode: 'circular' },
    { shape: [3, 4, 5], pad: [2, 1, 0, 3], mode: 'reflect' },
    { shape: [2, 6], pad: [1, 2], mode: 'circular' },
  ];
  for (const c of random) {
    it(`'${c.mode}' pad ${JSON.stringify(c.pad)} of ${JSON.stringify(c.shape)} matches naive padding, forward and backward`, () => {
      const n = c.shape.reduce((a, b) => a * b, 1);
      const x = ck.tensor(randomArray(n, 1), c.shape, { requiresGrad: true });
      const y = F.pad(x, c.pad, { mode: c.mode, ...(c.value === undefined ? {} : { value: c.value }) });
      const pads: [number, number, number, number] = c.pad.length === 4 ? [c.pad[2]!, c.pad[3]!, c.pad[0]!, c.pad[1]!] : [0, 0, c.pad[0]!, c.pad[1]!];
      const kShape = c.shape.length === 1 ? [1, ...c.shape] : c.shape;
      const ref = naivePad(x.dataSync(), kShape, pads, c.mode, c.value ?? 0);
      expect(y.shape).toEqual(c.shape.length === 1 ? ref.shape.slice(1) : ref.shape);
      expectClose(y, ref.data);
      const dy = randomArray(y.size, 2);
      y.backward(ck.tensor(dy, y.shape));
      expectClose(x.grad!, naivePadGrad(dy, kShape, pads, c.mode), { atol: 1e-5 });
      gradcheck((a) => F.pad(a, c.pad, { mode: c.mode }), [ck.randn(c.shape, { seed: 3, requiresGrad: true })], { eps: 0.1 });
    });
  }

  it('bad pads are ConvkitErrors that say what to change', () => {
    const x = ck.zeros([1, 1, 3, 4]);
    expectConvkitError(() => F.pad(x, [4, 0], { mode: 'reflect' }), 'reflect padding of 4 on the left must be smaller than the width 4', "mode 'replicate'");
    expectConvkitError(() => F.pad(x, [0, 0, 0, 3], { mode: 'reflect' }), 'reflect padding of 3 on the bottom', 'height 3');
    expectConvkitError(() => F.pad(x, [5, 0], { mode: 'circular' }), 'circular padding of 5', 'at most the width 4');
    expectConvkitError(() => F.pad(x, [-1, 0], { mode: 'replicate' }), 'negative left padding (-1)', "only mode 'constant'");
    expectConvkitError(() => F.pad(x, [-2, -2]), 'crops [1, 1, 3, 4] to nothing');
    expectConvkitError(() => F.pad(x, [1, 1, 1]), 'pad must be 2 integers [left, right]', '[1,1,1]');
    expectConvkitError(() => F.pad(x, [1.5, 1]), 'pad must be 2 integers');
    expectConvkitError(() => F.pad(ck.zeros([4]), [1, 1, 1, 1]), 'at least 2', '[4]');
    expectConvkitError(() => F.pad(x, [1, 1], { mode: 'wrap' as never }), "mode must be one of 'constant'", 'wrap');
    expectConvkitError(() => F.pad(x, [1, 1], { mode: 'reflect', value: 2 }), "value 2 only applies to mode 'constant'");
    expectConvkitError(() => F.pad(x, [1, 1], { fill: 2 } as never), "unknown option 'fill'");
  });
});
