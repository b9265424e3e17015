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
  /**
   * A strided view: element (i0, i1, ...) is data[offset + i0 * strides[0] + i1 * strides[1] + ...]
   * (in elements). Only kernels a backend lists in `Backend.stridedInputs` ever receive these;
   * every other kernel gets `data` contiguous in row-major order and both fields absent.
   */
  readonly strides?: readonly number[];
  readonly offset?: number;
}

/**
 * A pointwise function given to the Unary kernels by its declaration (src/ops/pointwise/):
 * y = forward(x, a) and dy/dx = derivative(x, y, a), evaluated in float64 and rounded once to
 * float32. `a` is the op's one parameter (0 where it has none). `simd`: the op code of its
 * formula in the wasm kernel (assembly/unary.ts; absent: the wasm backend runs `forward`).
 * `cheap`: no transcendental call (the wasm backend's size threshold is lower).
 */
export interface PointwiseFormula {
  readonly name: string;
  readonly forward: (x: number, a: number) => number;
  readonly derivative: (x: number, y: number, a: number) => number;
  readonly simd?: number;
  readonly cheap?: boolean;
  /**
   * The same two formulas as WGSL expressions in f32 `x`, `y` and `a`, for the webgpu kernel
   * (src/backend/webgpu/kernels/unary.ts); required there.
   */
  readonly wgsl?: { readonly forward: string; readonly derivative: string };
}

/**
 * Elementwise unary functions (forward `Unary`, backward `UnaryGrad`): the math functions the
 * backends know by name, or an activation passed as its declared formula.
 */
export type UnaryOp =
  | 'relu'
  | 'softplus'
  | 'exp'
  | 'log'
  | 'neg'
  | 'abs'
  | 'sqrt'
  | 'square'
  | 'reciprocal'
  | PointwiseFormula;

/** The unary ops the backends know by name. */
export type NamedUnaryOp = Exclude<UnaryOp, PointwiseFormula>;

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
  /**
   * Conv2D forward only: per-output-channel multipliers applied before the bias,
   * y = scale[k] * (w * x) + bias[k] (an eval-mode batch norm folded into the convolution).
   */
  scale?: KernelTensor | null;
}

// --- padding types (src/backend/js/pad2d.ts) ---
/** How Pad2D fills the border: a constant, a mirror without the edge, the edge repeated, or wrap-around. */
export type Pad2DMode = 'constant' | 'reflect' | 'replicate' | 'circular';
/** Pads of the last two dimensions: [top, bottom, left, right]. */
export type Pads2D = readonly [number, number, number, number];

// --- pooling and normalization types (src/backend/js/pool2d.ts, src/backend/js/normalization.ts) ---
/** A pooled output with its switches: flat indices (row * W + col) into each input plane, -1 for none. */
export interface PoolWithArgmax {
  output: Float32Array;
  indices: Int32Array;
}
/** Average pooling has no dilation; pads are [top, bottom, left, right]. */
export interface AvgPool2DAttrs extends Omit<Window2D, 'dilation'> {
  /** Divide by the window size within the padded input (true) or by the pixels inside the image only. */
  countIncludePad: boolean;
  /** A fixed divisor instead of either (non-zero), or null. */
  divisorOverride: number | null;
}
/** Across-channel LRN: y = x / (k + alpha/size * sum of x^2 over `size` neighbouring channels)^beta. */
export interface LRNAttrs {
  size: number;
  alpha: number;
  beta: number;
  k: number;
}
export interface BatchNormStatistics {
  /** Per channel, length C. */
  mean: Float32Array;
  /** Biased (divide by the count) per-channel variance, length C. */
  variance: Float32Array;
}
export interface BatchNormGradients {
  dx: Float32Array;
  dweight: Float32Array;
  dbias: Float32Array;
}

// --- optimizer updates (src/backend/js/optimizers.ts) ---
/**
 * One parameter's buffers in an optimizer update. Unlike every other kernel, the optimizer
 * kernels write in place: `w` and the state buffers are updated, `g` is only read.
 */
