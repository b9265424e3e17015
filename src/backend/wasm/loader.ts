/**
 * Finds and compiles the kernels. The files sit next to this module (built by
 * `npm run build:wasm` into src/backend/wasm/ and copied into dist/backend/wasm/), located with
 * `new URL(..., import.meta.url)` so bundlers pick them up. Node compiles synchronously, so
 * `setBackendSync('wasm')` works there; a browser fetches and compiles in `await setBackend`.
 */
import { ConvkitError } from '../../tensor/errors.js';
import { sharedMemorySupported, type WasmHost } from './runtime.js';

function fileUrl(shared: boolean): URL {
  return shared ? new URL('./kernels.wasm', import.meta.url) : new URL('./kernels-st.wasm', import.meta.url);
}

type ReadFileSync = (path: URL) => Uint8Array<ArrayBuffer>;

/** The synchronous path (Node 20.16+: fs through process.getBuiltinModule); null elsewhere. */
export function loadSync(): WasmHost | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const fs = proc?.getBuiltinModule?.('node:fs') as { readFileSync: ReadFileSync } | undefined;
  if (!fs) return null;
  const shared = sharedMemorySupported();
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = fs.readFileSync(fileUrl(shared));
  } catch (e) {
    throw new ConvkitError(`wasm backend: cannot read ${fileUrl(shared).href} (${(e as Error).message}); run \`npm run build:wasm\``);
  }
  return { module: new WebAssembly.Module(bytes), shared };
}

export async function loadAsync(): Promise<WasmHost> {
  const sync = loadSync();
  if (sync) return sync;
  const shared = sharedMemorySupported();
  const url = fileUrl(shared);
  const res = await fetch(url);
  if (!res.ok) throw new ConvkitError(`wasm backend: cannot fetch ${url.href} (HTTP ${res.status})`);
  return { module: await WebAssembly.compile(await res.arrayBuffer()), shared };
}
