import { ConvkitError } from '../tensor/errors.js';
import { CIFAR10_CLASSES } from './class-names.js';
import { ImageDataset } from './image-dataset.js';

/**
 * The CIFAR-10 binary format (`data_batch_1.bin` ... `data_batch_5.bin`, `test_batch.bin`):
 * records of 1 label byte followed by a 32x32 colour image as 1024 red, 1024 green and 1024
 * blue bytes, each plane row-major, which is already the [C, H, W] layout convkit uses. This
 * file parses bytes held in memory (browser-safe); cifar10-files.ts reads the files.
 */

export const CIFAR10_RECORD_BYTES = 1 + 3 * 32 * 32;
const IMAGE_BYTES = CIFAR10_RECORD_BYTES - 1;

/** One batch file's contents held in memory, with its name for error messages. */
export interface Cifar10Batch {
  bytes: Uint8Array;
  source: string;
}

function checkBatch({ bytes, source }: Cifar10Batch): number {
  const records = Math.floor(bytes.length / CIFAR10_RECORD_BYTES);
  const extra = bytes.length - records * CIFAR10_RECORD_BYTES;
  if (records === 0 || extra !== 0) {
    const cifar100 = bytes.length > 0 && bytes.length % (CIFAR10_RECORD_BYTES + 1) === 0;
    throw new ConvkitError(
      `${source}: a CIFAR-10 binary batch is a whole number of ${CIFAR10_RECORD_BYTES}-byte records ` +
        `(1 label byte + 3072 pixel bytes; 30,730,000 bytes for the usual 10,000 images), found ${bytes.length} bytes ` +
        `(${records} records and ${extra} bytes over); ` +
        (cifar100
          ? 'this looks like CIFAR-100 (3074-byte records with two labels), which this reader does not handle'
          : 'the file is truncated or not a CIFAR-10 binary batch (the Python "pickle" version is not supported): download the binary version again'),
    );
  }
  for (let r = 0; r < records; r++) {
    const label = bytes[r * CIFAR10_RECORD_BYTES]!;
    if (label >= CIFAR10_CLASSES.length) {
      throw new ConvkitError(
        `${source}: record ${r} has label ${label}, outside [0, 9] for CIFAR-10's 10 classes; ` +
          'the file is corrupt or not a CIFAR-10 binary batch',
      );
    }
  }
  return records;
}

/** The images of one or more batch files, concatenated in the given order, as uint8 [N, 3, 32, 32]. */
export function cifar10Dataset(batches: readonly Cifar10Batch[], name = 'cifar10'): ImageDataset {
  const counts = batches.map(checkBatch);
  const total = counts.reduce((a, b) => a + b, 0);
  const pixels = new Uint8Array(total * IMAGE_BYTES);
  const labels = new Int32Array(total);
  let n = 0;
  batches.forEach(({ bytes }, b) => {
    for (let r = 0; r < counts[b]!; r++, n++) {
      const start = r * CIFAR10_RECORD_BYTES;
      labels[n] = bytes[start]!;
      pixels.set(bytes.subarray(start + 1, start + CIFAR10_RECORD_BYTES), n * IMAGE_BYTES);
    }
  });
  return new ImageDataset(pixels, labels, [3, 32, 32], { classes: CIFAR10_CLASSES, name });
}
