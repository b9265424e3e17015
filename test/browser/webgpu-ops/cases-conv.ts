import type { Conv2DAttrs, Window2D } from '../../../src/backend/kernels.js';
import { kt } from '../../../bench/kernel-inputs.js';
import { SAME } from './compare.js';
import type { Runner } from './runner.js';

/*
 * MatMul, Conv2D (GEMM, 1x1, grouped, depthwise; bias, folded scale, relu), both convolution
 * gradients through the backend's own path choice, and the locally connected kernels, with
 * expectSame's tolerance (float32 sums reordered) as in test/backend/webgpu-{matmul,conv2d,
 * conv-grad,locally-connected}.test.ts.
 */

interface MmCase { a: number[]; b: number[]; ta: boolean; tb: boolean; bias?: boolean; relu?: boolean }

function mm(batchA: number[], batchB: number[], m: number, k: number, n: number, ta = false, tb = false): MmCase {
  return { a: [...batchA, ...(ta ? [k, m] : [m, k])], b: [...batchB, ...(tb ? [n, k] : [k, n])], ta, tb };
}

const MATMUL: MmCase[] = [
  mm([], [], 1, 1, 1),
  mm([], [], 17, 65, 33),
  mm([], [], 129, 257, 3),
  mm([], [], 3, 257, 129, true, false),
  mm([], [], 65, 17, 63, false, true),
  mm([], [], 70, 33, 45, true, true),
  mm([], [], 5, 0, 7),
  mm([2, 3], [1], 33, 17, 5, false, true),
  mm([2, 1, 3], [1, 2, 3], 5, 7, 6),
  { ...mm([2], [], 30, 40, 70), bias: true, relu: true },
  { ...mm([], [], 129, 3, 257, false, true), bias: true },
  { ...mm([3], [3], 20, 70, 9, true, false), relu: true },
];

interface ConvCase {
  x: [number, number, number, number];
  k: number;
  kernel: [number, number];
  stride?: [number, number];
  pad?: [number, number, number, number];
  dilation?: [number, number];
  groups?: number;
  bias?: boolean;
  scale?: boolean;
  relu?: boolean;
}

function convAttrs(c: ConvCase): Conv2DAttrs {
  const [, , h, w] = c.x;
  const stride = c.stride ?? [1, 1];
  const pad = c.pad ?? [0, 0, 0, 0];
  const dilation = c.dilation ?? [1, 1];
  const out: [number, number] = [
    Math.floor((h + pad[0] + pad[1] - dilation[0] * (c.kernel[0] - 1) - 1) / stride[0]) + 1,
    Math.floor((w + pad[2] + pad[3] - dilation[1] * (c.kernel[1] - 1) - 1) / stride[1]) + 1,
  ];
  return { kernel: c.kernel, stride, pad, dilation, out, groups: c.groups ?? 1, activation: c.relu ? 'relu' : 'none' };
}

