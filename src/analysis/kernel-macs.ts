import type { Conv2DAttrs, KernelName, KernelTensor } from '../backend/kernels.js';

/**
 * Multiply-adds of one kernel call, read from its arguments: the convolutions (forward and both
 * gradients), the locally connected layer's, and MatMul. The same counts as the summary's
 * (analysis/layer-facts.ts): each output value of a convolution is a dot product of
 * (C/groups)*kh*kw pairs, and each gradient of it costs as much as the forward. Other kernels
 * (pooling, normalization, elementwise) count 0, as in the summary.
 */

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

export function kernelMacs(name: KernelName, args: readonly unknown[]): number {
  switch (name) {
    case 'Conv2D': {
      // x [N, C, H, W], w [K, C/groups, kh, kw]: N*K*outH*outW outputs.
      const [x, w, , attrs] = args as [KernelTensor, KernelTensor, unknown, Conv2DAttrs];
      return x.shape[0]! * w.shape[0]! * attrs.out[0] * attrs.out[1] * prod(w.shape.slice(1));
    }
    case 'Conv2DBackpropInput': {
      // dy [N, K, outH, outW] against w [K, C/groups, kh, kw] (or, for a transposed
      // convolution's forward, x [N, Cin, H, W] against w [Cin, Cout/groups, kh, kw]).
      const [dy, w] = args as [KernelTensor, KernelTensor];
      return prod(dy.shape) * prod(w.shape.slice(1));
    }
    case 'Conv2DBackpropFilter': {
      const [, dy, filterShape] = args as [KernelTensor, KernelTensor, readonly number[]];
      return prod(dy.shape) * prod(filterShape.slice(1));
    }
    case 'LocallyConnected2D':
    case 'LocallyConnected2DBackpropInput': {
      // One filter bank per output position: N times every weight.
      const [x, w] = args as [KernelTensor, KernelTensor];
      return x.shape[0]! * prod(w.shape);
    }
    case 'LocallyConnected2DBackpropFilter': {
      const [x, , filterShape] = args as [KernelTensor, KernelTensor, readonly number[]];
      return x.shape[0]! * prod(filterShape);
    }
    case 'MatMul': {
      const [a, b, transposeA, transposeB] = args as [KernelTensor, KernelTensor, boolean, boolean];
      return matMulMacs(a.shape, b.shape, transposeA, transposeB);
    }
    default:
      return 0;
  }
}

/** batch * M * N * K for op(A) [..., M, K] times op(B) [..., K, N], batch dimensions broadcast. */
function matMulMacs(a: readonly number[], b: readonly number[], transposeA: boolean, transposeB: boolean): number {
  if (a.length < 2 || b.length < 2) return 0;
  const m = transposeA ? a[a.length - 1]! : a[a.length - 2]!;
  const k = transposeA ? a[a.length - 2]! : a[a.length - 1]!;
  const n = transposeB ? b[b.length - 2]! : b[b.length - 1]!;
  const lead = Math.max(a.length, b.length) - 2;
  let batch = 1;
  for (let i = 1; i <= lead; i++) {
    const da = a.length - 2 - i >= 0 ? a[a.length - 2 - i]! : 1;
    const db = b.length - 2 - i >= 0 ? b[b.length - 2 - i]! : 1;
    batch *= Math.max(da, db);
  }
  return batch * m * n * k;
}
