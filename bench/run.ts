/**
 * `npm run bench`: times convkit on every workload of bench/workloads.json, then each peer
 * installed outside the project (bench/peers/README.md) on the same workloads, one after the
 * other; prints the markdown table with the ratios, writes the JSON record to bench/results/
 * and, after a full run, the table to the top of BENCHMARKS.md.
 *   --secs N          seconds of measurement per workload and peer (default 10)
 *   --quick[=N]       N seconds instead (default 1): a look, not a figure to publish
 *   --only a,b        these workloads only
 *   --no-peers        convkit alone
 *   --no-write        print, write no file
 *   --backend js      time another backend (default: the default, wasm where available)
 * Never part of `npm test` (test/bench/suite.test.ts runs each workload for one step).
 */
import { cpus, loadavg } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ck from '../src/index.js';
import { runtime } from '../src/backend/wasm/instance.js';
import { WORKLOADS } from './models.js';
import { runPeers, type PeerOutput } from './peers.js';
import { paramMismatches, ratios, renderReport, renderTables } from './report.js';
import { runWorkload, type Result } from './suite.js';
import { warmupFor } from './timing.js';

const args = process.argv.slice(2);
/** `--name=value`, `--name value` or a bare `--name` (''); undefined when absent. */
function flag(name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
    if (a === `--${name}`) return args[i + 1] !== undefined && !args[i + 1]!.startsWith('--') ? args[i + 1]! : '';
  }
  return undefined;
}
const quick = flag('quick');
const secs = quick !== undefined ? Number(quick || 1) : Number(flag('secs') ?? 10);
if (!(secs > 0)) throw new ck.ConvkitError(`--secs / --quick must be a positive number of seconds, got ${quick ?? flag('secs')}`);
const only = flag('only')?.split(',').filter(Boolean);
const unknown = only?.filter((n) => !WORKLOADS.some((w) => w.name === n));
if (unknown?.length) throw new ck.ConvkitError(`unknown workload(s) ${unknown.join(', ')}; the suite has: ${WORKLOADS.map((w) => w.name).join(', ')}`);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const peersDir = process.env.PEERS ?? '/tmp/peers';
const log = (s: string) => console.log(s);

async function main(): Promise<void> {
  const backend = flag('backend');
  if (backend) await ck.setBackend(backend);
  // Let the worker threads come up before timing.
  await new Promise((r) => setTimeout(r, 500));
  const loadBefore = loadavg()[0]!;
  const timing = { secs, warmupS: warmupFor(secs) };
  log(`convkit bench: backend ${ck.getBackendName()}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}, ${secs} s per workload`);
  const results: Result[] = [];
  for (const w of WORKLOADS) {
    if (only && !only.includes(w.name)) continue;
    for (const { kind, batch } of w.runs) {
      const r = runWorkload(w, kind, batch, timing);
      results.push(r);
      log(`convkit ${kind} ${w.name} b${batch}: ${r.imagesPerS.toFixed(1)} img/s, median ${r.medianMs.toFixed(2)} ms (${r.steps} steps)${r.gflops === null ? '' : `, ${r.gflops.toFixed(1)} GFLOP/s`}`);
    }
  }
  const peers: PeerOutput = flag('no-peers') === undefined
    ? runPeers({ root, peersDir, secs, warmupS: timing.warmupS, threads: 2, only, log })
    : { results: [], torchParams: {}, commands: [], problems: [] };
  const pinned = Object.fromEntries(WORKLOADS.filter((w) => w.torch).map((w) => [w.name, w.torch!.params]));
  const mismatches = [...new Set([...paramMismatches(results, pinned), ...paramMismatches(results, peers.torchParams)])];
  for (const m of mismatches) log(`PARAMETER COUNTS DIFFER: ${m}`);
  const info = {
    date: new Date().toISOString().slice(0, 10),
    machine: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`,
    load: [loadBefore, loadavg()[0]!] as [number, number],
    cores: cpus().length,
    secs,
    backend: ck.getBackendName() === 'wasm' ? `wasm (${runtime().fma ? 'relaxed-SIMD FMA build' : 'portable SIMD build'})` : ck.getBackendName(),
    commands: [`npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`, ...peers.commands],
  };
  log(`\n${renderTables(results, peers.results)}\n`);
  for (const p of peers.problems) log(`not measured: ${p}`);
  if (flag('no-write') !== undefined) return;
  const full = !only && quick === undefined && secs >= 10;
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${full ? 'full' : 'partial'}-${new Date().toISOString().slice(0, 16).replace(':', '')}.json`);
  const record = { ...info, convkit: results, peers: peers.results, torchParams: peers.torchParams, ratios: ratios(results, peers.results), mismatches, problems: peers.problems };
  writeFileSync(file, `${JSON.stringify(record, null, 1)}\n`);
  log(`wrote ${file}`);
  if (full) {
    // The suite's table is the top of the file; other benchmarks own the '## ' sections below it.
    const md = join(root, 'BENCHMARKS.md');
    const previous = existsSync(md) ? readFileSync(md, 'utf8') : '';
    const sections = previous.indexOf('\n## ');
    const report = renderReport(results, peers.results, peers.problems, info);
    writeFileSync(md, sections < 0 ? report : `${report.trimEnd()}\n${previous.slice(sections)}`);
    log('wrote the top of BENCHMARKS.md');
  }
}

await main();
