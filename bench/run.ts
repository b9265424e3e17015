/**
 * `npm run bench`: times convkit and its peers (bench/peers/README.md; installed outside the
 * project) on the workloads of bench/workloads.json, interleaved: for each workload, rounds of
 * convkit's runs of it and then each peer's that runs it (a process per peer and round), one
 * after the other, so that a machine whose speed drifts over the run biases no ratio, and a
 * peer whose speed changes from process to process shows in the range of the per-round ratios.
 * Prints each round and the markdown tables (pooled figures; ratios as the median over the
 * rounds, with each round's), writes the JSON record to bench/results/ and, after a full run,
 * the report to the top of BENCHMARKS.md.
 *   --rounds N        rounds per workload (default 3)
 *   --secs N          seconds of measurement per run, system and round (default 10 s over the
 *                     rounds: 3.4 at 3 rounds)
 *   --quick[=N]       N seconds per round instead (default 1): a look, not a figure to publish
 *   --only a,b        these workloads only
 *   --peers a,b       these peers only (torch, ort-node, ort-web, tfjs-wasm, tfjs-cpu, convnetjs)
 *   --no-peers        convkit alone
 *   --no-write        print, write no file
 *   --backend js      time another backend (default: the default, wasm where available)
 *   --backend=webgpu  the GPU suite instead (bench/webgpu.ts, its own workloads and flags)
 * Never part of `npm test` (test/bench/suite.test.ts runs each workload for one step).
 */
import { cpus, loadavg } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ck from '../src/index.js';
import { runtime } from '../src/backend/wasm/instance.js';
import { WORKLOADS } from './models.js';
import { peerCommands, preparePeers, runPeerRound, type Peers } from './peers.js';
import { paramMismatches, poolRounds, renderReport, renderTables, renderRounds, roundRatios, rowKey, type ReportInfo, type RoundRecord } from './report.js';
import { runWorkload } from './suite.js';
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
const list = (name: string): string[] | undefined => flag(name)?.split(',').filter(Boolean);
const rounds = Number(flag('rounds') ?? 3);
if (!Number.isInteger(rounds) || rounds < 1) throw new ck.ConvkitError(`--rounds must be a whole number of rounds, at least 1, got ${flag('rounds')}`);
/** By default each run gets 10 s of measurement in all, split over the rounds. */
const defaultSecs = Math.ceil(100 / rounds) / 10;
const quick = flag('quick');
const secs = quick !== undefined ? Number(quick || 1) : Number(flag('secs') ?? defaultSecs);
if (!(secs > 0)) throw new ck.ConvkitError(`--secs / --quick must be a positive number of seconds, got ${quick ?? flag('secs')}`);
const only = list('only');
const webgpu = flag('backend') === 'webgpu';
const unknown = webgpu ? [] : only?.filter((n) => !WORKLOADS.some((w) => w.name === n));
if (unknown?.length) throw new ck.ConvkitError(`unknown workload(s) ${unknown.join(', ')}; the suite has: ${WORKLOADS.map((w) => w.name).join(', ')}`);
const noPeers = flag('no-peers') !== undefined;
const select = list('peers');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const peersDir = process.env.PEERS ?? '/tmp/peers';
const log = (s: string) => console.log(s);
const fmt = (r: { imagesPerS: number; medianMs: number; steps: number }) => `${r.imagesPerS.toFixed(1)} img/s, median ${r.medianMs.toFixed(2)} ms (${r.steps} steps)`;

