/**
 * `npm run bench`: times convkit on the reference workloads (../shared/bench/README.md), then
 * the installed peers one after the other, and writes the table to BENCHMARKS.md.
 *   --quick       1 s per measurement instead of 3 (10 for VGG-16)
 *   --no-peers    convkit alone
 *   --only=a,b    these workloads only
 *   --backend=js  time another backend (default: the default, wasm where available)
 * Never part of `npm test`.
 */
import { cpus, loadavg } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ck from '../src/index.js';
import { runtime } from '../src/backend/wasm/instance.js';
import { WORKLOADS, type Workload } from './models.js';
import { runPeers, type PeerTable } from './peers.js';
import { renderReport, type Result } from './report.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))?.split('=')[1] ?? (args.includes(`--${name}`) ? '' : undefined);
const quick = flag('quick') !== undefined;
const only = flag('only')?.split(',');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sharedBench = join(root, '..', 'shared', 'bench');
const peersDir = process.env.PEERS ?? '/tmp/peers';

/** Median and min of repeated calls after warm-up, for at least `secs` seconds and 5 runs. */
function time(fn: () => void, secs: number): { median: number; min: number; runs: number } {
  for (let i = 0; i < 3; i++) fn();
  const ts: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < secs * 1000 || ts.length < 5) {
    const a = performance.now();
    fn();
    ts.push(performance.now() - a);
  }
  ts.sort((a, b) => a - b);
  return { median: ts[ts.length >> 1]!, min: ts[0]!, runs: ts.length };
}

function benchInfer(w: Workload): Result {
  const model = w.make().eval();
  const x = ck.randn(w.shape, { seed: 1 });
  const t = time(() => ck.tidy(() => ck.noGrad(() => { model.forward(x).dataSync(); })), quick ? 1 : w.name === 'vgg16' ? 10 : 3);
  return { workload: w.name, kind: 'infer', batch: w.shape[0], ms: t.median, minMs: t.min, runs: t.runs, gflops: (2 * w.macs) / t.median / 1e6 };
}

function benchTrain(w: Workload): Result {
  const model = w.make().train();
  const x = ck.randn(w.shape, { seed: 2 });
  const y = ck.randint(0, 10, [w.shape[0]], { seed: 3 });
  const opt = new ck.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const step = () => ck.tidy(() => {
    opt.zeroGrad();
    const loss = ck.F.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
  });
  const t = time(step, quick ? 1 : 3);
  // A training step is about three forward passes' worth of multiply-adds.
  return { workload: w.name, kind: 'train', batch: w.shape[0], ms: t.median, minMs: t.min, runs: t.runs, gflops: (6 * w.macs) / t.median / 1e6 };
}

async function main(): Promise<void> {
  const backend = flag('backend');
  if (backend) await ck.setBackend(backend);
  // Let the worker threads come up before timing.
  await new Promise((r) => setTimeout(r, 500));
  const log = (s: string) => console.log(s);
  const loadBefore = loadavg()[0]!;
  log(`convkit bench: backend ${ck.getBackendName()}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}`);
  const results: Result[] = [];
  for (const w of WORKLOADS) {
    if (only && !only.includes(w.name)) continue;
    const r = benchInfer(w);
    results.push(r);
    log(`convkit infer ${w.name} batch=${r.batch} median_ms=${r.ms.toFixed(2)} min_ms=${r.minMs.toFixed(2)} GFLOP/s=${r.gflops.toFixed(1)}`);
    if (w.train) {
      const t = benchTrain(w);
      results.push(t);
      log(`convkit train ${w.name} batch=${t.batch} median_ms=${t.ms.toFixed(2)} images_per_s=${((t.batch / t.ms) * 1000).toFixed(0)} GFLOP/s=${t.gflops.toFixed(1)}`);
    }
  }
  let peers: PeerTable = {};
  let commands: string[] = [];
  if (flag('no-peers') === undefined) ({ table: peers, commands } = runPeers(sharedBench, peersDir, log));
  const report = renderReport(results, peers, {
    date: new Date().toISOString().slice(0, 10),
    machine: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`,
    load: [loadBefore, loadavg()[0]!],
    cores: cpus().length,
    backend: ck.getBackendName() === 'wasm' ? `wasm (${runtime().fma ? 'relaxed-SIMD FMA build' : 'portable SIMD build'})` : ck.getBackendName(),
    commands: [`npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`, ...commands],
  });
  if (flag('no-write') === undefined && !only) {
    // The kernel table is the top of the file; other benchmarks own the '## ' sections below it.
    const file = join(root, 'BENCHMARKS.md');
    const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const sections = previous.indexOf('\n## ');
    writeFileSync(file, sections < 0 ? report : `${report.trimEnd()}\n${previous.slice(sections)}`);
    log('wrote BENCHMARKS.md');
  } else {
    log(report);
  }
}

await main();
