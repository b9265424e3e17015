import * as ck from 'convkit';

/**
 * Values of tensors for the views, read back in one go. On a host backend (wasm, js) a value is
 * handed over when it is asked for, synchronously, so the tensor may be overwritten (an in-place
 * ReLU) or disposed (the end of a tidy scope) right after, and nothing waits. On a device backend
 * (webgpu) the tensor's values cannot be read synchronously: a copy is kept on the device and
 * flush() reads every copy back together, so the views wait on the GPU once, not once per tensor.
 */

/** Whether the current backend keeps tensors in device memory (webgpu). */
export function onDevice(): boolean {
  return ck.getBackend().deviceMemory !== undefined;
}

function asFloat32(v: ArrayLike<number>): Float32Array {
  return v instanceof Float32Array ? v : Float32Array.from(v);
}

export class Reads {
  private readonly device = onDevice();
  private readonly pending: { copy: ck.Tensor; done: (v: Float32Array) => void }[] = [];

  /** A copy of `t`'s values, which `done` may keep. */
  copy(t: ck.Tensor, done: (v: Float32Array) => void): void {
    if (!this.device) return done(t.dataSync());
    this.later(t, done);
  }

  /**
   * `t`'s values for `use` to read at once and not keep: on a host backend a view of the storage
   * (no copy) when the tensor is float32 and contiguous.
   */
  peek(t: ck.Tensor, use: (v: Float32Array) => void): void {
    if (!this.device) return use(asFloat32(t.values()));
    this.later(t, use);
  }

  private later(t: ck.Tensor, done: (v: Float32Array) => void): void {
    // A copy on the device, kept past the caller's tidy scope: later kernels may overwrite or
    // free the original before flush() reads it.
    this.pending.push({ copy: ck.keep(t.detach().clone()), done });
  }

  /** Reads back what copy() and peek() kept on the device and hands it over (in call order). */
  async flush(): Promise<void> {
    const items = this.pending.splice(0);
    if (items.length === 0) return;
    try {
      const values = await Promise.all(items.map((p) => p.copy.data()));
      items.forEach((p, i) => p.done(asFloat32(values[i]!)));
    } finally {
      for (const p of items) p.copy.dispose();
    }
  }
}
