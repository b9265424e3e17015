/**
 * The pure parts of `npm run bench`'s interleaved rounds: the median, pooling a run's rounds
 * into one throughput-over-wall-time figure, the per-round ratios with their median and range,
 * and the markdown of the tables and the report (which bench/run.ts splices into the top of
 * BENCHMARKS.md, so it must hold no `## ` section of its own).
 */
import { describe, expect, it } from 'vitest';
import type { PeerResult } from '../../bench/peers.js';
import { paramMismatches, poolRounds, renderReport, renderRounds, renderTables, roundRatios, type ReportInfo, type RoundRecord } from '../../bench/report.js';
import type { Result } from '../../bench/suite.js';
import { median, pool, warmupFor, type Measurement } from '../../bench/timing.js';
import { ConvkitError } from '../../src/tensor/errors.js';

const m = (imagesPerS: number, wallS: number, medianMs: number, minMs = medianMs): Measurement => ({ imagesPerS, wallS, medianMs, minMs, steps: Math.round(imagesPerS * wallS) });
const ck = (workload: string, kind: 'infer' | 'train', batch: number, meas: Measurement, gflops: number | null = null): Result => ({ workload, kind, batch, params: 10, gflops, ...meas });
const peer = (name: string, workload: string, kind: 'infer' | 'train', batch: number, meas: Measurement): PeerResult => ({ peer: name, workload, kind, batch, ...meas });

