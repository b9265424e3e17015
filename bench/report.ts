/**
 * Renders the suite's figures from its rounds (bench/run.ts: for each workload, rounds of
 * convkit then each peer): each run's measurements pooled over the rounds, the per-round ratios
 * with their median and range, the markdown tables (convkit against PyTorch, onnxruntime-node
 * and onnxruntime-web, the smaller table of the older peers, the per-round table) and the
 * report that tops BENCHMARKS.md.
 */
import type { PeerResult } from './peers.js';
import type { Result } from './suite.js';
import { median, pool } from './timing.js';

export interface ReportInfo {
  date: string;
  machine: string;
  backend: string;
  commands: string[];
  /** 1-minute load average when convkit started and when the last peer finished. */
  load: [number, number];
  /** Least and greatest 1-minute load average at the start of a round (null: no round ran). */
  roundLoad: [number, number] | null;
  cores: number;
  /** Rounds per workload, and seconds of measurement per run and system in each round. */
  rounds: number;
  secs: number;
  /** Minutes the whole run took, peers' start-up included. */
  minutes: number;
}

/** One round of one workload: convkit's runs of it, then each peer's, one after the other. */
export interface RoundRecord {
  workload: string;
  /** 1-based. */
  round: number;
  /** 1-minute load average when the round began. */
  load: number;
  convkit: Result[];
  peers: PeerResult[];
}

/** One run (workload, kind, batch) against one peer, round by round. */
export interface RoundRatios {
  workload: string;
  kind: string;
  batch: number;
  peer: string;
  /** Index round - 1; null where that side has no figure in that round. */
  convkitMs: (number | null)[];
  peerMs: (number | null)[];
  /** convkit images/s over the peer's in the same round: > 1 means convkit is faster. */
  ratios: (number | null)[];
  /** Over the rounds that have a ratio. */
  median: number;
  min: number;
  max: number;
}

/** The main table's peers (short name, name in the results). */
export const MAIN_PEERS: readonly [string, string][] = [['PyTorch', 'PyTorch'], ['ort-node', 'onnxruntime-node'], ['ort-web', 'onnxruntime-web']];
/** The peers kept for the workloads they ran before the suite grew. */
export const OLD_PEERS: readonly string[] = ['tfjs-wasm', 'tfjs-cpu', 'ConvNetJS'];
const PEER_ORDER = [...MAIN_PEERS.map(([, p]) => p), ...OLD_PEERS];

const num = (v: number): string => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const cell = (m: { imagesPerS: number; medianMs: number }): string => `${num(m.imagesPerS)} (${num(m.medianMs)} ms)`;
const x = (r: number): string => `${r.toFixed(2)}x`;
export const rowKey = (r: { workload: string; kind: string; batch: number }): string => `${r.workload} ${r.kind} b${r.batch}`;

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const t of items) out.set(key(t), [...(out.get(key(t)) ?? []), t]);
  return out;
}

/** Each run's measurements pooled over its rounds (bench/timing.ts's pool), in the order they ran. */
export function poolRounds(records: readonly RoundRecord[]): { convkit: Result[]; peers: PeerResult[] } {
  const convkit = [...groupBy(records.flatMap((r) => r.convkit), rowKey).values()].map((rs): Result => {
    const m = pool(rs);
    const first = rs[0]!;
    // GFLOP/s is a fixed count of FLOPs per image times images/s.
    const gflops = rs.every((r) => r.gflops !== null) ? (first.gflops! / first.imagesPerS) * m.imagesPerS : null;
    return { workload: first.workload, kind: first.kind, batch: first.batch, params: first.params, ...m, gflops };
  });
  const peers = [...groupBy(records.flatMap((r) => r.peers), (p) => `${p.peer}|${rowKey(p)}`).values()].map((ps): PeerResult => {
    const { peer, workload, kind, batch } = ps[0]!;
    return { peer, workload, kind, batch, ...pool(ps) };
  });
  return { convkit, peers };
}

