import { ConvkitError, fmtShape } from './errors.js';
import { contiguousStrides, inferShape, normAxis, sizeOf } from './shape.js';
import { Storage, type DType, type TypedArray } from './storage.js';
import { trackTensor } from './scope.js';
import { activeRecorder } from '../backend/profiler-hooks.js';
import { copyArray } from './copy-array.js';

/**
 * One recorded step of the autograd tape: the op that made a tensor, its inputs, and how to
 * turn the gradient of its output into gradients of its inputs. `saved` lists the tensors the
 * backward function reads, so that `tidy` keeps them alive while the graph is.
 */
export interface GradNode {
  readonly name: string;
  readonly inputs: readonly (Tensor | null)[];
  readonly saved: readonly Tensor[];
  /** The gradients of the inputs from the output's gradient (null for inputs that need none). */
  backward(gradOutput: Tensor): readonly (Tensor | null)[];
}

type Nested = number | Nested[];

/**
 * An n-dimensional array: a Storage plus shape, strides and offset, so that views
 * (permute, transpose, view, reshape of contiguous data) share memory. Layout is NCHW.
 */
export class Tensor {
  readonly storage: Storage;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: DType;
  /** True for leaves whose gradient the user wants, and for results computed from them. */
  requiresGrad = false;
  /** Accumulated gradient of a leaf after `backward()`. */
  grad: Tensor | null = null;
  /** The op that produced this tensor (null for leaves). */
  gradFn: GradNode | null = null;

  /** Installed by the autograd module (keeps this file free of a dependency on it). */
  static backwardImpl: ((root: Tensor, gradOutput?: Tensor) => void) | null = null;

  /** Shape and strides never change, so these are worked out once (kernels ask for every call). */
  private readonly count: number;
  private readonly rowMajor: boolean;

  constructor(storage: Storage | TypedArray, shape: readonly number[], strides?: readonly number[], offset = 0) {
    this.storage = storage instanceof Storage ? storage : new Storage(storage);
    // Another tensor's shape (frozen) is shared as it is: ops pass x.shape for outputs all the time.
    this.shape = Object.isFrozen(shape) ? shape : Object.freeze([...shape]);
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.offset = offset;
    this.dtype = this.storage.dtype;
    this.count = sizeOf(this.shape);
    this.rowMajor = strides ? rowMajor(this.shape, this.strides) : true;
    if (!(storage instanceof Storage) && storage.length < this.count) {
      throw new ConvkitError(`data has ${storage.length} elements but shape ${fmtShape(shape)} needs ${this.count}`);
    }
    trackTensor(this);
  }

  get ndim(): number {
    return this.shape.length;
  }

  get size(): number {
    return this.count;
  }

  /**
   * A copy of the elements in row-major order, on every backend: on webgpu it waits for the
   * values to come back from the GPU. (`dataSync()` and `values()` read synchronously, which a
   * tensor whose values are on the GPU cannot do.)
   */
  async data(): Promise<TypedArray> {
    await this.storage.read();
    return copyArray(this.hostValues(this.storage.peek()));
  }

  /** Nested arrays of numbers (a number for a 0-d tensor), on every backend; see data(). */
  async array(): Promise<Nested> {
    await this.storage.read();
    return this.nest(this.hostValues(this.storage.peek()));
  }

  /** Whether the elements lie in row-major order with no gaps (so `view` and `values` need no copy). */
  isContiguous(): boolean {
    return this.rowMajor;
  }

  /**
   * The elements in row-major order, without copying when the tensor is contiguous
   * (a subarray of the storage). Kernels read their inputs through this.
   */
  values(): TypedArray {
    if (this.isContiguous()) return this.storage.subarray(this.offset, this.offset + this.size);
    return this.gatherStrided(this.storage.data);
  }

  /** The elements in row-major order from the storage's host array `src` (a view when contiguous). */
  private hostValues(src: TypedArray): TypedArray {
    if (this.isContiguous()) return src.subarray(this.offset, this.offset + this.size);
    return this.gatherStrided(src);
  }

  /** A contiguous tensor with the same values: `this` if already contiguous, else a copy. */
  contiguous(): Tensor {
    if (this.isContiguous()) return this;
    if (!this.storage.onHost && Tensor.deviceCopy) return this.derive(Tensor.deviceCopy(this), 'contiguous');
    return this.derive(new Tensor(this.gatherStrided(this.storage.data), this.shape), 'contiguous');
  }

  /** Same storage, new shape; one -1 is inferred. Non-contiguous tensors must be copied first. */
  view(...shape: number[] | [readonly number[]]): Tensor {
    const requested = flattenShapeArgs(shape);
    const newShape = inferShape(this.shape, requested);
    if (!this.isContiguous()) {
      throw new ConvkitError(
        `view ${fmtShape(this.shape)} -> ${fmtShape(requested)}: the tensor is not contiguous (strides ${fmtShape(this.strides)}), ` +
          'so its elements cannot be reinterpreted in place; call .contiguous() first, or use .reshape() which copies when needed',
      );
    }
    return this.derive(new Tensor(this.storage, newShape, undefined, this.offset), 'view');
  }

