import { ConvkitError } from '../../tensor/errors.js';
import { nodeBuiltin, type Fs, type Path } from '../node-builtins.js';
import type { ExternalDataReader } from './tensor-proto.js';

/**
 * File access for the ONNX loader when it is given a path (Node; the built-ins are taken at call
 * time, see node-builtins.ts, so the browser bundle carries no node:fs import). External data
 * must sit beside the model: a location that is absolute or climbs out of the model's folder
 * is refused, and each file's size is checked before a byte of it is read.
 */

function readFile(path: string): Uint8Array {
  const { readFileSync } = nodeBuiltin<Fs>('node:fs', `reading ${path}`);
  try {
    const b = readFileSync(path);
    // A view, not a copy: model files can be hundreds of megabytes.
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConvkitError(`${path}: no such file`);
    if (code === 'EISDIR') throw new ConvkitError(`${path}: is a directory, not an ONNX file`);
    throw new ConvkitError(`${path}: cannot be read (${code ?? String(e)})`);
  }
}

function externalReader(modelPath: string): ExternalDataReader {
  const { closeSync, fstatSync, openSync, readSync } = nodeBuiltin<Fs>('node:fs', `reading ${modelPath}`);
  const { dirname, isAbsolute, join, normalize, sep } = nodeBuiltin<Path>('node:path', `reading ${modelPath}`);
  const dir = dirname(modelPath);
  return (location, offset, length) => {
    const rel = normalize(location);
    if (isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) {
      throw new ConvkitError(`${modelPath}: external data location '${location}' must be a path inside the model's folder`);
    }
    const file = join(dir, rel);
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (e) {
      throw new ConvkitError(`${modelPath}: external data file '${location}' cannot be opened (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    try {
      const size = fstatSync(fd).size;
      if (offset + length > size) {
        throw new ConvkitError(`${modelPath}: external data file '${location}' has ${size} bytes; the model reads ${length} at offset ${offset} (truncated?)`);
      }
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, out, done, length - done, offset + done);
        if (n === 0) throw new ConvkitError(`${modelPath}: external data file '${location}' ended early`);
        done += n;
      }
      return out;
    } finally {
      closeSync(fd);
    }
  };
}

/** The model file's bytes and a reader for external data beside it. */
export function readModelFile(path: string): { bytes: Uint8Array; readExternal: ExternalDataReader } {
  return { bytes: readFile(path), readExternal: externalReader(path) };
}

/** A reader for external data beside a model already read from `path`. */
export { externalReader };
