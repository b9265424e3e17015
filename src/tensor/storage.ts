import { ConvkitError } from './errors.js';
import { trackStorage } from './scope.js';
import { copyArray } from './copy-array.js';
import { isDeviceArray, type DeviceArray, type DeviceMemory } from './device-array.js';

/** Element type of a tensor. */
export type DType = 'float32' | 'int32';
export type TypedArray = Float32Array | Int32Array;

/**
 * Memory outside the JS heap that tensors can live in: the wasm backend keeps kernel outputs
 * in its WebAssembly memory, so the next kernel reads them where they are. The owner counts
 * the storages using each of its blocks and reuses a block once the last one is disposed.
 */
export interface ExternalMemory {
  /** A storage now uses `data`; false when `data` is not one whole block it handed out. */
  retain(data: TypedArray): boolean;
  release(data: TypedArray): void;
}

const externalOwners = new WeakMap<ArrayBufferLike, ExternalMemory>();
/** Keeps an external array alive while a subarray of it is: holdings are held strongly. */
const pins = new FinalizationRegistry<TypedArray>(() => {});

/** Arrays on `buffer` belong to `owner` (called again for each new buffer of a grown memory). */
export function registerExternalBuffer(buffer: ArrayBufferLike, owner: ExternalMemory): void {
  externalOwners.set(buffer, owner);
}

/**
 * The buffer behind one or more tensors (views share it). Storage is ordinary JS memory (or a
 * block of the wasm backend's memory, see ExternalMemory); the garbage collector frees it;
 * `memory()` counts what is alive, `dispose()` (used by `tidy`) releases it early and makes a
 * later use an error instead of silent garbage.
 *
 * On a device backend (webgpu) the values may live in device memory instead (DeviceArray), or
 * in both places. A kernel's output is on the device only; `await read()` copies it to the host
 * as well. A host array handed out by `data` may be written, so taking it makes the device copy
 * stale (the next kernel uploads it again); a kernel that writes the device copy in place (an
 * optimizer step) calls deviceWritten(), which drops the host copy.
 */
export class Storage {
  private buffer: TypedArray | null;
  /** The values on a device, and whether they are current (the host copy was not taken since). */
  private device: DeviceArray | null = null;
  private deviceCurrent = false;
  private disposedFlag = false;
  readonly dtype: DType;
  readonly bytes: number;
  /** Where it was made, recorded only with CONVKIT_DEBUG=leaks. */
  readonly origin: string | undefined;
  private external: ExternalMemory | null;
  /** What the finalizer releases if this storage is dropped without dispose(). */
  private readonly holding: Holding = { region: null, device: null };
  /** Registered with the finalizer (see registerFinalizer). */
  private finalized = false;
  /**
   * Creation order: a storage made after `storagesMade()` returned n has serial >= n. Autograd
   * uses it to know that a gradient buffer is a temporary of the current backward pass (nothing
   * made before the pass, such as a user's tensor or a saved activation, can share it).
   */
  readonly serial: number = nextSerial++;

  constructor(data: TypedArray | DeviceArray) {
    this.origin = debugLeaks ? new Error().stack?.split('\n').slice(3, 8).join('\n') : undefined;
    live.count++;
    if (isDeviceArray(data)) {
      this.buffer = null;
      this.external = null;
      this.dtype = data.dtype;
      this.bytes = data.byteLength;
      this.setDevice(data);
      this.deviceCurrent = true;
    } else {
      const owner = externalOwners.get(data.buffer);
      // Part of a block (a kernel that returned a subarray of an input): a private copy, since
      // the block's lifetime follows its own storages.
      if (owner && !owner.retain(data)) data = copyArray(data);
      this.external = owner && externalOwners.get(data.buffer) === owner ? owner : null;
      this.buffer = data;
      this.dtype = data instanceof Int32Array ? 'int32' : 'float32';
      this.bytes = data.byteLength;
      this.holding.region = countRegion(data);
    }
    // A tidy scope disposes what it made or hands it on (registerFinalizer), so storages made
    // in one skip the registration, which costs more than the rest of this constructor.
    if (!trackStorage(this)) this.registerFinalizer();
  }

