/**
 * Smoke run of the PyTorch file fuzzer (scripts/fuzz-torch-io.ts; `npm run fuzz:torch-io`
 * runs 5,000 cases per format in a supervised child process): a few hundred mutated .pth and
 * safetensors files each, every one ending in a ConvkitError or a load whose tensors are whole.
 */
import { describe, expect, it } from 'vitest';
import { runTorchIoFuzz, type TorchFuzzReport } from '../../../scripts/fuzz-torch-io.js';

function expectClean(r: TorchFuzzReport, minCases: number): void {
  const show = (list: TorchFuzzReport['failures']) => list.map((f) => `case ${f.index} (${f.seedFile}, ${f.mutation}, ${f.ms.toFixed(0)} ms) ${f.error}`).join('\n');
  expect(r.failures, show(r.failures)).toEqual([]);
  // Generous for a busy machine; `npm run fuzz:torch-io` reports every case over 1 s.
  expect(r.slowestMs, show(r.slow)).toBeLessThan(5_000);
  expect(r.cases).toBeGreaterThanOrEqual(minCases);
  // The mutations reach past the container: some files load, most are refused.
  expect(r.loaded).toBeGreaterThan(r.cases / 20);
  expect(r.refused).toBeGreaterThan(r.cases / 2);
}

describe('PyTorch file fuzz (smoke)', () => {
  it('300 mutated .pth files: ConvkitError or a whole load, none slow', async () => {
    expectClean(await runTorchIoFuzz({ format: 'pth', cases: 300, seed: 19, budgetMs: 20_000 }), 150);
  }, 40_000);

  it('300 mutated safetensors files: ConvkitError or a whole load, none slow', async () => {
    expectClean(await runTorchIoFuzz({ format: 'safetensors', cases: 300, seed: 19, budgetMs: 20_000 }), 150);
  }, 40_000);
});
