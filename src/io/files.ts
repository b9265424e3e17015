import { ConvkitError } from '../tensor/errors.js';

/**
 * File access for Node. Imported lazily (dynamic import) from browser-safe modules, so the
 * browser bundle never loads node:fs; in a browser these functions say what to use instead.
 */
async function fs() {
  if (typeof process === 'undefined' || !process.versions?.node) {
    throw new ConvkitError('reading and writing files needs Node.js; in the browser, use the bytes functions (ck.io.serializeModel / deserializeModel)');
  }
  return { fsp: await import('node:fs/promises'), path: await import('node:path') };
}

/** Reads a whole file, with an error that names it when it is missing or unreadable. */
export async function readBytes(file: string): Promise<Uint8Array> {
  const { fsp } = await fs();
  try {
    return new Uint8Array(await fsp.readFile(file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConvkitError(`${file}: no such file`);
    if (code === 'EISDIR') throw new ConvkitError(`${file}: is a directory, not a file`);
    throw new ConvkitError(`${file}: cannot be read (${code ?? String(e)})`);
  }
}

/**
 * Writes atomically: a temporary file in the same folder, fsync, then rename over the target,
 * so a crash or Ctrl-C mid-write leaves the previous file intact.
 */
export async function writeBytesAtomic(file: string, bytes: Uint8Array): Promise<void> {
  const { fsp, path } = await fs();
  const dir = path.dirname(path.resolve(file));
  await fsp.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const handle = await fsp.open(tmp, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw new ConvkitError(`${file}: cannot be written (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  // Make the rename itself durable.
  try {
    const d = await fsp.open(dir, 'r');
    await d.sync().catch(() => undefined);
    await d.close();
  } catch {
    // Some file systems cannot open directories; the data is already synced.
  }
}
