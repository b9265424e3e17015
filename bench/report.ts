/**
 * Renders the suite's figures: the markdown table (convkit against PyTorch, onnxruntime-node
 * and onnxruntime-web, each with its ratio), the smaller table of the older peers, and the
 * JSON record of bench/results/.
 */
import type { PeerResult } from './peers.js';
import type { Result } from './suite.js';

export interface ReportInfo {
  date: string;
  machine: string;
  backend: string;
  commands: string[];
  /** 1-minute load average when convkit started and when the peers finished. */
  load: [number, number];
  cores: number;
  secs: number;
}

/** The main table's peers (short name, name in the results). */
export const MAIN_PEERS: readonly [string, string][] = [['PyTorch', 'PyTorch'], ['ort-node', 'onnxruntime-node'], ['ort-web', 'onnxruntime-web']];
/** The peers kept for the workloads they ran before the suite grew. */
export const OLD_PEERS: readonly string[] = ['tfjs-wasm', 'tfjs-cpu', 'ConvNetJS'];

const num = (v: number): string => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const cell = (m: { imagesPerS: number; medianMs: number }): string => `${num(m.imagesPerS)} (${num(m.medianMs)} ms)`;
export const rowKey = (r: { workload: string; kind: string; batch: number }): string => `${r.workload} ${r.kind} b${r.batch}`;

export interface Ratio {
  workload: string;
  kind: string;
  batch: number;
  peer: string;
  /** convkit images/s over the peer's: > 1 means convkit is faster. */
  ratio: number;
}

export function ratios(results: readonly Result[], peers: readonly PeerResult[]): Ratio[] {
  const out: Ratio[] = [];
  for (const r of results) {
    for (const p of peers) {
      if (rowKey(p) === rowKey(r)) out.push({ workload: r.workload, kind: r.kind, batch: r.batch, peer: p.peer, ratio: r.imagesPerS / p.imagesPerS });
    }
  }
  return out;
}

function table(head: string[], rows: string[][]): string {
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** The markdown tables, ready to paste into BENCHMARKS.md. */
export function renderTables(results: readonly Result[], peers: readonly PeerResult[]): string {
  const find = (r: Result, peer: string) => peers.find((p) => p.peer === peer && rowKey(p) === rowKey(r));
  const pair = (r: Result, peer: string): string[] => {
    const p = find(r, peer);
    return p ? [cell(p), `${(r.imagesPerS / p.imagesPerS).toFixed(2)}x`] : ['', ''];
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
brackets. Inference steps are one forward pass of the batch shown (eval mode, no gradients);
training steps are forward, cross-entropy, backward and an SGD update (momentum 0.9) of the batch
shown, the same for every peer. Ratios are convkit's images/s over the peer's: **> 1 means convkit
is faster**. Peers ran in the same session, one after the other, never beside convkit: PyTorch
(CPU, 2 threads), onnxruntime-node (2 intra-op threads) and onnxruntime-web (WebAssembly SIMD,
2 threads, in Node) on ONNX files that PyTorch exported from the same architectures
(bench/peers/torch_models.py; bench/peers/params.json pins their parameter counts, which a test
compares with convkit's). GFLOP/s counts 2 FLOPs per multiply-add of the CONV and FC layers (a
training step as 3 forward passes) whatever algorithm ran, so Winograd layers are credited with
more multiplies than they do. Machine limit: WebAssembly SIMD reaches about 100 GFLOP/s of real
multiply-adds on 2 cores (a 1024x1024x1024 GEMM: 50.3 GFLOP/s on one core and 103 on two with
the relaxed-SIMD FMA build, 41.5 / 83 with f32x4 mul + add); the native AVX-512 code of
onnxruntime-node and PyTorch has several times that.`;

export function renderReport(results: readonly Result[], peers: readonly PeerResult[], problems: readonly string[], info: ReportInfo): string {
  const [l0, l1] = info.load;
  const busy = Math.max(l0, l1) > info.cores
    ? `\n**The machine was busy** (load average ${l0.toFixed(1)} at the start, ${l1.toFixed(1)} at the end, on ${info.cores} cores):\nother processes took much of the CPU, so every number here, convkit's and the peers', is slower and\nnoisier than on an idle machine, multi-threaded peers most of all. Compare ratios, and re-run when idle.\n`
    : `\nLoad average ${l0.toFixed(1)} at the start, ${l1.toFixed(1)} at the end (${info.cores} cores).\n`;
  const notes = problems.length ? `\nNot measured: ${problems.join('; ')}.\n` : '';
  return `# Benchmarks

Measured ${info.date} on ${info.machine}; convkit backend \`${info.backend}\`; ${info.secs} s of
measurement per workload and peer.
${busy}${notes}
${renderTables(results, peers)}

${METHOD}

Commands:

\`\`\`
${info.commands.join('\n')}
\`\`\`
`;
}
