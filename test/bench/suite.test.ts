/**
 * The bench suite's smoke test: every workload of bench/workloads.json has a convkit network
 * with the parameter count, and the multiply-adds of one image (which catch a stride or padding
 * that differs), that PyTorch's twin recorded (bench/peers/params.json, written by
 * `python3 bench/peers/torch_models.py params bench/peers/params.json`), and each run of it
 * kind of run (inference, training) goes through the benchmark's own code for a warm-up and one
 * measured step at batch 2.
 * Networks of over 10M parameters only count theirs, and the three of over 50M are not built,
 * unless CONVKIT_SLOW_TESTS=1.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parameterCount, WORKLOADS } from '../../bench/models.js';
import { forwardMacs, runWorkload } from '../../bench/suite.js';
import { measure } from '../../bench/timing.js';

const SLOW = process.env['CONVKIT_SLOW_TESTS'] === '1';
const BIG = new Set(['vgg16', 'alexnet', 'zfnet']);
const pinned = JSON.parse(readFileSync(new URL('../../bench/peers/params.json', import.meta.url), 'utf8')) as Record<string, { params: number; macs: number }>;
/** Where convkit's summary counts no multiply-adds (transposed convolutions), so there is nothing to compare. */
const UNCOUNTED = new Set(['convT4x4_64x28']);

describe('bench suite', () => {
  it('has at least 14 workloads, each with a pinned PyTorch parameter count', () => {
    expect(WORKLOADS.length).toBeGreaterThanOrEqual(14);
    expect(Object.keys(pinned).sort()).toEqual(WORKLOADS.map((w) => w.name).sort());
    for (const w of WORKLOADS) {
      expect(w.runs.length, w.name).toBeGreaterThan(0);
      for (const r of w.runs) if (r.kind === 'train') expect(w.classes, w.name).toBeGreaterThan(1);
    }
  });

  for (const w of WORKLOADS) {
    const run = BIG.has(w.name) && !SLOW ? it.skip : it;
    run(`${w.name}: PyTorch's parameter and multiply-add counts, and one step of each kind of run`, () => {
      const model = w.make();
      const torch = pinned[w.name]!;
      expect(parameterCount(model)).toBe(torch.params);
      expect(forwardMacs(model, w)).toBe(UNCOUNTED.has(w.name) ? null : torch.macs);
      if (torch.params > 10e6 && !SLOW) return;
      for (const kind of new Set(w.runs.map((r) => r.kind))) {
        const r = runWorkload(w, kind, 2, { secs: 0, warmupS: 0, minSteps: 1, countMacs: false });
        expect(r.steps).toBe(1);
        expect(r.imagesPerS).toBeGreaterThan(0);
        expect(r.params).toBe(torch.params);
      }
      // VGG-16's 138M parameters, built twice, take a while on a busy machine.
    }, BIG.has(w.name) ? 600_000 : undefined);
  }
});

describe('bench measuring rule', () => {
  it('counts images over the wall time of every step, with the median step beside it', () => {
    let calls = 0;
    const step = () => {
      calls++;
      const t = performance.now() + (calls % 2 ? 2 : 4);
      while (performance.now() < t) { /* busy */ }
    };
    const m = measure(step, 8, { secs: 0.05, warmupS: 0 });
    expect(calls).toBe(m.steps + 1);
    expect(m.steps).toBeGreaterThanOrEqual(3);
    expect(m.wallS).toBeGreaterThanOrEqual(0.05);
    expect(m.imagesPerS).toBeCloseTo((m.steps * 8) / m.wallS, 6);
    expect(m.medianMs).toBeGreaterThanOrEqual(2);
    expect(m.minMs).toBeLessThanOrEqual(m.medianMs);
  });
});
