import { ConvkitError } from '../tensor/errors.js';
import { nodeBuiltin, type FsPromises, type Path } from './node-builtins.js';

/**
 * Reading and writing files by path (Node). The built-ins come from node-builtins.ts at call
 * time, so this module is safe to bundle for a browser, where these functions say what to use
 * instead.
 */
function fs(what: string): { fsp: FsPromises; path: Path } {
  return { fsp: nodeBuiltin<FsPromises>('node:fs/promises', what), path: nodeBuiltin<Path>('node:path', what) };
}

/** Reads a whole file, with an error that names it when it is missing or unreadable. */
export async function readBytes(file: string): Promise<Uint8Array> {
  const { fsp } = fs(`reading ${file}`);
  try {
    return new Uint8Array(await fsp.readFile(file));
  } catch (e) {
    throw fileError(file, e, 'read');
  }
}

/** Whether `file` exists (anything at that path). */
export async function fileExists(file: string): Promise<boolean> {
  const { fsp } = fs(`reading ${file}`);
  try {
    await fsp.stat(file);
    return true;
  } catch {
    return false;
  }
}

export interface AtomicWriteOptions {
  /**
   * What the file is, for the test-only crash hook below ('checkpoint' writes are the ones a
   * crash must never lose).
   */
  role?: 'checkpoint' | 'model';
}

/**
 * TEST-ONLY crash hook. With CONVKIT_TEST_CRASH_IN_CHECKPOINT=N in the environment, the N-th
 * checkpoint write of this process (1 = the first) kills the process with SIGKILL after the
 * temporary file is written and synced but before it is renamed over the checkpoint: the
 * moment where a power cut or `kill -9` does the most harm. Tests use it to show that the
 * previous checkpoint survives and that --resume still reproduces an uninterrupted run. It
 * is not an option for users and does nothing unless the variable is set.
 */
const CRASH_ENV = 'CONVKIT_TEST_CRASH_IN_CHECKPOINT';
let checkpointWrites = 0;

function crashHookFires(role: AtomicWriteOptions['role']): boolean {
  if (role !== 'checkpoint') return false;
  checkpointWrites++;
  const wanted = Number(process.env[CRASH_ENV]);
  return Number.isInteger(wanted) && wanted === checkpointWrites;
}

/**
 * Writes atomically: a temporary file in the same folder, fsync, then rename over the target,
 * so a crash or Ctrl-C mid-write leaves the previous file intact. Temporary files that an
 * earlier crash left behind for the same target are removed after a successful write.
 */
export async function writeBytesAtomic(file: string, bytes: Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const { fsp, path } = fs(`writing ${file}`);
  const dir = path.dirname(path.resolve(file));
  const base = path.basename(file);
  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (e) {
    throw fileError(dir, e, 'create the folder');
  }
  const tmpPrefix = `.${base}.`;
  const tmp = path.join(dir, `${tmpPrefix}${process.pid}.${Date.now()}.tmp`);
  try {
    const handle = await fsp.open(tmp, 'w');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (e) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw fileError(file, e, 'write');
  }
  if (crashHookFires(opts.role)) process.kill(process.pid, 'SIGKILL');
  try {
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw fileError(file, e, 'write');
  }
  // Make the rename itself durable.
  try {
    const d = await fsp.open(dir, 'r');
    await d.sync().catch(() => undefined);
    await d.close();
  } catch {
    // Some file systems cannot open directories; the data is already synced.
  }
  // Leftovers of writes that a crash cut short (named .<base>.<pid>.<time>.tmp); a file of a
  // process still alive may be another writer's work in progress and is left alone.
  try {
    for (const name of await fsp.readdir(dir)) {
      const m = name.startsWith(tmpPrefix) && name.endsWith('.tmp') ? /^(\d+)\.\d+$/.exec(name.slice(tmpPrefix.length, -4)) : null;
      if (m && !processAlive(Number(m[1]))) await fsp.rm(path.join(dir, name), { force: true });
    }
  } catch {
    // Cleaning up is a courtesy; the write itself succeeded.
  }
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function fileError(file: string, e: unknown, verb: string): ConvkitError {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return new ConvkitError(`${file}: no such file${verb === 'read' ? '' : ' or folder'}`);
    case 'EISDIR':
      return new ConvkitError(`${file}: is a directory, not a file`);
    case 'EACCES':
    case 'EPERM':
      return new ConvkitError(`${file}: permission denied (cannot ${verb} it)`);
    case 'ENOSPC':
      return new ConvkitError(`${file}: no space left on the device (cannot ${verb} it)`);
    case 'ENOTDIR':
      return new ConvkitError(`${file}: a part of the path is a file, not a folder`);
    default:
      return new ConvkitError(`${file}: cannot ${verb} it (${code ?? String(e)})`);
  }
}
