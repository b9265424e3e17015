/**
 * `npm run bench -- --backend=webgpu` (bench/run.ts hands over here): convkit on the webgpu
 * backend against TensorFlow.js on its WebGPU backend (bench/peers/tfjs-webgpu.mjs, a process of
 * its own on the same adapter), workload by workload: convkit's runs, then the peer's. Prints
 * the adapter, each figure and a markdown table (convkit, peer, ratio); writes the JSON record to
 * bench/results/ (or --out). On a software adapter (llvmpipe, lavapipe, SwiftShader) the figures
 * say what ran, not how fast a GPU is: the table is marked a correctness run.
 *   --quick           bench/webgpu-workloads.json's small sizes, 1 warm-up step and 2 timed
 *   --secs N          seconds of measurement per run and system (default 5)
 *   --only a,b        these workloads only
 *   --no-peers        convkit alone
 *   --out DIR         where the JSON goes (default bench/results)
 */
import { cpus } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ck from '../src/node.js';
import { gpu } from '../src/backend/webgpu/device.js';
import { preparePeers, runPeerRound, pretty, type Peers } from './peers.js';
import { gpuWorkloads, runGpuWorkload, runsOf, type GpuResult, type GpuTiming } from './webgpu-suite.js';

/** Mesa's llvmpipe / lavapipe and Google's SwiftShader run shaders on the CPU. */
export const isSoftwareAdapter = (name: string): boolean => /llvmpipe|lavapipe|swiftshader|software/i.test(name);

const fmt = (r: { imagesPerS: number; medianMs: number; steps: number; gflops?: number | null; kind: string }): string =>
  `${r.kind === 'gemm' || r.kind === 'conv' ? `${(r.gflops ?? 0).toFixed(1)} GFLOP/s` : `${r.imagesPerS.toFixed(1)} img/s`}, median step ${r.medianMs.toFixed(2)} ms (${r.steps} steps)`;

