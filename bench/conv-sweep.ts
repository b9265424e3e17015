/**
 * Convolution layers no benchmark was tuned on: a seeded random sweep of layer shapes people
 * use (kernels 1-7, stride 1-2, dilation 2, depthwise, grouped, 1x1; 3-512 channels; 7-112
 * pixels; batch 1-128, odd values included), each timed through the public API (F.conv2d
 * forward under noGrad, and forward + backward to the input and the filters) on convkit and on
 * PyTorch (bench/peers/torch_conv_sweep.py, same threads) one after the other, then sorted by
 * the ratio: the layers where convkit falls furthest behind are the next work. Geometric means
 * per kind of layer at the end. It found the per-task atomic of the wasm job runner and the slow
 * small-plane depthwise kernels (BENCHMARKS.md, "Layers no benchmark was tuned on").
 *   npx vite-node bench/conv-sweep.ts [--count=70] [--seed=7] [--secs=0.4] [--threads=2]
 *       [--no-torch] [--only=3,17]   (indices into the list)
 *       [--layers='b8 256->21 @32 3x3; b4 512->21 @64 3x3 s2 d2 g1']   (these layers instead)
 * Never part of `npm test`; the machine is shared: compare figures of one run only.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ck from '../src/index.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const count = Number(opt('count') ?? 70);
const secs = Number(opt('secs') ?? 0.4);
const threads = Number(opt('threads') ?? 2);
const only = opt('only')?.split(',').map(Number);
const withTorch = !args.includes('--no-torch');

interface Layer { n: number; c: number; k: number; h: number; r: number; s: number; p: number; d: number; g: number; kind: string; macs: number }

/** The sweep's layers: a small LCG picks each option, so a seed names the same list everywhere. */
function layers(n: number, seed: number): Layer[] {
  let s = seed >>> 0;
  const pick = <T>(v: readonly T[]): T => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return v[(s >>> 8) % v.length]!;
  };
  const C = [3, 8, 16, 24, 32, 40, 48, 64, 96, 112, 128, 160, 192, 256, 384, 512];
  const out: Layer[] = [];
  while (out.length < n) {
    const kind = pick(['dense', 'dense', 'dense', 'depthwise', 'grouped', '1x1', 'dilated']);
    const r = kind === '1x1' ? 1 : kind === 'dense' ? pick([1, 3, 3, 3, 5, 7]) : pick([3, 3, 5]);
    const st = pick([1, 1, 1, 2]);
    const d = kind === 'dilated' ? 2 : 1;
    let c = pick(C), k = pick(C), g = 1;
    if (kind === 'depthwise') { if (c === 3) continue; k = c; g = c; }
    if (kind === 'grouped') { g = pick([2, 4, 8, 32]); c = Math.max(g, Math.floor(c / g) * g); k = Math.max(g, Math.floor(k / g) * g); }
    const h = pick([7, 10, 14, 17, 20, 28, 31, 35, 48, 56, 64, 96, 112]);
    const batch = pick([1, 2, 3, 5, 8, 16, 24, 32, 50, 64, 100, 128]);
    const p = (d * (r - 1)) >> 1;
    const oh = Math.floor((h + 2 * p - d * (r - 1) - 1) / st) + 1;
    const macs = batch * k * (c / g) * r * r * oh * oh;
    if (oh < 1 || macs < 2e6 || macs > 6e8) continue;
    out.push({ n: batch, c, k, h, r, s: st, p, d, g, kind: r === 1 && kind === 'dense' ? '1x1' : kind, macs });
  }
  return out;
}

/** Layers written as the table prints them: `b8 256->21 @32 3x3 [s2] [d2] [g4]`, `;`-separated (padding keeps the size at stride 1). */
function parseLayers(spec: string): Layer[] {
  return spec.split(';').map((text) => text.trim()).filter(Boolean).map((text) => {
    const m = /^b(\d+) (\d+)->(\d+) @(\d+) (\d+)x(\d+)(?: s(\d+))?(?: d(\d+))?(?: g(\d+))?$/.exec(text);
    if (!m || m[5] !== m[6]) throw new Error(`--layers: cannot read "${text}" (expected e.g. "b8 256->21 @32 3x3 s1 d1 g1", square kernels)`);
    const [n, c, k, h, r] = m.slice(1, 6).map(Number) as [number, number, number, number, number];
    const st = Number(m[7] ?? 1), d = Number(m[8] ?? 1), g = Number(m[9] ?? 1);
    const p = (d * (r - 1)) >> 1;
    const oh = Math.floor((h + 2 * p - d * (r - 1) - 1) / st) + 1;
    const kind = g === c && k === c && g > 1 ? 'depthwise' : g > 1 ? 'grouped' : d > 1 ? 'dilated' : r === 1 ? '1x1' : 'dense';
    return { n, c, k, h, r, s: st, p, d, g, kind, macs: n * k * (c / g) * r * r * oh * oh };
  });
}