describe('bench rounds: median and pooling', () => {
  it('takes the middle value, the mean of the two middle ones for an even count', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  it('pools rounds as the images of all of them over their wall time, not the mean of their rates', () => {
    const p = pool([m(100, 1, 10, 9), m(50, 3, 30, 25)]);
    expect(p.imagesPerS).toBeCloseTo(250 / 4, 12);
    expect(p.wallS).toBe(4);
    expect(p.steps).toBe(250);
    expect(p.medianMs).toBe(20);
    expect(p.minMs).toBe(9);
    expect(() => pool([])).toThrow(ConvkitError);
  });

  it('warms up a tenth of the measuring time, to the millisecond, at most 1 s', () => {
    expect(warmupFor(3.4)).toBe(0.34);
    expect(warmupFor(1 / 3)).toBe(0.033);
    expect(warmupFor(20)).toBe(1);
  });
});

/** Workload 'a': infer b1 and train b8 in 3 rounds; PyTorch misses round 2 of the training run. */
function records(): RoundRecord[] {
  const torch = [[50, 200], [200, null], [100, 100]] as const;
  return [1, 2, 3].map((round): RoundRecord => ({
    workload: 'a',
    round,
    load: round,
    convkit: [ck('a', 'infer', 1, m(100, 1, 10), 5), ck('a', 'train', 8, m(400, 1, 20 + round), null)],
    peers: [
      peer('ConvNetJS', 'a', 'infer', 1, m(1, 3, 1000)),
      peer('PyTorch', 'a', 'infer', 1, m(torch[round - 1]![0], 1, 1000 / torch[round - 1]![0])),
      ...(torch[round - 1]![1] === null ? [] : [peer('PyTorch', 'a', 'train', 8, m(torch[round - 1]![1]!, 1, 8000 / torch[round - 1]![1]!))]),
      peer('onnxruntime-node', 'a', 'infer', 1, m(200 * round, 1, 5 / round)),
    ],
  }));
}

describe('bench rounds: ratios', () => {
  it('gives each round ratio of the same round, the median and range, in run order then peer order', () => {
    const s = roundRatios(records());
    expect(s.map((e) => `${e.kind}${e.batch} ${e.peer}`)).toEqual(['infer1 PyTorch', 'infer1 onnxruntime-node', 'infer1 ConvNetJS', 'train8 PyTorch']);
    const [torchInfer, ortNode, convnet, torchTrain] = s;
    expect(torchInfer!.ratios).toEqual([2, 0.5, 1]);
    expect([torchInfer!.median, torchInfer!.min, torchInfer!.max]).toEqual([1, 0.5, 2]);
    expect(torchInfer!.convkitMs).toEqual([10, 10, 10]);
    expect(torchInfer!.peerMs).toEqual([20, 5, 10]);
    expect(ortNode!.ratios).toEqual([0.5, 0.25, 100 / 600]);
    expect(ortNode!.median).toBe(0.25);
    expect(convnet!.ratios).toEqual([100, 100, 100]);
    // The round PyTorch missed has no ratio, but convkit's step of that round stays in the record.
    expect(torchTrain!.ratios).toEqual([2, null, 4]);
    expect(torchTrain!.convkitMs).toEqual([21, 22, 23]);
    expect(torchTrain!.peerMs).toEqual([40, null, 80]);
    expect([torchTrain!.median, torchTrain!.min, torchTrain!.max]).toEqual([3, 2, 4]);
  });

  it('keeps workloads apart, and drops a peer that has no round beside convkit', () => {
    const b: RoundRecord = { workload: 'b', round: 1, load: 0, convkit: [ck('b', 'infer', 1, m(10, 1, 100))], peers: [peer('PyTorch', 'b', 'infer', 1, m(20, 1, 50)), peer('PyTorch', 'b', 'infer', 4, m(20, 1, 200))] };
    const s = roundRatios([...records(), b]);
    const onB = s.filter((e) => e.workload === 'b');
    expect(onB.map((e) => [e.batch, e.ratios])).toEqual([[1, [0.5]]]);
    expect(s.filter((e) => e.workload === 'a' && e.peer === 'PyTorch' && e.kind === 'infer')[0]!.ratios).toHaveLength(3);
  });

  it('pools each run over its rounds, with convkit GFLOP/s following its pooled images/s', () => {
    const { convkit, peers } = poolRounds(records());
    expect(convkit.map((r) => [r.kind, r.imagesPerS, r.wallS, r.gflops])).toEqual([['infer', 100, 3, 5], ['train', 400, 3, null]]);
    const torchInfer = peers.find((p) => p.peer === 'PyTorch' && p.kind === 'infer')!;
    expect(torchInfer.imagesPerS).toBeCloseTo(350 / 3, 12);
    expect(torchInfer.medianMs).toBe(10);
    expect(peers.find((p) => p.peer === 'PyTorch' && p.kind === 'train')!.wallS).toBe(2);
  });
});

describe('bench report markdown', () => {
  const recs = records();
  const { convkit, peers } = poolRounds(recs);
  const summaries = roundRatios(recs);

  it("keeps the table's shape, with each ratio the median of the rounds' (not the pooled figures' quotient)", () => {
    const lines = renderTables(convkit, peers, summaries).split('\n');
    expect(lines[0]).toBe('| workload | convkit img/s (median ms) | PyTorch | ratio | ort-node | ratio | ort-web | ratio | convkit GFLOP/s |');
    // PyTorch pooled: 350 images in 3 s = 117 img/s; the median round ratio is 1.00x, not 100 / 117.
    expect(lines[2]).toBe('| a infer b1 | 100 (10.0 ms) | 117 (10.0 ms) | 1.00x | 400 (2.50 ms) | 0.25x |  |  | 5.0 |');
    expect(lines[3]).toBe('| a train b8 | 400 (22.0 ms) | 150 (60.0 ms) | 3.00x |  |  |  |  |  |');
    expect(lines).toContain('| a infer b1 | 100 (10.0 ms) |  |  |  |  | 1.00 (1,000 ms) | 100.00x |');
  });

  it('lists every round of every run and peer', () => {
    const lines = renderRounds(summaries).split('\n');
    expect(lines[0]).toBe('| workload | peer | convkit median ms, by round | peer median ms, by round | ratio, by round | median ratio (range) |');
    expect(lines[2]).toBe('| a infer b1 | PyTorch | 10.0, 10.0, 10.0 | 20.0, 5.00, 10.0 | 2.00x, 0.50x, 1.00x | 1.00x (0.50-2.00x) |');
    expect(lines[5]).toBe('| a train b8 | PyTorch | 21.0, 22.0, 23.0 | 40.0, -, 80.0 | 2.00x, -, 4.00x | 3.00x (2.00-4.00x) |');
    expect(lines).toHaveLength(6);
  });

  const info: ReportInfo = {
    date: '2026-12-06', machine: '2 x Test CPU, Node v20', backend: 'wasm', commands: ['npm run bench'], load: [0.4, 0.9],
    roundLoad: [0.2, 1.5], cores: 2, rounds: 3, secs: 3.4, minutes: 21.4,
  };

  it('states the date, machine, load, rounds and seconds per round, and holds no ## section', () => {
    const text = renderReport({ results: convkit, peers, summaries, problems: [] }, info);
    expect(text.startsWith('# Benchmarks\n')).toBe(true);
    expect(text).toContain('Measured 2026-12-06 on 2 x Test CPU, Node v20');
    expect(text.replace(/\n/g, ' ')).toContain('3 rounds per workload of 3.4 s of measurement per run and system (10.2 s in all)');
    expect(text).toContain('the whole run took 21 minutes');
    expect(text).toContain('Load average 0.4 at the start, 0.9 at the end, 0.2-1.5 at the start of the rounds (2 cores; the suite itself keeps them busy).');
    expect(text).toContain(renderRounds(summaries));
    expect(text).not.toMatch(/\n## /);
    expect(text).not.toContain('Not measured');
  });

  it('says when the machine was busy during the rounds, and what was not measured', () => {
    const text = renderReport({ results: convkit, peers, summaries, problems: ['tfjs-cpu on a exited with 1 (round 2)'] }, { ...info, roundLoad: [1, 3.5] });
    expect(text).toContain('**The machine was busy** (load average 0.4 at the start, 0.9 at the end, 1.0-3.5 at the start of the rounds, on 2 cores)');
    expect(text).toContain('Not measured: tfjs-cpu on a exited with 1 (round 2).');
    // Busy before the suite started (its own runs are not there yet), not busy at a round load of its own.
    expect(renderReport({ results: convkit, peers, summaries, problems: [] }, { ...info, load: [2.5, 0.9] })).toContain('**The machine was busy**');
    expect(renderReport({ results: convkit, peers, summaries, problems: [] }, { ...info, roundLoad: [1, 2.9] })).not.toContain('busy**');
  });

  it('flags parameter counts that differ from PyTorch', () => {
    expect(paramMismatches(convkit, { a: 10 })).toEqual([]);
    expect(paramMismatches(convkit, { a: 11 })).toEqual(['a: convkit 10 parameters, PyTorch 11']);
  });
});