/** Per run and peer, the ratio of each round, with the median and range over the rounds. */
export function roundRatios(records: readonly RoundRecord[]): RoundRatios[] {
  const rounds = new Map<string, number>();
  for (const r of records) rounds.set(r.workload, Math.max(r.round, rounds.get(r.workload) ?? 0));
  const entries = new Map<string, RoundRatios>();
  const runOrder: string[] = [];
  for (const rec of records) {
    const n = rounds.get(rec.workload)!;
    for (const c of rec.convkit) if (!runOrder.includes(rowKey(c))) runOrder.push(rowKey(c));
    for (const p of rec.peers) {
      const id = `${rowKey(p)}|${p.peer}`;
      let e = entries.get(id);
      if (!e) {
        const none = (): null[] => Array<null>(n).fill(null);
        e = { workload: p.workload, kind: p.kind, batch: p.batch, peer: p.peer, convkitMs: none(), peerMs: none(), ratios: none(), median: NaN, min: NaN, max: NaN };
        entries.set(id, e);
      }
      const c = rec.convkit.find((r) => rowKey(r) === rowKey(p));
      e.peerMs[rec.round - 1] = p.medianMs;
      if (c) e.ratios[rec.round - 1] = c.imagesPerS / p.imagesPerS;
    }
  }
  for (const e of entries.values()) {
    for (const rec of records) {
      const c = rec.workload === e.workload ? rec.convkit.find((r) => rowKey(r) === rowKey(e)) : undefined;
      if (c) e.convkitMs[rec.round - 1] = c.medianMs;
    }
    const rs = e.ratios.filter((r): r is number => r !== null);
    [e.median, e.min, e.max] = [median(rs), Math.min(...rs), Math.max(...rs)];
  }
  const rank = (peer: string): number => (PEER_ORDER.includes(peer) ? PEER_ORDER.indexOf(peer) : PEER_ORDER.length);
  return [...entries.values()]
    .filter((e) => e.ratios.some((r) => r !== null))
    .sort((a, b) => runOrder.indexOf(rowKey(a)) - runOrder.indexOf(rowKey(b)) || rank(a.peer) - rank(b.peer));
}

function table(head: string[], rows: string[][]): string {
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/**
 * The markdown tables, ready to paste into BENCHMARKS.md: pooled figures, and as each ratio the
 * median of the per-round ratios.
 */
export function renderTables(results: readonly Result[], peers: readonly PeerResult[], summaries: readonly RoundRatios[]): string {
  const find = (r: Result, peer: string) => peers.find((p) => p.peer === peer && rowKey(p) === rowKey(r));
  const pair = (r: Result, peer: string): string[] => {
    const p = find(r, peer);
    const s = summaries.find((e) => e.peer === peer && rowKey(e) === rowKey(r));
    return p ? [cell(p), s ? x(s.median) : ''] : ['', ''];
  };
  const main = table(
    ['workload', 'convkit img/s (median ms)', ...MAIN_PEERS.flatMap(([short]) => [short, 'ratio']), 'convkit GFLOP/s'],
    results.map((r) => [rowKey(r), cell(r), ...MAIN_PEERS.flatMap(([, peer]) => pair(r, peer)), r.gflops === null ? '' : r.gflops.toFixed(1)]),
  );
  const oldRows = results.filter((r) => OLD_PEERS.some((p) => find(r, p)));
  const old = oldRows.length
    ? `\n\nThe peers of the original workloads only:\n\n${table(['workload', 'convkit img/s (median ms)', ...OLD_PEERS.flatMap((p) => [p, 'ratio'])], oldRows.map((r) => [rowKey(r), cell(r), ...OLD_PEERS.flatMap((p) => pair(r, p))]))}`
    : '';
  return main + old;
}

/** One row per run and peer: the median step of each round on both sides, each round's ratio, the median and range. */
export function renderRounds(summaries: readonly RoundRatios[]): string {
  const list = (vs: readonly (number | null)[], f: (v: number) => string): string => vs.map((v) => (v === null ? '-' : f(v))).join(', ');
  return table(
    ['workload', 'peer', 'convkit median ms, by round', 'peer median ms, by round', 'ratio, by round', 'median ratio (range)'],
    summaries.map((s) => [rowKey(s), s.peer, list(s.convkitMs, num), list(s.peerMs, num), list(s.ratios, x), `${x(s.median)} (${s.min.toFixed(2)}-${x(s.max)})`]),
  );
}

/** Workloads whose convkit and PyTorch parameter counts differ (the two would not be the same network). */
export function paramMismatches(results: readonly Result[], torchParams: Record<string, number>): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const r of results) {
    const t = torchParams[r.workload];
    if (seen.has(r.workload) || t === undefined) continue;
    seen.add(r.workload);
    if (t !== r.params) out.push(`${r.workload}: convkit ${r.params.toLocaleString('en-US')} parameters, PyTorch ${t.toLocaleString('en-US')}`);
  }
  return out;
}