export async function webgpuBench(flag: (name: string) => string | undefined, args: readonly string[]): Promise<void> {
  const started = performance.now();
  const log = (s: string) => console.log(s);
  const quick = flag('quick') !== undefined;
  const secs = quick ? 0 : Number(flag('secs') ?? 5);
  if (!(secs >= 0)) throw new ck.ConvkitError(`--secs must be a number of seconds, got ${flag('secs')}`);
  const timing: GpuTiming = quick ? { secs: 0, warmupS: 0, minSteps: 2 } : { secs, warmupS: 1, minSteps: 3 };
  const suite = gpuWorkloads(quick);
  const only = flag('only')?.split(',').filter(Boolean);
  const unknown = only?.filter((n) => !suite.some((w) => w.name === n));
  if (unknown?.length) throw new ck.ConvkitError(`unknown workload(s) ${unknown.join(', ')}; the webgpu suite has: ${suite.map((w) => w.name).join(', ')}`);
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');

  await ck.setBackend('webgpu');
  // Dawn puts the renderer's name (llvmpipe...) in `device`, which gpu().adapterName leaves out.
  const info = (gpu().keepAlive[1] as { info?: GPUAdapterInfo & { device?: string } } | undefined)?.info;
  const adapter = info?.device ? `${gpu().adapterName} (${info.device})` : gpu().adapterName;
  const software = isSoftwareAdapter(adapter);
  log(`convkit webgpu bench: adapter ${adapter}${software ? ' (software adapter: correctness run only)' : ''}; ${cpus().length} cores, node ${process.version}; ${quick ? 'quick: 1 warm-up + 2 timed steps' : `${secs} s per run and system`}`);

  const peers: Peers = flag('no-peers') !== undefined
    ? { setup: { root, peersDir: '', threads: 1, only, select: [], log }, peers: [], problems: [] }
    : preparePeers({ root, peersDir: process.env.PEERS ?? '/tmp/peers', threads: 1, only, select: undefined, log, suite: 'webgpu', quick, peerTimeoutMin: 3 });
  const problems = [...peers.problems];
  const results: GpuResult[] = [];
  const peerResults: GpuResult[] = [];
  const dir = flag('out') || join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `webgpu-${quick ? 'quick-' : ''}${new Date().toISOString().slice(0, 16).replace(':', '')}.json`);
  const commands = [`npm run bench -- ${args.join(' ')}`, ...peers.peers.map((p) => `${pretty(peers.setup, p)} --secs ${timing.secs} --warmup ${timing.warmupS} --only <workload>`)];
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`;
  // Written after every workload, so that a run stopped from outside keeps what it measured.
  const save = (table: string | null): void => {
    const minutes = (performance.now() - started) / 60_000;
    const record = { date: new Date().toISOString(), adapter, software, quick, timing, minutes, machine, commands, convkit: results, peers: peerResults, problems, table };
    writeFileSync(file, `${JSON.stringify(record, null, 1)}\n`);
  };
  for (const w of suite) {
    if (only && !only.includes(w.name)) continue;
    if (w.note && !runsOf(w).length) problems.push(`${w.name}: ${w.note}`);
    for (const batch of runsOf(w)) {
      try {
        const r = await runGpuWorkload(w, batch, timing);
        results.push(r);
        log(`convkit ${w.kind} ${w.name} b${batch}: ${fmt(r)}`);
      } catch (e) {
        problems.push(`convkit ${w.name} b${batch}: ${e instanceof Error ? e.message : String(e)}`);
        log(`convkit ${w.name} b${batch} FAILED: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    for (const p of peers.peers) {
      if (!p.runs.has(w.name)) continue;
      const out = runPeerRound(peers, p, w.name, { secs: timing.secs, warmupS: timing.warmupS });
      for (const r of out.results as unknown as GpuResult[]) {
        peerResults.push({ ...r, system: p.name });
        log(`${p.name} ${r.kind} ${w.name} b${r.batch}: ${fmt(r)}`);
      }
      problems.push(...out.problems);
    }
    save(null);
  }

  const table = renderGpuTable(results, peerResults, software ? `software adapter (${adapter}): correctness run only` : adapter);
  log(`\n${table}\n`);
  for (const p of problems) log(`not measured: ${p}`);
  log(`${((performance.now() - started) / 60_000).toFixed(1)} minutes`);
  save(table);
  log(`wrote ${file}`);
}

/** The markdown table: a row per run, convkit's figure, each peer's and convkit over the peer (> 1: convkit faster). */
export function renderGpuTable(mine: readonly GpuResult[], theirs: readonly GpuResult[], title: string): string {
  const peerNames = [...new Set(theirs.map((r) => r.system))];
  const cell = (r: GpuResult | undefined): string => (r ? `${r.gflops !== null ? `${r.gflops.toFixed(1)} GFLOP/s` : `${r.imagesPerS.toFixed(1)} img/s`} (${r.medianMs.toFixed(2)} ms)` : '');
  const head = ['run', 'convkit', ...peerNames.flatMap((p) => [p, `ratio vs ${p}`])];
  const lines = [`${title}; throughput over wall time (median step in brackets)`, '', `| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`];
  const keys = [...new Map([...mine, ...theirs].map((r) => [`${r.workload}|${r.kind}|${r.batch}`, r])).values()];
  for (const k of keys) {
    const same = (r: GpuResult) => r.workload === k.workload && r.kind === k.kind && r.batch === k.batch;
    const c = mine.find(same);
    const row = [`${k.workload} ${k.kind}${k.kind === 'gemm' ? '' : ` b${k.batch}`}${c?.size ? ` (${c.size})` : ''}`, cell(c)];
    for (const p of peerNames) {
      const o = theirs.find((r) => r.system === p && same(r));
      row.push(cell(o), c && o ? `${(c.imagesPerS / o.imagesPerS).toFixed(2)}x` : '');
    }
    lines.push(`| ${row.join(' | ')} |`);
  }
  return lines.join('\n');
}