export interface OptimizerSlot {
  /** The parameter's values (updated). */
  readonly w: Float32Array;
  /** Its gradient, as long as w. */
  readonly g: Float32Array;
  /** SGD's momentum buffer (null without momentum); Adam's first moment. */
  readonly m: Float32Array | null;
  /** Adam's second moment (null for SGD). */
  readonly v: Float32Array | null;
  /** Adam with amsgrad: the largest second moment so far; null otherwise. */
  readonly vMax: Float32Array | null;
  /** SGD: the momentum buffer's first update (the buffer becomes the gradient). */
  readonly first: boolean;
  /** Adam: this parameter's update count t, 1 on the first (bias corrections). */
  readonly step: number;
}
export interface SGDStepHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}
export interface AdamStepHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: weight decay decoupled from the gradient (w *= 1 - lr * weightDecay first). */
  decoupled: boolean;
  amsgrad: boolean;
}

export interface KernelSignatures {
  // --- elementwise (src/backend/js/elementwise.ts) ---
  /** `alpha` is the negative slope (leakyRelu) or alpha (elu); ignored otherwise. */
  Unary(x: KernelTensor, op: UnaryOp, alpha: number): Float32Array;
  /** Gradient of Unary given its input x, its output y and dy. */
  UnaryGrad(x: KernelTensor, y: KernelTensor, dy: KernelTensor, op: UnaryOp, alpha: number): Float32Array;
  /**
   * out[i] = a[i] (op) b[i] with broadcasting to `outShape`; activation 'relu' gives
   * max(0, a op b) in the same pass (the residual sum of ResNet blocks).
   */
  Binary(a: KernelTensor, b: KernelTensor, op: BinaryOp, outShape: readonly number[], activation?: 'none' | 'relu'): Float32Array;
  /** Reduces over `axes` (sorted, unique); the result keeps those axes with size 1. */
  Reduce(x: KernelTensor, axes: readonly number[], op: ReduceOp): Float32Array;
  /**
   * The backward epilogue of a layer with a fused bias and ReLU, y and dy [N, C, ...]: grad =
   * UnaryGrad's relu rule read from the output (dy where y > 0, else dy * 0) and sum = grad
   * summed over every axis but 1 (the bias gradient), as those two kernels give them, in one pass.
   */
  ReluGradChannelSum(y: KernelTensor, dy: KernelTensor): { grad: Float32Array; sum: Float32Array };

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

  // --- activations with several parameters (src/backend/js/activations.ts) ---
  /** min(max(x, lo), hi) (torch.clamp: every element becomes hi when lo > hi); bounds may be infinite. */
  Clamp(x: KernelTensor, lo: number, hi: number): Float32Array;
  /** dy where lo <= x <= hi (inclusive, clamp) or lo < x < hi (exclusive, hardtanh), else 0. */
  ClampGrad(x: KernelTensor, dy: KernelTensor, lo: number, hi: number, inclusive: boolean): Float32Array;
  /** (1/beta) log(1 + exp(beta x)), and x itself where beta x > threshold (PyTorch's softplus). */
  Softplus(x: KernelTensor, beta: number, threshold: number): Float32Array;
  SoftplusGrad(x: KernelTensor, dy: KernelTensor, beta: number, threshold: number): Float32Array;
  /** x where x > 0, else w[c] x; c is the index along axis 1 (w has 1 or x.shape[1] elements). */
  PRelu(x: KernelTensor, w: KernelTensor): Float32Array;
  /** Gradients of PRelu w.r.t. x (x's shape) and w (w's shape). */
  PReluGrad(x: KernelTensor, w: KernelTensor, dy: KernelTensor): { dx: Float32Array; dw: Float32Array };

  // --- softmax (src/backend/js/softmax.ts) ---
  /** Numerically stable softmax along `axis` (rows shifted by their maximum). */
  Softmax(x: KernelTensor, axis: number): Float32Array;
  LogSoftmax(x: KernelTensor, axis: number): Float32Array;
  /** Given y = Softmax(x) and dy: dx = y (dy - sum(dy y)) along `axis`. */
  SoftmaxGrad(y: KernelTensor, dy: KernelTensor, axis: number): Float32Array;
  /** Given y = LogSoftmax(x) and dy: dx = dy - exp(y) sum(dy) along `axis`. */
  LogSoftmaxGrad(y: KernelTensor, dy: KernelTensor, axis: number): Float32Array;

