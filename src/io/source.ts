import { ConvkitError } from '../tensor/errors.js';
import { readBytes } from './files.js';
import { hasFileSystem, nodeBuiltin } from './node-builtins.js';

/**
 * Where a model file comes from. A string is a file path in Node and a URL (relative to the
 * page or worker) elsewhere; a URL object is read from disk when it is a file: URL and fetched
 * otherwise; a Blob is what an `<input type=file>` or a drag-and-drop gives.
 */
export type ModelSource = string | URL | Blob | Uint8Array | ArrayBuffer;

export interface SourceBytes {
  bytes: Uint8Array;
  /** How errors name it: the path, URL or file name. */
  name: string;
}

/** The file path `source` names, when it names one (a string in Node, a file: URL); else undefined. */
export function localPath(source: ModelSource, what: string): string | undefined {
  if (typeof source === 'string') {
    if (source === '') throw new ConvkitError(`${what}: expected a file path or a URL, got an empty string`);
    return hasFileSystem() ? source : undefined;
  }
  if (source instanceof URL && source.protocol === 'file:') {
    return nodeBuiltin<typeof import('node:url')>('node:url', `${what}(${source.href})`).fileURLToPath(source);
  }
  return undefined;
}

/** The bytes of `source`; `what` names the caller in errors ('ck.io.load'). */
export async function readSource(source: ModelSource, what: string): Promise<SourceBytes> {
  if (source instanceof Uint8Array) return { bytes: source, name: 'bytes' };
  if (source instanceof ArrayBuffer) return { bytes: new Uint8Array(source), name: 'bytes' };
  if (typeof Blob === 'function' && source instanceof Blob) {
    const name = (source as { name?: unknown }).name;
    return { bytes: new Uint8Array(await source.arrayBuffer()), name: typeof name === 'string' ? name : 'blob' };
  }
  if (typeof source === 'string' || source instanceof URL) {
    const path = localPath(source, what);
    if (path !== undefined) return { bytes: await readBytes(path), name: path };
    return fetchBytes(toUrl(source, what), what);
  }
  const got = source === null ? 'null' : typeof source === 'object' ? ((source as object).constructor?.name ?? 'object') : typeof source;
  throw new ConvkitError(`${what}: expected a file path, a URL, a Blob/File, a Uint8Array or an ArrayBuffer, got ${got}`);
}

/** A string resolves against the page's or worker's address, as fetch() would resolve it. */
function toUrl(source: string | URL, what: string): URL {
  if (source instanceof URL) return source;
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(source, base);
  } catch {
    throw new ConvkitError(`${what}: '${source}' is neither a file path (there is no file system here) nor a URL`);
  }
}

async function fetchBytes(url: URL, what: string): Promise<SourceBytes> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new ConvkitError(`${what}: cannot fetch ${url.href} (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!res.ok) throw new ConvkitError(`${what}: cannot fetch ${url.href} (HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''})`);
  return { bytes: new Uint8Array(await res.arrayBuffer()), name: url.href };
}
