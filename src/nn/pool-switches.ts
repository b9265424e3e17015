import { keep } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * The switches of a max-pool layer's last forward pass, behind the layer's `lastIndices`.
 * Training needs them only in the backward pass, which holds its own tensor on the same
 * int32 array; copying them out on every forward (a fresh array of the output's size per
 * layer per step) cost more than the pooling kernel. So the layer holds a second tensor on
 * the graph's array and copies it out only when someone reads `lastIndices`: a copy still,
 * so that editing what the user got can never change a backward pass yet to run.
 */
export class PoolSwitches {
  /** Shares the graph's array; never handed out. */
  private shared: Tensor | null = null;
  private copy: Tensor | null = null;

  /** Frees the previous switches; call it before the next forward so their memory is reused. */
  clear(): void {
    this.shared?.dispose();
    this.copy?.dispose();
    this.shared = null;
    this.copy = null;
  }

  /** Holds `switches` (a tensor the caller gives up) past tidy scopes, until the next clear. */
  hold(switches: Tensor): void {
    this.clear();
    this.shared = keep(switches);
  }

  /** The switches as a tensor of the layer's own (kept until the next clear), or null. */
  read(): Tensor | null {
    if (this.copy === null && this.shared !== null) {
      const v = this.shared.values();
      // new + set: slice() of a view on the wasm backend's shared memory copies element by element.
      const data = new Int32Array(v.length);
      data.set(v);
      this.copy = keep(new Tensor(data, this.shared.shape));
      this.shared.dispose();
      this.shared = null;
    }
    return this.copy;
  }
}
