/// <reference types="@webgpu/types" />

/**
 * GPU buffers by size class, reused: creating a buffer costs far more than taking one from a
 * free list, and a training step asks for the same sizes every time. Classes are powers of two
 * up to 64 KiB, then eighths of a power of two (at most 12.5% unused). Every buffer is a
 * storage buffer that can be copied to and from.
 */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly sizeOf = new WeakMap<GPUBuffer, number>();
  /** Bytes of all buffers made (in use and free). */
  allocatedBytes = 0;
  /** Bytes of buffers handed out and not yet given back. */
  inUseBytes = 0;

  constructor(private readonly device: GPUDevice) {}

  /** A buffer of at least `bytes` bytes (at least 16); its contents are whatever was there. */
  acquire(bytes: number): GPUBuffer {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    let buffer = list?.pop();
    if (!buffer) {
      buffer = this.device.createBuffer({
        size,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      this.sizeOf.set(buffer, size);
      this.allocatedBytes += size;
    }
    this.inUseBytes += size;
    return buffer;
  }

  /**
   * Takes a buffer back. Safe at once: later work that writes it is queued after the work
   * already submitted that reads it.
   */
  release(buffer: GPUBuffer): void {
    const size = this.sizeOf.get(buffer);
    if (size === undefined) return;
    this.inUseBytes -= size;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(buffer);
  }

  /** Destroys the free buffers (memory given back to the driver). */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.allocatedBytes -= this.sizeOf.get(b) ?? 0;
        b.destroy();
      }
    }
    this.free.clear();
  }
}

/** The size class of a request: a power of two up to 64 KiB, then steps of an eighth of one. */
export function sizeClass(bytes: number): number {
  const b = Math.max(16, bytes);
  const pow = 2 ** Math.ceil(Math.log2(b));
  if (pow <= 65536) return pow;
  const step = pow / 16;
  return Math.ceil(b / step) * step;
}
