import { afterEach, beforeEach, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { describeEachBackend } from '../helpers/backends.js';

const { F } = ck;

/*
 * Elementwise ops on views (transpose, permute, slices, broadcasts) read the view in place:
 * values and gradients bit for bit those of the same ops on .contiguous() copies, and no
 * strided view is copied out (Tensor.values on a non-contiguous tensor) on the way.
 */

function bits(t: Tensor): number[] {
  return Array.from(t.values() as Float32Array, (v) => (Number.isNaN(v) ? NaN : Object.is(v, -0) ? -0 : v));
}
function expectBits(a: Tensor, b: Tensor, what: string): void {
  expect(a.shape, what).toEqual(b.shape);
  expect(bits(a), what).toEqual(bits(b));
}

/** Counts copies of strided views made through Tensor.values. */
let copies = 0;
const original = Tensor.prototype.values;
beforeEach(() => {
  copies = 0;
  Tensor.prototype.values = function (this: Tensor) {
    if (!this.isContiguous()) copies++;
    return original.call(this);
  };
});
afterEach(() => {
  Tensor.prototype.values = original;
});

type View = (x: Tensor) => Tensor;
const VIEWS: { name: string; shape: number[]; make: View }[] = [
  { name: 'transpose', shape: [37, 129], make: (x) => x.transpose(0, 1) },
  { name: 'permute NHWC', shape: [2, 8, 13, 11], make: (x) => x.permute(0, 2, 3, 1) },
  { name: 'permute small', shape: [1, 3, 2, 5], make: (x) => x.permute(3, 1, 0, 2) },
];

/** A channel slice [:, c0:c1] of a contiguous NCHW tensor, as a view sharing its storage. */
function channelSlice(x: Tensor, c0: number, c1: number): Tensor {
  const [n, , h, w] = x.shape as [number, number, number, number];
  return new Tensor(x.storage, [n, c1 - c0, h, w], x.strides, x.offset + c0 * h * w);
}

describeEachBackend('elementwise ops on views', () => {
  for (const v of VIEWS) {
    it(`${v.name}: forward and gradients of add, mul, div, maximum, relu, sigmoid, tanh equal the contiguous path`, () => {
      const run = (copy: boolean) => {
        const x = ck.randn(v.shape, { seed: 1, requiresGrad: true });
        const vx = copy ? v.make(x).contiguous() : v.make(x);
        const w = ck.randn(vx.shape, { seed: 2, requiresGrad: true });
        const row = ck.randn([vx.shape.at(-1)!], { seed: 3 });
        const outs = [
          F.add(vx, w), F.add(w, vx, { activation: 'relu' }), F.mul(vx, w), F.div(vx, F.add(w, 3)), F.maximum(vx, w),
          F.sub(vx, row), F.mul(row, vx), F.relu(vx), F.sigmoid(vx), F.tanh(vx), F.leakyRelu(vx, { negativeSlope: 0.1 }),
        ];
        let loss = F.sum(F.mul(outs[0]!, 0.5));
        for (const o of outs.slice(1)) loss = F.add(loss, F.sum(o));
        loss.backward();
        return { outs, gx: x.grad!, gw: w.grad! };
      };
      const base = run(true);
      copies = 0;
      const viewed = run(false);
      expect(copies, 'strided copies').toBe(0);
      viewed.outs.forEach((o, i) => expectBits(o, base.outs[i]!, `output ${i}`));
      expectBits(viewed.gx, base.gx, 'x.grad');
      expectBits(viewed.gw, base.gw, 'w.grad');
    });
  }

  it('channel slices of NCHW tensors (offset + gaps), both operands views, no copy', () => {
    const a = ck.randn([3, 10, 17, 9], { seed: 4 });
    const b = ck.randn([3, 7, 17, 9], { seed: 5 });
    const sa = channelSlice(a, 2, 8), sb = channelSlice(b, 1, 7);
    copies = 0;
    const got = [F.add(sa, sb), F.mul(sa, sb), F.relu(sa), F.sigmoid(sb), F.pow(F.abs(sa), sb)];
    expect(copies).toBe(0);
    const ca = sa.contiguous(), cb = sb.contiguous();
    const want = [F.add(ca, cb), F.mul(ca, cb), F.relu(ca), F.sigmoid(cb), F.pow(F.abs(ca), cb)];
    got.forEach((g, i) => expectBits(g, want[i]!, `op ${i}`));
  });

  it('NaN, infinities and signed zeros through a transposed view', () => {
    const x = ck.tensor([[0, -0, NaN], [Infinity, -Infinity, 1]]);
    const t = x.transpose(0, 1);
    for (const f of [F.relu, F.sigmoid, F.tanh, (u: Tensor) => F.mul(u, u), (u: Tensor) => F.maximum(u, 0)]) {
      expectBits(f(t), f(t.contiguous()), String(f));
    }
  });
});
