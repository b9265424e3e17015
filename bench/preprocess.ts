/**
 * `npx vite-node bench/preprocess.ts [--images=N] [--repeat=R] [--write]`: throughput of the image input
 * pipeline on 250x250 JPEGs: decode (sharp) + center crop + resize to 100x100 (convkit's
 * antialiased bilinear) + per-channel normalize, in images per second,
 *   - in the calling thread, one image after another;
 *   - on the worker pool (ImageWorkerPool) with 1, 2, ... workers up to the core count;
 *   - the peer: sharp doing decode + crop + resize natively (libvips), normalization in JS,
 *     one image after another in the calling thread.
 * Each measurement runs R times (default 3) and the fastest run is kept, which filters out
 * other load on the machine. CPU use is process CPU time over wall time (2.0 = two cores busy).
 * With --write, the table replaces the "## Image preprocessing" section of BENCHMARKS.md
 * (other sections are left as they are). Never part of `npm test`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { decodeImageFile } from '../src/data/image/decode.js';
import { encodeImage } from '../src/data/image/encode.js';
import { imageBuffer } from '../src/data/image/image-buffer.js';
import { normalizeBuffer, type Normalization } from '../src/data/image/normalize.js';
import { preprocessImage, type PreprocessSpec } from '../src/data/image/preprocess.js';
import type { SampleTask } from '../src/data/image/sample-task.js';
import { Normalize } from '../src/data/image/transforms/index.js';
import { ImageWorkerPool } from '../src/data/image/worker-pool.js';

const args = process.argv.slice(2);
const count = Number(args.find((a) => a.startsWith('--images='))?.split('=')[1] ?? 400);
const write = args.includes('--write');
const repeat = Number(args.find((a) => a.startsWith('--repeat='))?.split('=')[1] ?? 3);
const SIZE = 100;
const spec: PreprocessSpec = { size: SIZE, channels: 3, aspect: 'crop', resample: 'bilinear' };
const norm: Normalization = { kind: 'standardize', per: 'channel', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** A photo-like 250x250 picture: smooth colour gradients, a few discs, mild noise (JPEG-sized like a photo). */
function picture(seed: number): ReturnType<typeof imageBuffer> {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const W = 250;
  const img = imageBuffer(3, W, W);
  const discs = Array.from({ length: 5 }, () => [rand() * W, rand() * W, 10 + rand() * 50, rand(), rand(), rand()]);
  const base = [rand(), rand(), rand()];
  for (let y = 0; y < W; y++) {
    for (let x = 0; x < W; x++) {
      let rgb = base.map((b, c) => b * 0.6 + 0.4 * Math.sin((x * (c + 1) + y * (3 - c)) / 60));
      for (const [cx, cy, r, ...col] of discs) if ((x - cx!) ** 2 + (y - cy!) ** 2 < r! * r!) rgb = col as number[];
      for (let c = 0; c < 3; c++) img.data[(c * W + y) * W + x] = Math.min(1, Math.max(0, rgb[c]! + (rand() - 0.5) * 0.06));
    }
  }
  return img;
}

interface Row {
  name: string;
  perSec: number;
  cpu: number;
  /** Images per CPU-second: throughput per busy core, which other load on the machine disturbs less. */
  perCpuSec: number;
}

async function measure(name: string, run: () => Promise<void> | void): Promise<Row> {
  let best: Row | null = null;
  for (let r = 0; r < repeat; r++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await run();
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSecs = (cpu.user + cpu.system) / 1e6;
    const row = { name, perSec: count / wall, cpu: cpuSecs / wall, perCpuSec: count / cpuSecs };
    if (!best || row.perSec > best.perSec) best = row;
  }
  console.log(`${name.padEnd(44)} ${best!.perSec.toFixed(0).padStart(6)} img/s   cpu ${best!.cpu.toFixed(2)}   ${best!.perCpuSec.toFixed(0)} img/cpu-s`);
  return best!;
}