/** Median and fastest ms of fn after two warm-up calls, over `secs` seconds and at least 3 runs. */
function timed(fn: () => void): [number, number] {
  fn(); fn();
  const times: number[] = [];
  const end = performance.now() + secs * 1000;
  while (performance.now() < end || times.length < 3) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return [times[times.length >> 1]!, times[0]!];
}

function convkit(l: Layer): { forward: [number, number]; train: [number, number] } {
  const x = ck.randn([l.n, l.c, l.h, l.h], { seed: 1 });
  const w = ck.randn([l.k, l.c / l.g, l.r, l.r], { seed: 2 });
  const opts = { stride: l.s, padding: l.p, dilation: l.d, groups: l.g, fit: 'floor' as const };
  const dy = ck.tidy(() => ck.randn(ck.noGrad(() => ck.F.conv2d(x, w, null, opts)).shape, { seed: 3 }));
  x.requiresGrad = true;
  w.requiresGrad = true;
  const clearGrads = () => { x.grad?.dispose(); w.grad?.dispose(); x.grad = null; w.grad = null; };
  try {
    const forward = timed(() => ck.tidy(() => ck.noGrad(() => { ck.F.conv2d(x, w, null, opts).values(); })));
    const train = timed(() => {
      clearGrads();
      ck.tidy(() => { ck.F.conv2d(x, w, null, opts).backward(dy); x.grad!.values(); w.grad!.values(); });
    });
    return { forward, train };
  } finally {
    clearGrads();
    for (const t of [x, w, dy]) t.dispose();
  }
}

function torch(list: Layer[]): { forward: [number, number]; train: [number, number] }[] | null {
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const script = join(dirname(fileURLToPath(import.meta.url)), 'peers', 'torch_conv_sweep.py');
  const run = spawnSync(python, [script, '--threads', String(threads), '--secs', String(secs)], { input: JSON.stringify(list), encoding: 'utf8', maxBuffer: 1 << 26 });
  if (run.status !== 0) {
    console.log(`PyTorch peer not run (${python}: ${(run.stderr || run.error?.message || '').trim().split('\n').pop()}); convkit alone`);
    return null;
  }
  return run.stdout.split('\n').filter((line) => line.startsWith('result ')).map((line) => JSON.parse(line.slice(7)));
}

const geomean = (v: number[]): number => Math.exp(v.reduce((a, b) => a + Math.log(b), 0) / v.length);

await ck.setBackend('wasm');
const custom = args.find((a) => a.startsWith('--layers='))?.slice('--layers='.length);
const all = custom ? parseLayers(custom) : layers(count, Number(opt('seed') ?? 7));
const list = all.filter((_, i) => !only || only.includes(i));
console.log(`convkit ${ck.getBackendName()} vs PyTorch, ${threads} threads, ${list.length} layers, ${secs} s per run; median ms (fastest in the ratio's place)`);
const mine = list.map((l) => convkit(l));
const theirs = withTorch ? torch(list) : null;
const rows = list.map((l, i) => {
  const m = mine[i]!, t = theirs?.[i];
  const ratio = t ? Math.min(t.forward[0] / m.forward[0], t.train[0] / m.train[0]) : 0;
  return { l, i: all.indexOf(l), m, t, ratio };
});
if (theirs) rows.sort((a, b) => a.ratio - b.ratio);
const f = (v: number) => v.toFixed(2).padStart(7);
console.log('\n| # | layer | kind | convkit fwd ms | PyTorch fwd ms | ratio | convkit train ms | PyTorch train ms | ratio | convkit GF/s fwd / train |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const { l, i, m, t } of rows) {
  const shape = `b${l.n} ${l.c}->${l.k} @${l.h} ${l.r}x${l.r} s${l.s}${l.d > 1 ? ` d${l.d}` : ''}${l.g > 1 ? ` g${l.g}` : ''}`;
  const gf = `${((2 * l.macs) / m.forward[0] / 1e6).toFixed(0)} / ${((6 * l.macs) / m.train[0] / 1e6).toFixed(0)}`;
  const cells = t
    ? [f(m.forward[0]), f(t.forward[0]), `${(t.forward[0] / m.forward[0]).toFixed(2)}x`, f(m.train[0]), f(t.train[0]), `${(t.train[0] / m.train[0]).toFixed(2)}x`]
    : [f(m.forward[0]), '', '', f(m.train[0]), '', ''];
  console.log(`| ${i} | ${shape} | ${l.kind} | ${cells.join(' | ')} | ${gf} |`);
}
if (theirs) {
  console.log('\nGeometric mean of convkit\'s speed over PyTorch\'s (median times), by kind of layer:');
  for (const kind of ['all', 'dense', '1x1', 'depthwise', 'grouped', 'dilated']) {
    const sel = rows.filter((r) => kind === 'all' || r.l.kind === kind);
    if (!sel.length) continue;
    console.log(`  ${kind.padEnd(10)} ${String(sel.length).padStart(3)} layers: forward ${geomean(sel.map((r) => r.t!.forward[0] / r.m.forward[0])).toFixed(2)}x, training ${geomean(sel.map((r) => r.t!.train[0] / r.m.train[0])).toFixed(2)}x`);
  }
}