  // --- indexing (src/backend/js/index-ops.ts); NaN counts as the largest value ---
  /** Index of the first maximum along `axis`; output shape is x's without `axis`. */
  ArgMax(x: KernelTensor, axis: number): Int32Array;
  /** k largest (or smallest) along `axis`, sorted, ties by lower index; output shape is x's with `axis` = k. */
  TopK(x: KernelTensor, k: number, axis: number, largest: boolean): { values: Float32Array; indices: Int32Array };
  /** torch.gather: out (indexShape) [.., j, ..] = x[.., index[.., j, ..], ..] along `axis`; indices pre-validated. */
  Gather(x: KernelTensor, axis: number, index: Int32Array, indexShape: readonly number[]): Float32Array;
  /** Gradient of Gather: dy (the index's shape) scatter-added into zeros of xShape. */
  GatherGrad(dy: KernelTensor, axis: number, index: Int32Array, xShape: readonly number[]): Float32Array;

  // --- per-sample losses (src/backend/js/losses.ts); x is [N, C, d1, ...] or [C], targets pre-validated ---
  /** loss[n, d..] = -weight[t] x[n, t, d..], t = target[n, d..]; 0 where t == ignoreIndex. Output [N, d1, ...]. */
  NllLoss(x: KernelTensor, target: Int32Array, weight: KernelTensor | null, ignoreIndex: number): Float32Array;
  /** Gradient of NllLoss w.r.t. x given dy [N, d1, ...]. */
  NllLossGrad(dy: KernelTensor, target: Int32Array, weight: KernelTensor | null, ignoreIndex: number, xShape: readonly number[]): Float32Array;
  /** x [N, C]: loss[n] = sum over i != y of weight[y] max(0, margin - x[n, y] + x[n, i])^p / C (PyTorch's). */
  MultiMarginLoss(x: KernelTensor, target: Int32Array, p: 1 | 2, margin: number, weight: KernelTensor | null): Float32Array;
  /** Gradient of MultiMarginLoss w.r.t. x given dy [N]. */
  MultiMarginLossGrad(x: KernelTensor, target: Int32Array, dy: KernelTensor, p: 1 | 2, margin: number, weight: KernelTensor | null): Float32Array;

  // --- padding (src/backend/js/pad2d.ts) ---
  /** x [..., H, W] -> [..., H + top + bottom, W + left + right]; 'constant' fills with `value`, negative pads crop. */
  Pad2D(x: KernelTensor, pads: Pads2D, mode: Pad2DMode, value: number): Float32Array;
  /** Gradient of Pad2D: dy of the padded shape -> [..., H, W] = inputShape (pixels read several times sum their gradients). */
  Pad2DGrad(dy: KernelTensor, pads: Pads2D, mode: Pad2DMode, inputShape: readonly number[]): Float32Array;

  // --- locally connected layer (src/backend/js/locally-connected.ts) ---
  /** x [N, C, H, W], w [outH, outW, K, C, kh, kw] (one filter bank per output position), bias [K, outH, outW] or null -> [N, K, outH, outW]. */
  LocallyConnected2D(x: KernelTensor, w: KernelTensor, bias: KernelTensor | null, attrs: Window2D): Float32Array;
  /** Gradient w.r.t. the input: dy [N, K, outH, outW], w -> [N, C, H, W] = inputShape. */
  LocallyConnected2DBackpropInput(dy: KernelTensor, w: KernelTensor, inputShape: readonly number[], attrs: Window2D): Float32Array;
  /** Gradient w.r.t. the weight: x, dy -> [outH, outW, K, C, kh, kw] = filterShape. */
  LocallyConnected2DBackpropFilter(x: KernelTensor, dy: KernelTensor, filterShape: readonly number[], attrs: Window2D): Float32Array;