  /**
   * Lets the garbage collector count this storage out of memory() if it is dropped without
   * dispose(): for storages made outside tidy scopes, and for those a scope lets survive.
   */
  registerFinalizer(): void {
    if (!this.finalized && !this.disposedFlag) {
      this.finalized = true;
      finalizer.register(this, this.holding, this);
    }
  }

  /**
   * The host array. On a device backend this is the moment the device copy stops counting as
   * current (the caller may write the array); a storage whose values are on the device only
   * throws a ConvkitError that says to read them with `await t.data()`.
   */
  get data(): TypedArray {
    const host = this.host();
    if (this.device) this.deviceCurrent = false;
    return host;
  }

  /** The host array without making the device copy stale (for reads that write nothing). */
  peek(): TypedArray {
    return this.host();
  }

  private host(): TypedArray {
    if (this.buffer !== null) return this.buffer;
    if (this.disposedFlag) {
      throw new ConvkitError(
        'this tensor was disposed (by dispose() or at the end of a tidy() scope) and can no longer be read; ' +
          'return it from the tidy() callback or keep() it to use it afterwards',
      );
    }
    throw new ConvkitError(
      `this tensor's values are on the GPU (the ${this.device?.memory.name ?? 'device'} backend) and cannot be read synchronously: ` +
        'read them with await t.data() (or await t.array()), or bring a model\'s tensors back with await ck.sync(model) first',
    );
  }

  get disposed(): boolean {
    return this.disposedFlag;
  }

  /** Whether the values are on the host (reading `data` will not throw). */
  get onHost(): boolean {
    return this.buffer !== null;
  }

  /**
   * The values in `memory` (a device backend's), uploading the host copy when the device has
   * none or a stale one. Both copies stay valid until one side is written.
   */
  onDevice(memory: DeviceMemory): DeviceArray {
    if (this.device && this.deviceCurrent && this.device.memory === memory) return this.device;
    const host = this.host();
    const previous = this.device && this.device.memory === memory ? this.device : null;
    if (this.device && !previous) this.dropDevice();
    const uploaded = memory.write(host, previous);
    if (uploaded !== previous) {
      if (previous) this.dropDevice();
      this.setDevice(uploaded);
    }
    this.deviceCurrent = true;
    return uploaded;
  }

  /** A kernel wrote the device copy in place: the host copy is out of date and goes. */
  deviceWritten(): void {
    if (!this.device) return;
    this.deviceCurrent = true;
    if (this.buffer !== null) {
      this.external?.release(this.buffer);
      this.external = null;
      this.buffer = null;
      if (this.holding.region) releaseRegion(this.holding.region);
      this.holding.region = null;
    }
  }

  /**
   * Gives this storage new values on the device (an in-place update computed by kernels into
   * `a`, as long as this storage); the host copy goes.
   */
  assignDevice(a: DeviceArray): void {
    if (a.length !== this.length || a.dtype !== this.dtype) {
      throw new ConvkitError(`internal error: assignDevice of ${a.length} ${a.dtype} values to a storage of ${this.length} ${this.dtype}`);
    }
    this.dropDevice();
    this.setDevice(a);
    this.deviceWritten();
  }

  /**
   * Makes the values readable on the host (copying them back from the device when only it has
   * them) and returns the host array without making the device copy stale.
   */
  async read(): Promise<TypedArray> {
    if (this.buffer !== null) return this.buffer;
    const device = this.device;
    if (!device) return this.host(); // disposed: throws
    const host = await device.memory.read(device);
    if (this.disposedFlag) return this.host();
    if (this.buffer === null) {
      this.buffer = host;
      this.holding.region = countRegion(host);
    }
    return this.buffer;
  }

