/** Renders BENCHMARKS.md: convkit's times, its ratio to every peer measured in the same run, GFLOP/s. */
import type { PeerTable } from './peers.js';

export interface Result {
  workload: string;
  kind: 'infer' | 'train';
  batch: number;
  /** Median ms per call (inference) or per training step. */
  ms: number;
  minMs: number;
  runs: number;
  gflops: number;
}

export interface ReportInfo {
  date: string;
  machine: string;
  backend: string;
  commands: string[];
  /** 1-minute load average when convkit started and when the peers finished. */
  load: [number, number];
  cores: number;
}

/**
 * What 2 cores can do: WebAssembly SIMD has 128-bit vectors (relaxed SIMD adds a 4-lane FMA),
 * so the ceiling is the GEMM's own rate; native code has 512-bit FMAs.
 */
export const LIMITS = {
  wasmPerCore: 50,
  note: 'WebAssembly SIMD ceiling ~100 GFLOP/s of real multiply-adds (a 1024x1024x1024 GEMM: 50.3 GFLOP/s on one core and 103 on two with the relaxed-SIMD FMA build, 41.5 / 83 with f32x4 mul+add); ' +
    'figures above it are credited FLOPs of Winograd layers (F(4x4,3x3) does 2.25 multiplies per output where direct convolution does 9)',
};

const fmt = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

export function renderReport(results: Result[], peers: PeerTable, info: ReportInfo): string {
  const peerNames = Object.keys(peers);
  const head = ['workload', 'convkit', 'GFLOP/s', ...peerNames.map((p) => `vs ${p}`)];
  const rows = results.map((r) => {
    const images = (r.batch / r.ms) * 1000;
    const own = r.kind === 'infer' ? `${fmt(r.ms)} ms` : `${Math.round(images).toLocaleString('en-US')} img/s`;
    const cells = peerNames.map((p) => {
      const v = peers[p]?.[r.workload]?.[r.kind];
      if (v === undefined) return '';
      // > 1 means convkit is faster.
      const ratio = r.kind === 'infer' ? v / r.ms : images / v;
      const theirs = r.kind === 'infer' ? `${fmt(v)} ms` : `${Math.round(v).toLocaleString('en-US')} img/s`;
      return `${ratio.toFixed(2)}x (${theirs})`;
    });
    return [`${r.workload} ${r.kind} b${r.batch}`, own, r.gflops.toFixed(1), ...cells];
  });
  const table = [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  const [l0, l1] = info.load;
  const busy = Math.max(l0, l1) > info.cores
    ? `\n**The machine was busy** (load average ${l0.toFixed(1)} at the start, ${l1.toFixed(1)} at the end, on ${info.cores} cores):\nother processes took most of the CPU, so every number here, convkit's and the peers', is slower and\nnoisier than on an idle machine, multi-threaded peers most of all. Compare ratios, and re-run when idle.\n`
    : `\nLoad average ${l0.toFixed(1)} at the start, ${l1.toFixed(1)} at the end (${info.cores} cores).\n`;
  return `# Benchmarks

Measured ${info.date} on ${info.machine}; convkit backend \`${info.backend}\`.
Inference: median ms per call (batch as shown); training: images per second of full SGD steps
(forward, cross-entropy, backward, momentum update). Ratios are peer time / convkit time
(training: convkit img/s / peer img/s), so **> 1 means convkit is faster**; every peer was run in
the same session, one after the other, by the scripts in ../shared/bench.
${busy}
${table}

GFLOP/s counts 2 FLOPs per multiply-add of the CONV and FC layers (a training step as 3 forward
passes), whatever algorithm ran (Winograd does fewer multiplies than it is credited with).
Machine limit: ${LIMITS.note}; the native AVX-512 peak is several times higher, which is what
onnxruntime-node and PyTorch use.

Commands:

\`\`\`
${info.commands.join('\n')}
\`\`\`
`;
}
