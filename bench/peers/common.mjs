// Shared by the Node peer scripts: arguments, the suite (../workloads.json), the measuring rule
// of bench/timing.ts (warm-up, then steps back to back for at least --secs seconds and 3 steps;
// images over wall time, GC and pauses included, with the median step beside it), the
// one-line JSON result that bench/peers.ts parses, and `--list`: the runs a script would time,
// printed without loading its library, so that bench/run.ts starts a peer only for the
// workloads it runs.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export function parseArgs(argv = process.argv.slice(2)) {
  const opts = { positional: [], secs: 10, warmup: 1, threads: 2, only: null, list: false, peers: process.env.PEERS ?? '/tmp/peers', models: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) { opts.positional.push(a); continue; }
    if (a === '--list') { opts.list = true; continue; }
    const [key, inline] = a.slice(2).split('=', 2);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${key} needs a value`);
    if (key === 'only') opts.only = value.split(',');
    else if (key === 'secs' || key === 'warmup' || key === 'threads') opts[key] = Number(value);
    else if (key === 'peers' || key === 'models') opts[key] = value;
    else throw new Error(`unknown option --${key}`);
  }
  opts.models ??= join(opts.peers, 'models');
  return opts;
}

export const workloads = JSON.parse(readFileSync(new URL('../workloads.json', import.meta.url), 'utf8')).workloads;

export function selected(opts, names = null) {
  return workloads.filter((w) => (!opts.only || opts.only.includes(w.name)) && (!names || names.includes(w.name)));
}

/** require() from the peers' folder (PEERS/node_modules), outside the project. */
export function peerRequire(opts, name) {
  return createRequire(join(opts.peers, 'package.json'))(name);
}

export async function measure(step, batch, opts) {
  let t0 = performance.now();
  for (let n = 0; n < 1 || performance.now() - t0 < opts.warmup * 1000; n++) await step();
  const ts = [];
  t0 = performance.now();
  let now = t0;
  while (now - t0 < opts.secs * 1000 || ts.length < 3) {
    await step();
    const t = performance.now();
    ts.push(t - now);
    now = t;
  }
  const wallS = (now - t0) / 1000;
  ts.sort((a, b) => a - b);
  return { imagesPerS: (ts.length * batch) / wallS, medianMs: ts[ts.length >> 1], minMs: ts[0], steps: ts.length, wallS };
}

/** With --list: prints a `run {...}` line for each [workload, kind, batch] of `plan` and exits. */
export function listAndExit(opts, peer, plan) {
  if (!opts.list) return;
  for (const [workload, kind, batch] of plan) console.log(`run ${JSON.stringify({ peer, workload, kind, batch })}`);
  process.exit(0);
}

export function report(peer, workload, kind, batch, m) {
  const r = { peer, workload, kind, batch, ...m };
  console.log(`result ${JSON.stringify(r)}`);
  console.error(`${peer} ${kind} ${workload} b${batch}: ${m.imagesPerS.toFixed(1)} img/s, median ${m.medianMs.toFixed(2)} ms (${m.steps} steps)`);
}

export function randomInput(n) {
  // A fixed-seed uniform [-1, 1) pattern: no denormals, the same every run.
  let s = 12345;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; a[i] = s / 2147483648 - 1; }
  return a;
}