  private setDevice(a: DeviceArray): void {
    this.device = a;
    this.holding.device = a;
    retainDevice(a);
  }

  private dropDevice(): void {
    const d = this.device;
    if (!d) return;
    releaseDevice(d);
    this.device = null;
    this.holding.device = null;
    this.deviceCurrent = false;
  }

  /**
   * Elements begin..end without copying. A part of an external block keeps the whole block
   * alive for as long as the part is reachable.
   */
  subarray(begin: number, end: number): TypedArray {
    const data = this.data;
    if (begin === 0 && end === data.length) return data;
    const part = data.subarray(begin, end);
    if (this.external) {
      pins.register(part, data);
    }
    return part;
  }

  /** Whether `a` lies within this storage's elements (the same memory, not equal values). */
  holds(a: ArrayBufferView): boolean {
    const d = this.buffer;
    return d !== null && d.buffer === a.buffer && a.byteOffset >= d.byteOffset && a.byteOffset + a.byteLength <= d.byteOffset + d.byteLength;
  }

  /** In external memory already? */
  get isExternal(): boolean {
    return this.external !== null;
  }

  /** Number of elements. */
  get length(): number {
    return this.bytes / 4;
  }

  /**
   * Moves the elements into `home`, a block of external memory holding the same values, for
   * a long-lived tensor (a parameter) that kernels would otherwise copy in on every call.
   * Tensors on this storage follow; arrays taken from `data` before the move do not.
   */
  relocate(home: TypedArray): boolean {
    const old = this.buffer;
    if (old === null) return false;
    const owner = externalOwners.get(home.buffer);
    if (this.external || !owner || home.length !== old.length || home.constructor !== old.constructor || !owner.retain(home)) return false;
    this.external = owner;
    this.buffer = home;
    return true;
  }

  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    if (this.buffer !== null) this.external?.release(this.buffer);
    this.buffer = null;
    this.dropDevice();
    live.count--;
    if (this.holding.region) releaseRegion(this.holding.region);
    this.holding.region = null;
    if (this.finalized) finalizer.unregister(this);
  }
}

/**
 * Storages using each device array: two tensors made on one kernel output (max pooling's
 * switches) share it, which is freed and counted out when the last of them goes.
 */
const deviceUsers = new WeakMap<DeviceArray, number>();

function retainDevice(a: DeviceArray): void {
  const n = deviceUsers.get(a) ?? 0;
  deviceUsers.set(a, n + 1);
  if (n > 0) return;
  live.deviceBytes += a.byteLength;
  if (live.deviceBytes > live.devicePeak) live.devicePeak = live.deviceBytes;
}

function releaseDevice(a: DeviceArray): void {
  const n = (deviceUsers.get(a) ?? 1) - 1;
  if (n > 0) {
    deviceUsers.set(a, n);
    return;
  }
  deviceUsers.delete(a);
  live.deviceBytes -= a.byteLength;
  a.memory.release(a);
}

/** A storage's memory as its finalizer sees it (kept up to date as copies come and go). */
interface Holding {
  region: Region | null;
  device: DeviceArray | null;
}

let nextSerial = 0;

/** How many storages have been made so far; see Storage.serial. */
export function storagesMade(): number {
  return nextSerial;
}

const debugLeaks = typeof process !== 'undefined' && /leaks/.test(process.env?.['CONVKIT_DEBUG'] ?? '');

const live = { count: 0, bytes: 0, peak: 0, deviceBytes: 0, devicePeak: 0 };

/**
 * The memory behind storages, counted once however many storages use it: two tensors made on
 * the same array (new Tensor(t.data, ...)) share one region, as views share one storage. A
 * region is an array's span of its ArrayBuffer; its bytes count while any storage uses it.
 * Regions of a buffer are found by byte offset (a number key: every storage of a training
 * step looks one up, and the wasm backend's memory is one buffer holding them all), with the
 * rare regions at the same offset but of other lengths chained behind the first.
 */
