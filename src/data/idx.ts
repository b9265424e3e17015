import { ConvkitError } from '../tensor/errors.js';
import { ImageDataset } from './image-dataset.js';

/**
 * The IDX format of MNIST and Fashion-MNIST: a 4-byte magic number (0, 0, element type,
 * number of dimensions), one big-endian uint32 per dimension, then the elements in row-major
 * order, big-endian. This file only parses bytes, so it works in the browser too; reading and
 * gunzipping files is in data-files.ts (convkit/node).
 */

export type IdxDType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
/** The typed array an IDX file's values decode to. */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A decoded IDX file: its element type, shape and values. */
export interface IdxArray {
  readonly dtype: IdxDType;
  readonly shape: readonly number[];
  /** uint8 data is a view on the input bytes (no copy); wider types are decoded copies. */
  readonly data: IdxData;
}

const TYPES: Record<number, { dtype: IdxDType; bytes: number }> = {
  0x08: { dtype: 'uint8', bytes: 1 },
  0x09: { dtype: 'int8', bytes: 1 },
  0x0b: { dtype: 'int16', bytes: 2 },
  0x0c: { dtype: 'int32', bytes: 4 },
  0x0d: { dtype: 'float32', bytes: 4 },
  0x0e: { dtype: 'float64', bytes: 8 },
};

function hex(bytes: Uint8Array, n: number): string {
  return Array.from(bytes.subarray(0, n), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** True when the bytes start with the gzip magic number (1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Parses one IDX file held in memory. `source` (a file name) is used in error messages, which
 * say what the header promised and what was found.
 */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  if (isGzip(bytes)) {
    throw new ConvkitError(
      `${source}: this is a gzip-compressed file, not raw IDX data; decompress it first ` +
        `(readIdxFile from 'convkit/node' does this for .gz files)`,
    );
  }
  if (bytes.length < 4) {
    throw new ConvkitError(
      `${source}: ${bytes.length} bytes is too short for an IDX file (the header alone is at least 8 bytes); ` +
        'the file is empty or truncated: download it again',
    );
  }
  const type = TYPES[bytes[2]!];
  const ndim = bytes[3]!;
  if (bytes[0] !== 0 || bytes[1] !== 0 || type === undefined || ndim === 0) {
    throw new ConvkitError(
      `${source}: not an IDX file: its magic number is ${hex(bytes, 4)}, expected 00 00 <type> <dims> ` +
        'with type 08 (uint8, e.g. 00 00 08 03 for images, 00 00 08 01 for labels), 09, 0b, 0c, 0d or 0e ' +
        'and at least one dimension; check that this is an MNIST-format (IDX) file',
    );
  }
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) {
    throw new ConvkitError(
      `${source}: truncated IDX header: ${ndim} dimensions need ${headerBytes} header bytes, found ${bytes.length}; ` +
        'download the file again',
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let d = 0; d < ndim; d++) shape.push(view.getUint32(4 + 4 * d, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const dataBytes = count * type.bytes;
  const found = bytes.length - headerBytes;
  if (found !== dataBytes) {
    const what = found < dataBytes ? 'truncated IDX file' : 'IDX file longer than its header says';
    throw new ConvkitError(
      `${source}: ${what}: the header says [${shape.join(', ')}] ${type.dtype} = ${dataBytes} bytes of data, ` +
        `found ${found} bytes; ${found < dataBytes ? 'download the file again (the copy is incomplete)' : 'the header or the file is corrupt: download it again'}`,
    );
  }
  return { dtype: type.dtype, shape, data: decode(bytes, view, headerBytes, count, type.dtype) };
}

function decode(bytes: Uint8Array, view: DataView, start: number, count: number, dtype: IdxDType): IdxData {
  switch (dtype) {
    case 'uint8':
      return bytes.subarray(start, start + count);
    case 'int8':
      return new Int8Array(bytes.buffer, bytes.byteOffset + start, count);
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(start + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(start + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(start + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(start + 8 * i, false);
      return out;
    }
  }
}

/** How an IDX images file and labels file are checked as a pair. */
export interface IdxPairOptions {
  /** Names for error messages (the file paths). */
  imagesSource: string;
  labelsSource: string;
  /** Labels must lie in [0, numClasses); inferred as max label + 1 when neither this nor classes is given. */
  numClasses?: number;
  classes?: readonly string[];
  name?: string;
}

/**
 * Pairs an images file ([count, rows, cols] uint8) with a labels file ([count] integers) into
 * an ImageDataset, checking what a mislabelled or mismatched pair gets wrong: swapped files,
 * counts that disagree, labels out of range.
 */
export function idxImageDataset(images: IdxArray, labels: IdxArray, opts: IdxPairOptions): ImageDataset {
  const { imagesSource, labelsSource } = opts;
  const swapHint = 'check that the images and labels files are not swapped';
  if (images.shape.length !== 3 || images.dtype !== 'uint8') {
    throw new ConvkitError(
      `${imagesSource}: expected an images file of uint8 with 3 dimensions [count, rows, cols] (magic 00 00 08 03), ` +
        `found ${images.dtype} [${images.shape.join(', ')}]; ${swapHint}`,
    );
  }
  if (labels.shape.length !== 1 || labels.dtype === 'float32' || labels.dtype === 'float64') {
    throw new ConvkitError(
      `${labelsSource}: expected a labels file of integers with 1 dimension [count] (magic 00 00 08 01), ` +
        `found ${labels.dtype} [${labels.shape.join(', ')}]; ${swapHint}`,
    );
  }
  const [count, rows, cols] = images.shape as [number, number, number];
  if (labels.shape[0] !== count) {
    throw new ConvkitError(
      `${imagesSource} holds ${count} images but ${labelsSource} holds ${labels.shape[0]} labels; ` +
        'the two files must come from the same split (train with train, t10k with t10k)',
    );
  }
  const labelData = Int32Array.from(labels.data as ArrayLike<number>);
  let numClasses = opts.numClasses ?? opts.classes?.length;
  if (numClasses === undefined) numClasses = labelData.reduce((m, v) => Math.max(m, v + 1), 0);
  for (let i = 0; i < labelData.length; i++) {
    const v = labelData[i]!;
    if (v < 0 || v >= numClasses) {
      throw new ConvkitError(
        `${labelsSource}: label ${i} is ${v}, outside [0, ${numClasses - 1}] for a ${numClasses}-class dataset; ` +
          'the labels file is corrupt or belongs to another dataset',
      );
    }
  }
  return new ImageDataset(images.data as Uint8Array, labelData, [1, rows, cols], {
    classes: opts.classes ?? Array.from({ length: numClasses }, (_, i) => String(i)),
    ...(opts.name !== undefined ? { name: opts.name } : {}),
  });
}
