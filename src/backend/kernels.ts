/**
 * The kernel contract. A kernel is pure math on contiguous float32 buffers: it reads its
 * inputs, returns a freshly allocated output buffer (never a Tensor), and knows nothing of
 * autograd. Ops (src/ops) validate arguments, call kernels by name and record gradients.
 *
 * `KernelSignatures` names every kernel and types it. The js backend must implement all of
 * them (the compiler checks it); faster backends implement any subset and fall back to js.
 */

/** A contiguous kernel argument: row-major values and their shape. */
export interface KernelTensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** Elementwise unary functions (forward `Unary`, backward `UnaryGrad`). */
export type UnaryOp =
  | 'relu'
  | 'leakyRelu'
  | 'elu'
  | 'selu'
  | 'sigmoid'
  | 'tanh'
  | 'softplus'
  | 'exp'
  | 'log'
  | 'neg'
  | 'abs'
  | 'sqrt'
  | 'square'
  | 'reciprocal';

/** Elementwise binary functions with NumPy broadcasting. */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum';

export type ReduceOp = 'sum' | 'mean' | 'max' | 'min';

/** Pre-resolved 2-d geometry shared by convolution and pooling kernels. */
export interface Window2D {
  kernel: [number, number];
  stride: [number, number];
  /** Zero padding: [top, bottom, left, right]. */
  pad: [number, number, number, number];
  dilation: [number, number];
  /** Output spatial size, already validated by the op. */
  out: [number, number];
}

export interface Conv2DAttrs extends Window2D {
  groups: number;
  /** Fused epilogue after bias (inference fast path); 'none' when absent. */
  activation?: 'none' | 'relu';
}

export interface KernelSignatures {
  // --- elementwise (src/backend/js/elementwise.ts) ---
  /** `alpha` is the negative slope (leakyRelu) or alpha (elu); ignored otherwise. */
  Unary(x: KernelTensor, op: UnaryOp, alpha: number): Float32Array;
  /** Gradient of Unary given its input x, its output y and dy. */
  UnaryGrad(x: KernelTensor, y: KernelTensor, dy: KernelTensor, op: UnaryOp, alpha: number): Float32Array;
  /** out[i] = a[i] (op) b[i] with broadcasting to `outShape`. */
  Binary(a: KernelTensor, b: KernelTensor, op: BinaryOp, outShape: readonly number[]): Float32Array;
  /** Reduces over `axes` (sorted, unique); the result keeps those axes with size 1. */
  Reduce(x: KernelTensor, axes: readonly number[], op: ReduceOp): Float32Array;

  // --- matrix multiply (src/backend/js/matmul.ts) ---
  /**
   * Batched C = op(A) op(B) (+ bias along the last axis, then the activation). A is
   * [..., M, K] (or [..., K, M] when transposeA), B is [..., K, N] (or [..., N, K] when
   * transposeB); leading batch dimensions must be equal or 1 (broadcast). Output [..., M, N].
   */
  MatMul(
    a: KernelTensor,
    b: KernelTensor,
    transposeA: boolean,
    transposeB: boolean,
    bias: KernelTensor | null,
    activation: 'none' | 'relu',
  ): Float32Array;

  // --- convolution (src/backend/js/conv2d.ts) ---
  /** x [N, C, H, W], w [K, C/groups, kh, kw], bias [K] or null -> [N, K, outH, outW]. Zero padding only. */
  Conv2D(x: KernelTensor, w: KernelTensor, bias: KernelTensor | null, attrs: Conv2DAttrs): Float32Array;
  /** Gradient w.r.t. the input: dy [N, K, outH, outW], w -> [N, C, H, W] = inputShape. Also convTranspose2d's forward. */
  Conv2DBackpropInput(dy: KernelTensor, w: KernelTensor, inputShape: readonly number[], attrs: Conv2DAttrs): Float32Array;
  /** Gradient w.r.t. the filters: x, dy -> [K, C/groups, kh, kw] = filterShape. */
  Conv2DBackpropFilter(x: KernelTensor, dy: KernelTensor, filterShape: readonly number[], attrs: Conv2DAttrs): Float32Array;

  // --- other kernels are added below by the files that implement them ---
}

export type KernelName = keyof KernelSignatures;