export const METHOD = `Every figure is throughput over wall time: after a short warm-up, steps run back to back for at
least the stated seconds (and 3 steps), and images per second is the images of all of them over
the wall time they took, garbage collection and every pause included; the median step time is in
brackets. The run is interleaved: for each workload, rounds of convkit's runs of it and then each
peer's (a fresh process per peer and round), one after the other, never beside each other, so
that a machine whose speed drifts over the run biases no ratio, and a peer whose speed changes
from process to process shows in the range. A figure pools the rounds (the images of all of them over their wall time; the median
of their median steps); a ratio is the median over the rounds of convkit's images/s over the
peer's in the same round (**> 1 means convkit is faster**), and the per-round table gives each
round's with the range. Inference steps are one forward pass of the batch shown (eval mode, no
gradients); training steps are forward, cross-entropy, backward and an SGD update (momentum 0.9)
of the batch shown, the same for every peer. Peers: PyTorch (CPU, 2 threads), onnxruntime-node
(2 intra-op threads) and onnxruntime-web (WebAssembly SIMD, 2 threads, in Node) on ONNX files
that PyTorch exported from the same architectures (bench/peers/torch_models.py;
bench/peers/params.json pins their parameter counts, which a test compares with convkit's).
GFLOP/s counts 2 FLOPs per multiply-add of the CONV and FC layers (a training step as 3 forward
passes) whatever algorithm ran, so Winograd layers are credited with more multiplies than they
do. Machine limit: WebAssembly SIMD reaches about 100 GFLOP/s of real multiply-adds on 2 cores
(a 1024x1024x1024 GEMM: 50.3 GFLOP/s on one core and 103 on two with the relaxed-SIMD FMA build,
41.5 / 83 with f32x4 mul + add); the native AVX-512 code of onnxruntime-node and PyTorch has
several times that.`;

export interface ReportData {
  /** Pooled over the rounds (poolRounds). */
  results: readonly Result[];
  peers: readonly PeerResult[];
  summaries: readonly RoundRatios[];
  problems: readonly string[];
}

/** The top of BENCHMARKS.md, down to (not including) its first `## ` section. */
export function renderReport(d: ReportData, info: ReportInfo): string {
  const [l0, l1] = info.load;
  const rl = info.roundLoad ? `, ${info.roundLoad[0].toFixed(1)}-${info.roundLoad[1].toFixed(1)} at the start of the rounds` : '';
  // The suite's own runs keep every core busy, so a load up to one more than the cores during
  // the rounds is its own (and the peers' processes winding down); before it starts, anything
  // over the cores is someone else's.
  const busy = l0 > info.cores || Math.max(l1, info.roundLoad?.[1] ?? 0) > info.cores + 1
    ? `\n**The machine was busy** (load average ${l0.toFixed(1)} at the start, ${l1.toFixed(1)} at the end${rl}, on ${info.cores} cores):\nother processes took much of the CPU, so every number here, convkit's and the peers', is slower and\nnoisier than on an idle machine, multi-threaded peers most of all. Compare ratios, and re-run when idle.\n`
    : `\nLoad average ${l0.toFixed(1)} at the start, ${l1.toFixed(1)} at the end${rl} (${info.cores} cores; the suite itself keeps them busy).\n`;
  const notes = d.problems.length ? `\nNot measured: ${d.problems.join('; ')}.\n` : '';
  const perRun = +(info.rounds * info.secs).toFixed(2);
  const rounds = d.summaries.length
    ? `\n\nEach round (convkit, then each peer, per workload): every run's median step on both sides, the ratio of\nconvkit's images/s to the peer's in that round, and the median ratio over the rounds with its range:\n\n${renderRounds(d.summaries)}`
    : '';
  return `# Benchmarks

Measured ${info.date} on ${info.machine}; convkit backend \`${info.backend}\`; ${info.rounds} round${info.rounds === 1 ? '' : 's'} per
workload of ${info.secs} s of measurement per run and system (${perRun} s in all), convkit then each peer in
every round; the whole run took ${Math.round(info.minutes)} minutes.
${busy}${notes}
${renderTables(d.results, d.peers, d.summaries)}${rounds}

${METHOD}

Commands:

\`\`\`
${info.commands.join('\n')}
\`\`\`
`;
}
