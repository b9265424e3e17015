/**
 * The peers of the bench suite (bench/peers/*, installed outside the project: PEERS, default
 * /tmp/peers; bench/peers/README.md): which are installed, which runs of the suite each one
 * times (its `--list`), and one peer's runs of one workload in a process of its own, whose
 * `result {...}` and `params {...}` lines are collected. bench/run.ts calls them one after the
 * other, never together and never beside convkit: the machine has few cores.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ConvkitError } from '../src/tensor/errors.js';
import type { Kind } from './models.js';
import type { Measurement } from './timing.js';

export interface PeerResult extends Measurement {
  peer: string;
  workload: string;
  kind: Kind;
  batch: number;
}

/** One peer script: its name for --peers, and its command line in bench/peers (timing flags added). */
interface PeerScript {
  name: string;
  cmd: 'python' | 'node';
  args: (o: PeerSetup) => string[];
  /** What it needs installed: Node peers (PEERS/node_modules), torch (and onnx, for the ONNX files). */
  needs: ('node' | 'torch')[];
  /** The suite it times: bench/workloads.json (default), or bench/webgpu-workloads.json (`--backend=webgpu`). */
  suite?: 'webgpu';
}

export const PEER_SCRIPTS: readonly PeerScript[] = [
  { name: 'torch', cmd: 'python', args: (o) => ['torch_bench.py', '--threads', String(o.threads)], needs: ['torch'] },
  { name: 'ort-node', cmd: 'node', args: (o) => ['ort.mjs', 'node', '--models', models(o), '--threads', String(o.threads)], needs: ['node', 'torch'] },
  { name: 'ort-web', cmd: 'node', args: (o) => ['ort.mjs', 'web', '--models', models(o), '--threads', String(o.threads)], needs: ['node', 'torch'] },
  { name: 'tfjs-wasm', cmd: 'node', args: () => ['tfjs.mjs', 'wasm'], needs: ['node'] },
  { name: 'tfjs-cpu', cmd: 'node', args: () => ['tfjs.mjs', 'cpu'], needs: ['node'] },
  { name: 'convnetjs', cmd: 'node', args: () => ['convnetjs.mjs'], needs: ['node'] },
  { name: 'tfjs-webgpu', cmd: 'node', args: (o) => ['tfjs-webgpu.mjs', ...(o.quick ? ['--quick'] : [])], needs: ['node'], suite: 'webgpu' },
];

export interface PeerSetup {
  root: string;
  peersDir: string;
  threads: number;
  /** Workloads of the run (undefined: all). */
  only: string[] | undefined;
  /** Names of PEER_SCRIPTS to run (undefined: all). */
  select: string[] | undefined;
  log: (s: string) => void;
  /** Which suite's peers (default: bench/workloads.json's). */
  suite?: 'webgpu';
  /** The webgpu suite's --quick sizes. */
  quick?: boolean;
  /** Minutes before a peer's process of one workload is stopped (default 10). */
  peerTimeoutMin?: number;
}

/** A peer ready to time: the runs of the suite it times, by workload. */
export interface Peer {
  name: string;
  cmd: string;
  args: string[];
  runs: Map<string, { kind: Kind; batch: number }[]>;
}

export interface Peers {
  setup: PeerSetup;
  peers: Peer[];
  /** Peers that failed or were not found, with why. */
  problems: string[];
}

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const models = (o: PeerSetup): string => join(o.peersDir, 'models');
const scripts = (o: PeerSetup): string => join(o.root, 'bench', 'peers');
const onlyArgs = (o: PeerSetup): string[] => (o.only ? ['--only', o.only.join(',')] : []);

function spawn(o: PeerSetup, cmd: string, args: string[], timeoutMin: number) {
  return spawnSync(cmd, args, {
    cwd: scripts(o), env: { ...process.env, PEERS: o.peersDir }, encoding: 'utf8', timeout: timeoutMin * 60_000,
    stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20,
  });
}

/** Lines `tag {json}` of a peer's output. */
function tagged(stdout: string | null, tag: string): Record<string, unknown>[] {
  return (stdout ?? '').split('\n').flatMap((line) => {
    const m = new RegExp(`^${tag} (\\{.*\\})$`).exec(line.trim());
    return m ? [JSON.parse(m[1]!) as Record<string, unknown>] : [];
  });
}

/** The command as a person would type it from the repository root. */
export function pretty(o: PeerSetup, p: { cmd: string; args: string[] }): string {
  return `PEERS=${o.peersDir} ${p.cmd === PYTHON ? PYTHON : 'node'} ${relative(o.root, join(scripts(o), p.args[0]!))} ${p.args.slice(1).join(' ')}`;
}

