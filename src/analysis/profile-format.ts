import type { Phase, ProfileReport } from './profile.js';
import { formatVolume } from './units.js';

/**
 * A profile as text: the layer table (time per phase, share of the step, GFLOP/s), the kernel
 * table, the time outside kernels and the hot spots. Backward columns appear only when a
 * backward pass ran.
 */

const PHASE_NAMES: Record<Phase, string> = { forward: 'forward', inputGrad: 'input-grad', weightGrad: 'weight-grad', otherBackward: 'other bwd' };

const ms = (v: number): string => (v === 0 ? '' : v.toFixed(3));
const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;
const gf = (v: number | null): string => (v === null ? '' : v >= 100 ? v.toFixed(0) : v.toFixed(2));
const calls = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(1));

function table(header: string[], rows: string[][], leftColumns: number): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** The profile as a plain-text table: one row per layer (and region) with its forward and backward times, share of the step and GFLOP/s. */
export function formatProfile(report: Omit<ProfileReport, 'format'>): string {
  const backward = report.layers.some((r) => r.inputGradMs + r.weightGradMs + r.otherBackwardMs > 0);
  const header = ['layer', 'type', 'output', 'calls', 'forward ms'];
  if (backward) header.push('input-grad ms', 'weight-grad ms', 'other bwd ms');
  header.push('total ms', 'step %', 'GFLOP/s');
  const rows = report.layers.map((r) => {
    const cells = [r.path === '' ? '(model)' : r.path, r.type, r.output ? formatVolume(r.output) : '', calls(r.calls), ms(r.forwardMs)];
    if (backward) cells.push(ms(r.inputGradMs), ms(r.weightGradMs), ms(r.otherBackwardMs));
    cells.push(ms(r.totalMs), pct(r.share), gf(r.gflops.total));
    return cells;
  });
  const total = ['total', '', '', '', ms(report.layers.reduce((a, r) => a + r.forwardMs, 0))];
  if (backward) {
    for (const key of ['inputGradMs', 'weightGradMs', 'otherBackwardMs'] as const) total.push(ms(report.layers.reduce((a, r) => a + r[key], 0)));
  }
  total.push(ms(report.attributedMs), pct(report.totalMs > 0 ? report.attributedMs / report.totalMs : 0), '');
  const layerLines = table(header, [...rows, total], 3);
  const kernelLines = table(
    ['kernel', 'phase', 'calls', 'ms', 'step %', 'GFLOP/s'],
    report.kernels.map((k) => [k.name, PHASE_NAMES[k.phase], calls(k.calls), ms(k.ms) || '0.000', pct(k.share), gf(k.gflops)]),
    2,
  );
  const hot = report.layers
    .filter((r) => r.totalMs > 0)
    .sort((a, b) => b.totalMs - a.totalMs)
    .slice(0, 5)
    .map((r) => `${r.path === '' ? '(model)' : r.path}${r.type ? ` (${r.type})` : ''} ${pct(r.share)}`);
  const stepWord = report.steps === 1 ? '1 measured step' : `mean of ${report.steps} measured steps`;
  return [
    `${report.title}: ${report.backend} backend, ${stepWord}${report.warmup ? ` after ${report.warmup} warm-up` : ''}, ${report.totalMs.toFixed(3)} ms per step` +
      (report.steps > 2 ? ` (median ${report.medianStepMs.toFixed(3)} ms)` : ''),
    ...(report.steps > 2 && report.totalMs > 1.5 * report.medianStepMs
      ? ['note: a few steps were much slower than the rest (other processes, garbage collection), and the tables are means: more steps, or a quieter machine, give steadier numbers']
      : []),
    '',
    ...layerLines,
    '',
    ...kernelLines,
    '',
    `inside kernels: ${report.kernelMs.toFixed(3)} ms (${pct(report.totalMs > 0 ? report.kernelMs / report.totalMs : 0)}); ` +
      `outside kernels: ${report.outsideKernelsMs.toFixed(3)} ms (${pct(report.outsideKernelsShare)}: argument checks, autograd bookkeeping, copies, code in JS)`,
    ...(hot.length ? [`hot spots: ${hot.join(', ')}`] : []),
    'note: each row is the layer\'s own time (its children have their rows); a backward step counts for the layer that ran the op; ' +
      'GFLOP/s = 2 x multiply-adds of its CONV / FC kernels over the row\'s time',
  ].join('\n');
}
