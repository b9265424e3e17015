import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ck from '../../src/node.js';
import { expectConvkitError } from '../helpers/assert.js';
import { tempDir } from './make-files.js';

const { cifar10Dataset, loadCifar10, loadDataset, CIFAR10_RECORD_BYTES } = ck.data;
const tmp = tempDir();
afterAll(() => tmp.remove());

/** Records with labels `labels`; pixel p of channel c of record r is (r + 3c + p) % 256. */
function batchBytes(labels: number[]): Uint8Array {
  const out = new Uint8Array(labels.length * CIFAR10_RECORD_BYTES);
  labels.forEach((label, r) => {
    const at = r * CIFAR10_RECORD_BYTES;
    out[at] = label;
    for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) out[at + 1 + c * 1024 + p] = (r + 3 * c + p) % 256;
  });
  return out;
}

describe('CIFAR-10 binary reader', () => {
  it('reads a 3-record batch as [3, 32, 32] images in CHW order with their labels', () => {
    const ds = cifar10Dataset([{ bytes: batchBytes([3, 9, 0]), source: 'mem' }]);
    expect(ds.length).toBe(3);
    expect(ds.sampleShape).toEqual([3, 32, 32]);
    expect(Array.from(ds.labels)).toEqual([3, 9, 0]);
    expect(ds.classes[3]).toBe('cat');
    const s = ds.get(1);
    expect(s.label).toBe(9);
    expect(s.input[0]).toBeCloseTo(1 / 255, 7); // red, pixel 0
    expect(s.input[1024 + 5]).toBeCloseTo((1 + 3 + 5) / 255, 7); // green, pixel 5
    expect(s.input[2048 + 1023]).toBeCloseTo(((1 + 6 + 1023) % 256) / 255, 7); // blue, last pixel
  });

  it('loads train batches from a folder (or its cifar-10-batches-bin/) and the test batch', () => {
    const sub = join(tmp.dir, 'cifar-10-batches-bin');
    mkdirSync(sub);
    tmp.write('cifar-10-batches-bin/data_batch_1.bin', batchBytes([1, 2]));
    tmp.write('cifar-10-batches-bin/data_batch_2.bin.gz', batchBytes([5]));
    tmp.write('cifar-10-batches-bin/test_batch.bin', batchBytes([4, 4, 8]));
    const train = loadCifar10({ dataDir: tmp.dir, split: 'train' });
    expect(Array.from(train.labels)).toEqual([1, 2, 5]);
    expect(loadDataset('cifar10', { dataDir: tmp.dir, split: 'test' }).length).toBe(3);
    expect(loadDataset(sub, { split: 'test' }).labelCounts()[4]).toBe(2);
  });

  it('errors: truncated file, CIFAR-100 records, bad label, missing folder', () => {
    const bytes = batchBytes([1, 2, 3]);
    expectConvkitError(
      () => cifar10Dataset([{ bytes: bytes.subarray(0, 5000), source: 'cut.bin' }]),
      'cut.bin',
      /3073-byte records/,
      /found 5000 bytes/,
      /1 records and 1927 bytes over/,
    );
    expectConvkitError(() => cifar10Dataset([{ bytes: new Uint8Array(3074 * 2), source: 'c100.bin' }]), 'c100.bin', /CIFAR-100/);
    const bad = batchBytes([1, 2, 3]);
    bad[2 * CIFAR10_RECORD_BYTES] = 10;
    expectConvkitError(() => cifar10Dataset([{ bytes: bad, source: 'bad.bin' }]), 'bad.bin', /record 2 has label 10/, /\[0, 9\]/);
    expectConvkitError(() => loadCifar10({ dataDir: join(tmp.dir, 'nope') }), /data_batch_1\.bin/, /absent/, /--data-dir/);
    expectConvkitError(() => loadCifar10(), /no data folder was given/, /binary version/);
  });
});
