/// <reference types="@webgpu/types" />
import { ConvkitError } from '../../tensor/errors.js';

/**
 * Finding a GPU: `navigator.gpu` in a browser; in Node, `convkit/node` installs a provider that
 * loads the optional `webgpu` package (Dawn). Started once by `await ck.setBackend('webgpu')`.
 */

/** Returns the GPU entry point (`navigator.gpu` or Dawn's), or throws a ConvkitError saying why there is none. */
export type GpuProvider = () => Promise<GPU>;

let provider: GpuProvider | null = null;

/** Installs where the GPU comes from when there is no `navigator.gpu` (convkit/node does, with the webgpu package). */
export function setGpuProvider(p: GpuProvider): void {
  provider = p;
}

/** The device and what it can do. */
export interface GpuContext {
  readonly device: GPUDevice;
  /** The adapter's vendor, architecture and description, as it reports them. */
  readonly adapterName: string;
  readonly limits: GPUSupportedLimits;
  /** The adapter has `shader-f16`. */
  readonly f16: boolean;
  /**
   * The entry point and adapter, held for the device's lifetime: Dawn in Node tears the device
   * down under its feet when the garbage collector takes them.
   */
  readonly keepAlive: readonly unknown[];
}

let context: GpuContext | null = null;
let starting: Promise<GpuContext> | null = null;
/** Why the device went away (device.lost), reported by every later use. */
let lostReason: string | null = null;
/** The first uncaptured validation error since the last check; a read throws it. */
let pendingError: string | null = null;

const INSTEAD = "use await ck.setBackend('wasm') (or 'js') instead";

async function findGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (provider) return provider();
  throw new ConvkitError(
    typeof (globalThis as { window?: unknown }).window !== 'undefined'
      ? `WebGPU is not available: this browser has no navigator.gpu (it needs a browser with WebGPU enabled and a secure context); ${INSTEAD}`
      : `WebGPU is not available: no navigator.gpu, and in Node the webgpu backend is loaded by importing 'convkit/node' (with the optional package 'webgpu' installed); ${INSTEAD}`,
  );
}

/** Starts the device (once; later calls return the same). */
export function startGpu(): Promise<GpuContext> {
  if (context) return Promise.resolve(context);
  starting ??= open().then(
    (c) => (context = c),
    (e: unknown) => {
      starting = null;
      throw e;
    },
  );
  return starting;
}

async function open(): Promise<GpuContext> {
  const gpu = await findGpu();
  let adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  // Software adapters (Mesa's llvmpipe through OpenGL ES) offer only the compatibility level.
  adapter ??= await gpu.requestAdapter({ featureLevel: 'compatibility' } as GPURequestAdapterOptions);
  if (!adapter) {
    throw new ConvkitError(`WebGPU is present but offers no adapter (no GPU, or no driver it can use); ${INSTEAD}`);
  }
  const f16 = adapter.features.has('shader-f16');
  const wanted: Record<string, number> = {};
  for (const key of ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxStorageBuffersPerShaderStage', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY'] as const) {
    wanted[key] = adapter.limits[key];
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits: wanted, requiredFeatures: f16 ? ['shader-f16'] : [] });
  } catch (e) {
    throw new ConvkitError(`the WebGPU adapter refused a device (${e instanceof Error ? e.message : String(e)}); ${INSTEAD}`);
  }
  if (device.limits.maxStorageBuffersPerShaderStage < 6) {
    throw new ConvkitError(
      `the WebGPU adapter allows ${device.limits.maxStorageBuffersPerShaderStage} storage buffers per shader stage, convkit's kernels need 6; ${INSTEAD}`,
    );
  }
  lostReason = null;
  void device.lost.then((info) => {
    lostReason = `${info.reason ?? 'unknown'}${info.message ? `: ${info.message}` : ''}`;
    context = null;
    starting = null;
  });
  device.addEventListener('uncapturederror', (ev) => {
    pendingError ??= (ev as GPUUncapturedErrorEvent).error.message;
  });
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  const adapterName = [info?.vendor, info?.architecture, info?.description].filter((s) => s).join(' ') || 'unknown adapter';
  return { device, adapterName, limits: device.limits, f16, keepAlive: [gpu, adapter] };
}

/** The started device; a ConvkitError when the backend has not started or the device was lost. */
export function gpu(): GpuContext {
  if (context) return context;
  if (lostReason !== null) {
    throw new ConvkitError(
      `the WebGPU device was lost (${lostReason}); tensors on it are gone. Start it again with await ck.setBackend('webgpu') and reload the model (a Trainer's last checkpoint is kept), or ${INSTEAD}`,
    );
  }
  throw new ConvkitError("the webgpu backend has not started: select it with await ck.setBackend('webgpu')");
}

/** Whether the device is started and usable. */
export function gpuReady(): boolean {
  return context !== null;
}

/** Throws the first GPU validation error since the last check (a kernel bug, reported where a read waits). */
export function throwPendingGpuError(): void {
  if (pendingError === null) return;
  const msg = pendingError;
  pendingError = null;
  throw new ConvkitError(`a WebGPU kernel failed validation: ${msg}`);
}