  /** Like `view`, but copies when the tensor is not contiguous. */
  reshape(...shape: number[] | [readonly number[]]): Tensor {
    const requested = flattenShapeArgs(shape);
    inferShape(this.shape, requested);
    return this.isContiguous() ? this.view(requested) : this.contiguous().view(requested);
  }

  /** Reorders dimensions; a view with permuted strides (no copy). */
  permute(...dims: number[] | [readonly number[]]): Tensor {
    const order = flattenShapeArgs(dims).map((d) => normAxis(d, this.ndim, 'permute dim'));
    if (order.length !== this.ndim || new Set(order).size !== order.length) {
      throw new ConvkitError(
        `permute of a ${this.ndim}-d tensor ${fmtShape(this.shape)} needs each dimension exactly once, got ${fmtShape(flattenShapeArgs(dims))}`,
      );
    }
    const shape = order.map((d) => this.shape[d]!);
    const strides = order.map((d) => this.strides[d]!);
    return this.derive(new Tensor(this.storage, shape, strides, this.offset), 'permute', order);
  }

  /** A view with dimensions dim0 and dim1 swapped (no copy). */
  transpose(dim0: number, dim1: number): Tensor {
    const order = [...this.shape.keys()];
    const a = normAxis(dim0, this.ndim, 'transpose dim');
    const b = normAxis(dim1, this.ndim, 'transpose dim');
    [order[a], order[b]] = [order[b]!, order[a]!];
    return this.permute(order);
  }

  /** A tensor sharing storage but cut off from the autograd graph. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.strides, this.offset);
  }

  /** A contiguous copy with its own storage (differentiable). */
  clone(): Tensor {
    if (!this.storage.onHost && Tensor.deviceCopy) return this.derive(Tensor.deviceCopy(this), 'clone');
    const data = copyArray(this.values());
    return this.derive(new Tensor(data, this.shape), 'clone');
  }

  /** A Float32Array copy of the elements in row-major order. */
  dataSync(): Float32Array {
    const v = this.values();
    return v instanceof Float32Array ? copyArray(v) : Float32Array.from(v);
  }

  /** Nested arrays of numbers (a number for a 0-d tensor). */
  toArray(): Nested {
    return this.nest(this.values());
  }

  private nest(flat: TypedArray): Nested {
    const build = (dim: number, start: number): Nested => {
      if (dim === this.ndim) return flat[start]!;
      const inner = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim]! }, (_, i) => build(dim + 1, start + i * inner));
    };
    return build(0, 0);
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) {
      throw new ConvkitError(`item() needs a tensor with one element, got shape ${fmtShape(this.shape)}`);
    }
    return this.values()[0]!;
  }

  /** Reverse-mode autodiff from this tensor; no argument is allowed only for a scalar. */
  backward(gradOutput?: Tensor): void {
    if (!Tensor.backwardImpl) throw new ConvkitError('autograd is not loaded; import convkit, not its tensor module alone');
    Tensor.backwardImpl(this, gradOutput);
  }

  /** Releases the storage now (views of it stop working too). */
  dispose(): void {
    this.storage.dispose();
  }

  get isDisposed(): boolean {
    return this.storage.disposed;
  }

  /** `Tensor([shape], dtype)`, plus requiresGrad when set. */
  toString(): string {
    return `Tensor(${fmtShape(this.shape)}, ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  private gatherStrided(src: TypedArray): TypedArray {
    const n = this.size;
    const out = this.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
    const nd = this.ndim;
    if (n === 0) return out;
    const idx = new Array<number>(nd).fill(0);
    let pos = this.offset;
    for (let i = 0; i < n; i++) {
      out[i] = src[pos]!;
      for (let d = nd - 1; d >= 0; d--) {
        idx[d]!++;
        pos += this.strides[d]!;
        if (idx[d]! < this.shape[d]!) break;
        pos -= this.strides[d]! * this.shape[d]!;
        idx[d] = 0;
      }
    }
    return out;
  }

  /** Gives a view/copy the right autograd link back to `this`. */
  private derive(out: Tensor, name: string, order?: number[]): Tensor {
    if (!this.requiresGrad || !Tensor.gradEnabled()) return out;
    const source = this;
    out.requiresGrad = true;
    out.gradFn = {
      name,
      inputs: [source],
      saved: [],
      backward(g: Tensor) {
        if (order) {
          const inverse = new Array<number>(order.length);
          order.forEach((d, i) => (inverse[d] = i));
          return [g.permute(inverse).contiguous()];
        }
        return [g.reshape(source.shape)];
      },
    };
    activeRecorder()?.nodeRecorded(out.gradFn);
    return out;
  }

  /**
   * Installed by backend/device-args.ts: a contiguous copy made on the device, for tensors whose
   * values are there only (the webgpu backend's), which host code cannot gather.
   */
  static deviceCopy: ((t: Tensor) => Tensor) | null = null;

  /** Installed by the autograd module: whether ops record onto the tape right now. */
  static gradEnabled: () => boolean = () => true;
}

function flattenShapeArgs(args: number[] | [readonly number[]]): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return [...(args[0] as readonly number[])];
  return args as number[];
}

/** Whether strides lay the elements out in row-major order with no gaps (size-1 dims' strides do not matter). */
function rowMajor(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== expected) return false;
    expected *= shape[i]!;
  }
  return true;
}
