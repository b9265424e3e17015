/**
 * The peer scripts' `--list` (bench/peers.ts starts a peer only for the workloads it lists):
 * each prints its runs of bench/workloads.json without loading its library, so it works with
 * PEERS pointing at an empty folder.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = new URL('../../bench/peers/', import.meta.url).pathname;
const suite = (JSON.parse(readFileSync(new URL('../../bench/workloads.json', import.meta.url), 'utf8')) as { workloads: { name: string; runs: [string, number][] }[] }).workloads;
const empty = mkdtempSync(join(tmpdir(), 'convkit-peers-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

function list(cmd: string, args: string[]): string[] {
  const r = spawnSync(cmd, [...args, '--list'], { cwd: dir, env: { ...process.env, PEERS: empty }, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').filter(Boolean).map((line) => {
    const m = /^run (\{.*\})$/.exec(line);
    expect(m, line).not.toBeNull();
    const v = JSON.parse(m![1]!) as { peer: string; workload: string; kind: string; batch: number };
    return `${v.peer} ${v.workload} ${v.kind} ${v.batch}`;
  });
}

describe('peer scripts --list', () => {
  it('ConvNetJS and TF.js list the original workloads they time, honouring --only', () => {
    expect(list('node', ['convnetjs.mjs'])).toEqual(['ConvNetJS lenet5 infer 64', 'ConvNetJS lenet5 train 64', 'ConvNetJS cifar_demo infer 64', 'ConvNetJS cifar_demo train 64']);
    expect(list('node', ['convnetjs.mjs', '--only', 'cifar_demo,resnet20'])).toEqual(['ConvNetJS cifar_demo infer 64', 'ConvNetJS cifar_demo train 64']);
    expect(list('node', ['tfjs.mjs', 'cpu'])).toEqual(['tfjs-cpu conv3x3_64x56 infer 1', 'tfjs-cpu lenet5 infer 64', 'tfjs-cpu lenet5 train 64', 'tfjs-cpu cifar_demo infer 64']);
    expect(list('node', ['tfjs.mjs', 'wasm', '--only', 'vgg16,lenet5'])).toEqual(['tfjs-wasm vgg16 infer 1', 'tfjs-wasm lenet5 infer 64']);
  });

  it('onnxruntime lists only the inference runs whose ONNX file exists', () => {
    expect(list('node', ['ort.mjs', 'node', '--models', empty])).toEqual([]);
    writeFileSync(join(empty, 'resnet50.onnx'), '');
    writeFileSync(join(empty, 'resnet20.onnx'), ''); // a training workload: nothing to infer
    expect(list('node', ['ort.mjs', 'web', '--models', empty])).toEqual(['onnxruntime-web resnet50 infer 1', 'onnxruntime-web resnet50 infer 8']);
  });

  it.skipIf(!existsSync('/usr/bin/python3'))('PyTorch lists every run of the suite', () => {
    const all = suite.flatMap((w) => w.runs.map(([kind, batch]) => `PyTorch ${w.name} ${kind} ${batch}`));
    expect(list('/usr/bin/python3', ['torch_bench.py'])).toEqual(all);
    expect(list('/usr/bin/python3', ['torch_bench.py', '--only=resnet50'])).toEqual(['PyTorch resnet50 infer 1', 'PyTorch resnet50 infer 8']);
  });
});
