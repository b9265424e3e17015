import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { naiveConvTranspose2d, randomArray, type NaiveConvGeometry, type Shape4 } from '../helpers/naive-conv.js';

const { F } = ck;

interface Case {
  name: string;
  x: Shape4;
  /** [Cin, Cout/groups, kh, kw] */
  w: Shape4;
  opts: ck.F.ConvTranspose2dOptions;
  pads: [number, number, number, number];
  /** Hand-computed: (H-1)*S - P_top - P_bottom + D*(F-1) + outputPadding + 1 */
  out: [number, number];
}

const cases: Case[] = [
  // (4-1)*1 - 0 + 2 + 0 + 1 = 6
  { name: 'stride 1', x: [2, 3, 4, 4], w: [3, 2, 3, 3], opts: {}, pads: [0, 0, 0, 0], out: [6, 6] },
  // (4-1)*2 - 2 + 2 + 1 + 1 = 8: the usual 2x upsampling
  { name: 'stride 2, padding 1, outputPadding 1', x: [2, 3, 4, 4], w: [3, 2, 3, 3], opts: { stride: 2, padding: 1, outputPadding: 1 }, pads: [1, 1, 1, 1], out: [8, 8] },
  // groups 2: Cin 4, Cout 2*3 = 6; (3-1)*2 + 3 = 7
  { name: 'groups 2', x: [1, 4, 3, 3], w: [4, 3, 3, 3], opts: { groups: 2, stride: 2 }, pads: [0, 0, 0, 0], out: [7, 7] },
  // dilation 2: (5-1)*1 + 2*(3-1) + 1 + 1 = 10; outputPadding 1 < dilation 2 is allowed at stride 1
  { name: 'dilation 2 with outputPadding < dilation', x: [1, 2, 5, 5], w: [2, 2, 3, 3], opts: { dilation: 2, outputPadding: 1 }, pads: [0, 0, 0, 0], out: [10, 10] },
  // asymmetric kernel and stride: h (3-1)*2 + 2 + 1 = 7, w (4-1)*3 - 2 + 4 + 1 = 12
  { name: 'kernel 3x5, stride [2, 3], padding [0, 1]', x: [2, 2, 3, 4], w: [2, 3, 3, 5], opts: { stride: [2, 3], padding: [0, 1] }, pads: [0, 0, 1, 1], out: [7, 12] },
  // [t, b, l, r] = [1, 0, 0, 2]: h (4-1)*2 - 1 + 2 + 1 = 8, w 6 - 2 + 2 + 1 = 7
  { name: 'asymmetric pads', x: [1, 2, 4, 4], w: [2, 2, 3, 3], opts: { stride: 2, padding: [1, 0, 0, 2] }, pads: [1, 0, 0, 2], out: [8, 7] },
  { name: '1x1 kernel', x: [2, 3, 3, 3], w: [3, 4, 1, 1], opts: {}, pads: [0, 0, 0, 0], out: [3, 3] },
];

function make(shape: readonly number[], seed: number): ck.Tensor {
  return ck.tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed), shape, { requiresGrad: true });
}

const pairOf = (v: ck.Pair | undefined, d: number): [number, number] => (v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1]]);

function dot(a: ck.Tensor, b: ck.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!;
  return s;
}

describeEachBackend('convTranspose2d', () => {
  it('hand-worked: a 2x2 input through a 2x2 all-ones filter', () => {
    const x = ck.tensor([[[[1, 2], [3, 4]]]]);
    const ones = ck.ones([1, 1, 2, 2]);
    // Stride 2: every pixel becomes a 2x2 block (nearest-neighbour upsampling).
    expect(F.convTranspose2d(x, ones, null, { stride: 2 }).toArray()).toEqual([[[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]]]);
    // Stride 1: overlapping blocks add up; plus a bias of 10.
    expect(F.convTranspose2d(x, ones, ck.tensor([10])).toArray()).toEqual([[[[11, 13, 12], [14, 20, 16], [13, 17, 14]]]]);
  });

  for (const c of cases) {
    it(`${c.name}: matches the naive scatter definition, gradients by finite differences`, () => {
      const x = make(c.x, 1);
      const w = make(c.w, 2);
      const cout = c.w[1] * (c.opts.groups ?? 1);
      const b = make([cout], 3);
      const y = F.convTranspose2d(x, w, b, c.opts);
      expect(y.shape).toEqual([c.x[0], cout, ...c.out]);
      const geom: NaiveConvGeometry = {
        stride: pairOf(c.opts.stride, 1),
        pads: c.pads,
        dilation: pairOf(c.opts.dilation, 1),
        groups: c.opts.groups ?? 1,
        out: c.out,
      };
      expectClose(y, naiveConvTranspose2d(x.dataSync(), c.x, w.dataSync(), c.w, b.dataSync(), geom), { atol: 1e-4 });
      // Linear in each argument: a large finite-difference step is exact and beats float32 noise.
      gradcheck((a, ww, bb) => F.convTranspose2d(a, ww, bb, c.opts), [x, w, b], { eps: 0.1, maxPerInput: 30 });
    });
  }

  it('is the adjoint of conv2d: <conv2d(u), v> = <u, convTranspose2d(v)>', () => {
    const w = make([4, 3, 3, 3], 4); // conv2d: 3 -> 4 channels; convTranspose2d: 4 -> 3
    const opts = { stride: 2, padding: 1, dilation: 1 };
    const u = make([2, 3, 9, 9], 5);
    const v = make([2, 4, 5, 5], 6);
    const lhs = dot(F.conv2d(u, w, null, opts), v);
    const rhs = dot(u, F.convTranspose2d(v, w, null, opts));
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-3 * Math.max(1, Math.abs(lhs)));
    // and the shape round trip: 9 -> 5 -> 9
    expect(F.convTranspose2d(v, w, null, opts).shape).toEqual([2, 3, 9, 9]);
  });

  it('bad inputs are ConvkitErrors that show the numbers', () => {
    const x = ck.zeros([1, 4, 5, 5]);
    const w = ck.zeros([4, 2, 3, 3]);
    expectConvkitError(() => F.convTranspose2d(x, w, null, { stride: 2, outputPadding: 2 }), 'outputPadding 2 along the height', 'stride (2)', 'dilation (1)');
    expectConvkitError(() => F.convTranspose2d(x, w, null, { outputPadding: 1 }), 'outputPadding 1', 'smaller than the stride (1)');
    expectConvkitError(() => F.convTranspose2d(ck.zeros([1, 3, 5, 5]), w), 'convTranspose2d: expected 4 input channels, got 3');
    expectConvkitError(() => F.convTranspose2d(x, w, null, { groups: 3 }), 'groups 3 must divide the input channels (4)');
    expectConvkitError(() => F.convTranspose2d(ck.zeros([1, 4, 1, 1]), w, null, { padding: 2 }), 'height output (1 - 1)*1 - 4 + 1*(3 - 1) + 0 + 1 = -1 is not positive');
    expectConvkitError(() => F.convTranspose2d(x, w, ck.zeros([4])), 'bias must have shape [2]');
    expectConvkitError(() => F.convTranspose2d(ck.zeros([4, 5, 5]), w), 'input must be 4-d', '.view(1, C, H, W)');
    expectConvkitError(() => F.convTranspose2d(x, w, null, { padding: 'same' as never }), "padding 'same' is not supported here");
    expectConvkitError(() => F.convTranspose2d(x, w, null, { padding: -1 }), 'non-negative');
    expectConvkitError(() => F.convTranspose2d(x, w, null, { output_padding: 1 } as never), "unknown option 'output_padding'");
  });
});
