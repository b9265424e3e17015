/**
 * The allocator of the wasm backend's memory: blocks for a kernel call's operands and scratch
 * (freed when the next call begins) and for tensors whose data stays in wasm memory between
 * kernels (freed when their storage is disposed or garbage-collected).
 *
 * Training and inference repeat the same shapes step after step, so freed blocks go to
 * free lists by size class and are reused whole; a miss takes the smallest free block of at
 * most twice the size, else new memory at the top. Memory is never returned (WebAssembly
 * cannot shrink it); it settles at the peak of the workload.
 */
import { roundUp } from './args.js';

/** Blocks start on 64-byte boundaries (cache lines, and the SIMD kernels' loads). */
const ALIGN = 64;
/**
 * Every block has this much slack after what was asked: several kernels read whole SIMD
 * rows past the last element of an operand (and discard the lanes), which must stay inside
 * memory even for the last block.
 */
const SLACK = 64;

/** Sizes are rounded up to a class: 64-byte steps to 4 KiB, then 8 classes per power of two. */
export function sizeClass(bytes: number): number {
  const b = Math.max(ALIGN, bytes + SLACK);
  if (b <= 4096) return roundUp(b, ALIGN);
  const step = 2 ** (Math.floor(Math.log2(b)) - 3);
  return roundUp(b, step);
}

export class WasmHeap {
  private top: number;
  private readonly free = new Map<number, number[]>();
  /** Address -> size of every block handed out and not yet freed. */
  private readonly sizes = new Map<number, number>();
  private freeBytes = 0;

  /** `ensure(end)` makes memory at least `end` bytes long (or throws). */
  constructor(base: number, private readonly ensure: (end: number) => void) {
    this.top = roundUp(base, ALIGN);
  }

  alloc(bytes: number): number {
    const size = sizeClass(bytes);
    const exact = this.free.get(size);
    if (exact?.length) return this.take(exact.pop()!, size);
    // The smallest free block that is not more than twice too big.
    let best = 0;
    for (const [s, list] of this.free) if (s > size && s <= 2 * size && list.length && (best === 0 || s < best)) best = s;
    if (best) return this.take(this.free.get(best)!.pop()!, best);
    const ptr = this.top;
    this.ensure(ptr + size);
    this.top = ptr + size;
    this.sizes.set(ptr, size);
    return ptr;
  }

  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) return;
    this.sizes.delete(ptr);
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(ptr);
    this.freeBytes += size;
  }

  /** Bytes in blocks handed out and not freed. */
  get usedBytes(): number {
    return this.top - this.freeBytes;
  }

  private take(ptr: number, size: number): number {
    this.freeBytes -= size;
    this.sizes.set(ptr, size);
    return ptr;
  }
}
