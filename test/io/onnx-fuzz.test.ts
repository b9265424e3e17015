/**
 * Smoke run of the ONNX importer fuzzer (scripts/fuzz-onnx.ts; `npm run fuzz` runs 10,000
 * cases): 1,000 mutated model files (bit flips, insertions, deletions, truncation, huge and
 * negative sizes and attributes, huge repeated fields, swapped operators), each loaded and,
 * when it loads, run. Every failure must be a ConvkitError, and no case may hang. It runs on
 * the js reference backend, which defines what every backend must do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { runFuzz } from '../../scripts/fuzz-onnx.js';

describe('ONNX importer fuzz (smoke)', () => {
  let previous = '';
  beforeAll(async () => {
    previous = ck.getBackendName();
    await ck.setBackend('js');
  });
  afterAll(async () => {
    await ck.setBackend(previous);
  });

  it('1,000 mutated files: every failure is a ConvkitError, none hangs', () => {
    const report = runFuzz({ cases: 1000, seed: 12, slowMs: 1000, budgetMs: 40_000 });
    const show = (list: typeof report.failures) => list.map((f) => `case ${f.index} (${f.seedFile}, ${f.mutation}, ${f.ms.toFixed(0)} ms) ${f.error}`).join('\n');
    expect(report.failures, show(report.failures)).toEqual([]);
    // A generous bound for a busy machine; `npm run fuzz` reports every case over 1 s.
    expect(report.slowestMs, show(report.slow)).toBeLessThan(10_000);
    expect(report.cases).toBeGreaterThanOrEqual(500);
    // The mutations reach past the decoder: some files load and run, most are refused.
    expect(report.loaded).toBeGreaterThan(50);
    expect(report.convkitErrors).toBeGreaterThan(report.cases / 2);
  }, 60_000);
});