const dir = mkdtempSync(join(tmpdir(), 'convkit-bench-pre-'));
try {
  console.log(`writing ${count} 250x250 JPEGs to ${dir} ...`);
  const variants = 20;
  const jpegs = await Promise.all(Array.from({ length: variants }, (_, i) => encodeImage(picture(i + 1), 'jpeg', { quality: 90 })));
  const files = Array.from({ length: count }, (_, i) => {
    const path = join(dir, `${String(i).padStart(5, '0')}.jpg`);
    writeFileSync(path, jpegs[i % variants]!);
    return path;
  });
  const avgKb = jpegs.reduce((a, b) => a + b.length, 0) / variants / 1024;
  const rows: Row[] = [];

  // Warm up sharp and the JIT.
  for (const f of files.slice(0, 20)) normalizeBuffer(preprocessImage(await decodeImageFile(f), spec), norm);

  rows.push(
    await measure('calling thread (convkit resize)', async () => {
      for (const f of files) normalizeBuffer(preprocessImage(await decodeImageFile(f), spec), norm);
    }),
  );

  rows.push(
    await measure('peer: sharp crop + resize, JS normalize', async () => {
      for (const f of files) {
        const { data, info } = await sharp(f).resize(SIZE, SIZE, { fit: 'cover', kernel: 'linear' }).raw().toBuffer({ resolveWithObject: true });
        const img = imageBuffer(3, info.height, info.width);
        const n = info.width * info.height;
        for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) img.data[c * n + i] = data[i * 3 + c]! / 255;
        normalizeBuffer(img, norm);
      }
    }),
  );

  const cores = availableParallelism();
  const normalize = new Normalize(norm).toJSON();
  const task = (paths: string[]): SampleTask => ({
    jobs: paths.map((path) => ({ path })),
    output: 'float32',
    decode: { preprocess: spec, quantize: false },
    datasetTransform: normalize,
  });
  for (const workers of [...new Set([1, 2, cores])].filter((w) => w <= Math.max(2, cores))) {
    const pool = new ImageWorkerPool(workers);
    // Start-up (worker threads, module loading, sharp) is not part of the throughput.
    pool.run(Array.from({ length: workers * 2 }, () => task(files.slice(0, 4))), workers);
    const perTask = 8;
    const tasks: SampleTask[] = [];
    for (let i = 0; i < files.length; i += perTask) tasks.push(task(files.slice(i, i + perTask)));
    rows.push(await measure(`worker pool, ${workers} worker${workers > 1 ? 's' : ''}`, () => void pool.run(tasks, workers)));
    await pool.close();
  }

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const load = loadavg()[0]!.toFixed(1);
  const base = rows[0]!.perSec;
  const peer = rows[1]!.perSec;
  const table = [
    '| pipeline | images/s | vs calling thread | vs sharp peer | CPU busy (cores) | images per CPU-second |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.perSec.toFixed(0)} | ${(r.perSec / base).toFixed(2)}x | ${(r.perSec / peer).toFixed(2)}x | ${r.cpu.toFixed(2)} | ${r.perCpuSec.toFixed(0)} |`,
    ),
  ].join('\n');
  const section = `## Image preprocessing

Decode + center crop + resize to ${SIZE}x${SIZE} + per-channel normalize of ${count} 250x250 JPEGs
(photo-like, quality 90, ${avgKb.toFixed(0)} KiB each), measured ${new Date().toISOString().slice(0, 10)} on
${cores} x ${cpu}, Node ${process.version} (load average ${load} at the end: other work shared the
cores; each figure is the fastest of ${repeat} runs), by \`npx vite-node bench/preprocess.ts --write\`.
The worker pool is what ImageFolder (cache fill), ImageLoader, \`convkit stats\` and
\`convkit preprocess\` use; "CPU busy" is process CPU time over wall time (2.00 = both cores),
"images per CPU-second" the throughput of one busy core. The peer decodes, crops and resizes
inside libvips (sharp's own resize); convkit resizes with its own code, which the browser and
in-memory paths share.

${table}
`;
  console.log(`\n${section}`);
  if (write) {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..');
    const path = join(root, 'BENCHMARKS.md');
    const old = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
    const start = old.indexOf('## Image preprocessing');
    let next: string;
    if (start < 0) next = `${old.trimEnd()}\n\n${section}`;
    else {
      const end = old.indexOf('\n## ', start + 1);
      next = old.slice(0, start) + section + (end < 0 ? '' : old.slice(end + 1));
    }
    writeFileSync(path, next);
    console.log(`updated ${path}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
