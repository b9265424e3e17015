import { ConvkitError } from '../../tensor/errors.js';
import { setGpuProvider } from './device.js';

/**
 * WebGPU in Node: the optional `webgpu` package (Dawn), loaded only when the webgpu backend is
 * asked for. Dawn picks the platform's usual backend (Vulkan, Metal, D3D12); when that gives no
 * adapter, OpenGL ES through EGL without a display (EGL_PLATFORM=surfaceless), which also finds
 * Mesa's software rasterizer on machines without a GPU. CONVKIT_WEBGPU_FLAGS passes Dawn's own
 * options instead (comma-separated, e.g. `backend=vulkan`).
 */

interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

const PACKAGE = 'webgpu';

async function loadDawn(): Promise<DawnModule> {
  try {
    // A variable specifier: bundlers leave the optional package alone.
    return (await import(/* @vite-ignore */ PACKAGE)) as DawnModule;
  } catch (e) {
    throw new ConvkitError(
      `the webgpu backend in Node needs the optional package 'webgpu' (Dawn), which could not be loaded ` +
        `(${e instanceof Error ? e.message.split('\n')[0] : String(e)}); install it with npm install webgpu, ` +
        "or use await ck.setBackend('wasm') instead",
    );
  }
}

/** Installs the Node provider (done by convkit/node). */
export function installNodeGpuProvider(): void {
  setGpuProvider(async () => {
    const dawn = await loadDawn();
    Object.assign(globalThis, dawn.globals);
    const env = process.env;
    // Mesa's EGL and the Vulkan loader complain on stderr without a runtime directory; any
    // writable one will do.
    env['XDG_RUNTIME_DIR'] ??= (await import('node:os')).tmpdir();
    const given = env['CONVKIT_WEBGPU_FLAGS'];
    if (given !== undefined) return dawn.create(given.split(',').filter((f) => f));
    const native = dawn.create([]);
    if (await native.requestAdapter()) return native;
    env['EGL_PLATFORM'] ??= 'surfaceless';
    return dawn.create(['backend=opengles']);
  });
}
