// Writes the playground's datasets into web/public/data/ (gitignored), from which Vite copies
// them into the build. The page must not download the full 11 MB MNIST, so each dataset is a
// subset (10,000 training + 2,000 test images), kept as gzipped IDX files that the page's
// worker parses with convkit's own IDX reader after DecompressionStream('gzip').
//
//   node scripts/playground-data.mjs
//
// - digits: from the embedded assets/digits (always);
// - fashion-mnist: when its IDX files are found at build time, in $FASHION_MNIST_DIR or in
//   Debian's /usr/share/datasets/fashion-mnist (package dataset-fashion-mnist); otherwise the
//   page offers to upload them.
// The generated colour-shapes set needs no file: the worker draws it from the seed.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outRoot = join(root, 'web', 'public', 'data');
const TRAIN = 10_000;
const TEST = 2_000;

/** `name` or `name.gz` inside dir (raw or gzipped IDX), or null. */
function find(dir, names) {
  for (const n of names) {
    for (const f of [`${n}.gz`, n]) if (existsSync(join(dir, f))) return join(dir, f);
  }
  return null;
}

function readIdx(file) {
  const bytes = readFileSync(file);
  return bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
}

/** The first `count` items of an IDX file: same header with the first dimension rewritten. */
function headIdx(bytes, count, file) {
  const ndim = bytes[3];
  const dims = Array.from({ length: ndim }, (_, d) => bytes.readUInt32BE(4 + 4 * d));
  if (bytes[2] !== 0x08) throw new Error(`${file}: expected uint8 IDX data`);
  if (dims[0] < count) throw new Error(`${file}: holds ${dims[0]} items, the playground needs ${count}`);
  const itemBytes = dims.slice(1).reduce((a, b) => a * b, 1);
  const header = Buffer.from(bytes.subarray(0, 4 + 4 * ndim));
  header.writeUInt32BE(count, 4);
  return Buffer.concat([header, bytes.subarray(4 + 4 * ndim, 4 + 4 * ndim + count * itemBytes)]);
}

const SPLITS = [
  { split: 'train', count: TRAIN, prefixes: ['train'] },
  { split: 'test', count: TEST, prefixes: ['t10k', 'test'] },
];

/** Writes <name>/{train,test}-{images,labels}.idx.gz; returns false when a file is missing. */
function writeSubset(name, dir) {
  const out = join(outRoot, name);
  const files = [];
  for (const { split, count, prefixes } of SPLITS) {
    for (const [kind, idx] of [['images', 'idx3'], ['labels', 'idx1']]) {
      const src = find(dir, prefixes.flatMap((p) => [`${p}-${kind}-${idx}-ubyte`, `${p}-${kind}.${idx}-ubyte`]));
      if (!src) return false;
      files.push({ src, dst: join(out, `${split}-${kind}.idx.gz`), count });
    }
  }
  mkdirSync(out, { recursive: true });
  for (const f of files) writeFileSync(f.dst, gzipSync(headIdx(readIdx(f.src), f.count, f.src), { level: 9 }));
  return true;
}

rmSync(outRoot, { recursive: true, force: true });
mkdirSync(outRoot, { recursive: true });
const available = [];
if (!writeSubset('digits', join(root, 'assets', 'digits'))) throw new Error('assets/digits is incomplete');
available.push('digits');
const fashionDir = process.env.FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
if (writeSubset('fashion-mnist', fashionDir)) available.push('fashion-mnist');
else console.log(`playground data: no Fashion-MNIST files in ${fashionDir}; the page will offer to upload them`);
writeFileSync(join(outRoot, 'datasets.json'), `${JSON.stringify({ files: available, train: TRAIN, test: TEST })}\n`);
console.log(`playground data: ${available.join(', ')} (${TRAIN} train + ${TEST} test images each) in ${outRoot}`);
