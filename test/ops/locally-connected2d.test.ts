import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { randomArray } from '../helpers/naive-conv.js';

const { F } = ck;

interface Geometry {
  stride: [number, number];
  pads: [number, number, number, number];
  dilation: [number, number];
}

/**
 * The definition: y[n,k,oy,ox] = b[k,oy,ox] + sum_{c,i,j} w[oy,ox,k,c,i,j] x[n,c,iy,ix], with
 * iy = oy*S - P_top + i*D (zero outside the input). Returns y and, for a given dy, the
 * gradients dx, dw, db straight from the same sum.
 */
function naiveLc(x: number[], xs: number[], w: number[], ws: number[], b: number[], g: Geometry, dy: number[]) {
  const [n, c, h, wd] = xs as [number, number, number, number];
  const [oh, ow, k, , kh, kw] = ws as [number, number, number, number, number, number];
  const y = new Array<number>(n * k * oh * ow).fill(0);
  const dx = new Array<number>(x.length).fill(0);
  const dw = new Array<number>(w.length).fill(0);
  const db = new Array<number>(b.length).fill(0);
  for (let bi = 0; bi < n; bi++)
    for (let ko = 0; ko < k; ko++)
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++) {
          const yi = ((bi * k + ko) * oh + oy) * ow + ox;
          const bIdx = (ko * oh + oy) * ow + ox;
          y[yi] = b[bIdx]!;
          db[bIdx]! += dy[yi]!;
          for (let ci = 0; ci < c; ci++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const iy = oy * g.stride[0] - g.pads[0] + i * g.dilation[0];
                const ix = ox * g.stride[1] - g.pads[2] + j * g.dilation[1];
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                const xi = ((bi * c + ci) * h + iy) * wd + ix;
                const wi = ((((oy * ow + ox) * k + ko) * c + ci) * kh + i) * kw + j;
                y[yi]! += w[wi]! * x[xi]!;
                dx[xi]! += w[wi]! * dy[yi]!;
                dw[wi]! += x[xi]! * dy[yi]!;
              }
        }
  return { y, dx, dw, db };
}

interface Case {
  name: string;
  x: [number, number, number, number];
  k: number;
  kernel: [number, number];
  opts: ck.F.LocallyConnected2dOptions;
  geom: Geometry;
  /** hand-computed output grid */
  out: [number, number];
}

const cases: Case[] = [
  { name: '3x3, no padding', x: [2, 2, 5, 5], k: 3, kernel: [3, 3], opts: {}, geom: { stride: [1, 1], pads: [0, 0, 0, 0], dilation: [1, 1] }, out: [3, 3] },
  // (7 + 2 - 3)/2 + 1 = 4, (6 + 0 - 2)/2 + 1 = 3
  { name: 'stride 2, padding [1, 0], kernel 3x2', x: [2, 3, 7, 6], k: 2, kernel: [3, 2], opts: { stride: 2, padding: [1, 0] }, geom: { stride: [2, 2], pads: [1, 1, 0, 0], dilation: [1, 1] }, out: [4, 3] },
  // dilation 2: effective 5; 6 - 5 + 1 = 2, (7 + 1 + 1 - 5) + 1 = 5
  { name: 'dilation 2, asymmetric pads', x: [1, 2, 6, 7], k: 2, kernel: [3, 3], opts: { dilation: 2, padding: [0, 0, 1, 1] }, geom: { stride: [1, 1], pads: [0, 0, 1, 1], dilation: [2, 2] }, out: [2, 5] },
];

