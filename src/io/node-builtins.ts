import { ConvkitError } from '../tensor/errors.js';

/**
 * Node built-ins for file access by path, taken at run time through `process.getBuiltinModule`
 * rather than imported: no `import 'node:fs'` appears anywhere the browser entry reaches, so
 * Vite, esbuild and webpack bundle convkit with their default settings (nothing to externalize,
 * no code splitting), while Node keeps `ck.io.load(path)` and `model.save(path)`.
 */

type GetBuiltin = (id: string) => unknown;

function getBuiltin(): GetBuiltin | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: GetBuiltin } }).process;
  return typeof proc?.getBuiltinModule === 'function' ? proc.getBuiltinModule.bind(proc) : undefined;
}

/** True where file paths mean files: Node (and runtimes that offer its built-ins). */
export function hasFileSystem(): boolean {
  return getBuiltin() !== undefined;
}

/** How the error for a path outside Node names what to use instead. */
const BROWSER_HINT =
  'in a browser, pass bytes, a Blob/File or a URL (ck.io.load(new URL(...)), ck.io.loadOnnx(file)), and save with ck.io.serializeModel / ck.io.exportOnnx';

/** A Node built-in by id ('node:fs', ...), or a ConvkitError saying what `what` needs. */
export function nodeBuiltin<T>(id: string, what: string): T {
  const get = getBuiltin();
  const mod = get?.(id);
  if (mod === undefined) {
    const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
    const node = proc?.versions?.node;
    throw new ConvkitError(
      node
        ? `${what} needs Node.js 20.16 or newer (process.getBuiltinModule); this is Node ${node}`
        : `${what} needs Node.js (file paths mean nothing here); ${BROWSER_HINT}`,
    );
  }
  return mod as T;
}

export type FsPromises = typeof import('node:fs/promises');
export type Fs = typeof import('node:fs');
export type Path = typeof import('node:path');
