/**
 * The WebAssembly SIMD ceiling measured on this machine: GFLOP/s of 4-lane float32
 * multiply-adds from registers (assembly/ceiling.ts), on one thread and on every core at once
 * (worker threads), for the fused (relaxed SIMD) and the portable (mul + add) builds. It is the
 * bound that BENCHMARKS.md sets convkit's kernels against: a GEMM or convolution cannot go
 * faster than this, whatever its blocking.
 *   npx vite-node bench/simd-ceiling.ts [--secs=1] [--threads=N]
 * Never part of `npm test`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { relaxedSimdSupported } from '../src/backend/wasm/loader.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const secs = Number(opt('secs') ?? 1);
const threads = Number(opt('threads') ?? availableParallelism());

function build(relaxed: boolean): Uint8Array {
  const asc = join(dirname(createRequire(import.meta.url).resolve('assemblyscript/package.json')), 'bin', 'asc.js');
  const out = join(mkdtempSync(join(tmpdir(), 'convkit-ceiling-')), 'peak.wasm');
  const features = relaxed ? ['--enable', 'simd,relaxed-simd'] : ['--enable', 'simd'];
  execFileSync(process.execPath, [asc, 'assembly/ceiling.ts', '-O3', '--runtime', 'stub', '--noAssert', ...features, '-o', out], { cwd: root, stdio: 'inherit' });
  return readFileSync(out);
}

// Each thread calibrates a round count to ~secs, then reports multiply-adds per second.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, secs } = workerData;
const { peak } = new WebAssembly.Instance(module).exports;
let iters = 1 << 16;
for (;;) { const t = performance.now(); peak(iters, 1); if (performance.now() - t > 50) break; iters *= 2; }
const t0 = performance.now(); let rounds = 0;
while (performance.now() - t0 < secs * 1000) { peak(iters, 1); rounds++; }
const s = (performance.now() - t0) / 1000;
parentPort.postMessage((rounds * iters * 12 * 4 * 2) / s / 1e9);
`;

function run(module: WebAssembly.Module, n: number): Promise<number[]> {
  return Promise.all(Array.from({ length: n }, () => new Promise<number>((resolve, reject) => {
    const w = new Worker(workerSource, { eval: true, workerData: { module, secs } });
    w.once('message', (g: number) => { resolve(g); void w.terminate(); });
    w.once('error', reject);
  })));
}

console.log(`${cpus()[0]?.model ?? 'cpu'}, ${threads} threads, ${secs} s a run`);
for (const relaxed of [true, false]) {
  let module: WebAssembly.Module;
  try {
    // Turns on the engine flag relaxed SIMD needs in Node 20 (as the kernels' loader does).
    if (relaxed && !relaxedSimdSupported()) throw new Error('no relaxed SIMD');
    module = new WebAssembly.Module(new Uint8Array(build(relaxed)));
  } catch {
    console.log(`${relaxed ? 'fused (relaxed SIMD)' : 'portable (mul + add)'}: not available here`);
    continue;
  }
  const one = (await run(module, 1))[0]!;
  const all = await run(module, threads);
  const sum = all.reduce((a, b) => a + b, 0);
  console.log(`${relaxed ? 'fused (relaxed SIMD) ' : 'portable (mul + add)'}: 1 thread ${one.toFixed(1)} GFLOP/s, ${threads} threads ${sum.toFixed(1)} GFLOP/s (${all.map((g) => g.toFixed(1)).join(' + ')})`);
}
