/**
 * Runs the peer scripts of bench/peers one after the other (never together: the machine has
 * few cores), when the peers are installed outside the project (PEERS, default /tmp/peers;
 * bench/peers/README.md), and collects their `result {...}` and `params {...}` lines.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Kind } from './models.js';
import type { Measurement } from './timing.js';

export interface PeerResult extends Measurement {
  peer: string;
  workload: string;
  kind: Kind;
  batch: number;
}

export interface PeerRunOptions {
  root: string;
  peersDir: string;
  secs: number;
  warmupS: number;
  threads: number;
  only: string[] | undefined;
  log: (s: string) => void;
}

export interface PeerOutput {
  results: PeerResult[];
  /** PyTorch's parameter count of each workload it built. */
  torchParams: Record<string, number>;
  commands: string[];
  /** Peers that failed or were not found, with why. */
  problems: string[];
}

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export function runPeers(o: PeerRunOptions): PeerOutput {
  const out: PeerOutput = { results: [], torchParams: {}, commands: [], problems: [] };
  const dir = join(o.root, 'bench', 'peers');
  const models = join(o.peersDir, 'models');
  const timing = ['--secs', String(o.secs), '--warmup', String(o.warmupS), ...(o.only ? ['--only', o.only.join(',')] : [])];
  const hasNode = existsSync(join(o.peersDir, 'node_modules'));
  const hasTorch = spawnSync(PYTHON, ['-c', 'import torch, onnx'], { encoding: 'utf8' }).status === 0;
  if (!hasNode) out.problems.push(`no Node peers in ${o.peersDir}/node_modules (bench/peers/README.md says how to install them)`);
  if (!hasTorch) out.problems.push(`${PYTHON} cannot import torch and onnx (apt-get install python3-torch python3-onnx)`);
  const runs: { cmd: string; args: string[]; needs: boolean; timeoutMin: number }[] = [
    // The ONNX files first: onnxruntime runs them (kept between runs, redone when the models change).
    { cmd: PYTHON, args: ['torch_models.py', 'export', models, ...(o.only ? ['--only', o.only.join(',')] : [])], needs: hasTorch && hasNode, timeoutMin: 10 },
    { cmd: PYTHON, args: ['torch_bench.py', '--threads', String(o.threads), ...timing], needs: hasTorch, timeoutMin: 20 },
    { cmd: 'node', args: ['ort.mjs', 'node', '--models', models, '--threads', String(o.threads), ...timing], needs: hasNode && hasTorch, timeoutMin: 15 },
    { cmd: 'node', args: ['ort.mjs', 'web', '--models', models, '--threads', String(o.threads), ...timing], needs: hasNode && hasTorch, timeoutMin: 15 },
    { cmd: 'node', args: ['tfjs.mjs', 'wasm', ...timing], needs: hasNode, timeoutMin: 5 },
    { cmd: 'node', args: ['tfjs.mjs', 'cpu', ...timing], needs: hasNode, timeoutMin: 5 },
    { cmd: 'node', args: ['convnetjs.mjs', ...timing], needs: hasNode, timeoutMin: 5 },
  ];
  for (const r of runs) {
    if (!r.needs) continue;
    const pretty = `PEERS=${o.peersDir} ${r.cmd === PYTHON ? PYTHON : 'node'} ${relative(o.root, join(dir, r.args[0]!))} ${r.args.slice(1).join(' ')}`;
    out.commands.push(pretty);
    o.log(`peer: ${pretty}`);
    const res = spawnSync(r.cmd, r.args, {
      cwd: dir, env: { ...process.env, PEERS: o.peersDir }, encoding: 'utf8', timeout: r.timeoutMin * 60_000,
      stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20,
    });
    if (res.status !== 0) out.problems.push(`${r.args[0]} ${r.args[1] ?? ''} exited with ${res.status ?? res.signal}`);
    for (const line of (res.stdout ?? '').split('\n')) {
      const m = /^(result|params) (\{.*\})$/.exec(line.trim());
      if (!m) continue;
      const v = JSON.parse(m[2]!) as Record<string, unknown>;
      if (m[1] === 'params') out.torchParams[String(v['workload'])] = Number(v['params']);
      else out.results.push(v as unknown as PeerResult);
    }
  }
  return out;
}