/** Forward and both gradients run on every case (the gradients ignore bias, scale and relu). */
const CONV: ConvCase[] = [
  { x: [1, 3, 8, 8], k: 4, kernel: [3, 3], pad: [1, 1, 1, 1] },
  { x: [3, 5, 9, 11], k: 7, kernel: [3, 3], pad: [1, 1, 1, 1], bias: true },
  { x: [2, 4, 13, 12], k: 6, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], relu: true, bias: true },
  { x: [3, 6, 10, 9], k: 70, kernel: [1, 1], bias: true, relu: true, scale: true },
  { x: [2, 5, 7, 7], k: 3, kernel: [1, 1], stride: [2, 2] },
  { x: [1, 3, 23, 21], k: 8, kernel: [7, 7], stride: [2, 2], pad: [3, 3, 3, 3], bias: true },
  { x: [1, 3, 35, 39], k: 6, kernel: [11, 11], stride: [4, 4], pad: [2, 2, 2, 2] },
  { x: [2, 3, 12, 13], k: 4, kernel: [3, 3], dilation: [2, 2], pad: [2, 2, 2, 2] },
  { x: [1, 5, 15, 12], k: 7, kernel: [2, 3], stride: [2, 1], pad: [1, 0, 2, 1], dilation: [2, 3] },
  { x: [3, 4, 9, 10], k: 6, kernel: [3, 3], groups: 2, pad: [1, 1, 1, 1], bias: true, relu: true },
  { x: [2, 6, 7, 8], k: 9, kernel: [1, 1], groups: 3, scale: true },
  { x: [3, 5, 11, 9], k: 5, kernel: [3, 3], groups: 5, pad: [1, 1, 1, 1], bias: true, scale: true, relu: true },
  { x: [2, 4, 9, 9], k: 8, kernel: [3, 3], stride: [2, 2], groups: 4 },
  { x: [2, 4, 40, 30], k: 4, kernel: [3, 3], pad: [1, 1, 1, 1], groups: 4 },
  { x: [2, 3, 10, 11], k: 6, kernel: [5, 3], groups: 3, dilation: [2, 1], pad: [1, 3, 2, 0], bias: true },
  { x: [2, 2, 14, 13], k: 3, kernel: [5, 5], stride: [3, 3], pad: [1, 1, 1, 1] },
  { x: [1, 2, 4, 4], k: 3, kernel: [3, 3], pad: [3, 3, 3, 3] },
  { x: [2, 9, 3, 6], k: 10, kernel: [1, 1], stride: [4, 4] },
  { x: [1, 80, 5, 6], k: 66, kernel: [3, 3], pad: [1, 1, 1, 1], bias: true, scale: true },
  { x: [3, 36, 17, 15], k: 40, kernel: [3, 3], pad: [1, 1, 1, 1] },
  { x: [2, 66, 9, 7], k: 68, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], groups: 2 },
];

interface LcCase { x: [number, number, number, number]; k: number; kernel: [number, number]; stride?: [number, number]; pad?: [number, number, number, number]; dilation?: [number, number] }

const LOCAL: LcCase[] = [
  { x: [1, 1, 3, 3], k: 1, kernel: [3, 3] },
  { x: [2, 2, 6, 5], k: 3, kernel: [2, 3], stride: [2, 1], pad: [1, 0, 2, 1] },
  { x: [5, 3, 9, 8], k: 4, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], dilation: [2, 1] },
  { x: [2, 2, 4, 3], k: 2, kernel: [2, 2], stride: [3, 2], pad: [3, 2, 2, 3] },
  { x: [4, 8, 12, 12], k: 16, kernel: [3, 3], pad: [1, 1, 1, 1] },
];

async function matmul(r: Runner): Promise<void> {
  for (const [i, c] of MATMUL.entries()) {
    const what = `a [${c.a}]${c.ta ? 'T' : ''} b [${c.b}]${c.tb ? 'T' : ''}${c.bias ? ' bias' : ''}${c.relu ? ' relu' : ''}`;
    await r.run('MatMul', what, async () => {
      const a = kt(c.a, 10 + i);
      const b = kt(c.b, 50 + i);
      const bias = c.bias ? kt([c.tb ? c.b[c.b.length - 2]! : c.b[c.b.length - 1]!], 90 + i) : null;
      const act = c.relu ? 'relu' : 'none';
      await r.check('MatMul', what, r.gpu.MatMul(r.up(a), r.up(b), c.ta, c.tb, bias && r.up(bias), act), r.js.MatMul(a, b, c.ta, c.tb, bias, act), SAME);
    });
  }
}