/**
 * Checks what is installed, exports the ONNX files the onnxruntime peers run (once; kept between
 * runs), and asks each selected peer which runs it times.
 */
export function preparePeers(o: PeerSetup): Peers {
  const unknown = o.select?.filter((n) => !PEER_SCRIPTS.some((s) => s.name === n));
  if (unknown?.length) throw new ConvkitError(`unknown peer(s) ${unknown.join(', ')}; the suite's peers: ${PEER_SCRIPTS.map((s) => s.name).join(', ')}`);
  const out: Peers = { setup: o, peers: [], problems: [] };
  const chosen = PEER_SCRIPTS.filter((s) => s.suite === o.suite && (!o.select || o.select.includes(s.name)));
  const has = {
    node: existsSync(join(o.peersDir, 'node_modules')),
    torch: chosen.some((s) => s.needs.includes('torch')) && spawnSync(PYTHON, ['-c', 'import torch, onnx'], { encoding: 'utf8' }).status === 0,
  };
  if (!has.node && chosen.some((s) => s.needs.includes('node'))) out.problems.push(`no Node peers in ${o.peersDir}/node_modules (bench/peers/README.md says how to install them)`);
  if (!has.torch && chosen.some((s) => s.needs.includes('torch'))) out.problems.push(`${PYTHON} cannot import torch and onnx (apt-get install python3-torch python3-onnx)`);
  const ready = chosen.filter((s) => s.needs.every((n) => has[n]));
  if (ready.some((s) => s.name.startsWith('ort-'))) {
    // The ONNX files first (redone by the script itself when the models change).
    const args = ['torch_models.py', 'export', models(o), ...onlyArgs(o)];
    o.log(`peer: ${pretty(o, { cmd: PYTHON, args })}`);
    const r = spawn(o, PYTHON, args, 10);
    if (r.status !== 0) out.problems.push(`torch_models.py export exited with ${r.status ?? r.signal}`);
  }
  for (const s of ready) {
    const peer: Peer = { name: s.name, cmd: s.cmd === 'python' ? PYTHON : 'node', args: s.args(o), runs: new Map() };
    const r = spawn(o, peer.cmd, [...peer.args, '--list', ...onlyArgs(o)], 2);
    if (r.status !== 0) {
      out.problems.push(`${s.name}: ${pretty(o, peer)} --list exited with ${r.status ?? r.signal}`);
      continue;
    }
    for (const v of tagged(r.stdout, 'run')) {
      const w = String(v['workload']);
      peer.runs.set(w, [...(peer.runs.get(w) ?? []), { kind: v['kind'] as Kind, batch: Number(v['batch']) }]);
    }
    out.peers.push(peer);
  }
  return out;
}

export interface PeerRound {
  results: PeerResult[];
  /** PyTorch's parameter count of the workload, where it printed one. */
  torchParams: Record<string, number>;
  /** Runs it was to time and printed nothing for, and a failed exit. */
  problems: string[];
}

/** One peer's runs of one workload, in a process of its own: `secs` of measurement per run. */
export function runPeerRound(ps: Peers, peer: Peer, workload: string, timing: { secs: number; warmupS: number }): PeerRound {
  const o = ps.setup;
  const args = [...peer.args, '--secs', String(timing.secs), '--warmup', String(timing.warmupS), '--only', workload];
  const r = spawn(o, peer.cmd, args, o.peerTimeoutMin ?? 10);
  const out: PeerRound = { results: [], torchParams: {}, problems: [] };
  if (r.status !== 0) out.problems.push(`${peer.name} on ${workload} exited with ${r.status ?? r.signal}`);
  for (const v of tagged(r.stdout, 'params')) out.torchParams[String(v['workload'])] = Number(v['params']);
  out.results = tagged(r.stdout, 'result').map((v) => v as unknown as PeerResult).filter((v) => v.workload === workload);
  for (const run of peer.runs.get(workload) ?? []) {
    if (!out.results.some((v) => v.kind === run.kind && v.batch === run.batch)) out.problems.push(`${peer.name} printed no ${workload} ${run.kind} b${run.batch} result`);
  }
  return out;
}

/** The commands of a run, for the report: each peer's with the round's timing and `--only <workload>`. */
export function peerCommands(ps: Peers, timing: { secs: number; warmupS: number }): string[] {
  return ps.peers.map((p) => `${pretty(ps.setup, { cmd: p.cmd, args: [...p.args, '--secs', String(timing.secs), '--warmup', String(timing.warmupS)] })} --only <workload>   # once per workload and round`);
}
