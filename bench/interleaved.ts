/**
 * convkit against PyTorch, interleaved: for each workload, rounds of convkit then PyTorch (2
 * threads each, one after the other, never together), so a machine whose speed drifts during
 * the run biases no ratio (`npm run bench` times convkit on every workload, then each peer). Prints
 * each round's throughputs and ratio, and the median ratio over the rounds with its range.
 *
 *   npx vite-node bench/interleaved.ts --only vgg_bn_cifar,resnet18_112 [--rounds 3] [--secs 5]
 *
 * Needs /usr/bin/python3 with torch (bench/peers/README.md). Never part of `npm test`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ck from '../src/index.js';
import { WORKLOADS } from './models.js';
import { runWorkload } from './suite.js';
import { warmupFor } from './timing.js';

const args = process.argv.slice(2);
function flag(name: string): string | undefined {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  const a = args[i]!;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[i + 1];
}
const only = flag('only')?.split(',').filter(Boolean);
if (!only?.length) throw new ck.ConvkitError(`--only a,b is required; the suite has: ${WORKLOADS.map((w) => w.name).join(', ')}`);
const unknown = only.filter((n) => !WORKLOADS.some((w) => w.name === n));
if (unknown.length) throw new ck.ConvkitError(`unknown workload(s) ${unknown.join(', ')}`);
const rounds = Number(flag('rounds') ?? 3);
const secs = Number(flag('secs') ?? 5);
const peersDir = join(dirname(fileURLToPath(import.meta.url)), 'peers');
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface TorchResult {
  workload: string;
  kind: string;
  batch: number;
  imagesPerS: number;
  medianMs: number;
}

function torchRun(workload: string): TorchResult[] {
  const r = spawnSync(PYTHON, ['torch_bench.py', '--threads', '2', '--secs', String(secs), '--warmup', String(warmupFor(secs)), '--only', workload], {
    cwd: peersDir,
    encoding: 'utf8',
    timeout: 10 * 60_000,
  });
  if (r.status !== 0) throw new ck.ConvkitError(`torch_bench.py failed: ${r.stderr.slice(-400)}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('result '))
    .map((l) => JSON.parse(l.slice(7)) as TorchResult);
}

await new Promise((r) => setTimeout(r, 500)); // let the worker threads come up
const timing = { secs, warmupS: warmupFor(secs) };
for (const name of only) {
  const w = WORKLOADS.find((x) => x.name === name)!;
  for (const { kind, batch } of w.runs) {
    const ratios: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const mine = runWorkload(w, kind, batch, timing);
      const theirs = torchRun(name).find((t) => t.kind === kind && t.batch === batch);
      if (!theirs) throw new ck.ConvkitError(`PyTorch printed no ${kind} b${batch} result for ${name}`);
      ratios.push(mine.imagesPerS / theirs.imagesPerS);
      console.log(
        `${name} ${kind} b${batch} round ${round}: convkit ${mine.imagesPerS.toFixed(1)} img/s (median ${mine.medianMs.toFixed(1)} ms), ` +
          `PyTorch ${theirs.imagesPerS.toFixed(1)} img/s (median ${theirs.medianMs.toFixed(1)} ms): ${ratios.at(-1)!.toFixed(2)}x`,
      );
    }
    console.log(`${name} ${kind} b${batch}: median ratio ${median(ratios).toFixed(2)}x over ${rounds} rounds (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x)\n`);
  }
}