async function main(): Promise<void> {
  const started = performance.now();
  const backend = flag('backend');
  if (backend) await ck.setBackend(backend);
  // Let the worker threads come up before timing.
  await new Promise((r) => setTimeout(r, 500));
  const loadBefore = loadavg()[0]!;
  const timing = { secs, warmupS: warmupFor(secs) };
  log(`convkit bench: backend ${ck.getBackendName()}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}; ${rounds} rounds per workload of ${secs} s per run and system`);
  const peers: Peers = noPeers
    ? { setup: { root, peersDir, threads: 2, only, select: [], log }, peers: [], problems: [] }
    : preparePeers({ root, peersDir, threads: 2, only, select, log });
  const problems = [...peers.problems];
  const torchParams: Record<string, number> = {};
  const records: RoundRecord[] = [];
  for (const w of WORKLOADS) {
    if (only && !only.includes(w.name)) continue;
    const mine = records.length;
    for (let round = 1; round <= rounds; round++) {
      const rec: RoundRecord = { workload: w.name, round, load: loadavg()[0]!, convkit: [], peers: [] };
      log(`${w.name}, round ${round} of ${rounds} (load ${rec.load.toFixed(1)})`);
      for (const { kind, batch } of w.runs) {
        const r = runWorkload(w, kind, batch, timing);
        rec.convkit.push(r);
        log(`convkit ${kind} ${w.name} b${batch}: ${fmt(r)}${r.gflops === null ? '' : `, ${r.gflops.toFixed(1)} GFLOP/s`}`);
      }
      for (const p of peers.peers) {
        if (!p.runs.has(w.name)) continue;
        const out = runPeerRound(peers, p, w.name, timing);
        rec.peers.push(...out.results);
        Object.assign(torchParams, out.torchParams);
        problems.push(...out.problems.map((s) => `${s} (round ${round})`));
      }
      records.push(rec);
    }
    for (const s of roundRatios(records.slice(mine))) {
      log(`${rowKey(s)} vs ${s.peer}: ${s.ratios.map((r) => (r === null ? '-' : `${r.toFixed(2)}x`)).join(', ')}; median ${s.median.toFixed(2)}x (${s.min.toFixed(2)}-${s.max.toFixed(2)}x)`);
    }
  }
  const { convkit: results, peers: peerResults } = poolRounds(records);
  const summaries = roundRatios(records);
  const pinned = Object.fromEntries(WORKLOADS.filter((w) => w.torch).map((w) => [w.name, w.torch!.params]));
  const mismatches = [...new Set([...paramMismatches(results, pinned), ...paramMismatches(results, torchParams)])];
  for (const m of mismatches) log(`PARAMETER COUNTS DIFFER: ${m}`);
  const loads = records.map((r) => r.load);
  const info: ReportInfo = {
    date: new Date().toISOString().slice(0, 10),
    machine: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`,
    load: [loadBefore, loadavg()[0]!],
    roundLoad: loads.length ? [Math.min(...loads), Math.max(...loads)] : null,
    cores: cpus().length,
    rounds,
    secs,
    minutes: (performance.now() - started) / 60_000,
    backend: ck.getBackendName() === 'wasm' ? `wasm (${runtime().fma ? 'relaxed-SIMD FMA build' : 'portable SIMD build'})` : ck.getBackendName(),
    commands: [`npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`, ...peerCommands(peers, timing)],
  };
  log(`\n${renderTables(results, peerResults, summaries)}\n`);
  if (summaries.length) log(`${renderRounds(summaries)}\n`);
  for (const p of problems) log(`not measured: ${p}`);
  log(`${info.minutes.toFixed(1)} minutes`);
  if (flag('no-write') !== undefined) return;
  // A full run: every workload and peer, the default rounds or more, at least 10 s per run and system.
  const full = !only && !noPeers && !select && quick === undefined && rounds >= 3 && rounds * secs >= 10;
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${full ? 'full' : 'partial'}-${new Date().toISOString().slice(0, 16).replace(':', '')}.json`);
  const record = { ...info, convkit: results, peers: peerResults, ratios: summaries, byRound: records, torchParams, mismatches, problems };
  writeFileSync(file, `${JSON.stringify(record, null, 1)}\n`);
  log(`wrote ${file}`);
  if (full) {
    // The suite's report is the top of the file; other benchmarks own the '## ' sections below it.
    const md = join(root, 'BENCHMARKS.md');
    const previous = existsSync(md) ? readFileSync(md, 'utf8') : '';
    const sections = previous.indexOf('\n## ');
    const report = renderReport({ results, peers: peerResults, summaries, problems }, info);
    writeFileSync(md, sections < 0 ? report : `${report.trimEnd()}\n${previous.slice(sections)}`);
    log('wrote the top of BENCHMARKS.md');
  }
}

if (webgpu) await (await import('./webgpu.js')).webgpuBench(flag, args);
else await main();
