import type { KernelTensor } from '../kernels.js';
import { sizeOf } from '../../tensor/shape.js';

/**
 * Per-sample losses over class scores and their gradients. Reductions ('mean', 'sum') happen
 * in the ops on top, so these kernels return one loss per target position. Targets are
 * int32 class indices, already validated by the op (in range or equal to ignoreIndex).
 */

/** x is [N, C, d1, ...] (or [C] for one sample): N * d1 * ... target positions over C classes. */
function classLayout(shape: readonly number[]): { n: number; c: number; inner: number } {
  if (shape.length === 1) return { n: 1, c: shape[0]!, inner: 1 };
  return { n: shape[0]!, c: shape[1]!, inner: sizeOf(shape.slice(2)) };
}

/** loss[n, i] = -weight[t] * x[n, t, i] with t = target[n, i]; 0 where t == ignoreIndex. */
export function nllLoss(x: KernelTensor, target: Int32Array, weight: KernelTensor | null, ignoreIndex: number): Float32Array {
  const { n, c, inner } = classLayout(x.shape);
  const out = new Float32Array(n * inner);
  for (let s = 0; s < n; s++) {
    for (let i = 0; i < inner; i++) {
      const t = target[s * inner + i]!;
      if (t === ignoreIndex) continue;
      const w = weight ? weight.data[t]! : 1;
      out[s * inner + i] = -w * x.data[(s * c + t) * inner + i]!;
    }
  }
  return out;
}

/** dx[n, t, i] = -weight[t] * dy[n, i] at the target class, 0 elsewhere and at ignored positions. */
export function nllLossGrad(
  dy: KernelTensor,
  target: Int32Array,
  weight: KernelTensor | null,
  ignoreIndex: number,
  xShape: readonly number[],
): Float32Array {
  const { n, c, inner } = classLayout(xShape);
  const dx = new Float32Array(n * c * inner);
  for (let s = 0; s < n; s++) {
    for (let i = 0; i < inner; i++) {
      const t = target[s * inner + i]!;
      if (t === ignoreIndex) continue;
      const w = weight ? weight.data[t]! : 1;
      dx[(s * c + t) * inner + i] = -w * dy.data[s * inner + i]!;
    }
  }
  return dx;
}

/**
 * The multiclass SVM (hinge) loss, PyTorch's multi_margin_loss per sample:
 * loss[n] = sum over i != y of weight[y] * max(0, margin - x[n, y] + x[n, i])^p / C, y = target[n].
 * (The weight multiplies the powered term, which is what PyTorch computes.)
 */
export function multiMarginLoss(x: KernelTensor, target: Int32Array, p: 1 | 2, margin: number, weight: KernelTensor | null): Float32Array {
  const { n, c } = classLayout(x.shape);
  const out = new Float32Array(n);
  for (let s = 0; s < n; s++) {
    const y = target[s]!;
    const row = s * c;
    const xy = x.data[row + y]!;
    let sum = 0;
    for (let i = 0; i < c; i++) {
      if (i === y) continue;
      const z = margin - xy + x.data[row + i]!;
      if (z > 0) sum += p === 1 ? z : z * z;
    }
    out[s] = (sum * (weight ? weight.data[y]! : 1)) / c;
  }
  return out;
}

/** Gradient of multiMarginLoss w.r.t. x given dy [N]: each active margin pushes x[i] up and x[y] down. */
export function multiMarginLossGrad(
  x: KernelTensor,
  target: Int32Array,
  dy: KernelTensor,
  p: 1 | 2,
  margin: number,
  weight: KernelTensor | null,
): Float32Array {
  const { n, c } = classLayout(x.shape);
  const dx = new Float32Array(x.data.length);
  for (let s = 0; s < n; s++) {
    const y = target[s]!;
    const row = s * c;
    const xy = x.data[row + y]!;
    const scale = (dy.data[s]! * (weight ? weight.data[y]! : 1)) / c;
    for (let i = 0; i < c; i++) {
      if (i === y) continue;
      const z = margin - xy + x.data[row + i]!;
      if (z > 0) {
        const d = scale * (p === 1 ? 1 : 2 * z);
        dx[row + i]! += d;
        dx[row + y]! -= d;
      }
    }
  }
  return dx;
}