interface Region {
  bytes: number;
  users: number;
  offset: number;
  /** Another region at the same offset (a different length), or null. */
  next: Region | null;
  /** The regions of the same ArrayBuffer (not the buffer itself, which must stay collectable); null for a whole buffer's. */
  siblings: Map<number, Region> | null;
}
const regionsByBuffer = new WeakMap<ArrayBufferLike, Map<number, Region>>();
/**
 * Regions that are a whole JS-heap buffer (the usual fresh array): one weak-map entry each,
 * without a map of siblings, which would be allocated and dropped with every such array.
 */
const wholeBuffers = new WeakMap<ArrayBufferLike, Region>();

function countRegion(data: TypedArray): Region {
  const buffer = data.buffer;
  if (data.byteOffset === 0 && data.byteLength === buffer.byteLength && !externalOwners.has(buffer)) {
    let region = wholeBuffers.get(buffer);
    if (!region) {
      region = { bytes: data.byteLength, users: 0, offset: 0, next: null, siblings: null };
      wholeBuffers.set(buffer, region);
    }
    if (region.users++ === 0) addLive(region.bytes);
    return region;
  }
  let siblings = regionsByBuffer.get(buffer);
  if (!siblings) {
    siblings = new Map();
    regionsByBuffer.set(buffer, siblings);
  }
  const offset = data.byteOffset;
  const bytes = data.byteLength;
  const first = siblings.get(offset) ?? null;
  let region = first;
  while (region !== null && region.bytes !== bytes) region = region.next;
  if (!region) {
    region = { bytes, users: 0, offset, next: first, siblings };
    siblings.set(offset, region);
  }
  if (region.users++ === 0) addLive(bytes);
  return region;
}

function addLive(bytes: number): void {
  live.bytes += bytes;
  if (live.bytes > live.peak) live.peak = live.bytes;
}

function releaseRegion(region: Region): void {
  if (--region.users > 0) return;
  live.bytes -= region.bytes;
  const { siblings, offset } = region;
  // A whole buffer's region stays in its weak map: a storage made on the same array later
  // counts it again from zero users (and the entry goes with the buffer).
  if (siblings === null) return;
  const first = siblings.get(offset);
  if (first === region) {
    if (region.next) siblings.set(offset, region.next);
    else siblings.delete(offset);
    return;
  }
  for (let r = first ?? null; r !== null; r = r.next) {
    if (r.next === region) {
      r.next = region.next;
      return;
    }
  }
}

const finalizer = new FinalizationRegistry<Holding>((h) => {
  live.count--;
  if (h.region) releaseRegion(h.region);
  if (h.device) releaseDevice(h.device);
});

/** What `memory()` reports. */
export interface MemoryInfo {
  /** Storages alive (several tensor views may share one). */
  numTensors: number;
  /** Bytes of the distinct buffers behind them: views and tensors made on one array count once. */
  numBytes: number;
  /** The most bytes alive at once since the last resetPeakMemory() (or the start). */
  peakBytes: number;
  /** Bytes of tensor values in device memory (the webgpu backend's GPU buffers). */
  gpuBytes: number;
  /** The most GPU bytes alive at once since the last resetPeakMemory(). */
  peakGpuBytes: number;
}

/** Live tensor storage: every buffer not yet disposed or garbage-collected, each counted once. */
export function memory(): MemoryInfo {
  return { numTensors: live.count, numBytes: live.bytes, peakBytes: live.peak, gpuBytes: live.deviceBytes, peakGpuBytes: live.devicePeak };
}

/** Starts a new peak: memory().peakBytes is then the most alive from now on (as PyTorch's reset_peak_memory_stats). */
export function resetPeakMemory(): void {
  live.peak = live.bytes;
  live.devicePeak = live.deviceBytes;
}