describeEachBackend('locallyConnected2d', () => {
  it('hand-worked: each output position has its own filter', () => {
    // x = 1..9 as 3x3; 2x2 windows; the four positions pick the window's top-left, top-right,
    // bottom-left and bottom-right pixel: x[0][0]=1, x[0][2]=3, x[2][0]=7, x[2][2]=9.
    const x = ck.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
    const picks = [
      [[1, 0], [0, 0]],
      [[0, 1], [0, 0]],
      [[0, 0], [1, 0]],
      [[0, 0], [0, 1]],
    ];
    const w = ck.tensor(picks.flat(2), [2, 2, 1, 1, 2, 2]);
    const b = ck.tensor([10, 20, 30, 40], [1, 2, 2]);
    expect(F.locallyConnected2d(x, w, b).toArray()).toEqual([[[[11, 23], [37, 49]]]]);
  });

  it('with the same filter at every position it is conv2d', () => {
    const x = ck.randn([2, 3, 7, 5], { seed: 1 }); // stride 2, pad 1: a 4x3 output grid
    const conv = ck.randn([4, 3, 3, 3], { seed: 2 });
    const cv = conv.dataSync();
    const shared = new Float32Array(4 * 3 * cv.length);
    for (let p = 0; p < 12; p++) shared.set(cv, p * cv.length);
    const w = ck.tensor(shared, [4, 3, 4, 3, 3, 3]);
    const opts = { stride: 2, padding: 1 } as const;
    expectClose(F.locallyConnected2d(x, w, null, opts), F.conv2d(x, conv, null, opts), { atol: 1e-5 });
  });

  for (const c of cases) {
    it(`${c.name}: forward and gradients match the definition`, () => {
      const ws = [...c.out, c.k, c.x[1], ...c.kernel];
      const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
      const xv = randomArray(size(c.x), 3);
      const wv = randomArray(size(ws), 4);
      const bv = randomArray(c.k * c.out[0] * c.out[1], 5);
      const x = ck.tensor(xv, c.x, { requiresGrad: true });
      const w = ck.tensor(wv, ws, { requiresGrad: true });
      const b = ck.tensor(bv, [c.k, ...c.out], { requiresGrad: true });
      const y = F.locallyConnected2d(x, w, b, c.opts);
      expect(y.shape).toEqual([c.x[0], c.k, ...c.out]);
      const dy = randomArray(y.size, 6);
      const ref = naiveLc(xv, c.x, wv, ws, bv, c.geom, dy);
      expectClose(y, ref.y, { atol: 1e-4, what: 'forward' });
      y.backward(ck.tensor(dy, y.shape));
      expectClose(x.grad!, ref.dx, { atol: 1e-4, what: 'dx' });
      expectClose(w.grad!, ref.dw, { atol: 1e-4, what: 'dw' });
      expectClose(b.grad!, ref.db, { atol: 1e-4, what: 'db' });
      gradcheck((a, ww, bb) => F.locallyConnected2d(a, ww, bb, c.opts), [x, w, b], { eps: 0.1, maxPerInput: 30 });
    });
  }

  it('bad inputs are ConvkitErrors that show the numbers', () => {
    const x = ck.zeros([1, 2, 5, 5]);
    const w = ck.zeros([3, 3, 4, 2, 3, 3]);
    expectConvkitError(() => F.locallyConnected2d(ck.zeros([1, 2, 6, 6]), w), 'filters for a 3x3 output grid', 'gives 4x4');
    expectConvkitError(() => F.locallyConnected2d(ck.zeros([1, 3, 5, 5]), w), 'expected 2 input channels, got 3');
    expectConvkitError(() => F.locallyConnected2d(x, ck.zeros([4, 2, 3, 3])), 'weight must be 6-d');
    expectConvkitError(() => F.locallyConnected2d(x, w, ck.zeros([4])), 'bias must have shape [4, 3, 3]');
    expectConvkitError(() => F.locallyConnected2d(ck.zeros([1, 2, 6, 6]), ck.zeros([2, 2, 4, 2, 3, 3]), null, { stride: 2 }), '(6 - 3 + 2*0)/2 + 1 = 2.5 is not an integer');
    expectConvkitError(() => F.locallyConnected2d(x, w, null, { groups: 2 } as never), "unknown option 'groups'");
  });
});