async function conv(r: Runner): Promise<void> {
  for (const [i, c] of CONV.entries()) {
    const groups = c.groups ?? 1;
    const attrs = convAttrs(c);
    const what = `x [${c.x}] k ${c.k} kernel ${c.kernel} stride ${attrs.stride} pad ${attrs.pad} dilation ${attrs.dilation} groups ${groups}${c.bias ? ' bias' : ''}${c.scale ? ' scale' : ''}${c.relu ? ' relu' : ''}`;
    const x = kt(c.x, 10 + i);
    const w = kt([c.k, c.x[1] / groups, ...c.kernel], 40 + i);
    const dy = kt([c.x[0], c.k, ...attrs.out], 60 + i);
    await r.run('Conv2D', what, async () => {
      const bias = c.bias ? kt([c.k], 70 + i) : null;
      const scale = c.scale ? kt([c.k], 77) : null;
      const want = r.js.Conv2D(x, w, bias, scale ? { ...attrs, scale } : attrs);
      const got = r.gpu.Conv2D(r.up(x), r.up(w), bias && r.up(bias), scale ? { ...attrs, scale: r.up(scale) } : attrs);
      await r.check('Conv2D', what, got, want, SAME);
    });
    const plain: Conv2DAttrs = { ...attrs, activation: 'none' };
    await r.run('Conv2DBackpropInput', what, () =>
      r.check('Conv2DBackpropInput', what, r.gpu.Conv2DBackpropInput(r.up(dy), r.up(w), x.shape, plain), r.js.Conv2DBackpropInput(dy, w, x.shape, plain), SAME));
    await r.run('Conv2DBackpropFilter', what, () =>
      r.check('Conv2DBackpropFilter', what, r.gpu.Conv2DBackpropFilter(r.up(x), r.up(dy), w.shape, plain), r.js.Conv2DBackpropFilter(x, dy, w.shape, plain), SAME));
  }
}

async function locallyConnected(r: Runner): Promise<void> {
  for (const [ci, c] of LOCAL.entries()) {
    const stride = c.stride ?? [1, 1], pad = c.pad ?? [0, 0, 0, 0], dilation = c.dilation ?? [1, 1];
    const out = [0, 1].map((a) => Math.floor((c.x[2 + a]! + pad[2 * a]! + pad[2 * a + 1]! - dilation[a]! * (c.kernel[a]! - 1) - 1) / stride[a]!) + 1) as [number, number];
    const attrs: Window2D = { kernel: c.kernel, stride, pad, dilation, out };
    const wShape = [out[0], out[1], c.k, c.x[1], c.kernel[0], c.kernel[1]];
    const x = kt(c.x, 10 + ci), w = kt(wShape, 20 + ci), b = kt([c.k, ...out], 30 + ci);
    const dy = kt([c.x[0], c.k, ...out], 40 + ci);
    const what = `x [${c.x}] k ${c.k} kernel ${c.kernel} stride ${stride} pad ${pad} dilation ${dilation}`;
    for (const bias of [b, null]) {
      await r.run('LocallyConnected2D', what, () =>
        r.check('LocallyConnected2D', `${what}${bias ? ' bias' : ''}`, r.gpu.LocallyConnected2D(r.up(x), r.up(w), bias && r.up(bias), attrs), r.js.LocallyConnected2D(x, w, bias, attrs), SAME));
    }
    await r.run('LocallyConnected2DBackpropInput', what, () =>
      r.check('LocallyConnected2DBackpropInput', what, r.gpu.LocallyConnected2DBackpropInput(r.up(dy), r.up(w), c.x, attrs), r.js.LocallyConnected2DBackpropInput(dy, w, c.x, attrs), SAME));
    await r.run('LocallyConnected2DBackpropFilter', what, () =>
      r.check('LocallyConnected2DBackpropFilter', what, r.gpu.LocallyConnected2DBackpropFilter(r.up(x), r.up(dy), wShape, attrs), r.js.LocallyConnected2DBackpropFilter(x, dy, wShape, attrs), SAME));
  }
}

export async function convCases(r: Runner): Promise<void> {
  await matmul(r);
  await conv(r);
  await locallyConnected(r);
}
