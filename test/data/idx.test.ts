import { afterAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import * as ck from '../../src/node.js';
import { expectConvkitError } from '../helpers/assert.js';
import { idxBytes, tempDir, tinyMnist } from './make-files.js';

const { parseIdx, readIdxFile, loadIdxImages, idxImageDataset } = ck.data;
const tmp = tempDir();
afterAll(() => tmp.remove());

describe('IDX reader', () => {
  it('parses uint8 images and labels, raw and gzipped, to the same values', () => {
    const { images, labels } = tinyMnist(5);
    const raw = readIdxFile(tmp.write('train-images-idx3-ubyte', images));
    const gz = readIdxFile(tmp.write('train-images-idx3-ubyte.gz', images));
    expect(raw.dtype).toBe('uint8');
    expect(raw.shape).toEqual([5, 4, 3]);
    expect(Array.from(gz.data)).toEqual(Array.from(raw.data));
    expect(raw.data[12 + 1]).toBe((1 * 7 + 1) % 256);
    const lab = readIdxFile(tmp.write('train-labels-idx1-ubyte.gz', labels));
    expect(lab.shape).toEqual([5]);
    expect(Array.from(lab.data)).toEqual([0, 1, 2, 3, 4]);
  });

  it('decodes every IDX element type (big-endian)', () => {
    const cases: [number, string, number[]][] = [
      [0x09, 'int8', [-128, -1, 0, 127]],
      [0x0b, 'int16', [-32768, -2, 3, 32767]],
      [0x0c, 'int32', [-2147483648, -5, 6, 2147483647]],
      [0x0d, 'float32', [-1.5, 0, 0.25, 3e8]],
      [0x0e, 'float64', [-1e-300, 0, Math.PI, 1e300]],
    ];
    for (const [code, dtype, values] of cases) {
      const a = parseIdx(idxBytes([2, 2], values, code), dtype);
      expect(a.dtype).toBe(dtype);
      expect(a.shape).toEqual([2, 2]);
      expect(Array.from(a.data)).toEqual(values);
    }
  });

  it('reads a .gz name holding raw bytes (a browser may have decompressed it on download)', () => {
    const { labels } = tinyMnist(3);
    const path = tmp.write('raw-but-named.gz.tmp', labels);
    expect(Array.from(readIdxFile(path).data)).toEqual([0, 1, 2]);
  });

  it('pairs images and labels into an ImageDataset of [1, H, W] samples scaled to [0, 1]', () => {
    const { images, labels } = tinyMnist(6);
    const ds = loadIdxImages(tmp.write('i6.gz', images), tmp.write('l6', labels), { classes: ck.data.DIGITS_CLASSES });
    expect(ds.length).toBe(6);
    expect(ds.sampleShape).toEqual([1, 4, 3]);
    const s = ds.get(2);
    expect(s.label).toBe(2);
    expect(s.input).toBeInstanceOf(Float32Array);
    expect(s.input.length).toBe(12);
    expect(s.input[5]).toBeCloseTo((2 * 7 + 5) / 255, 7);
    expect(Array.from(ds.image(2).subarray(0, 3))).toEqual([14, 15, 16]);
    expect(ds.labelCounts()).toEqual([1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
  });

  it('parses 60,000 28x28 images in well under a second', () => {
    const n = 60000;
    const bytes = new Uint8Array(16 + n * 784);
    bytes.set([0, 0, 8, 3]);
    new DataView(bytes.buffer).setUint32(4, n);
    new DataView(bytes.buffer).setUint32(8, 28);
    new DataView(bytes.buffer).setUint32(12, 28);
    for (let i = 16; i < bytes.length; i += 97) bytes[i] = i & 255;
    const labels = idxBytes([n], Array.from({ length: n }, (_, i) => i % 10));
    const t0 = performance.now();
    const ds = idxImageDataset(parseIdx(bytes, 'big-images'), parseIdx(labels, 'big-labels'), {
      imagesSource: 'big-images',
      labelsSource: 'big-labels',
      numClasses: 10,
    });
    const ms = performance.now() - t0;
    expect(ds.length).toBe(n);
    expect(ms).toBeLessThan(1000);
  });
});

describe('IDX reader errors name the file and the numbers', () => {
  it('bad magic number', () => {
    const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 1, 0]);
    const path = tmp.write('not-idx.png', bytes);
    expectConvkitError(() => readIdxFile(path), path, /magic number is 89 50 4e 47/, /expected 00 00/);
    expectConvkitError(() => parseIdx(new Uint8Array([0, 0, 0x07, 1, 0, 0, 0, 0]), 'weird-type'), 'weird-type', /00 00 07 01/);
  });

  it('truncated data, truncated header, and trailing bytes', () => {
    const { images } = tinyMnist(5);
    const cut = tmp.write('cut-images', images.subarray(0, 16 + 30));
    expectConvkitError(() => readIdxFile(cut), cut, /truncated/, /\[5, 4, 3\] uint8 = 60 bytes/, /found 30 bytes/, /download/);
    expectConvkitError(() => parseIdx(images.subarray(0, 10), 'short-header'), 'short-header', /16 header bytes, found 10/);
    expectConvkitError(() => parseIdx(images.subarray(0, 2), 'tiny'), 'tiny', /2 bytes is too short/);
    const long = new Uint8Array(images.length + 3);
    long.set(images);
    expectConvkitError(() => parseIdx(long, 'long-file'), 'long-file', /longer than its header/, /60 bytes/, /found 63/);
  });

  it('image and label counts that disagree', () => {
    const images = tmp.write('five-images', tinyMnist(5).images);
    const labels = tmp.write('four-labels', tinyMnist(4).labels);
    expectConvkitError(() => loadIdxImages(images, labels), images, labels, /5 images/, /4 labels/);
  });

  it('a label out of range for the number of classes', () => {
    const images = tmp.write('eleven-images', tinyMnist(11).images);
    const labels = tmp.write('label-ten', idxBytes([11], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    expectConvkitError(() => loadIdxImages(images, labels, { numClasses: 10 }), labels, /label 10 is 10/, /\[0, 9\]/, /10-class/);
    // Without a class count, the range is inferred, so the same file is accepted.
    expect(loadIdxImages(images, labels).classes.length).toBe(11);
  });

  it('swapped images and labels files', () => {
    const { images, labels } = tinyMnist(3);
    const i = tmp.write('swap-images', images);
    const l = tmp.write('swap-labels', labels);
    expectConvkitError(() => loadIdxImages(l, i), l, /3 dimensions/, /found uint8 \[3\]/, /swapped/);
  });

  it('gzip garbage and truncated gzip', () => {
    const garbage = new Uint8Array(64).map((_, i) => (i * 37 + 11) & 255);
    garbage.set([0x1f, 0x8b]);
    const bad = tmp.write('garbage.gz.bin', garbage);
    expectConvkitError(() => readIdxFile(bad), bad, /cannot be decompressed/, /64 bytes/, /download it again/);
    const gz = gzipSync(tinyMnist(20).images);
    const half = tmp.write('half.gz.bin', gz.subarray(0, Math.floor(gz.length / 2)));
    expectConvkitError(() => readIdxFile(half), half, /cannot be decompressed/);
    expectConvkitError(() => parseIdx(gz, 'in-memory.gz'), 'in-memory.gz', /gzip-compressed/, /decompress it first/);
  });

  it('a missing file', () => {
    const path = `${tmp.dir}/nothing-here`;
    expectConvkitError(() => readIdxFile(path), path, /no such file/);
  });
});
