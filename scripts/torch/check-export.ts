/**
 * `npm run test:torch`'s check of `convkit export --format pytorch` (issue #19), run with
 * vite-node; needs /usr/bin/python3 with torch (Debian's python3-torch 1.13 will do):
 *
 *   vite-node scripts/torch/check-export.ts [--keep DIR] [--only name,name]
 *
 * 1. Every zoo model (reduced input sizes), a layer-coverage model and a pattern-language
 *    model (that one through the CLI, from a saved .convkit file) are exported with seeded
 *    weights and random batch-norm statistics; check_export.py loads each model.py with
 *    weights.safetensors (strict=True) and compares its output on a random batch with
 *    convkit's: |torch - convkit| <= 1e-5 * max(1, max |convkit|).
 * 2. LeNet-5 is exported with the CLI (the digits come along as IDX files) and trained for one
 *    epoch on a 2,000-image subset by `torchrun --standalone --nproc_per_node 2 train.py
 *    --check-sync` (gloo, CPU): the two processes' weights must agree after every step. The
 *    trained weights are read back with ck.io.loadSafetensors and evaluated by convkit on the
 *    same test images: the accuracy must be the one PyTorch reported.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ck from '../../src/index.js';
import { loadDigits } from '../../src/data/digits.js';
import { Subset } from '../../src/data/dataset.js';
import { DataLoader } from '../../src/data/data-loader.js';
import { CASES, PATTERN } from './export-cases.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const PYTHON = process.env['CONVKIT_TORCH_PYTHON'] ?? '/usr/bin/python3';
const args = process.argv.slice(2);
const keep = args.includes('--keep') ? args[args.indexOf('--keep') + 1]! : null;
const only = args.includes('--only') ? new Set(args[args.indexOf('--only') + 1]!.split(',')) : null;
const work = keep ?? mkdtempSync(join(tmpdir(), 'convkit-torch-export-'));
mkdirSync(work, { recursive: true });
const cli = (...argv: string[]): string =>
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'vite-node', 'vite-node.mjs'), join(ROOT, 'src', 'cli', 'main.ts'), ...argv], { cwd: ROOT, encoding: 'utf8' });
let failed = false;
const began = Date.now();

/** Batch norm (and instance norm) away from the identity: random affine parameters and running statistics. */
function randomizeNorms(model: ck.nn.Module): void {
  const fill = (t: ck.Tensor | null, lo: number, hi: number): void => {
    if (t) (t.storage.data as Float32Array).set(ck.rand([t.size]).values().map((r) => lo + (hi - lo) * r), t.offset);
  };
  for (const m of model.modules()) {
    if (m instanceof ck.nn.BatchNorm2d || m instanceof ck.nn.BatchNorm1d || m instanceof ck.nn.InstanceNorm2d) {
      fill(m.weight, 0.5, 1.5);
      fill(m.bias, -0.5, 0.5);
      fill(m.runningMean, -0.5, 0.5);
      fill(m.runningVar, 0.5, 2);
    }
  }
}

async function writeCheck(dir: string, model: ck.nn.Module, input: [number, number, number]): Promise<void> {
  model.eval();
  const x = ck.randn([2, ...input]);
  const y = ck.noGrad(() => model.forward(x));
  await ck.io.saveSafetensors(new Map([['input', x], ['output', y]]), join(dir, 'check.safetensors'));
}

// 1. Outputs of every model.
const dirs: string[] = [];
for (const [i, c] of CASES.entries()) {
  if (only && !only.has(c.name)) continue;
  ck.manualSeed(100 + i);
  const model = c.make();
  randomizeNorms(model);
  const dir = join(work, c.name);
  mkdirSync(dir, { recursive: true });
  const { files } = ck.io.exportPyTorch(model, { inputShape: c.input, title: `${c.name} (check-export)` });
  for (const [name, contents] of files) writeFileSync(join(dir, name), contents);
  await writeCheck(dir, model, c.input);
  dirs.push(dir);
}
if (!only || only.has('pattern')) {
  // The pattern model goes through the CLI, from a saved model file.
  ck.manualSeed(7);
  const { model, input } = ck.analysis.modelFromPattern(PATTERN);
  randomizeNorms(model);
  const saved = join(work, 'pattern.convkit');
  await ck.io.save(model, saved, { inputShape: [...input] });
  const dir = join(work, 'pattern');
  cli('export', saved, dir, '--format', 'pytorch');
  await writeCheck(dir, model, input);
  dirs.push(dir);
}
const compare = spawnSync(PYTHON, [join(HERE, 'check_export.py'), ...dirs], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
process.stdout.write(compare.stdout);
if (compare.status !== 0) failed = true;
console.log(`outputs: ${dirs.length} models compared in ${((Date.now() - began) / 1000).toFixed(0)} s`);

// 2. The DDP round trip.
if (!only || only.has('ddp')) {
  const t0 = Date.now();
  const dir = join(work, 'lenet5-ddp');
  ck.manualSeed(5);
  const model = ck.models.lenet5();
  const saved = join(work, 'lenet5.convkit');
  await ck.io.save(model, saved, { inputShape: [1, 28, 28] });
  cli('export', saved, dir, '--format', 'pytorch');
  const testSize = 2000;
  // --redirects/--tee: torch 1.13's torchrun fails on Python 3.11 with their default 0 (a torch bug).
  const run = spawnSync(
    PYTHON,
    ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', '--redirects', '2', '--tee', '2', join(dir, 'train.py'),
      '--epochs', '1', '--train-size', '2000', '--test-size', String(testSize), '--check-sync', '--out', join(dir, 'runs')],
    { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } },
  );
  const events = run.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const done = events.find((e) => e['event'] === 'done');
  if (run.status !== 0 || !done) {
    console.log(`ddp: FAILED (exit ${run.status})\n${run.stdout}\n${run.stderr.slice(-3000)}`);
    failed = true;
  } else {
    const start = events.find((e) => e['event'] === 'start')!;
    const steps = Math.ceil(Math.ceil((start['train'] as number) / 2) / 16);
    const { tensors } = await ck.io.loadSafetensors(done['weights'] as string);
    const trained = ck.models.lenet5();
    trained.loadStateDict(tensors);
    const test = new Subset(loadDigits({ split: 'test' }), Int32Array.from({ length: testSize }, (_, i) => i));
    const result = ck.train.evaluate(trained, new DataLoader(test, { batchSize: 250 }));
    const torchAcc = done['test_accuracy'] as number;
    const agree = Math.round(Math.abs(result.accuracy - torchAcc) * testSize) === 0;
    const synced = done['steps_checked'] === steps;
    console.log(
      `ddp: 2 processes, ${steps} steps, weights agreed after ${String(done['steps_checked'])} of them: ${synced ? 'ok' : 'FAILED'}; ` +
        `test accuracy PyTorch ${torchAcc.toFixed(4)}, convkit ${result.accuracy.toFixed(4)} on ${testSize} images: ${agree ? 'ok' : 'FAILED'} ` +
        `(${((Date.now() - t0) / 1000).toFixed(0)} s)`,
    );
    if (!agree || !synced) failed = true;
  }
}
if (!keep) rmSync(work, { recursive: true, force: true });
console.log(`check-export: ${failed ? 'FAILED' : 'ok'} in ${((Date.now() - began) / 1000).toFixed(0)} s`);
process.exitCode = failed ? 1 : 0;
