/**
 * Runs the peer benchmark scripts of ../shared/bench one after the other (never together: the
 * machine has few cores) when the peers are installed (PEERS, default /tmp/peers), and parses
 * their one-line-per-workload output into { peer -> workload -> number }.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export type Kind = 'infer' | 'train';
/** Inference in median ms per call; training in images per second. */
export type PeerTable = Record<string, Partial<Record<string, { infer?: number; train?: number }>>>;

interface PeerRun {
  peer: string;
  cmd: string;
  args: string[];
  parse: (line: string) => [string, Kind, number] | null;
}

function medianLine(re: RegExp, kind: Kind) {
  return (line: string): [string, Kind, number] | null => {
    const m = re.exec(line);
    return m ? [m[1]!, kind, Number(m[2])] : null;
  };
}

export function runPeers(benchDir: string, peersDir: string, log: (s: string) => void): { table: PeerTable; commands: string[] } {
  const table: PeerTable = {};
  const commands: string[] = [];
  if (!existsSync(join(peersDir, 'node_modules'))) {
    log(`no peers in ${peersDir} (see ../shared/bench/README.md); reporting convkit alone`);
    return { table, commands };
  }
  const models = join(peersDir, 'models');
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const runs: PeerRun[] = [
    { peer: 'onnxruntime-node 2T', cmd: 'node', args: ['ort.js', models, '2'], parse: medianLine(/^ort threads=\d+ (\S+) batch=\d+ median_ms=([\d.]+)/, 'infer') },
    { peer: 'onnxruntime-web 2T', cmd: 'node', args: ['ort_web.js', models, '2'], parse: medianLine(/^\S+ threads=\d+ (\S+) batch=\d+ median_ms=([\d.]+)/, 'infer') },
    {
      peer: 'PyTorch 2T', cmd: python, args: ['torch_bench.py', '2'],
      parse: (line) => {
        const i = /^torch threads=\d+ infer (\S+) batch=\d+ median_ms=([\d.]+)/.exec(line);
        if (i) return [i[1]!, 'infer', Number(i[2])];
        const t = /^torch threads=\d+ train (\S+) batch=64 .*images_per_s=(\d+)/.exec(line);
        return t ? [t[1]!, 'train', Number(t[2])] : null;
      },
    },
    { peer: 'tfjs-wasm', cmd: 'node', args: ['tfjs.js', 'wasm'], parse: tfjsParse('wasm') },
    { peer: 'tfjs-cpu', cmd: 'node', args: ['tfjs.js', 'cpu', 'quick'], parse: tfjsParse('cpu') },
    {
      peer: 'ConvNetJS', cmd: 'node', args: ['convnetjs.js'],
      parse: (line) => {
        const m = /^convnetjs (\S+) infer batch=64 ms=([\d.]+) train images_per_s=(\d+)/.exec(line);
        if (!m) return null;
        (table['ConvNetJS'] ??= {})[m[1]!] = { infer: Number(m[2]), train: Number(m[3]) };
        return null;
      },
    },
  ];
  for (const r of runs) {
    const script = join(benchDir, r.args[0]!);
    if (!existsSync(script)) continue;
    const pretty = `PEERS=${peersDir} ${r.cmd === 'node' ? 'node' : r.cmd} ${r.args.join(' ')}`;
    commands.push(`(cd ../shared/bench && ${pretty})`);
    log(`peer: ${pretty}`);
    const res = spawnSync(r.cmd, r.args, { cwd: benchDir, env: { ...process.env, PEERS: peersDir }, encoding: 'utf8', timeout: 15 * 60_000 });
    if (res.status !== 0) log(`  ${r.peer} exited with ${res.status}: ${(res.stderr ?? '').split('\n').slice(-3).join(' ')}`);
    for (const line of (res.stdout ?? '').split('\n')) {
      const p = r.parse(line.trim());
      if (!p) continue;
      const [w, kind, v] = p;
      ((table[r.peer] ??= {})[w] ??= {})[kind] = v;
    }
  }
  return { table, commands };
}

function tfjsParse(backend: string) {
  return (line: string): [string, Kind, number] | null => {
    const i = new RegExp(`^tfjs-${backend} infer (\\S+) batch=\\d+ median_ms=([\\d.]+)`).exec(line);
    if (i) return [i[1]!, 'infer', Number(i[2])];
    const t = new RegExp(`^tfjs-${backend} train (\\S+) batch=64 .*images_per_s=(\\d+)`).exec(line);
    return t ? [t[1]!, 'train', Number(t[2])] : null;
  };
}
