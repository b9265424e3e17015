import { ConvkitError } from './errors.js';
import { trackStorage } from './scope.js';

export type DType = 'float32' | 'int32';
export type TypedArray = Float32Array | Int32Array;

/**
 * The buffer behind one or more tensors (views share it). Storage is ordinary JS memory, so the
 * garbage collector frees it; `memory()` counts what is alive, `dispose()` (used by `tidy`)
 * releases it early and makes a later use an error instead of silent garbage.
 */
export class Storage {
  private buffer: TypedArray | null;
  readonly dtype: DType;
  readonly bytes: number;
  /** Where it was made, recorded only with CONVKIT_DEBUG=leaks. */
  readonly origin: string | undefined;

  constructor(data: TypedArray) {
    this.buffer = data;
    this.dtype = data instanceof Int32Array ? 'int32' : 'float32';
    this.bytes = data.byteLength;
    this.origin = debugLeaks ? new Error().stack?.split('\n').slice(3, 8).join('\n') : undefined;
    live.count++;
    live.bytes += this.bytes;
    finalizer.register(this, this.bytes, this);
    trackStorage(this);
  }

  get data(): TypedArray {
    if (this.buffer === null) {
      throw new ConvkitError(
        'this tensor was disposed (by dispose() or at the end of a tidy() scope) and can no longer be read; ' +
          'return it from the tidy() callback or keep() it to use it afterwards',
      );
    }
    return this.buffer;
  }

  get disposed(): boolean {
    return this.buffer === null;
  }

  dispose(): void {
    if (this.buffer === null) return;
    this.buffer = null;
    live.count--;
    live.bytes -= this.bytes;
    finalizer.unregister(this);
  }
}

const debugLeaks = typeof process !== 'undefined' && /leaks/.test(process.env?.['CONVKIT_DEBUG'] ?? '');

const live = { count: 0, bytes: 0 };
const finalizer = new FinalizationRegistry<number>((bytes) => {
  live.count--;
  live.bytes -= bytes;
});

export interface MemoryInfo {
  /** Storages alive (several tensor views may share one). */
  numTensors: number;
  numBytes: number;
}

/** Live tensor storage: counts every buffer not yet disposed or garbage-collected. */
export function memory(): MemoryInfo {
  return { numTensors: live.count, numBytes: live.bytes };
}
