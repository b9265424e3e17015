import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { kernel } from '../../src/backend/registry.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { naiveConv2d, naiveConv2dGrads, naivePad, naivePadGrad, randomArray, type NaiveConvGeometry, type Shape4 } from '../helpers/naive-conv.js';

const { F } = ck;

/**
 * The CS231n "Convolution Demo" setup: a 5x5x3 input, two 3x3x3 filters, stride 2, pad 1 ->
 * a 3x3x2 output. The 18 expected integers were computed with a few lines of plain Python
 * loops (no numpy, no convkit) and checked against torch.nn.functional.conv2d; the first one
 * by hand: out[0][0][0] = (0) + (1 + 1 - 2 + 0) + (2) + bias 1 = 3.
 */
const HAND_X = [
  [[0, 1, 1, 0, 1], [1, 1, 2, 1, 0], [1, 1, 2, 0, 0], [1, 1, 2, 0, 0], [1, 1, 2, 2, 2]],
  [[1, 1, 1, 0, 1], [2, 0, 1, 2, 0], [1, 0, 1, 1, 1], [2, 0, 0, 2, 0], [2, 1, 1, 1, 2]],
  [[2, 0, 0, 1, 2], [2, 1, 1, 2, 1], [0, 1, 0, 1, 1], [0, 1, 1, 1, 1], [2, 2, 0, 0, 1]],
];
const HAND_W = [
  [[[1, 0, 1], [-1, -1, 0], [1, 0, 0]], [[1, 0, 1], [1, 1, 1], [1, -1, -1]], [[-1, 1, 1], [0, 1, -1], [1, 0, 0]]],
  [[[1, -1, 1], [0, -1, -1], [0, -1, -1]], [[1, -1, -1], [-1, 1, 1], [-1, 0, 1]], [[1, 0, 0], [1, -1, 1], [0, 1, 0]]],
];
const HAND_B = [1, 0];
const HAND_OUT = [
  [[3, -1, 8], [2, 5, 9], [5, 5, 3]],
  [[-1, 0, -2], [-4, 1, 4], [-1, -3, 1]],
];

interface Case {
  name: string;
  x: Shape4;
  w: Shape4;
  opts: ck.F.Conv2dOptions;
  /** Hand-computed geometry for the naive loops: [top, bottom, left, right] and the output size. */
  pads: [number, number, number, number];
  out: [number, number];
  bias?: boolean;
}

const cases: Case[] = [
  { name: '3x3 pad 1, batch 2', x: [2, 3, 6, 6], w: [4, 3, 3, 3], opts: { padding: 1 }, pads: [1, 1, 1, 1], out: [6, 6] },
  // (11 + 2 - 3)/3 + 1 = 4.33 -> floor 4; (8 + 2 - 3)/3 + 1 = 3.33 -> 3
  { name: 'stride 3 (floor)', x: [1, 2, 11, 8], w: [3, 2, 3, 3], opts: { stride: 3, padding: 1, fit: 'floor' }, pads: [1, 1, 1, 1], out: [4, 3] },
  // dilation 2: effective 5; (9 - 5)/1 + 1 = 5, (7 + 4 - 5) + 1 = 7
  { name: 'dilation 2', x: [2, 2, 9, 7], w: [3, 2, 3, 3], opts: { dilation: 2, padding: [0, 2] }, pads: [0, 0, 2, 2], out: [5, 7] },
  { name: 'groups 2', x: [2, 4, 5, 5], w: [6, 2, 3, 3], opts: { groups: 2, padding: 1 }, pads: [1, 1, 1, 1], out: [5, 5] },
  { name: 'depthwise', x: [2, 3, 6, 5], w: [3, 1, 3, 3], opts: { groups: 3, padding: 1 }, pads: [1, 1, 1, 1], out: [6, 5] },
  { name: 'depthwise multiplier 2, stride 2', x: [1, 3, 7, 7], w: [6, 1, 3, 3], opts: { groups: 3, stride: 2 }, pads: [0, 0, 0, 0], out: [3, 3] },
  { name: 'asymmetric kernel 3x5', x: [2, 2, 7, 9], w: [3, 2, 3, 5], opts: { padding: [1, 2] }, pads: [1, 1, 2, 2], out: [7, 9] },
  { name: 'odd sizes, stride [2, 3]', x: [3, 3, 7, 11], w: [2, 3, 3, 2], opts: { stride: [2, 3] }, pads: [0, 0, 0, 0], out: [3, 4] },
  { name: '1x1 (pointwise)', x: [3, 5, 4, 6], w: [7, 5, 1, 1], opts: {}, pads: [0, 0, 0, 0], out: [4, 6] },
  { name: '1x1 with groups', x: [2, 4, 3, 3], w: [6, 2, 1, 1], opts: { groups: 2 }, pads: [0, 0, 0, 0], out: [3, 3] },
  { name: '1x1 stride 2', x: [2, 3, 5, 5], w: [4, 3, 1, 1], opts: { stride: 2 }, pads: [0, 0, 0, 0], out: [3, 3] },
  { name: 'asymmetric pads [t,b,l,r]', x: [2, 2, 5, 6], w: [3, 2, 3, 3], opts: { padding: [0, 2, 1, 0] }, pads: [0, 2, 1, 0], out: [5, 5] },
  // 'same' with an even effective kernel: total 3 rows -> 1 on top, 2 at the bottom (PyTorch's choice)
  { name: "'same', 4x2 kernel", x: [2, 2, 6, 5], w: [3, 2, 4, 2], opts: { padding: 'same' }, pads: [1, 2, 0, 1], out: [6, 5] },
  { name: "'same' with dilation 2", x: [1, 2, 7, 7], w: [2, 2, 3, 2], opts: { padding: 'same', dilation: 2 }, pads: [2, 2, 1, 1], out: [7, 7] },
  { name: "'valid'", x: [1, 2, 6, 7], w: [2, 2, 3, 3], opts: { padding: 'valid' }, pads: [0, 0, 0, 0], out: [4, 5] },
  // ceil: (10 - 3)/2 + 1 = 4.5 -> 5; the last window overhangs into implicit zeros
  { name: "fit 'ceil'", x: [1, 2, 10, 10], w: [2, 2, 3, 3], opts: { stride: 2, fit: 'ceil' }, pads: [0, 0, 0, 0], out: [5, 5] },
  { name: 'no bias', x: [2, 3, 5, 5], w: [4, 3, 3, 3], opts: { padding: 1 }, pads: [1, 1, 1, 1], out: [5, 5], bias: false },
];

