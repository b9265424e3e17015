/**
 * Finds and compiles the kernels. The files sit next to this module (built by
 * `npm run build:wasm` into src/backend/wasm/ and copied into dist/backend/wasm/), located with
 * `new URL(..., import.meta.url)` so bundlers pick them up. Node compiles synchronously, so
 * `setBackendSync('wasm')` works there; a browser fetches and compiles in `await setBackend`.
 */
import { ConvkitError } from '../../tensor/errors.js';
import { sharedMemorySupported, type WasmHost } from './runtime.js';

// Literal URLs (not a template) so bundlers see and copy all four files.
function fileUrl(shared: boolean, fma: boolean): URL {
  if (shared) return fma ? new URL('./kernels-fma.wasm', import.meta.url) : new URL('./kernels.wasm', import.meta.url);
  return fma ? new URL('./kernels-st-fma.wasm', import.meta.url) : new URL('./kernels-st.wasm', import.meta.url);
}

/** (func (param v128 v128 v128) (result v128) f32x4.relaxed_madd) */
const RELAXED_SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2,
  253, 133, 2, 11,
]);

type NodeProcess = { env?: Record<string, string | undefined>; getBuiltinModule?: (id: string) => unknown };

/**
 * Relaxed SIMD (for its fused multiply-add) usable? Browsers ship it (Chrome 114+); Node 20's V8
 * has it complete behind --experimental-wasm-relaxed-simd, which we turn on for the process
 * (a wasm feature flag: it only adds instructions, nothing else changes; Node 22+ has it on by
 * default). CONVKIT_WASM_FMA=0 keeps the portable mul + add build.
 */
export function relaxedSimdSupported(): boolean {
  if (typeof WebAssembly !== 'object') return false;
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (proc?.env?.CONVKIT_WASM_FMA === '0') return false;
  if (WebAssembly.validate(RELAXED_SIMD_PROBE)) return true;
  const v8 = proc?.getBuiltinModule?.('node:v8') as { setFlagsFromString?: (flags: string) => void } | undefined;
  if (!v8?.setFlagsFromString) return false;
  try {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  return WebAssembly.validate(RELAXED_SIMD_PROBE);
}

type ReadFileSync = (path: URL) => Uint8Array<ArrayBuffer>;

/** The synchronous path (Node 20.16+: fs through process.getBuiltinModule); null elsewhere. */
export function loadSync(): WasmHost | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const fs = proc?.getBuiltinModule?.('node:fs') as { readFileSync: ReadFileSync } | undefined;
  if (!fs) return null;
  const shared = sharedMemorySupported();
  const fma = relaxedSimdSupported();
  const url = fileUrl(shared, fma);
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = fs.readFileSync(url);
  } catch (e) {
    throw new ConvkitError(`wasm backend: cannot read ${url.href} (${(e as Error).message}); run \`npm run build:wasm\``);
  }
  return { module: new WebAssembly.Module(bytes), shared, fma };
}

export async function loadAsync(): Promise<WasmHost> {
  const sync = loadSync();
  if (sync) return sync;
  const shared = sharedMemorySupported();
  const fma = relaxedSimdSupported();
  const url = fileUrl(shared, fma);
  const res = await fetch(url);
  if (!res.ok) throw new ConvkitError(`wasm backend: cannot fetch ${url.href} (HTTP ${res.status})`);
  return { module: await WebAssembly.compile(await res.arrayBuffer()), shared, fma };
}