  // --- pooling (src/backend/js/pool2d.ts); x is [N, C, H, W], geometry pre-validated by the op ---
  /** Max over each window, -inf outside the image; also the switches (PyTorch's return_indices). */
  MaxPool2DWithArgmax(x: KernelTensor, attrs: Window2D): PoolWithArgmax;
  /** The output of MaxPool2DWithArgmax without the switches (inference: no gradient will be taken). */
  MaxPool2D(x: KernelTensor, attrs: Window2D): Float32Array;
  /** Routes dy [N, C, outH, outW] through the switches into zeros of inputShape, summing where windows share a winner. */
  MaxPool2DGrad(dy: KernelTensor, indices: Int32Array, inputShape: readonly number[]): Float32Array;
  /** Mean over each window with at::avg_pool2d's clipping and divisor rules (ceil mode included). */
  AvgPool2D(x: KernelTensor, attrs: AvgPool2DAttrs): Float32Array;
  AvgPool2DGrad(dy: KernelTensor, inputShape: readonly number[], attrs: AvgPool2DAttrs): Float32Array;
  /** Windows [floor(i*H/outH), ceil((i+1)*H/outH)) per axis, averaged; output [N, C, outH, outW]. */
  AdaptiveAvgPool2D(x: KernelTensor, outSize: readonly [number, number]): Float32Array;
  /** Gradient of AdaptiveAvgPool2D; the output size is dy's. */
  AdaptiveAvgPool2DGrad(dy: KernelTensor, inputShape: readonly number[]): Float32Array;
  /** Adaptive windows, max with switches; its gradient is MaxPool2DGrad. */
  AdaptiveMaxPool2D(x: KernelTensor, outSize: readonly [number, number]): PoolWithArgmax;

  // --- normalization (src/backend/js/normalization.ts); x is [N, C, ...], channels on axis 1 ---
  /** Local response normalization across channels (PyTorch's formula and window). */
  LRN(x: KernelTensor, attrs: LRNAttrs): Float32Array;
  /** Exact gradient of LRN w.r.t. x. */
  LRNGrad(x: KernelTensor, dy: KernelTensor, attrs: LRNAttrs): Float32Array;
  /** Per-channel mean and biased variance over every axis but 1. */
  BatchNormStats(x: KernelTensor): BatchNormStatistics;
  /**
   * (x - mean) / sqrt(variance + eps) * weight + bias per channel; mean, variance, weight, bias
   * are [C]. activation 'relu' (default 'none') then applies the Unary relu rule to each result.
   */
  BatchNorm(
    x: KernelTensor,
    mean: KernelTensor,
    variance: KernelTensor,
    weight: KernelTensor | null,
    bias: KernelTensor | null,
    eps: number,
    activation?: 'none' | 'relu',
  ): Float32Array;
  /**
   * Gradients of BatchNorm; batchStats = the statistics were computed from x (training), so they
   * are differentiated too. reluOutput: the output y of a ReLU fused after it (BatchNorm's
   * activation 'relu'); dy is first masked as UnaryGrad 'relu' masks it (dy * (y > 0 ? 1 : 0)),
   * which gives the bits of that kernel followed by this one.
   */
  BatchNormGrad(
    x: KernelTensor,
    dy: KernelTensor,
    mean: KernelTensor,
    variance: KernelTensor,
    weight: KernelTensor | null,
    eps: number,
    batchStats: boolean,
    reluOutput?: KernelTensor | null,
  ): BatchNormGradients;

  // --- optimizer updates, in place (src/backend/js/optimizers.ts) ---
  /** One SGD update of every slot (torch.optim.SGD; m is null without momentum). */
  SGDStep(slots: readonly OptimizerSlot[], h: SGDStepHyper): void;
  /** One Adam / AdamW update of every slot (torch.optim.Adam / AdamW). */
  AdamStep(slots: readonly OptimizerSlot[], h: AdamStepHyper): void;
}

export type KernelName = keyof KernelSignatures;
