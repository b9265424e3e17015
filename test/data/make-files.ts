import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** The bytes of an IDX file: magic 00 00 <type> <ndim>, big-endian dims, then the data. */
export function idxBytes(shape: readonly number[], data: ArrayLike<number>, typeCode = 0x08): Uint8Array {
  const width = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 }[typeCode] ?? 1;
  const header = 4 + 4 * shape.length;
  const out = new Uint8Array(header + data.length * width);
  const view = new DataView(out.buffer);
  out.set([0, 0, typeCode, shape.length]);
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < data.length; i++) {
    const at = header + i * width;
    const v = data[i]!;
    if (typeCode === 0x08) view.setUint8(at, v);
    else if (typeCode === 0x09) view.setInt8(at, v);
    else if (typeCode === 0x0b) view.setInt16(at, v, false);
    else if (typeCode === 0x0c) view.setInt32(at, v, false);
    else if (typeCode === 0x0d) view.setFloat32(at, v, false);
    else view.setFloat64(at, v, false);
  }
  return out;
}

/** n images of rows x cols whose pixel j of image i is (i * 7 + j) % 256, and labels i % classes. */
export function tinyMnist(n: number, rows = 4, cols = 3, classes = 10): { images: Uint8Array; labels: Uint8Array } {
  const px = Array.from({ length: n * rows * cols }, (_, k) => {
    const i = Math.floor(k / (rows * cols));
    return (i * 7 + (k % (rows * cols))) % 256;
  });
  return {
    images: idxBytes([n, rows, cols], px),
    labels: idxBytes([n], Array.from({ length: n }, (_, i) => i % classes)),
  };
}

/** A fresh temporary folder and a function that writes files into it (gzipped when the name ends .gz). */
export function tempDir(): { dir: string; write(name: string, bytes: Uint8Array): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'convkit-data-'));
  return {
    dir,
    write(name, bytes) {
      const path = join(dir, name);
      writeFileSync(path, name.endsWith('.gz') ? gzipSync(bytes) : bytes);
      return path;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