const padModeCases: { mode: 'reflect' | 'replicate' | 'circular'; padding: ck.F.ConvPadding; pads: [number, number, number, number] }[] = [
  { mode: 'reflect', padding: 2, pads: [2, 2, 2, 2] },
  { mode: 'replicate', padding: [1, 2], pads: [1, 1, 2, 2] },
  { mode: 'circular', padding: 1, pads: [1, 1, 1, 1] },
  { mode: 'reflect', padding: 'same', pads: [1, 1, 1, 1] },
];

function make(shape: readonly number[], seed: number): ck.Tensor {
  return ck.tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed), shape, { requiresGrad: true });
}

describeEachBackend('conv2d', () => {
  it('hand-worked CS231n example: 5x5x3 input, two 3x3x3 filters, stride 2, pad 1', () => {
    const x = ck.tensor([HAND_X]);
    const y = F.conv2d(x, ck.tensor(HAND_W), ck.tensor(HAND_B), { stride: 2, padding: 1 });
    expect(y.shape).toEqual([1, 2, 3, 3]);
    expect(y.toArray()).toEqual([HAND_OUT]);
  });

  it("'same' puts the extra pad of an even kernel at the end (hand-worked)", () => {
    // out[j] = x[j] + 10 x[j+1] with x[4] = 0 (the pad is on the right); PyTorch agrees.
    const y = F.conv2d(ck.tensor([1, 2, 3, 4], [1, 1, 1, 4]), ck.tensor([1, 10], [1, 1, 1, 2]), null, { padding: 'same' });
    expect(y.toArray()).toEqual([[[[21, 32, 43, 4]]]]);
  });

  for (const c of cases) {
    it(`${c.name}: forward and both backward passes match the naive 7-loop convolution`, () => {
      const x = make(c.x, 1);
      const w = make(c.w, 2);
      const b = c.bias === false ? null : make([c.w[0]], 3);
      const y = F.conv2d(x, w, b, c.opts);
      const geom: NaiveConvGeometry = { stride: toPair(c.opts.stride), pads: c.pads, dilation: toPair(c.opts.dilation), groups: c.opts.groups ?? 1, out: c.out };
      expect(y.shape).toEqual([c.x[0], c.w[0], ...c.out]);
      expectClose(y, naiveConv2d(x.dataSync(), c.x, w.dataSync(), c.w, b && b.dataSync(), geom), { atol: 1e-4, what: 'forward' });
      const dy = randomArray(y.size, 4);
      y.backward(ck.tensor(dy, y.shape));
      const ref = naiveConv2dGrads(x.dataSync(), c.x, w.dataSync(), c.w, dy, geom);
      expectClose(x.grad!, ref.dx, { atol: 1e-4, what: 'dx' });
      expectClose(w.grad!, ref.dw, { atol: 1e-4, what: 'dw' });
      if (b) expectClose(b.grad!, ref.db, { atol: 1e-4, what: 'db' });
    });
  }

  for (const p of padModeCases) {
    it(`paddingMode '${p.mode}' (padding ${JSON.stringify(p.padding)}) matches naive padding + naive convolution`, () => {
      const xs: Shape4 = [2, 2, 5, 6];
      const ws: Shape4 = [3, 2, 3, 3];
      const x = make(xs, 5);
      const w = make(ws, 6);
      const b = make([3], 7);
      const y = F.conv2d(x, w, b, { padding: p.padding, paddingMode: p.mode });
      const padded = naivePad(x.dataSync(), xs, p.pads, p.mode);
      const ps = padded.shape as Shape4;
      // After explicit padding it is a plain 'valid' 3x3 convolution.
      const g: NaiveConvGeometry = { stride: [1, 1], pads: [0, 0, 0, 0], dilation: [1, 1], groups: 1, out: [ps[2] - 2, ps[3] - 2] };
      expectClose(y, naiveConv2d(padded.data, ps, w.dataSync(), ws, b.dataSync(), g), { atol: 1e-4 });
      const dy = randomArray(y.size, 8);
      y.backward(ck.tensor(dy, y.shape));
      const ref = naiveConv2dGrads(padded.data, ps, w.dataSync(), ws, dy, g);
      expectClose(x.grad!, naivePadGrad(ref.dx, xs, p.pads, p.mode), { atol: 1e-4, what: 'dx through the padding' });
      expectClose(w.grad!, ref.dw, { atol: 1e-4, what: 'dw' });
    });
  }

  it('gradcheck of x, w and b across options', () => {
    const variants: { xs: Shape4; ws: Shape4; opts: ck.F.Conv2dOptions }[] = [
      { xs: [2, 2, 5, 5], ws: [3, 2, 3, 3], opts: { padding: 1 } },
      { xs: [1, 2, 7, 7], ws: [2, 2, 3, 3], opts: { stride: 2 } },
      { xs: [1, 2, 7, 6], ws: [2, 2, 3, 2], opts: { dilation: 2, padding: [0, 2, 1, 0] } },
      { xs: [2, 4, 4, 4], ws: [4, 2, 3, 3], opts: { groups: 2, padding: 'same' } },
      { xs: [1, 3, 5, 5], ws: [3, 1, 3, 3], opts: { groups: 3, paddingMode: 'reflect', padding: 1 } },
      { xs: [1, 2, 4, 5], ws: [2, 2, 3, 3], opts: { paddingMode: 'circular', padding: 1 } },
      { xs: [1, 2, 5, 5], ws: [2, 2, 3, 3], opts: { paddingMode: 'replicate', padding: 2, stride: 2 } },
      { xs: [1, 2, 8, 8], ws: [2, 2, 3, 3], opts: { stride: 3, fit: 'ceil' } },
    ];
    variants.forEach((v, i) => {
      const x = ck.randn(v.xs, { seed: 10 + i, requiresGrad: true });
      const w = ck.randn(v.ws, { seed: 20 + i, requiresGrad: true });
      const b = ck.randn([v.ws[0]], { seed: 30 + i, requiresGrad: true });
      // conv2d is linear in each argument, so central differences are exact for any step: a
      // large one keeps float32 rounding of the outputs from swamping the difference.
      gradcheck((a, bw, bb) => F.conv2d(a, bw, bb, v.opts), [x, w, b], { eps: 0.1, maxPerInput: 40 });
    });
  });

  it('the Conv2D kernel fuses bias and ReLU when asked', () => {
    const xs: Shape4 = [2, 2, 4, 4];
    const ws: Shape4 = [3, 2, 3, 3];
    const x = randomArray(64, 11);
    const w = randomArray(54, 12);
    const b = randomArray(3, 13);
    const got = kernel('Conv2D')(
      { data: Float32Array.from(x), shape: xs },
      { data: Float32Array.from(w), shape: ws },
      { data: Float32Array.from(b), shape: [3] },
      { kernel: [3, 3], stride: [1, 1], pad: [1, 1, 1, 1], dilation: [1, 1], out: [4, 4], groups: 1, activation: 'relu' },
    );
    const ref = naiveConv2d(x, xs, w, ws, b, { stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], groups: 1, out: [4, 4] });
    expect(ref.some((v) => v < 0)).toBe(true);
    expectClose(got, ref.map((v) => Math.max(v, 0)), { atol: 1e-5 });
  });

  it('works on non-contiguous inputs (a permuted view)', () => {
    const base = make([2, 5, 5, 3], 14); // NHWC
    const x = base.permute(0, 3, 1, 2);
    const w = make([2, 3, 3, 3], 15);
    const y = F.conv2d(x, w, null, { padding: 1 });
    const xc = x.contiguous().dataSync();
    expectClose(y, naiveConv2d(xc, [2, 3, 5, 5], w.dataSync(), [2, 3, 3, 3], null, { stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], groups: 1, out: [5, 5] }), { atol: 1e-4 });
  });

  it('bad inputs are ConvkitErrors that show the numbers', () => {
    const x10 = ck.zeros([1, 3, 10, 10]);
    const w3 = ck.zeros([2, 3, 3, 3]);
    expectConvkitError(() => F.conv2d(x10, w3, null, { stride: 2 }), 'conv2d', '(10 - 3 + 2*0)/2 + 1 = 4.5 is not an integer', "fit: 'floor'");
    expectConvkitError(() => F.conv2d(ck.zeros([1, 3, 8, 8]), ck.zeros([64, 64, 3, 3])), 'conv2d: expected 64 input channels, got 3');
    expectConvkitError(() => F.conv2d(ck.zeros([1, 6, 8, 8]), ck.zeros([4, 2, 3, 3]), null, { groups: 3 }), 'groups 3 must divide', 'output channels (4)');
    expectConvkitError(() => F.conv2d(ck.zeros([1, 6, 8, 8]), ck.zeros([6, 4, 3, 3]), null, { groups: 2 }), 'expected 8 input channels, got 6', 'groups 2');
    expectConvkitError(() => F.conv2d(ck.zeros([3, 8, 8]), w3), 'input must be 4-d', '[3, 8, 8]', '.view(1, C, H, W)');
    expectConvkitError(() => F.conv2d(x10, ck.zeros([2, 3, 3])), 'weight must be 4-d');
    expectConvkitError(() => F.conv2d(ck.zeros([1, 3, 4, 4]), ck.zeros([2, 3, 7, 7]), null, { padding: 1 }), 'larger than the padded input', '4 + 2 padding = 6');
    expectConvkitError(() => F.conv2d(x10, w3, null, { padding: -1 }), 'padding must hold non-negative integers', '-1');
    expectConvkitError(() => F.conv2d(x10, w3, null, { padding: [1, 2, 3] as never }), 'padding must be a number, [h, w], [top, bottom, left, right]');
    expectConvkitError(() => F.conv2d(x10, w3, null, { padding: 'same', stride: 2 }), "padding 'same' needs stride 1", '[2, 2]');
    expectConvkitError(() => F.conv2d(x10, w3, ck.zeros([3])), 'bias must have shape [2]', 'got [3]');
    expectConvkitError(() => F.conv2d(x10, w3, null, { stride: 0 }), 'stride must be a positive integer');
    expectConvkitError(() => F.conv2d(x10, w3, null, { dilation: 1.5 }), 'dilation must be a positive integer');
    expectConvkitError(() => F.conv2d(x10, w3, null, { groups: 0 }), 'groups must be a positive integer');
    expectConvkitError(() => F.conv2d(x10, w3, null, { paddingMode: 'mirror' as never }), "paddingMode must be one of 'zeros'", 'mirror');
    expectConvkitError(() => F.conv2d(x10, w3, null, { padding_mode: 'reflect' } as never), "unknown option 'padding_mode'", 'paddingMode');
    expectConvkitError(() => F.conv2d(x10, w3, null, { fit: 'round' as never }), "fit must be 'strict', 'floor' or 'ceil'");
    expectConvkitError(() => F.conv2d(ck.zeros([1, 3, 4, 4]), w3, null, { padding: 4, paddingMode: 'reflect' }), "paddingMode 'reflect'", 'reflect padding of 4', 'smaller than the height 4');
    expectConvkitError(() => F.conv2d([1, 2] as never, w3), 'conv2d: input must be a Tensor');
    expectConvkitError(() => F.conv2d(ck.zeros([1, 3, 5, 5], { dtype: 'int32' }), w3), 'must be float32');
  });
});

function toPair(v: ck.Pair | undefined): [number, number] {
  return v === undefined ? [1, 1] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
}
